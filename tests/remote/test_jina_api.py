"""``backend="api"`` against the loopback Jina server: bodies, vectors, bits, checks, rerank."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
import pytest

from jina_embeddings import APIResponseValidationError, InvalidInputError, PartialBatchError, Reranker
from jina_testkit.fake_api import Fault, expected_rerank_score, expected_vector

V5 = "jina-embeddings-v5-text-small"


# -- request bodies ---------------------------------------------------------------------------
BODY_ROWS = [
    # model, options, role, fields that must be there, fields that must be absent
    (
        V5,
        {},
        "query",
        {"task": "retrieval.query", "normalized": True, "truncate": True, "embedding_type": "base64"},
        {"dimensions", "late_chunking"},
    ),
    (V5, {"dimensions": 256}, "document", {"task": "retrieval.passage", "dimensions": 256}, set()),
    (
        V5,
        {"task": "text-matching", "truncate": False},
        "query",
        {"task": "text-matching", "truncate": False},
        set(),
    ),
    (V5, {"precision": "binary"}, "document", {"embedding_type": "binary"}, set()),
    (
        V5,
        {"precision": "int8", "quantization_ranges": [[-1.0] * 1024, [1.0] * 1024]},
        "document",
        {"embedding_type": "base64"},
        set(),
    ),
    (
        "jina-embeddings-v3",
        {"task": "clustering"},
        "document",
        {"task": "separation", "normalized": True},
        set(),
    ),
    # late chunking is per document (embed_chunks); a query is embedded whole, without the flag
    ("jina-embeddings-v3", {"late_chunking": True}, "query", {"task": "retrieval.query"}, {"late_chunking"}),
    ("jina-embeddings-v4", {}, "query", {"task": "retrieval.query"}, {"normalized"}),
    ("jina-code-embeddings-0.5b", {}, "query", {"task": "nl2code.query"}, {"normalized"}),
    ("jina-clip-v2", {}, "document", {"normalized": True}, {"task"}),
    ("jina-embeddings-v2-base-en", {}, "query", {"normalized": True}, {"task", "dimensions"}),
    # a merged per-task repo is served by the API as its base model plus the task
    (
        "jina-embeddings-v5-text-nano-retrieval",
        {},
        "query",
        {"task": "retrieval.query", "model": "jina-embeddings-v5-text-nano"},
        set(),
    ),
]


@pytest.mark.parametrize(
    ("model", "options", "role", "present", "absent"),
    BODY_ROWS,
    ids=[f"{r[0]}-{i}" for i, r in enumerate(BODY_ROWS)],
)
def test_request_body_has_exactly_the_fields_the_model_takes(
    srv: Any, make: Any, model: str, options: dict, role: str, present: dict, absent: set
) -> None:
    emb = make(model, **options)
    out = emb.embed(["first text", "second text"], role=role)
    body = srv.requests[0].body
    assert body["input"] == ["first text", "second text"] and body.get("model") == present.get("model", model)
    for key, value in present.items():
        assert body[key] == value, key
    assert not absent & body.keys()
    assert len(out) == 2 and srv.requests[0].outcome == "ok"  # the server's schema accepted it


def test_float_vectors_arrive_exactly_as_sent(srv: Any, make: Any) -> None:
    texts = ["Berlin is the capital of Germany.", "مرحبا بالعالم", "日本語のテキスト"]
    for dims in (None, 256, 100):
        out = make(dimensions=dims).embed(texts)
        for i, text in enumerate(texts):
            want = expected_vector(V5, "retrieval.passage", text, dims)
            assert np.array_equal(out.vectors[i], want), (dims, i)  # base64 float32: bit-exact
        assert out.dimensions == (dims or 1024) and out.vectors.dtype == np.float32


def test_v4_vectors_are_normalized_client_side(srv: Any, make: Any) -> None:
    out = make("jina-embeddings-v4", dimensions=512).embed_query("a query")
    want = expected_vector("jina-embeddings-v4", "retrieval.query", "a query", 512, native_dim=2048)
    np.testing.assert_allclose(out.vectors[0], want, atol=1e-6)
    assert abs(float(np.linalg.norm(out.vectors[0])) - 1.0) < 1e-5


@pytest.mark.parametrize("precision", ["binary", "ubinary"])
@pytest.mark.parametrize("dims", [None, 256, 100])
def test_bits_come_from_the_server_byte_for_byte(
    srv: Any, make: Any, precision: str, dims: int | None
) -> None:
    texts = ["one document", "another document", "a third"]
    out = make(dimensions=dims, precision=precision).embed(texts)
    assert srv.requests[0].body["embedding_type"] == precision
    width = ((dims or 1024) + 7) // 8
    assert out.vectors.shape == (3, width) and out.dimensions == (dims or 1024)
    for i, text in enumerate(texts):
        packed = np.packbits(expected_vector(V5, "retrieval.passage", text, dims) > 0)
        want = (packed.astype(np.int16) - 128).astype(np.int8) if precision == "binary" else packed
        assert out.vectors.dtype == want.dtype and np.array_equal(out.vectors[i], want)
    floats = out.to_float_lists()
    assert len(floats[0]) == (dims or 1024) and set(floats[0]) == {-1.0, 1.0}


def test_batches_by_count_and_by_characters(srv: Any, make: Any, helpers: Any) -> None:
    def sizes() -> list[int]:  # requests arrive concurrently, in any order
        return sorted((len(r.body["input"]) for r in helpers.embed_requests(srv)), reverse=True)

    make().embed([f"t{i}" for i in range(300)])
    assert sizes() == [128, 128, 44]  # default 128
    srv.reset()
    make(batch_size=50).embed([f"t{i}" for i in range(120)])
    assert sizes() == [50, 50, 20]
    srv.reset()
    make(max_batch_chars=250).embed(["x" * 100] * 5)  # 2 texts of 100 chars per request
    assert sizes() == [2, 2, 1]


def test_usage_is_summed_and_model_reported(srv: Any, make: Any) -> None:
    out = make(batch_size=2).embed(["a b c", "d e", "f", "g h i j"])
    assert out.usage.total_tokens == 10 and out.usage.prompt_tokens == 10
    assert out.model == V5


def test_late_chunking_sends_one_request_per_document(srv: Any, make: Any, helpers: Any) -> None:
    make("jina-embeddings-v3", late_chunking=True, batch_size=2).embed_chunks(["a", "b", "c", "d", "e"])
    requests = helpers.embed_requests(srv)
    assert len(requests) == 1 and requests[0].body["late_chunking"] is True  # batch_size does not split it
    assert requests[0].body["input"] == ["a", "b", "c", "d", "e"]


def test_progress_bar_counts_texts(srv: Any, make: Any, capsys: pytest.CaptureFixture[str]) -> None:
    make(batch_size=10, show_progress=True).embed([f"t{i}" for i in range(35)])
    err = capsys.readouterr().err
    assert "35/35" in err


# -- validation before the network ---------------------------------------------------------------
BAD_INPUTS = [
    (["ok", None], 1),
    (["", "ok"], 0),
    (["ok", "   "], 1),
    (["ok", "ok", 5], 2),
    ([b"bytes"], 0),
    (["ok", float("nan")], 1),
    (["ok", "\ud800 lone surrogate"], 1),
    (["\n\t "], 0),
]


@pytest.mark.parametrize(("texts", "index"), BAD_INPUTS)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_bad_input_raises_before_any_request(srv: Any, make: Any, texts: list, index: int, mode: str) -> None:
    emb = make()
    with pytest.raises(InvalidInputError) as info:
        emb.embed(texts) if mode == "sync" else asyncio.run(emb.aembed(texts))
    assert info.value.index == index
    assert srv.requests == []


def test_bare_string_and_empty_list(srv: Any, make: Any) -> None:
    emb = make()
    with pytest.raises(InvalidInputError):
        emb.embed("not a list")  # type: ignore[arg-type]
    assert len(emb.embed([])) == 0
    assert srv.requests == []


@pytest.mark.parametrize(
    ("options", "field"), [({"task": "retrieval"}, "task"), ({"dimensions": 256}, "dimensions")]
)
def test_v2_refuses_task_and_dimensions_at_construction(
    srv: Any, make: Any, options: dict, field: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        make("jina-embeddings-v2-base-en", **options)
    assert info.value.field == field
    assert srv.requests == []


def test_options_the_api_cannot_honour_fail_at_construction(make: Any, srv: Any) -> None:
    with pytest.raises(InvalidInputError):
        make(late_chunking=True)  # v5 has no late chunking
    with pytest.raises(InvalidInputError):
        make(dimensions=2048)  # above v5-small's 1024
    with pytest.raises(InvalidInputError):
        make(task="summarization")  # not a task of v5
    assert srv.requests == []


# -- response checks --------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["short", "bad_dim", "nan", "dup_index", "nonjson"])
def test_broken_responses_are_typed_errors(srv: Any, make: Any, fault: str) -> None:
    srv.script(getattr(Fault, fault)())
    with pytest.raises(APIResponseValidationError) as info:
        make().embed(["a", "b", "c"])
    assert (info.value.request_id or "").startswith("req-")  # the server's x-request-id
    assert len(srv.requests) == 1  # a broken 200 is not retried


def test_broken_batch_among_good_ones_is_a_partial_error(srv: Any, make: Any) -> None:
    srv.script(Fault.slow(0), Fault.short(), Fault.slow(0))
    with pytest.raises(PartialBatchError) as info:
        make(batch_size=2, max_concurrency=1, dimensions=32).embed(["a", "b", "c", "d", "e", "f"])
    assert info.value.failed_indices == [2, 3]
    np.testing.assert_allclose(
        info.value.vectors[5], expected_vector(V5, "retrieval.passage", "f", 32), atol=1e-6
    )


def test_shuffled_response_is_put_back_in_order(srv: Any, make: Any) -> None:
    texts = [f"text {i}" for i in range(20)]
    srv.script(Fault.shuffle())
    out = make(dimensions=32).embed(texts)
    assert srv.requests[0].outcome == "shuffle"
    for i, text in enumerate(texts):
        assert np.array_equal(out.vectors[i], expected_vector(V5, "retrieval.passage", text, 32))


# -- rerank -----------------------------------------------------------------------------------
DOCS = [
    "Berlin is the capital of Germany",
    "Paris is the capital of France",
    "the capital of Germany is big",
    "bananas are yellow",
    "Germany borders France",
    "capital letters",
    "Berlin Berlin Berlin",
]
QUERY = "capital of Germany Berlin"


def expected_ranking(top_n: int | None = None) -> list[tuple[int, float]]:
    scored = sorted(
        ((i, expected_rerank_score(QUERY, d)) for i, d in enumerate(DOCS)), key=lambda p: (-p[1], p[0])
    )
    return scored[:top_n]


@pytest.mark.parametrize("top_n", [None, 1, 3])
def test_rerank_sorted_with_top_n_and_usage(srv: Any, make_reranker: Any, top_n: int | None) -> None:
    result = make_reranker().rerank(QUERY, DOCS, top_n=top_n)
    want = expected_ranking(top_n)
    assert result.indices == [i for i, _ in want]
    assert result.scores == pytest.approx([s for _, s in want], abs=1e-12)
    assert [r.document for r in result] == [DOCS[i] for i, _ in want]
    body = srv.requests[0].body
    assert body["return_documents"] is False and body.get("top_n") == top_n
    assert result.usage.total_tokens == len(QUERY.split()) + sum(len(d.split()) for d in DOCS)


def test_rerank_in_batches_merges_exactly(srv: Any, make_reranker: Any) -> None:
    rr = make_reranker(batch_size=2)
    result = rr.rerank(QUERY, DOCS, top_n=3)
    requests = [r for r in srv.requests if r.path == "/v1/rerank"]
    assert sorted((len(r.body["documents"]), r.body["top_n"]) for r in requests) == [
        (1, 1),
        (2, 2),
        (2, 2),
        (2, 2),
    ]
    assert result.indices == [i for i, _ in expected_ranking(3)]


def test_async_rerank_equals_sync(srv: Any, make_reranker: Any) -> None:
    rr = make_reranker()
    assert asyncio.run(rr.arerank(QUERY, DOCS)).indices == rr.rerank(QUERY, DOCS).indices


def test_rerank_broken_score_is_an_error(srv: Any, make_reranker: Any) -> None:
    srv.script(Fault.nan())
    with pytest.raises(APIResponseValidationError):
        make_reranker().rerank(QUERY, DOCS)


def test_rerank_on_openai_compatible_server_sends_common_fields_only(srv: Any) -> None:
    with Reranker("jina-reranker-v3", backend="openai", base_url=srv.base_url, api_key="jina_test") as rr:
        result = rr.rerank(QUERY, DOCS, top_n=2)
    body = srv.requests[0].body
    assert set(body) == {"model", "query", "documents", "top_n"} and body["model"] == "jina-reranker-v3"
    assert result.indices == [i for i, _ in expected_ranking(2)]
    assert all(math.isfinite(s) for s in result.scores)
