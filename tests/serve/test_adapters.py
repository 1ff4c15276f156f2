"""The three framework adapters, unchanged, pointed at ``serve`` with ``backend="api", base_url=...``."""

from __future__ import annotations

import numpy as np
import pytest

from jina_embeddings import Embedder

from .conftest import Served

pytestmark = pytest.mark.local

DOCS = ["Berlin is the capital of Germany.", "Bananas are yellow.", "The Rhine flows through Basel."]
QUERY = "capital of Germany"


def local(served: Served) -> tuple[np.ndarray, np.ndarray]:
    emb = Embedder(served.folder, backend="local", dtype="float32")
    return emb.embed_documents(DOCS).vectors, emb.embed_query(QUERY).vectors[0]


def close(a: object, b: np.ndarray) -> None:
    a = np.asarray(a, np.float64)
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    assert np.min(cos) >= 0.99999


def test_langchain(served: Served) -> None:
    from langchain_core.vectorstores import InMemoryVectorStore

    from langchain_jina_embeddings import JinaEmbeddings

    emb = JinaEmbeddings(model=served.folder, backend="api", base_url=served.base_url, api_key=served.key)
    docs, query = local(served)
    close(emb.embed_documents(DOCS), docs)
    close(emb.embed_query(QUERY), query)
    store = InMemoryVectorStore.from_texts(DOCS, emb)
    found = store.similarity_search_by_vector(emb.embed_query(QUERY), k=3)
    want = [DOCS[i] for i in np.argsort(-(docs @ query))]
    assert [d.page_content for d in found] == want


def test_llama_index(served: Served) -> None:
    from llama_index_jina_embeddings import JinaEmbedding

    emb = JinaEmbedding(model=served.folder, backend="api", base_url=served.base_url, api_key=served.key)
    docs, query = local(served)
    close(emb.get_text_embedding_batch(DOCS), docs)
    close(emb.get_query_embedding(QUERY), query)


def test_haystack(served: Served) -> None:
    from haystack import Document
    from haystack.utils import Secret

    from haystack_integrations.components.embedders.jina_embeddings import (
        JinaDocumentEmbedder,
        JinaTextEmbedder,
    )

    key = Secret.from_token(served.key)
    text = JinaTextEmbedder(model=served.folder, backend="api", base_url=served.base_url, api_key=key)
    documents = JinaDocumentEmbedder(
        model=served.folder, backend="api", base_url=served.base_url, api_key=key, progress_bar=False
    )
    docs, query = local(served)
    close(text.run(QUERY)["embedding"], query)
    out = documents.run([Document(content=d) for d in DOCS])["documents"]
    close([d.embedding for d in out], docs)
