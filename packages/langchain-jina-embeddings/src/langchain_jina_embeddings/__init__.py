"""LangChain integration for Jina embedding models and rerankers, local or remote.

    from langchain_jina_embeddings import JinaEmbeddings, JinaRerank

    emb = JinaEmbeddings(model="jina-embeddings-v5-text-small")     # local, or the API with a key
    reranker = JinaRerank(model="jina-reranker-v3", top_n=3)

A thin layer over :mod:`jina_embeddings`, which does the work (tasks per role, batching,
retries, quantization). Importing this package does not import torch.
"""

from __future__ import annotations

from .embeddings import JinaEmbeddings
from .rerank import JinaRerank

__version__ = "0.1.0"

__all__ = ["JinaEmbeddings", "JinaRerank", "__version__"]
