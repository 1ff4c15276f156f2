"""Each framework adapter end to end on the real MiniLM: the relevant document comes first."""

from __future__ import annotations

import uuid


def test_langchain_in_memory_vector_store(
    minilm_path: str, corpus: dict[str, str], queries: dict[str, str]
) -> None:
    from langchain_core.vectorstores import InMemoryVectorStore

    from langchain_jina_embeddings import JinaEmbeddings

    emb = JinaEmbeddings(model=minilm_path, backend="local", device="cpu")
    store = InMemoryVectorStore.from_texts(
        list(corpus.values()), emb, metadatas=[{"topic": k} for k in corpus]
    )
    for query, topic in queries.items():
        hits = store.similarity_search_with_score(query, k=2)
        assert hits[0][0].metadata["topic"] == topic, (query, hits)
        assert hits[0][1] > hits[1][1] + 0.05, (query, hits)  # a clear margin, not a coin toss
    assert len(emb.embed_query("hello")) == 384


def test_llama_index_vector_store_index(
    minilm_path: str, corpus: dict[str, str], queries: dict[str, str]
) -> None:
    from llama_index.core import Document, VectorStoreIndex

    from llama_index_jina_embeddings import JinaEmbedding

    embed_model = JinaEmbedding(minilm_path, backend="local", device="cpu")
    documents = [Document(text=text, doc_id=key, metadata={"topic": key}) for key, text in corpus.items()]
    index = VectorStoreIndex.from_documents(documents, embed_model=embed_model)
    retriever = index.as_retriever(similarity_top_k=2)
    for query, topic in queries.items():
        hits = retriever.retrieve(query)
        assert hits[0].node.ref_doc_id == topic, (query, [h.node.ref_doc_id for h in hits])
        assert hits[0].score > hits[1].score + 0.05, query


def test_haystack_indexing_and_query_pipelines(
    minilm_path: str, corpus: dict[str, str], queries: dict[str, str]
) -> None:
    from haystack import Document, Pipeline
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.components.writers import DocumentWriter
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    from haystack_integrations.components.embedders.jina_embeddings import (
        JinaDocumentEmbedder,
        JinaTextEmbedder,
    )

    store = InMemoryDocumentStore(index=f"smoke-{uuid.uuid4().hex}")
    indexing = Pipeline()
    indexing.add_component(
        "embedder", JinaDocumentEmbedder(model=minilm_path, backend="local", progress_bar=False)
    )
    indexing.add_component("writer", DocumentWriter(document_store=store))
    indexing.connect("embedder.documents", "writer.documents")
    docs = [Document(id=key, content=text) for key, text in corpus.items()]
    assert indexing.run({"embedder": {"documents": docs}})["writer"]["documents_written"] == len(docs)
    assert {len(d.embedding) for d in store.filter_documents()} == {384}

    query = Pipeline()
    query.add_component("text_embedder", JinaTextEmbedder(model=minilm_path, backend="local"))
    query.add_component("retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=3))
    query.connect("text_embedder.embedding", "retriever.query_embedding")
    for text, topic in queries.items():
        found = query.run({"text_embedder": {"text": text}})["retriever"]["documents"]
        assert found[0].id == topic, (text, [d.id for d in found])
        assert found[0].score > found[1].score + 0.05, text
