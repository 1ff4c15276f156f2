"""Multi-vector in Haystack: JinaMultiVector{Text,Document}Embedder and JinaRanker(jina-colbert-v2)
in real pipelines (InMemoryDocumentStore), local and API."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from haystack import Document, Pipeline
from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
from haystack.components.writers import DocumentWriter
from haystack.document_stores.in_memory import InMemoryDocumentStore

from haystack_integrations.common.jina_embeddings.multivector import HAS_MULTIVECTOR_FIELD
from haystack_integrations.components.embedders.jina_embeddings import (
    JinaDocumentEmbedder,
    JinaMultiVectorDocumentEmbedder,
    JinaMultiVectorTextEmbedder,
    JinaTextEmbedder,
)
from haystack_integrations.components.rankers.jina_embeddings import JinaRanker
from jina_embeddings import TOKEN_VECTORS_KEY, MultiVectorEmbedder, decode_token_vectors, maxsim
from jina_testkit.fake_multivector import expected_token_vectors

TEXTS = {
    "berlin": "Berlin is the capital and largest city of Germany.",
    "everest": "Mount Everest is the highest mountain on Earth.",
    "honey": "Honey bees make honey from the nectar of flowers.",
    "whale": "The blue whale is the largest animal that has ever lived.",
}
QUERY = "What is the highest mountain on Earth?"


def stored(doc: Document) -> np.ndarray:
    if HAS_MULTIVECTOR_FIELD:
        return np.asarray(doc.multivector_embedding, np.float32)  # type: ignore[attr-defined]
    return decode_token_vectors(doc.meta[TOKEN_VECTORS_KEY])


def pipelines(mv_doc: Any, ranker: Any, **single: Any) -> tuple[Pipeline, Pipeline, InMemoryDocumentStore]:
    store = InMemoryDocumentStore()
    indexing = Pipeline()
    indexing.add_component("token_vectors", mv_doc)
    indexing.add_component("embedder", JinaDocumentEmbedder(**single))
    indexing.add_component("writer", DocumentWriter(document_store=store))
    indexing.connect("token_vectors.documents", "embedder.documents")
    indexing.connect("embedder.documents", "writer.documents")
    query = Pipeline()
    query.add_component("text_embedder", JinaTextEmbedder(**single))
    query.add_component("retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=4))
    query.add_component("ranker", ranker)
    query.connect("text_embedder.embedding", "retriever.query_embedding")
    query.connect("retriever.documents", "ranker.documents")
    return indexing, query, store


def corpus() -> list[Document]:
    return [Document(id=k, content=t) for k, t in TEXTS.items()]


@pytest.mark.local
def test_local_pipelines_rank_by_maxsim_with_stored_vectors(tiny_colbert_path: str) -> None:
    kw = dict(model=tiny_colbert_path, backend="local", dtype="float32")
    ranker = JinaRanker(top_k=2, **kw)
    indexing, query, store = pipelines(
        JinaMultiVectorDocumentEmbedder(storage_precision="float32", progress_bar=False, **kw),
        ranker,
        backend="fake",
    )
    indexing.run({"token_vectors": {"documents": corpus()}})
    mv = MultiVectorEmbedder(tiny_colbert_path, backend="local", dtype="float32")
    want_docs = mv.embed_documents(list(TEXTS.values()))
    for doc in store.filter_documents():
        np.testing.assert_array_equal(stored(doc), want_docs.vectors[list(TEXTS).index(doc.id)])
        assert (TOKEN_VECTORS_KEY in doc.meta) is (not HAS_MULTIVECTOR_FIELD)
    ranker.warm_up()
    calls: list[str] = []
    inner = ranker._client()._backend.inner
    embed = inner.embed
    inner.embed = lambda request: calls.append(request.binding.role.value) or embed(request)
    out = query.run({"text_embedder": {"text": QUERY}, "ranker": {"query": QUERY}})["ranker"]["documents"]
    assert calls == ["query"]  # stored token vectors were used
    q = mv.embed_query(QUERY).vectors[0]
    scores = {k: maxsim(q, v) for k, v in zip(TEXTS, want_docs.vectors, strict=True)}
    best = sorted(scores, key=lambda k: -scores[k])[:2]
    assert [d.id for d in out] == best
    assert [d.score for d in out] == pytest.approx([scores[k] for k in best], rel=1e-5)


@pytest.mark.local
def test_text_embedder_gives_the_query_token_vectors(tiny_colbert_path: str) -> None:
    emb = JinaMultiVectorTextEmbedder(model=tiny_colbert_path, backend="local", dtype="float32")
    got = np.asarray(emb.run(QUERY)["multivector_embedding"], np.float32)
    mv = MultiVectorEmbedder(tiny_colbert_path, backend="local", dtype="float32")
    assert got.shape == (32, 128)
    np.testing.assert_allclose(got, mv.embed_query(QUERY).vectors[0], atol=1e-6)


def test_api_pipelines_rank_by_maxsim(fake_jina_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINA_API_KEY", "jina_test")  # read by each component's default Secret
    remote = dict(backend="api", base_url=fake_jina_server.base_url)
    kw = dict(model="jina-colbert-v2", dimensions=64, **remote)
    ranker = JinaRanker(model="jina-colbert-v2", top_k=3, **remote)
    indexing, query, _ = pipelines(
        JinaMultiVectorDocumentEmbedder(progress_bar=False, **kw), ranker, **remote
    )
    indexing.run({"token_vectors": {"documents": corpus()}})
    fake_jina_server.reset()
    out = query.run({"text_embedder": {"text": QUERY}, "ranker": {"query": QUERY}})["ranker"]["documents"]
    colbert = [r.body for r in fake_jina_server.requests if r.body["model"] == "jina-colbert-v2"]
    assert [(b["input_type"], b.get("dimensions")) for b in colbert] == [
        ("query", 64)
    ]  # cut to the stored width
    q = expected_token_vectors("jina-colbert-v2", "query", QUERY, 64)
    scores = {
        k: maxsim(q, expected_token_vectors("jina-colbert-v2", "document", t, 64)) for k, t in TEXTS.items()
    }
    best = sorted(scores, key=lambda k: -scores[k])[:3]
    assert [d.id for d in out] == best
    assert [d.score for d in out] == pytest.approx([scores[k] for k in best], rel=2e-3)


async def test_api_text_embedder_async_and_serialization(
    fake_jina_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JINA_API_KEY", "jina_test")
    emb = JinaMultiVectorTextEmbedder(backend="api", base_url=fake_jina_server.base_url, dimensions=96)
    got = (await emb.run_async("capital of Germany"))["multivector_embedding"]
    np.testing.assert_allclose(
        got, expected_token_vectors("jina-colbert-v2", "query", "capital of Germany", 96), atol=1e-6
    )
    again = JinaMultiVectorTextEmbedder.from_dict(emb.to_dict())
    assert again.to_dict() == emb.to_dict() and again.dimensions == 96
    doc = JinaMultiVectorDocumentEmbedder(
        backend="api", base_url=fake_jina_server.base_url, storage_precision="float32"
    )
    assert JinaMultiVectorDocumentEmbedder.from_dict(doc.to_dict()).storage_precision == "float32"
    assert "jina_test" not in str(emb.to_dict())
