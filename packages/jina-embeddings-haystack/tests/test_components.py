"""Component behaviour on the core's deterministic fake backend (fast, offline).

The fake backend's vector depends on the exact text and on the (task, role) binding, so
comparing a component's output with the core ``Embedder``'s on an expected string proves
which text and which role the component sent.
"""

from __future__ import annotations

import asyncio
import copy

import numpy as np
import pytest
from haystack import Document
from haystack.dataclasses import ByteStream
from haystack.utils import ComponentDevice, Secret
from haystack.utils.device import Device, DeviceMap

from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder, JinaTextEmbedder
from haystack_integrations.components.rankers.jina_embeddings import JinaRanker
from jina_embeddings import Embedder, InvalidInputError, Reranker
from jina_embeddings._backends.fake import FakeRerankBackend

MODEL = "jina-embeddings-v5-text-small"


def core_fake() -> Embedder:
    return Embedder(MODEL, backend="fake")


def docs() -> list[Document]:
    return [
        Document(id="a", content="Berlin is the capital of Germany.", meta={"title": "Berlin", "year": 2024}),
        Document(id="b", content="Bananas are yellow.", meta={"title": "Fruit", "year": None}),
        Document(id="c", content="The Rhine flows through Basel.", meta={}),
    ]


# -- JinaDocumentEmbedder -----------------------------------------------------------------------
def test_document_embedder_uses_document_role_and_returns_copies():
    inputs = docs()
    snapshot = copy.deepcopy(inputs)
    out = JinaDocumentEmbedder(backend="fake", progress_bar=False).run(inputs)

    expected = core_fake().embed_documents([d.content for d in inputs]).vectors
    got = np.array([d.embedding for d in out["documents"]])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)
    # a query-role vector of the same text differs: the role really is "document"
    query_vec = np.array(core_fake().embed_query(inputs[0].content).vectors[0])
    assert float(got[0] @ query_vec) < 0.999

    assert [d.id for d in out["documents"]] == ["a", "b", "c"]
    assert [d.content for d in out["documents"]] == [d.content for d in inputs]
    assert all(o is not i for o, i in zip(out["documents"], inputs, strict=True))
    assert inputs == snapshot and all(d.embedding is None for d in inputs)  # input untouched
    assert out["meta"]["model"] == MODEL
    assert out["meta"]["usage"]["total_tokens"] > 0


def test_meta_fields_prefix_and_suffix_build_the_exact_text():
    embedder = JinaDocumentEmbedder(
        backend="fake",
        progress_bar=False,
        meta_fields_to_embed=["title", "year"],
        embedding_separator=" | ",
        prefix="<<",
        suffix=">>",
    )
    out = embedder.run(docs())["documents"]
    expected_texts = [
        "<<Berlin | 2024 | Berlin is the capital of Germany.>>",  # meta values first, in field order
        "<<Fruit | Bananas are yellow.>>",  # None values skipped
        "<<The Rhine flows through Basel.>>",  # missing fields skipped
    ]
    expected = core_fake().embed_documents(expected_texts).vectors
    np.testing.assert_allclose(np.array([d.embedding for d in out]), expected, rtol=0, atol=1e-7)
    content_only = core_fake().embed_documents([docs()[0].content]).vectors[0]
    assert not np.allclose(out[0].embedding, content_only)


def test_default_separator_is_newline():
    out = JinaDocumentEmbedder(backend="fake", progress_bar=False, meta_fields_to_embed=["title"]).run(
        docs()[:1]
    )
    expected = core_fake().embed_documents(["Berlin\nBerlin is the capital of Germany."]).vectors[0]
    np.testing.assert_allclose(out["documents"][0].embedding, expected, rtol=0, atol=1e-7)


def test_empty_document_list_returns_meta_and_calls_no_model():
    embedder = JinaDocumentEmbedder(backend="fake", progress_bar=False)
    out = embedder.run([])
    assert out == {
        "documents": [],
        "meta": {"model": MODEL, "usage": {"prompt_tokens": 0, "total_tokens": 0}},
    }
    assert embedder._client()._backend.calls == 0


