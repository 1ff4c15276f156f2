"""Late chunking for LlamaIndex: an ``IngestionPipeline`` transform after the node parser.

``get_text_embedding_batch(texts)`` sees bare strings, so under ``late_chunking=True`` it is
refused (a flat list has no document boundaries). :class:`JinaLateChunkingEmbedding` goes
after a node parser instead: nodes with the same ``ref_doc_id`` (the document they were
parsed from) are embedded together in ``start_char_idx`` order, so each node's vector carries
its document around it; a node without ``ref_doc_id`` is its own document. Nodes come back in
input order with ``embedding`` set, and a ``VectorStoreIndex(nodes, embed_model=...)`` skips
embedding them again.

Example::

    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index_jina_embeddings import JinaEmbedding
    from llama_index_jina_embeddings.late_chunking import JinaLateChunkingEmbedding

    embed_model = JinaEmbedding(model="jina-embeddings-v3", late_chunking=True)
    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=256), JinaLateChunkingEmbedding(embed_model=embed_model)]
    )
    nodes = pipeline.run(documents=[Document(text="...")])
    index = VectorStoreIndex(nodes, embed_model=embed_model)   # queries: the query role
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.bridge.pydantic import Field
from llama_index.core.schema import BaseNode, MetadataMode, TransformComponent

from jina_embeddings.integration import group_chunks

from .embedding import JinaEmbedding

__all__ = ["JinaLateChunkingEmbedding"]


class JinaLateChunkingEmbedding(TransformComponent):
    """Embed parsed nodes with late chunking, grouped by ``ref_doc_id`` (see the module docstring)."""

    embed_model: JinaEmbedding = Field(description="The JinaEmbedding that embeds (and later queries).")

    @classmethod
    def class_name(cls) -> str:
        return "JinaLateChunkingEmbedding"

    @staticmethod
    def _plan(nodes: Sequence[BaseNode]) -> tuple[list[str], list[list[int]]]:
        texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
        groups = group_chunks(
            [n.ref_doc_id for n in nodes], [getattr(n, "start_char_idx", None) for n in nodes]
        )
        return texts, groups

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[BaseNode]:
        nodes = list(nodes)
        if nodes:
            texts, groups = self._plan(nodes)
            vectors = self.embed_model.client.embed_chunk_groups(texts, groups).to_float_lists()
            for node, vector in zip(nodes, vectors, strict=True):
                node.embedding = vector
        return nodes

    async def acall(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[BaseNode]:
        nodes = list(nodes)
        if nodes:
            texts, groups = self._plan(nodes)
            result = await self.embed_model.client.aembed_chunk_groups(texts, groups)
            for node, vector in zip(nodes, result.to_float_lists(), strict=True):
                node.embedding = vector
        return nodes
