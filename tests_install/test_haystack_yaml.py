"""A Haystack pipeline holding our three components survives dumps()/loads() with default arguments."""

from __future__ import annotations

import uuid

import pytest


def test_pipelines_round_trip_through_yaml_with_default_loads(
    minilm_path: str, corpus: dict[str, str], queries: dict[str, str]
) -> None:
    from haystack import Document, Pipeline
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.components.writers import DocumentWriter
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack.document_stores.types import DuplicatePolicy

    from haystack_integrations.components.embedders.jina_embeddings import (
        JinaDocumentEmbedder,
        JinaTextEmbedder,
    )
    from haystack_integrations.components.rankers.jina_embeddings import JinaRanker

    store = InMemoryDocumentStore(index=f"smoke-yaml-{uuid.uuid4().hex}")
    indexing = Pipeline()
    indexing.add_component(
        "embedder",
        JinaDocumentEmbedder(
            model=minilm_path, backend="local", progress_bar=False, meta_fields_to_embed=["title"]
        ),
    )
    indexing.add_component("writer", DocumentWriter(document_store=store, policy=DuplicatePolicy.OVERWRITE))
    indexing.connect("embedder.documents", "writer.documents")
    query = Pipeline()
    query.add_component("text_embedder", JinaTextEmbedder(model=minilm_path, backend="local"))
    query.add_component("retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=4))
    query.add_component("ranker", JinaRanker(backend="fake", top_k=3))
    query.connect("text_embedder.embedding", "retriever.query_embedding")
    query.connect("retriever.documents", "ranker.documents")

    docs = [Document(id=key, content=text, meta={"title": key}) for key, text in corpus.items()]

    def search(pipe: Pipeline, text: str) -> tuple[list[str], list[str], list[float]]:
        out = pipe.run(
            {"text_embedder": {"text": text}, "ranker": {"query": text}}, include_outputs_from={"retriever"}
        )
        return (
            [d.id for d in out["retriever"]["documents"]],
            [d.id for d in out["ranker"]["documents"]],
            [d.score for d in out["ranker"]["documents"]],
        )

    indexing.run({"embedder": {"documents": docs}})
    vectors = {d.id: d.embedding for d in store.filter_documents()}
    expected = {q: search(query, q) for q in queries}
    for q, topic in queries.items():
        assert expected[q][0][0] == topic, q

    indexing_yaml, query_yaml = indexing.dumps(), query.dumps()
    for text, name in (
        (indexing_yaml, "embedders.jina_embeddings"),
        (query_yaml, "embedders.jina_embeddings"),
        (query_yaml, "rankers.jina_embeddings"),
    ):
        assert f"haystack_integrations.components.{name}." in text
    loaded_indexing, loaded_query = Pipeline.loads(indexing_yaml), Pipeline.loads(query_yaml)  # defaults
    assert type(loaded_query.get_component("ranker")) is JinaRanker
    assert loaded_indexing.get_component("embedder").to_dict() == indexing.get_component("embedder").to_dict()

    # the loaded store shares the index name: empty it so the loaded indexing pipeline must refill it
    store.delete_documents(list(vectors))
    assert store.count_documents() == 0
    assert loaded_indexing.run({"embedder": {"documents": docs}})["writer"]["documents_written"] == len(docs)
    again = {d.id: d.embedding for d in store.filter_documents()}
    assert again.keys() == vectors.keys()
    for key, vector in vectors.items():
        assert again[key] == pytest.approx(vector, abs=1e-6), key
    for q in queries:
        retrieved, ranked, scores = search(loaded_query, q)
        assert (retrieved, ranked) == expected[q][:2], q
        assert scores == pytest.approx(expected[q][2], abs=1e-6), q