def test_document_without_text_is_refused_by_id_before_any_call():
    embedder = JinaDocumentEmbedder(backend="fake", progress_bar=False)
    image_only = Document(id="img-7", blob=ByteStream(b"\x89PNG"), meta={"title": "a chart"})
    with pytest.raises(InvalidInputError, match="img-7") as info:
        embedder.run([*docs(), image_only])
    assert info.value.index == 3
    assert embedder._client()._backend.calls == 0


def test_blank_content_error_names_the_document():
    embedder = JinaDocumentEmbedder(backend="fake", progress_bar=False)
    with pytest.raises(InvalidInputError, match="'blank-1'") as info:
        embedder.run([docs()[0], Document(id="blank-1", content="   ")])
    assert info.value.index == 1


@pytest.mark.parametrize("bad", ["just a string", [{"content": "a dict"}], [docs()[0], "text"]])
def test_document_embedder_rejects_non_documents(bad):
    with pytest.raises(TypeError, match="list of Documents"):
        JinaDocumentEmbedder(backend="fake").run(bad)


def test_binary_precision_comes_back_as_plus_minus_one_floats():
    out = JinaDocumentEmbedder(backend="fake", progress_bar=False, precision="binary").run(docs())
    vec = out["documents"][0].embedding
    assert len(vec) == 1024 and set(vec) == {-1.0, 1.0}
    sign = np.where(core_fake().embed_documents([docs()[0].content]).vectors[0] > 0, 1.0, -1.0)
    np.testing.assert_array_equal(vec, sign)


def test_dimensions_are_passed_through():
    out = JinaDocumentEmbedder(backend="fake", progress_bar=False, dimensions=256).run(docs())
    assert [len(d.embedding) for d in out["documents"]] == [256, 256, 256]
    assert np.linalg.norm(out["documents"][0].embedding) == pytest.approx(1.0, abs=1e-6)


async def test_document_embedder_run_async_matches_run():
    embedder = JinaDocumentEmbedder(backend="fake", progress_bar=False, meta_fields_to_embed=["title"])
    sync, async_ = embedder.run(docs()), await embedder.run_async(docs())
    assert [d.embedding for d in async_["documents"]] == [d.embedding for d in sync["documents"]]
    assert async_["meta"] == sync["meta"]


# -- JinaTextEmbedder ---------------------------------------------------------------------------
def test_text_embedder_uses_query_role():
    out = JinaTextEmbedder(backend="fake").run("capital of Germany")
    np.testing.assert_allclose(
        out["embedding"], core_fake().embed_query("capital of Germany").vectors[0], rtol=0, atol=1e-7
    )
    doc_vec = core_fake().embed_documents(["capital of Germany"]).vectors[0]
    assert not np.allclose(out["embedding"], doc_vec)
    assert isinstance(out["embedding"], list) and isinstance(out["embedding"][0], float)
    assert out["meta"]["model"] == MODEL and out["meta"]["usage"]["total_tokens"] > 0


def test_text_embedder_prefix_suffix():
    out = JinaTextEmbedder(backend="fake", prefix="q: ", suffix="?").run("capital of Germany")
    np.testing.assert_allclose(
        out["embedding"], core_fake().embed_query("q: capital of Germany?").vectors[0], rtol=0, atol=1e-7
    )


def test_text_embedder_input_checks():
    embedder = JinaTextEmbedder(backend="fake", prefix="query: ")
    with pytest.raises(TypeError, match="JinaDocumentEmbedder"):
        embedder.run([Document(content="x")])
    with pytest.raises(InvalidInputError, match="empty"):
        embedder.run("")  # refused even though the prefix alone is not blank


async def test_text_embedder_run_async_matches_run():
    embedder = JinaTextEmbedder(backend="fake")
    assert await embedder.run_async("hello there") == embedder.run("hello there")


