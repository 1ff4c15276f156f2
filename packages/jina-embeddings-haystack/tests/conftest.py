"""Fixtures for the Haystack adapter tests: a small corpus, its queries and pipeline builders."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from haystack import Document, Pipeline
from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
from haystack.components.writers import DocumentWriter
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack.document_stores.types import DuplicatePolicy

DOCS = {
    "berlin": "Berlin is the capital and largest city of Germany.",
    "paris": "Paris, the capital of France, is known for the Eiffel Tower.",
    "photosynthesis": "Plants use photosynthesis to turn sunlight, water and carbon dioxide into sugar.",
    "everest": "Mount Everest is the highest mountain on Earth, rising 8,849 metres above sea level.",
    "honey": "Honey bees make honey from the nectar of flowers and store it in wax combs.",
    "moon": "Apollo 11 landed the first humans on the Moon in July 1969.",
    "python": "Python is a programming language that is popular for data science.",
    "coffee": "Coffee beans are roasted seeds of the Coffea plant, brewed into a hot drink.",
    "volcano": "A volcano erupts when molten rock called magma reaches the surface.",
    "football": "Football, or soccer, is played by two teams of eleven players with a ball.",
    "piano": "The piano is a keyboard instrument whose hammers strike steel strings.",
    "whale": "The blue whale is the largest animal that has ever lived in the ocean.",
}

# query -> id of the one relevant document
QUERIES = {
    "Which city is the capital of Germany?": "berlin",
    "How do plants turn sunlight into sugar?": "photosynthesis",
    "What is the highest mountain on Earth?": "everest",
    "How do bees make honey?": "honey",
    "When did the first humans land on the Moon?": "moon",
    "What is the largest animal in the ocean?": "whale",
}


@pytest.fixture
def corpus() -> list[Document]:
    """Twelve one-topic documents with readable ids and a ``topic`` meta field."""
    return [Document(id=key, content=text, meta={"topic": key}) for key, text in DOCS.items()]


@pytest.fixture
def queries() -> dict[str, str]:
    return dict(QUERIES)


@pytest.fixture(scope="session")
def minilm_warm(minilm_path: str) -> Iterator[str]:
    """Keeps one MiniLM loaded for the session (the core caches models weakly), yields its path."""
    from jina_embeddings import Embedder

    keeper = Embedder(model=minilm_path, backend="local")
    keeper.warm_up()
    yield minilm_path
    keeper.close()


@pytest.fixture
def new_store() -> Callable[[], InMemoryDocumentStore]:
    """Factory of stores with a fresh shared index name (a YAML-loaded copy sees the same data)."""
    return lambda: InMemoryDocumentStore(index=f"hs-test-{uuid.uuid4().hex}")


def _indexing(embedder: Any, store: InMemoryDocumentStore) -> Pipeline:
    pipe = Pipeline()
    pipe.add_component("embedder", embedder)
    pipe.add_component("writer", DocumentWriter(document_store=store, policy=DuplicatePolicy.OVERWRITE))
    pipe.connect("embedder.documents", "writer.documents")
    return pipe


def _query(text_embedder: Any, ranker: Any, store: InMemoryDocumentStore, top_k: int) -> Pipeline:
    pipe = Pipeline()
    pipe.add_component("text_embedder", text_embedder)
    pipe.add_component("retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=top_k))
    pipe.add_component("ranker", ranker)
    pipe.connect("text_embedder.embedding", "retriever.query_embedding")
    pipe.connect("retriever.documents", "ranker.documents")
    return pipe


@pytest.fixture
def build_pipelines() -> Callable[..., tuple[Pipeline, Pipeline]]:
    """``build(doc_embedder, text_embedder, ranker, store, top_k=4)`` -> (indexing, query) pipelines."""

    def build(
        doc_embedder: Any, text_embedder: Any, ranker: Any, store: InMemoryDocumentStore, top_k: int = 4
    ) -> tuple[Pipeline, Pipeline]:
        return _indexing(doc_embedder, store), _query(text_embedder, ranker, store, top_k)

    return build


def query_inputs(query: str) -> dict[str, Any]:
    return {"text_embedder": {"text": query}, "ranker": {"query": query}}


@pytest.fixture
def query_data() -> Callable[[str], dict[str, Any]]:
    """``query_data(q)`` -> the ``data`` dict for a query pipeline built by ``build_pipelines``."""
    return query_inputs


def loads_pipeline(text: str) -> Pipeline:
    """``Pipeline.loads`` with default arguments: our components live under
    ``haystack_integrations``, which Haystack 3's deserialization allowlist admits as it is."""
    return Pipeline.loads(text)


@pytest.fixture
def yaml_loads() -> Callable[[str], Pipeline]:
    return loads_pipeline
