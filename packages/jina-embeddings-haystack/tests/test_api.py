"""Through the core's Jina API backend, against the loopback fake Jina server (real sockets)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from haystack import Document
from haystack.utils import Secret

from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder, JinaTextEmbedder
from haystack_integrations.components.rankers.jina_embeddings import JinaRanker
from jina_embeddings import AuthenticationError
from jina_testkit.fake_api import expected_rerank_score, expected_vector

MODEL = "jina-embeddings-v5-text-small"
KEY = Secret.from_token("jina_test")


def docs() -> list[Document]:
    return [
        Document(id="a", content="Berlin is the capital of Germany.", meta={"title": "Berlin"}),
        Document(id="b", content="Bananas are yellow.", meta={"title": "Fruit"}),
        Document(id="c", content="The Rhine flows through Basel."),
    ]


def test_each_role_sends_its_task_and_gets_the_servers_vectors(fake_jina_server):
    url = fake_jina_server.base_url
    query = JinaTextEmbedder(api_key=KEY, base_url=url).run("capital of Germany")
    out = JinaDocumentEmbedder(api_key=KEY, base_url=url, progress_bar=False).run(docs())

    embedding_requests = [r for r in fake_jina_server.requests if r.path.endswith("/embeddings")]
    assert [r.body["task"] for r in embedding_requests] == ["retrieval.query", "retrieval.passage"]
    assert all(r.body["model"] == MODEL for r in embedding_requests)
    assert all(r.headers["authorization"] == "Bearer jina_test" for r in embedding_requests)
    np.testing.assert_allclose(
        query["embedding"], expected_vector(MODEL, "retrieval.query", "capital of Germany"), atol=1e-6
    )
    for doc in out["documents"]:
        np.testing.assert_allclose(
            doc.embedding, expected_vector(MODEL, "retrieval.passage", doc.content), atol=1e-6
        )
    assert query["meta"] == {"model": MODEL, "usage": {"prompt_tokens": 3, "total_tokens": 3}}


def test_text_sent_for_meta_fields_is_exact(fake_jina_server):
    embedder = JinaDocumentEmbedder(
        api_key=KEY,
        base_url=fake_jina_server.base_url,
        progress_bar=False,
        meta_fields_to_embed=["title", "missing"],
        prefix="[",
        suffix="]",
    )
    embedder.run(docs())
    (request,) = fake_jina_server.requests
    assert request.body["input"] == [
        "[Berlin\nBerlin is the capital of Germany.]",
        "[Fruit\nBananas are yellow.]",
        "[The Rhine flows through Basel.]",
    ]


def test_batches_keep_order_and_usage_is_summed(fake_jina_server):
    texts = [f"document number {i} " + "word " * i for i in range(5)]
    embedder = JinaDocumentEmbedder(
        api_key=KEY, base_url=fake_jina_server.base_url, progress_bar=False, batch_size=2, dimensions=64
    )
    out = embedder.run([Document(content=t) for t in texts])
    # batches may go out concurrently, so the server sees them in any order
    assert sorted(r.body["input"] for r in fake_jina_server.requests) == sorted(
        [texts[0:2], texts[2:4], texts[4:]]
    )
    assert all(r.body["dimensions"] == 64 for r in fake_jina_server.requests)
    for doc, text in zip(out["documents"], texts, strict=True):
        np.testing.assert_allclose(
            doc.embedding, expected_vector(MODEL, "retrieval.passage", text, 64), atol=1e-6
        )
    words = sum(len(t.split()) for t in texts)
    assert out["meta"]["usage"] == {"prompt_tokens": words, "total_tokens": words}


async def test_empty_document_list_sends_nothing(fake_jina_server):
    embedder = JinaDocumentEmbedder(api_key=KEY, base_url=fake_jina_server.base_url)
    expected = {"documents": [], "meta": {"model": MODEL, "usage": {"prompt_tokens": 0, "total_tokens": 0}}}
    assert embedder.run([]) == expected
    assert await embedder.run_async([]) == expected
    ranker = JinaRanker(api_key=KEY, base_url=fake_jina_server.base_url)
    assert (await ranker.run_async(query="q", documents=[]))["documents"] == []
    assert fake_jina_server.requests == []


def test_key_from_the_environment_is_read_at_warm_up(fake_jina_server, monkeypatch):
    embedder = JinaTextEmbedder(base_url=fake_jina_server.base_url)  # default Secret, no env var yet
    monkeypatch.setenv("JINAAI_API_KEY", "jina_test")  # the second name counts too
    assert len(embedder.run("hello")["embedding"]) == 1024
    assert fake_jina_server.requests[0].headers["authorization"] == "Bearer jina_test"
    assert "jina_test" not in str(embedder.to_dict())


def test_wrong_key_error_does_not_show_the_key(fake_jina_server):
    embedder = JinaTextEmbedder(
        api_key=Secret.from_token("jina_WRONG_canary"), base_url=fake_jina_server.base_url
    )
    with pytest.raises(AuthenticationError) as info:
        embedder.run("hello")
    assert "jina_WRONG_canary" not in str(info.value) and "jina_WRONG_canary" not in repr(info.value)


async def test_run_async_is_really_async(fake_jina_server_factory):
    server = fake_jina_server_factory(latency=0.5)
    text_embedder = JinaTextEmbedder(api_key=KEY, base_url=server.base_url)
    doc_embedder = JinaDocumentEmbedder(api_key=KEY, base_url=server.base_url, progress_bar=False)
    started = time.perf_counter()
    query, indexed = await asyncio.gather(text_embedder.run_async("hello"), doc_embedder.run_async(docs()))
    elapsed = time.perf_counter() - started
    assert server.max_in_flight == 2 and len(server.requests) == 2
    assert elapsed < 0.9, elapsed  # two 0.5 s requests overlapped (sequential: >= 1.0 s)
    assert len(query["embedding"]) == 1024 and len(indexed["documents"]) == 3


async def test_one_run_async_sends_batches_concurrently(fake_jina_server_factory):
    server = fake_jina_server_factory(latency=0.3)
    embedder = JinaDocumentEmbedder(
        api_key=KEY, base_url=server.base_url, progress_bar=False, batch_size=1, max_concurrency=3
    )
    out = await embedder.run_async([Document(content=f"text {i}") for i in range(6)])
    assert len(server.requests) == 6 and server.max_in_flight == 3
    assert [d.content for d in out["documents"]] == [f"text {i}" for i in range(6)]


async def test_ranker_through_the_api(fake_jina_server):
    ranker = JinaRanker(api_key=KEY, base_url=fake_jina_server.base_url, top_k=2)
    documents = [
        Document(id="r0", content="Paris is the capital of France."),
        Document(id="r1", content="Berlin is the capital of Germany."),
        Document(id="r2", content="Bananas are yellow."),
    ]
    sync = ranker.run(query="capital of Germany", documents=documents)
    async_ = await ranker.run_async(query="capital of Germany", documents=documents)
    assert async_ == sync
    assert [d.id for d in sync["documents"]] == ["r1", "r0"]
    assert [d.score for d in sync["documents"]] == pytest.approx(
        [expected_rerank_score("capital of Germany", documents[i].content) for i in (1, 0)]
    )
    bodies = [r.body for r in fake_jina_server.requests]
    assert [r.path for r in fake_jina_server.requests] == ["/v1/rerank", "/v1/rerank"]
    assert bodies[0]["top_n"] == 2 and bodies[0]["model"] == "jina-reranker-v3"
    assert bodies[0]["documents"] == [d.content for d in documents]
    assert all(d.score is None for d in documents)