# -- JinaRanker ---------------------------------------------------------------------------------
RANK_DOCS = [
    Document(id="r0", content="Paris is the capital of France."),
    Document(id="r1", content="Berlin is the capital of Germany."),
    Document(id="r2", content="Bananas are yellow."),
    Document(id="r3", content="Germany borders France."),
]
QUERY = "capital of Germany"


def fake_scores() -> dict[str, float]:
    return {d.id: FakeRerankBackend.score(QUERY, d.content) for d in RANK_DOCS}


def test_ranker_sorts_copies_by_score_and_leaves_input_alone():
    inputs = copy.deepcopy(RANK_DOCS)
    out = JinaRanker(backend="fake").run(query=QUERY, documents=inputs)
    scores = fake_scores()
    assert [d.id for d in out["documents"]] == sorted(scores, key=lambda k: -scores[k])
    assert out["documents"][0].id == "r1"
    assert [d.score for d in out["documents"]] == pytest.approx(sorted(scores.values(), reverse=True))
    assert inputs == RANK_DOCS and all(d.score is None for d in inputs)
    assert out["meta"]["model"] == "jina-reranker-v3" and out["meta"]["usage"]["total_tokens"] > 0


def test_ranker_top_k_and_threshold_with_run_overrides():
    scores = sorted(fake_scores().values(), reverse=True)
    ranker = JinaRanker(backend="fake", top_k=3, score_threshold=scores[1])
    assert [d.score for d in ranker.run(query=QUERY, documents=RANK_DOCS)["documents"]] == pytest.approx(
        scores[:2]
    )
    assert len(ranker.run(query=QUERY, documents=RANK_DOCS, top_k=1)["documents"]) == 1
    # an explicit threshold of 0.0 overrides the init value (not treated as "unset")
    out = ranker.run(query=QUERY, documents=RANK_DOCS, score_threshold=0.0)
    assert len(out["documents"]) == 3


def test_ranker_empty_documents_and_bad_values():
    ranker = JinaRanker(backend="fake")
    assert ranker.run(query=QUERY, documents=[]) == {
        "documents": [],
        "meta": {"model": "jina-reranker-v3", "usage": {"prompt_tokens": 0, "total_tokens": 0}},
    }
    with pytest.raises(InvalidInputError, match="top_k must be an integer >= 1"):
        ranker.run(query=QUERY, documents=RANK_DOCS, top_k=0)
    with pytest.raises(InvalidInputError, match="query"):
        ranker.run(query="  ", documents=RANK_DOCS)
    with pytest.raises(InvalidInputError, match="'nothing'"):
        ranker.run(query=QUERY, documents=[Document(id="nothing", blob=ByteStream(b"x"))])


def test_ranker_meta_fields_are_scored_with_the_content():
    ranker = JinaRanker(backend="fake", meta_fields_to_embed=["city"])
    docs_ = [
        Document(id="x", content="a short note", meta={"city": "Germany capital"}),
        Document(id="y", content="another short note"),
    ]
    out = ranker.run(query=QUERY, documents=docs_)
    assert out["documents"][0].id == "x"
    assert out["documents"][0].score == pytest.approx(
        FakeRerankBackend.score(QUERY, "Germany capital\na short note")
    )


async def test_ranker_run_async_matches_run():
    ranker = JinaRanker(backend="fake", top_k=2)
    assert await ranker.run_async(query=QUERY, documents=RANK_DOCS) == ranker.run(
        query=QUERY, documents=RANK_DOCS
    )


def test_ranker_matches_core_reranker():
    out = JinaRanker(backend="fake").run(query=QUERY, documents=RANK_DOCS)
    core = Reranker(backend="fake").rerank(QUERY, [d.content for d in RANK_DOCS])
    assert [d.id for d in out["documents"]] == [RANK_DOCS[i].id for i in core.indices]
    assert [d.score for d in out["documents"]] == core.scores


