"""Remote multi-vector through the loopback fake Jina API: bodies per role, values in order, checks."""

from __future__ import annotations

import numpy as np
import pytest

from jina_embeddings import APIResponseValidationError, MultiVectorEmbedder, Reranker, maxsim
from jina_testkit.fake_api import FakeJinaServer, Fault
from jina_testkit.fake_multivector import expected_token_vectors

from .conftest import COLBERT, KEY

DOCS = ["Berlin is the capital of Germany", "Paris is in France", "fox", "a b c d e f"]


def colbert(server: FakeJinaServer, **kw) -> MultiVectorEmbedder:
    return MultiVectorEmbedder(COLBERT, backend="api", api_key=KEY, base_url=server.base_url, **kw)


@pytest.mark.parametrize("dims", [None, 64, 96, 128])
def test_colbert_input_type_per_role_and_vectors_in_order(server: FakeJinaServer, dims: int | None) -> None:
    mv = colbert(server, dimensions=dims, batch_size=3)
    docs = mv.embed_documents(DOCS)
    q = mv.embed_query("capital of Germany")
    bodies = [r.body for r in server.requests]
    assert len(bodies) == 3  # 3 + 1 documents (concurrent requests), then the query
    assert sorted(b["input"] for b in bodies[:2]) == sorted([DOCS[:3], DOCS[3:]])
    assert [b["input_type"] for b in bodies] == ["document", "document", "query"]
    assert bodies[2]["input"] == ["capital of Germany"]
    for b in bodies:
        assert set(b) == {"model", "input", "input_type", "embedding_type"} | (
            {"dimensions"} if dims else set()
        )
        assert b.get("dimensions") == dims
    for text, got in zip(DOCS, docs.vectors, strict=True):
        np.testing.assert_allclose(got, expected_token_vectors(COLBERT, "document", text, dims), atol=1e-6)
    np.testing.assert_allclose(
        q.vectors[0], expected_token_vectors(COLBERT, "query", "capital of Germany", dims), atol=1e-6
    )
    assert q.lengths == [32] and docs.dimensions == (dims or 128)


async def test_async_paths_send_the_same(server: FakeJinaServer) -> None:
    mv = colbert(server, batch_size=2)
    docs = await mv.aembed_documents(DOCS)
    queries = await mv.aembed_queries(["q one", "q two"])
    assert [r.body["input_type"] for r in server.requests] == ["document", "document", "query"]
    for text, got in zip(DOCS, docs.vectors, strict=True):
        np.testing.assert_allclose(got, expected_token_vectors(COLBERT, "document", text), atol=1e-6)
    assert queries.lengths == [32, 32]
    scores = await mv.ascore("q one", DOCS)
    want = [
        maxsim(
            expected_token_vectors(COLBERT, "query", "q one"), expected_token_vectors(COLBERT, "document", d)
        )
        for d in DOCS
    ]
    np.testing.assert_allclose(scores, want, rtol=1e-5)


def test_shuffled_response_is_put_back_in_order(server: FakeJinaServer) -> None:
    server.script(Fault.shuffle())
    got = colbert(server).embed_documents(DOCS)
    for text, matrix in zip(DOCS, got.vectors, strict=True):
        np.testing.assert_allclose(matrix, expected_token_vectors(COLBERT, "document", text), atol=1e-6)


@pytest.mark.parametrize("fault", [Fault.short(), Fault.nan(), Fault.bad_dim(), Fault.dup_index()])
def test_bad_responses_are_refused(server: FakeJinaServer, fault: Fault) -> None:
    server.script(fault)
    with pytest.raises(APIResponseValidationError):
        colbert(server, max_retries=0).embed_documents(DOCS)


def test_v4_return_multivector(server: FakeJinaServer) -> None:
    mv = MultiVectorEmbedder("jina-embeddings-v4", backend="api", api_key=KEY, base_url=server.base_url)
    q = mv.embed_query("capital of Germany")
    d = mv.embed_documents(DOCS[:2])
    bodies = [r.body for r in server.requests]
    assert [b["task"] for b in bodies] == ["retrieval.query", "retrieval.passage"]
    assert all(b["return_multivector"] is True and "dimensions" not in b for b in bodies)
    np.testing.assert_allclose(
        q.vectors[0],
        expected_token_vectors("jina-embeddings-v4", "retrieval.query", "capital of Germany"),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        d.vectors[1], expected_token_vectors("jina-embeddings-v4", "retrieval.passage", DOCS[1]), atol=1e-6
    )


def test_reranker_api_scores_by_maxsim(server: FakeJinaServer) -> None:
    rr = Reranker(COLBERT, backend="api", api_key=KEY, base_url=server.base_url)
    result = rr.rerank("capital of Germany", DOCS)
    q = expected_token_vectors(COLBERT, "query", "capital of Germany")
    want = [maxsim(q, expected_token_vectors(COLBERT, "document", d)) for d in DOCS]
    assert result.indices == list(np.argsort(-np.asarray(want), kind="stable"))
    np.testing.assert_allclose(result.scores, sorted(want, reverse=True), rtol=1e-5)
    assert [r.path for r in server.requests] == ["/v1/embeddings", "/v1/embeddings"]
    assert [r.body["input_type"] for r in server.requests] == ["query", "document"]


def test_reranker_api_precomputed_sends_only_the_query(server: FakeJinaServer) -> None:
    mv = colbert(server, dimensions=64)
    stored = mv.embed_documents(DOCS).to_blobs(as_text=True)
    server.reset()
    rr = Reranker(COLBERT, backend="api", api_key=KEY, base_url=server.base_url)
    result = rr.rerank("capital of Germany", DOCS, document_vectors=stored, top_n=2)
    assert len(server.requests) == 1
    body = server.requests[0].body
    assert body["input_type"] == "query" and body["dimensions"] == 64  # cut to the stored width
    q = expected_token_vectors(COLBERT, "query", "capital of Germany", 64)
    want = np.asarray([maxsim(q, expected_token_vectors(COLBERT, "document", d, 64)) for d in DOCS])
    assert result.indices == list(np.argsort(-want, kind="stable"))[:2]
    np.testing.assert_allclose(result.scores, np.sort(want)[::-1][:2], rtol=2e-3)  # float16 storage
