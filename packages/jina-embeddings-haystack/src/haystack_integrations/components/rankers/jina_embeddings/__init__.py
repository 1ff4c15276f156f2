"""Haystack ranker for Jina rerankers, local or through the Jina API.

    from haystack_integrations.components.rankers.jina_embeddings import JinaRanker

Importing this package does not import torch; a local model loads in ``warm_up()``.
"""

from haystack_integrations.common.jina_embeddings import __version__

from .ranker import JinaRanker

__all__ = ["JinaRanker", "__version__"]
