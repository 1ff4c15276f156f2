"""Haystack embedders for Jina embedding models, local or through the Jina API.

A drop-in for jina-haystack's embedders (change the import, keep the code), on the
``jina-embeddings`` core: the right task per role, local inference, timeouts, retries,
bounded concurrency and real ``run_async``.

    from haystack_integrations.components.embedders.jina_embeddings import (
        JinaDocumentEmbedder, JinaTextEmbedder)

Importing this package does not import torch; a local model loads in ``warm_up()``.
"""

from haystack_integrations.common.jina_embeddings import __version__

from .document_embedder import JinaDocumentEmbedder
from .document_image_embedder import JinaDocumentImageEmbedder
from .multivector_embedder import JinaMultiVectorDocumentEmbedder, JinaMultiVectorTextEmbedder
from .text_embedder import JinaTextEmbedder

__all__ = [
    "JinaDocumentEmbedder",
    "JinaDocumentImageEmbedder",
    "JinaMultiVectorDocumentEmbedder",
    "JinaMultiVectorTextEmbedder",
    "JinaTextEmbedder",
    "__version__",
]