# -- construction and lifecycle -----------------------------------------------------------------
def test_init_is_light_and_key_is_read_late(monkeypatch):
    monkeypatch.delenv("MY_JINA_KEY", raising=False)
    embedder = JinaTextEmbedder(api_key=Secret.from_env_var("MY_JINA_KEY"), base_url="http://127.0.0.1:9/v1")
    assert embedder._core is None  # nothing built, the missing strict env var is not an error yet
    with pytest.raises(ValueError, match="MY_JINA_KEY"):
        embedder.warm_up()


def test_bad_settings_fail_at_warm_up_with_core_errors():
    with pytest.raises(InvalidInputError, match="precision"):
        JinaDocumentEmbedder(backend="fake", precision="int4").warm_up()
    with pytest.raises(InvalidInputError, match="task"):
        JinaTextEmbedder(backend="fake", task="summarization").warm_up()  # the core names the valid tasks
    with pytest.raises(InvalidInputError, match="only applies to backend=.local."):
        JinaTextEmbedder(backend="fake", device="cpu").warm_up()


def test_warm_up_is_idempotent_and_close_releases():
    embedder = JinaTextEmbedder(backend="fake")
    embedder.warm_up()
    core = embedder._core
    embedder.warm_up()
    assert embedder._core is core
    embedder.close()
    assert embedder._core is None
    assert len(embedder.run("still works")["embedding"]) == 1024  # rebuilt lazily


async def test_async_warm_up_and_close():
    ranker = JinaRanker(backend="fake")
    await ranker.warm_up_async()
    assert ranker._core is not None
    await ranker.close_async()
    assert ranker._core is None


def test_component_device_is_accepted_and_stored_as_a_string():
    embedder = JinaDocumentEmbedder(backend="local", device=ComponentDevice.from_str("cpu"))
    assert embedder.device == "cpu"
    assert embedder.to_dict()["init_parameters"]["device"] == "cpu"
    assert JinaRanker(device="cpu").device == "cpu"
    # a device this torch build cannot have fails when the pipeline is built, as every setting does
    import torch

    if torch.version.cuda is None:
        with pytest.raises(InvalidInputError) as info:
            JinaRanker(device=ComponentDevice.from_str("cuda:1"))
        assert info.value.field == "device"
    device_map = ComponentDevice.from_multiple(DeviceMap({"layer": Device.cpu()}))
    with pytest.raises(InvalidInputError, match="device maps"):
        JinaTextEmbedder(device=device_map)


def test_run_async_of_many_components_overlaps():
    """Several run_async calls on one loop complete together (no shared-state corruption)."""
    embedder = JinaDocumentEmbedder(backend="fake", progress_bar=False)

    async def main():
        return await asyncio.gather(*(embedder.run_async([Document(content=f"text {i}")]) for i in range(8)))

    results = asyncio.run(main())
    expected = core_fake().embed_documents([f"text {i}" for i in range(8)]).vectors
    np.testing.assert_allclose([r["documents"][0].embedding for r in results], expected, rtol=0, atol=1e-7)


def test_top_k_errors_name_top_k():
    with pytest.raises(InvalidInputError) as info:
        JinaRanker(backend="fake", top_k=0)
    assert info.value.field == "top_k" and "top_k must be an integer >= 1, got 0" in str(info.value)
    assert "top_n" not in str(info.value)
    ranker = JinaRanker(backend="fake")
    with pytest.raises(InvalidInputError, match="top_k must be") as run_info:
        ranker.run(query="q", documents=[Document(content="a")], top_k=-1)
    assert run_info.value.field == "top_k"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"backend": "local", "dimensions": 100}, "dimensions"),
        ({"backend": "fake", "precision": "int4"}, "precision"),
        ({"backend": "cloud"}, "backend"),
        ({"backend": "local", "model": "jina-embedings-v5-text-small"}, "model"),
    ],
)
def test_bad_settings_fail_in_init_not_at_warm_up(kwargs, field):
    for cls in (JinaTextEmbedder, JinaDocumentEmbedder):
        with pytest.raises(InvalidInputError) as info:
            cls(**kwargs)  # building the component is enough: no warm_up, no run
        assert info.value.field == field, (cls.__name__, info.value)
