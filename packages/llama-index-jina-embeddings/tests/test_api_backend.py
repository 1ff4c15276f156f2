"""Through the API backend against the loopback fake Jina server: roles, bounds, keys, cache, events."""

from __future__ import annotations

import math

import numpy as np
import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload, LlamaDebugHandler
from llama_index.core.rate_limiter import BaseRateLimiter
from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.core.storage.kvstore import SimpleKVStore

from jina_testkit.fake_api import FakeJinaServer, expected_rerank_score, expected_vector
from llama_index_jina_embeddings import JinaEmbedding, JinaRerank

MODEL = "jina-embeddings-v5-text-small"
KEY = "jina_test"


def _embedder(server: FakeJinaServer, **kwargs) -> JinaEmbedding:
    kwargs.setdefault("api_key", KEY)
    return JinaEmbedding(base_url=server.base_url, **kwargs)


def _tasks(server: FakeJinaServer) -> list[str]:
    return [r.body["task"] for r in server.requests if r.path.endswith("/embeddings")]


def _expected(task: str, texts: list[str], dimensions: int | None = None) -> np.ndarray:
    return np.stack([expected_vector(MODEL, task, t, dimensions) for t in texts])


def test_the_api_defaults() -> None:
    emb = JinaEmbedding(api_key="jina_x")
    assert (emb.client.backend_name, emb.embed_batch_size, emb.model_name) == ("api", 128, MODEL)


async def test_queries_use_the_query_task_and_texts_the_passage_task(
    fake_jina_server: FakeJinaServer,
) -> None:
    emb = _embedder(fake_jina_server, dimensions=256)
    q = "capital of Germany?"
    queries = [emb.get_query_embedding(q), await emb.aget_query_embedding(q)]
    assert _tasks(fake_jina_server) == ["retrieval.query"] * 2
    np.testing.assert_allclose(queries, _expected("retrieval.query", [q, q], 256), atol=1e-6)

    fake_jina_server.reset()
    texts = ["Berlin is the capital of Germany.", "Paris is in France.", "Rome is in Italy."]
    docs = [
        [emb.get_text_embedding(texts[0])],
        [await emb.aget_text_embedding(texts[0])],
        emb.get_text_embedding_batch(texts),
        await emb.aget_text_embedding_batch(texts),
    ]
    assert _tasks(fake_jina_server) == ["retrieval.passage"] * 4
    for got in docs:
        np.testing.assert_allclose(got, _expected("retrieval.passage", texts[: len(got)], 256), atol=1e-6)
    assert all(r.body["dimensions"] == 256 for r in fake_jina_server.requests)


async def test_async_batch_never_exceeds_max_concurrency(fake_jina_server_factory) -> None:
    server = fake_jina_server_factory(latency=0.05)
    emb = _embedder(server, embed_batch_size=4, max_concurrency=3)
    texts = [f"passage number {i} about topic {i % 7}" for i in range(160)]  # 40 batches
    vectors = await emb.aget_text_embedding_batch(texts)
    assert len(server.requests) == 40
    assert server.max_in_flight == 3  # bounded, and the bound is actually used
    np.testing.assert_allclose(vectors, _expected("retrieval.passage", texts), atol=1e-6)


def test_async_index_build_never_exceeds_max_concurrency(fake_jina_server_factory) -> None:
    server = fake_jina_server_factory(latency=0.05)
    emb = _embedder(server, embed_batch_size=4, max_concurrency=3)
    nodes = [TextNode(text=f"node {i} talks about subject {i % 9}", id_=str(i)) for i in range(160)]
    index = VectorStoreIndex(nodes, embed_model=emb, use_async=True)  # LlamaIndex's own event loop
    assert len(server.requests) == 40
    assert server.max_in_flight == 3
    stored = index.vector_store.get("17")
    np.testing.assert_allclose(stored, expected_vector(MODEL, "retrieval.passage", nodes[17].text), atol=1e-6)


@pytest.mark.parametrize("env_name", ["JINA_API_KEY", "JINAAI_API_KEY"])
def test_the_key_is_read_from_either_environment_variable(
    fake_jina_server: FakeJinaServer, monkeypatch: pytest.MonkeyPatch, env_name: str
) -> None:
    monkeypatch.setenv(env_name, KEY)
    emb = JinaEmbedding(base_url=fake_jina_server.base_url)
    emb.get_query_embedding("hello")
    assert fake_jina_server.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    # after a round trip through to_dict (which holds no key) it is read from the environment again
    JinaEmbedding.from_dict(emb.to_dict()).get_text_embedding("hello")
    assert fake_jina_server.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    assert [r.outcome for r in fake_jina_server.requests] == ["ok", "ok"]


def test_embeddings_cache_sends_only_the_misses(fake_jina_server: FakeJinaServer) -> None:
    emb = _embedder(fake_jina_server, embeddings_cache=SimpleKVStore())
    first = emb.get_text_embedding_batch(["alpha one", "beta two", "gamma three"])
    second = emb.get_text_embedding_batch(["beta two", "delta four", "alpha one"])
    sent = [r.body["input"] for r in fake_jina_server.requests]
    assert sent == [["alpha one", "beta two", "gamma three"], ["delta four"]]
    assert second[0] == first[1] and second[2] == first[0]
    np.testing.assert_allclose(
        second[1], expected_vector(MODEL, "retrieval.passage", "delta four"), atol=1e-6
    )


