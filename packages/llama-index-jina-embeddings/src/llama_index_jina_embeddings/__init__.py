"""LlamaIndex integration for Jina embeddings and rerankers, over the ``jina_embeddings`` core.

    from llama_index.core import Settings
    from llama_index_jina_embeddings import JinaEmbedding, JinaRerank

    Settings.embed_model = JinaEmbedding()            # jina-embeddings-v5-text-small
    reranker = JinaRerank(top_n=3)                    # jina-reranker-v3

Both replace ``llama_index.embeddings.jinaai.JinaEmbedding`` and
``llama_index.postprocessor.jinaai_rerank.JinaRerank`` by an import change. Importing this
package does not import torch; local models load on first use.
"""

from __future__ import annotations

from .embedding import DEFAULT_EMBED_BATCH_SIZES, JinaEmbedding
from .multi_modal import JinaMultiModalEmbedding
from .rerank import JinaRerank

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_EMBED_BATCH_SIZES",
    "JinaEmbedding",
    "JinaMultiModalEmbedding",
    "JinaRerank",
    "__version__",
]
