"""Haystack components for Jina embedding models and rerankers, local or through the Jina API.

A drop-in for jina-haystack's components (change the import, keep the code), on the
``jina-embeddings`` core: the right task per role, local inference, timeouts, retries,
bounded concurrency and real ``run_async``.

    from haystack_jina_embeddings import JinaDocumentEmbedder, JinaRanker, JinaTextEmbedder

Importing this package does not import torch; a local model loads in ``warm_up()``.
"""

from __future__ import annotations

from .document_embedder import JinaDocumentEmbedder
from .ranker import JinaRanker
from .text_embedder import JinaTextEmbedder

__version__ = "0.1.0"

__all__ = ["JinaDocumentEmbedder", "JinaRanker", "JinaTextEmbedder", "__version__"]
