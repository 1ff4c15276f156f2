"""``JinaRerank``: copies with scores, best first, cut to ``top_n``; values checked against the core."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from langchain_core.documents import BaseDocumentCompressor, Document

from jina_embeddings import DEFAULT_RERANKER, InvalidInputError, Reranker
from jina_testkit.fake_api import expected_rerank_score
from langchain_jina_embeddings import JinaRerank

QUERY = "capital of Germany"
TEXTS = [
    "Paris is the capital of France.",
    "Berlin is the capital of Germany.",
    "Bananas are yellow.",
    "Germany borders France.",
    "The capital city hosts the government.",
]


def documents() -> list[Document]:
    return [
        Document(page_content=t, metadata={"source": f"doc{i}", "tags": ["t"]}, id=f"id{i}")
        for i, t in enumerate(TEXTS)
    ]


def test_fields_are_the_core_options_and_community_defaults() -> None:
    params = {
        n: p
        for n, p in inspect.signature(Reranker.__init__).parameters.items()
        if n not in ("self", "transport", "async_transport")
    }  # live objects, not settings
    fields = JinaRerank.model_fields
    assert set(fields) == set(params)
    for name, param in params.items():
        if name not in ("api_key", "top_n"):
            assert fields[name].default == param.default, name
    assert fields["top_n"].default == 3  # langchain-community's default
    assert fields["model"].default == DEFAULT_RERANKER == "jina-reranker-v3"
    assert all((f.description or "").strip() for f in fields.values())
    assert issubclass(JinaRerank, BaseDocumentCompressor)


def test_compress_returns_scored_copies_best_first() -> None:
    docs = documents()
    out = JinaRerank(backend="fake").compress_documents(docs, QUERY)
    expected = Reranker(backend="fake").rerank(QUERY, TEXTS, top_n=3)
    assert [d.page_content for d in out] == [TEXTS[i] for i in expected.indices]
    assert [d.metadata["relevance_score"] for d in out] == expected.scores
    assert out[0].page_content == "Berlin is the capital of Germany."
    scores = [d.metadata["relevance_score"] for d in out]
    assert scores == sorted(scores, reverse=True)
    # copies: ids and other metadata kept, the caller's documents untouched
    assert [d.id for d in out] == [f"id{i}" for i in expected.indices]
    assert all(d.metadata["tags"] == ["t"] for d in out)
    assert docs == documents()
    out[0].metadata["tags"].append("changed")
    assert docs[expected.indices[0]].metadata["tags"] == ["t"]


@pytest.mark.parametrize(("top_n", "count"), [(1, 1), (3, 3), (None, 5), (10, 5)])
def test_top_n(top_n: int | None, count: int) -> None:
    assert len(JinaRerank(backend="fake", top_n=top_n).compress_documents(documents(), QUERY)) == count


def test_bad_top_n_fails_at_construction() -> None:
    with pytest.raises(InvalidInputError) as info:
        JinaRerank(backend="fake", top_n=0)
    assert info.value.field == "top_n"


def test_rerank_returns_community_dicts() -> None:
    rr = JinaRerank(backend="fake", top_n=2)
    core = Reranker(backend="fake")
    full = [{"index": r.index, "relevance_score": r.relevance_score} for r in core.rerank(QUERY, TEXTS)]
    assert rr.rerank(TEXTS, QUERY) == full[:2]  # -1 (default): self.top_n
    assert rr.rerank(documents(), QUERY, top_n=None) == full  # None: all
    assert rr.rerank(TEXTS, QUERY, top_n=4) == full[:4]
    assert rr.rerank([], QUERY) == []


async def test_async_paths_match_sync() -> None:
    rr = JinaRerank(backend="fake", top_n=4)
    assert await rr.acompress_documents(documents(), QUERY) == rr.compress_documents(documents(), QUERY)
    assert await rr.arerank(TEXTS, QUERY, top_n=None) == rr.rerank(TEXTS, QUERY, top_n=None)
    assert await rr.acompress_documents([], QUERY) == []


def test_api_scores_are_the_servers(fake_jina_server: Any) -> None:
    rr = JinaRerank(base_url=fake_jina_server.base_url, api_key="jina_test", top_n=2)
    out = rr.compress_documents(documents(), QUERY)
    want = sorted(((expected_rerank_score(QUERY, t), t) for t in TEXTS), reverse=True)[:2]
    assert [d.page_content for d in out] == [t for _, t in want]
    assert [d.metadata["relevance_score"] for d in out] == pytest.approx([s for s, _ in want], abs=1e-12)
    (request,) = fake_jina_server.requests
    assert request.path.endswith("/rerank")
    assert request.body["model"] == "jina-reranker-v3" and request.body["documents"] == TEXTS
