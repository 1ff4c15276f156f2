"""JinaRerank(model="jina-colbert-v2"): MaxSim reranking inside ContextualCompressionRetriever,
with documents' stored token vectors read from ``Document.metadata["jina_token_vectors"]``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_core.vectorstores import InMemoryVectorStore

from jina_embeddings import TOKEN_VECTORS_KEY, MultiVectorEmbedder, maxsim
from jina_testkit.fake_multivector import expected_token_vectors
from langchain_jina_embeddings import JinaEmbeddings, JinaRerank

CORPUS = [
    "The Eiffel Tower is a wrought-iron lattice tower in Paris, France.",
    "Photosynthesis lets plants turn sunlight, water and carbon dioxide into sugar.",
    "Mount Everest is the highest mountain above sea level.",
    "Mitochondria produce most of a cell's chemical energy.",
    "A black hole is a region of spacetime from which not even light can escape.",
    "Sourdough bread rises thanks to a fermented culture of wild yeast.",
]
QUERY = "What is the tallest mountain on Earth?"


def spy_roles(rerank: JinaRerank) -> list[tuple[str, int]]:
    """(role, count) of every encode the reranker asks its local backend for (its async path
    runs the same ``embed`` in a worker thread)."""
    calls: list[tuple[str, int]] = []
    inner = rerank.reranker._backend.inner
    embed = inner.embed

    def spy(request: Any) -> Any:
        calls.append((request.binding.role.value, len(request.texts)))
        return embed(request)

    inner.embed = spy
    return calls


@pytest.mark.local
async def test_colbert_rerank_local_with_stored_token_vectors(
    minilm_path: str, tiny_colbert_path: str
) -> None:
    mv = MultiVectorEmbedder(tiny_colbert_path, backend="local", dtype="float32")
    stored = mv.embed_documents(CORPUS).to_blobs("float32", as_text=True)
    metadatas = [{"i": i, TOKEN_VECTORS_KEY: blob} for i, blob in enumerate(stored)]
    store = InMemoryVectorStore.from_texts(
        CORPUS, JinaEmbeddings(model=minilm_path, backend="local", device="cpu"), metadatas=metadatas
    )
    base = store.as_retriever(search_kwargs={"k": 5})
    rr = JinaRerank(model=tiny_colbert_path, backend="local", dtype="float32", top_n=3)
    calls = spy_roles(rr)
    retriever = ContextualCompressionRetriever(base_compressor=rr, base_retriever=base)
    candidates = base.invoke(QUERY)
    out = retriever.invoke(QUERY)
    assert calls == [("query", 1)]  # documents were not re-encoded
    q = mv.embed_query(QUERY).vectors[0]
    want = sorted(
        ((maxsim(q, mv.embed_documents([d.page_content]).vectors[0]), d.metadata["i"]) for d in candidates),
        reverse=True,
    )[:3]
    assert [d.metadata["i"] for d in out] == [i for _, i in want]
    assert [d.metadata["relevance_score"] for d in out] == pytest.approx([s for s, _ in want], rel=1e-5)
    # without stored vectors the same order comes out, by encoding the candidates
    plain = [d.model_copy(update={"metadata": {"i": d.metadata["i"]}}) for d in candidates]
    again = await rr.acompress_documents(plain, QUERY)
    assert [d.metadata["i"] for d in again] == [i for _, i in want]
    assert calls[1:] == [("query", 1), ("document", len(candidates))]


def test_colbert_rerank_api_in_compression_retriever(fake_jina_server: Any) -> None:
    url, key = fake_jina_server.base_url, "jina_test"
    mv = MultiVectorEmbedder("jina-colbert-v2", backend="api", base_url=url, api_key=key, dimensions=96)
    stored = mv.embed_documents(CORPUS).to_blobs(as_text=True)  # float16 storage
    metadatas = [{"i": i, TOKEN_VECTORS_KEY: blob} for i, blob in enumerate(stored)]
    store = InMemoryVectorStore.from_texts(
        CORPUS, JinaEmbeddings(base_url=url, api_key=key), metadatas=metadatas
    )
    base = store.as_retriever(search_kwargs={"k": len(CORPUS)})
    rr = JinaRerank(model="jina-colbert-v2", base_url=url, api_key=key, top_n=2)
    fake_jina_server.reset()
    out = ContextualCompressionRetriever(base_compressor=rr, base_retriever=base).invoke(QUERY)
    mv_calls = [r.body for r in fake_jina_server.requests if r.body.get("model") == "jina-colbert-v2"]
    assert mv_calls == [
        {
            "model": "jina-colbert-v2",
            "input": [QUERY],
            "embedding_type": "float",
            "input_type": "query",
            "dimensions": 96,
        }
    ]
    q = expected_token_vectors("jina-colbert-v2", "query", QUERY, 96)
    scores = np.array(
        [maxsim(q, expected_token_vectors("jina-colbert-v2", "document", t, 96)) for t in CORPUS]
    )
    best = np.argsort(-scores)[:2]
    assert [d.metadata["i"] for d in out] == best.tolist()
    assert [d.metadata["relevance_score"] for d in out] == pytest.approx(scores[best].tolist(), rel=2e-3)
    assert all(TOKEN_VECTORS_KEY in d.metadata for d in out)  # copies keep their metadata