class CountingLimiter(BaseRateLimiter):
    def __init__(self) -> None:
        self.sync_calls = 0
        self.async_calls = 0

    def acquire(self, num_tokens: int = 0) -> None:
        self.sync_calls += 1

    async def async_acquire(self, num_tokens: int = 0) -> None:
        self.async_calls += 1


@pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])
async def test_llamaindex_events_cache_and_limiter_per_chunk_with_one_core_call(
    fake_jina_server: FakeJinaServer, event_log, run_async: bool
) -> None:
    debug, limiter = LlamaDebugHandler(), CountingLimiter()
    emb = _embedder(
        fake_jina_server, embed_batch_size=4, rate_limiter=limiter, callback_manager=CallbackManager([debug])
    )
    texts = [f"text {i}" for i in range(10)]
    if run_async:
        vectors = await emb.aget_text_embedding_batch(texts)
    else:
        vectors = emb.get_text_embedding_batch(texts)
    # one core call: three requests (sent concurrently, so in any order)
    assert sorted(len(r.body["input"]) for r in fake_jina_server.requests) == [2, 4, 4]
    assert (limiter.sync_calls, limiter.async_calls) == ((0, 3) if run_async else (3, 0))

    assert len(event_log.named("EmbeddingStartEvent")) == 3
    ends = event_log.named("EmbeddingEndEvent")
    assert [e.chunks for e in ends] == [texts[0:4], texts[4:8], texts[8:10]]
    assert [v for e in ends for v in e.embeddings] == vectors
    pairs = debug.get_event_pairs(CBEventType.EMBEDDING)
    assert [p[1].payload[EventPayload.CHUNKS] for p in pairs] == [texts[0:4], texts[4:8], texts[8:10]]
    assert "api_key" not in str(pairs[0][0].payload) and KEY not in str(pairs[0][0].payload)


async def test_an_empty_batch_sends_nothing(fake_jina_server: FakeJinaServer, event_log) -> None:
    emb = _embedder(fake_jina_server)
    assert emb.get_text_embedding_batch([]) == []
    assert await emb.aget_text_embedding_batch([]) == []
    assert fake_jina_server.requests == []
    assert event_log.named("EmbeddingStartEvent") == []


def test_a_failed_batch_ends_its_callback_events_with_the_error(fake_jina_server: FakeJinaServer) -> None:
    debug = LlamaDebugHandler()
    emb = _embedder(
        fake_jina_server, api_key="jina_wrong", embed_batch_size=2, callback_manager=CallbackManager([debug])
    )
    with pytest.raises(Exception, match="401|uthentic") as err:
        emb.get_text_embedding_batch(["a b", "c d", "e f"])
    pairs = debug.get_event_pairs(CBEventType.EMBEDDING)
    assert len(pairs) == 2
    assert all(p[1].payload[EventPayload.EXCEPTION] is err.value for p in pairs)


async def test_changing_a_field_is_honoured_by_the_next_call(fake_jina_server: FakeJinaServer) -> None:
    emb = _embedder(fake_jina_server)
    emb.dimensions = 64
    emb.task = "text-matching"
    vec = await emb.aget_query_embedding("hello there")
    body = fake_jina_server.requests[-1].body
    assert (body["dimensions"], body["task"], len(vec)) == (64, "text-matching", 64)


async def test_rerank_through_the_api(fake_jina_server: FakeJinaServer) -> None:
    rerank = JinaRerank(base_url=fake_jina_server.base_url, api_key=KEY, top_n=2)
    docs = ["green tea leaves", "black coffee", "green tea and honey", "rocks"]
    nodes = [NodeWithScore(node=TextNode(text=d), score=0.0) for d in docs]
    for out in (
        rerank.postprocess_nodes(nodes, query_str="green tea"),
        await rerank.apostprocess_nodes(nodes, query_str="green tea"),
    ):
        scores = sorted(((expected_rerank_score("green tea", d), d) for d in docs), reverse=True)[:2]
        assert [(n.node.get_content(), n.score) for n in out] == [(d, pytest.approx(s)) for s, d in scores]
    bodies = [r.body for r in fake_jina_server.requests]
    assert [b["model"] for b in bodies] == ["jina-reranker-v3"] * 2
    assert bodies[0]["query"] == "green tea" and bodies[0]["documents"] == docs


def test_binary_precision_gives_plus_minus_one_floats(fake_jina_server: FakeJinaServer) -> None:
    emb = _embedder(fake_jina_server, precision="binary", dimensions=64)
    vec = emb.get_query_embedding("bits please")
    ref = expected_vector(MODEL, "retrieval.query", "bits please", 64)
    assert len(vec) == 64 and set(vec) == {1.0, -1.0}
    assert vec == [1.0 if x > 0 else -1.0 for x in ref]
    assert math.isclose(sum(v * v for v in vec), 64.0)
