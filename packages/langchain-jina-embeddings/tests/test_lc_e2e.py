"""End to end with real LangChain objects: InMemoryVectorStore, retrievers, and
``ContextualCompressionRetriever`` (from ``langchain-classic``, its home in LangChain 1.x)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_core.vectorstores import InMemoryVectorStore

from jina_embeddings import Reranker
from jina_testkit.fake_api import expected_rerank_score, expected_vector
from langchain_jina_embeddings import JinaEmbeddings, JinaRerank

CORPUS = [
    "The Eiffel Tower is a wrought-iron lattice tower in Paris, France.",
    "Photosynthesis lets plants turn sunlight, water and carbon dioxide into sugar and oxygen.",
    "The Great Barrier Reef off Australia is the largest coral reef system in the world.",
    "Python is a programming language known for its readable syntax.",
    "Mount Everest, on the border of Nepal and China, is the highest mountain above sea level.",
    "Mitochondria are the organelles that produce most of a cell's chemical energy.",
    "Beethoven composed nine symphonies; the ninth ends with the choral Ode to Joy.",
    "The Amazon is the largest river in the world by discharge volume.",
    "A black hole is a region of spacetime from which not even light can escape.",
    "Sourdough bread rises thanks to a fermented culture of wild yeast and bacteria.",
    "The French Revolution began in 1789 with the storming of the Bastille.",
    "Bitcoin is a decentralized digital currency secured by a proof-of-work blockchain.",
]
QUERIES = {  # query -> index of the relevant document
    "Which iron landmark stands in Paris?": 0,
    "How do plants make sugar from light?": 1,
    "What is the tallest mountain on Earth?": 4,
    "What produces energy inside a cell?": 5,
    "Who wrote the Ode to Joy symphony?": 6,
    "Can light escape from a black hole?": 8,
    "What makes sourdough bread rise?": 9,
}
MODEL = "jina-embeddings-v5-text-small"


def store_of(emb: JinaEmbeddings) -> InMemoryVectorStore:
    return InMemoryVectorStore.from_texts(CORPUS, emb, metadatas=[{"i": i} for i in range(len(CORPUS))])


# -- local MiniLM, offline ---------------------------------------------------------------------
@pytest.mark.local
async def test_local_minilm_store_finds_the_relevant_document(minilm_path: str) -> None:
    store = store_of(JinaEmbeddings(model=minilm_path, backend="local", device="cpu"))
    for query, want in QUERIES.items():
        top = store.similarity_search(query, k=1)[0]
        assert top.metadata["i"] == want, query
        assert (await store.asimilarity_search(query, k=1))[0].metadata["i"] == want, query


# -- the Jina API backend against the loopback server -------------------------------------------
def test_api_store_uses_passage_and_query_tasks(fake_jina_server: Any) -> None:
    emb = JinaEmbeddings(base_url=fake_jina_server.base_url, api_key="jina_test", dimensions=256)
    store = store_of(emb)
    (indexing,) = fake_jina_server.requests
    assert indexing.body["task"] == "retrieval.passage" and indexing.body["input"] == CORPUS
    assert indexing.body["model"] == MODEL

    docs = np.stack([expected_vector(MODEL, "retrieval.passage", t, 256) for t in CORPUS])
    for query in QUERIES:
        hits = store.similarity_search_with_score(query, k=3)
        q = expected_vector(MODEL, "retrieval.query", query, 256)
        cosines = docs @ q  # unit vectors
        best = np.argsort(-cosines)[:3]
        assert [d.metadata["i"] for d, _ in hits] == best.tolist()
        assert [s for _, s in hits] == pytest.approx(cosines[best].tolist(), abs=1e-5)
    searches = fake_jina_server.requests[1:]
    assert len(searches) == len(QUERIES)
    assert [r.body["task"] for r in searches] == ["retrieval.query"] * len(QUERIES)
    assert [r.body["input"] for r in searches] == [[q] for q in QUERIES]


async def test_api_async_calls_overlap_at_the_server(fake_jina_server_factory: Callable[..., Any]) -> None:
    server = fake_jina_server_factory(latency=0.4)
    emb = JinaEmbeddings(base_url=server.base_url, api_key="jina_test")
    await emb.aembed_query("warm up the connection pool")
    server.reset()
    start = time.perf_counter()
    first, second = await asyncio.gather(emb.aembed_documents(CORPUS[:3]), emb.aembed_query("black hole"))
    elapsed = time.perf_counter() - start
    assert server.max_in_flight == 2
    assert elapsed < 0.75  # two 0.4 s requests, side by side
    (a, b) = sorted(server.requests, key=lambda r: r.started)
    assert b.started < a.finished  # the second began before the first ended
    assert first == [expected_vector(MODEL, "retrieval.passage", t).tolist() for t in CORPUS[:3]]


# -- JinaRerank inside the compression retriever -----------------------------------------------
def test_rerank_in_compression_retriever_api(fake_jina_server: Any) -> None:
    emb = JinaEmbeddings(base_url=fake_jina_server.base_url, api_key="jina_test")
    rr = JinaRerank(base_url=fake_jina_server.base_url, api_key="jina_test", top_n=3)
    store = store_of(emb)
    k = len(CORPUS)  # the fake server's vectors carry no meaning: let every document through
    retriever = ContextualCompressionRetriever(
        base_compressor=rr, base_retriever=store.as_retriever(search_kwargs={"k": k})
    )
    query = "Which iron tower is in Paris?"
    candidates = store.similarity_search(query, k=k)
    out = retriever.invoke(query)
    want = sorted(
        ((expected_rerank_score(query, d.page_content), d.page_content) for d in candidates), reverse=True
    )[:3]
    assert [d.page_content for d in out] == [t for _, t in want]
    scores = [d.metadata["relevance_score"] for d in out]
    assert scores == sorted(scores, reverse=True)
    assert scores == pytest.approx([s for s, _ in want], abs=1e-12)
    assert out[0].metadata["i"] == 0  # the word overlap puts the Eiffel Tower first
    rerank_calls = [r for r in fake_jina_server.requests if r.path.endswith("/rerank")]
    assert len(rerank_calls) == 1 and rerank_calls[0].body["query"] == query
    assert rerank_calls[0].body["documents"] == [d.page_content for d in candidates]


@pytest.mark.local
async def test_rerank_in_compression_retriever_local(minilm_path: str, tiny_reranker_path: str) -> None:
    emb = JinaEmbeddings(model=minilm_path, backend="local", device="cpu")
    rr = JinaRerank(model=tiny_reranker_path, backend="local", device="cpu", top_n=4)
    base = store_of(emb).as_retriever(search_kwargs={"k": 6})
    retriever = ContextualCompressionRetriever(base_compressor=rr, base_retriever=base)
    query = "What is the tallest mountain on Earth?"
    candidates = base.invoke(query)
    out = retriever.invoke(query)
    core = Reranker(model=tiny_reranker_path, backend="local", device="cpu").rerank(
        query, [d.page_content for d in candidates], top_n=4
    )
    assert [d.page_content for d in out] == [candidates[i].page_content for i in core.indices]
    scores = [d.metadata["relevance_score"] for d in out]
    assert scores == sorted(scores, reverse=True) and scores == pytest.approx(core.scores, abs=1e-6)
    assert [d.page_content for d in await retriever.ainvoke(query)] == [d.page_content for d in out]
