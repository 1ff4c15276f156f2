"""``JinaMultiModalEmbedding``: a LlamaIndex ``MultiModalEmbedding`` over the core ``Embedder``.

Text methods are :class:`~llama_index_jina_embeddings.JinaEmbedding`'s (queries with the
query role, nodes with the document role); the image methods embed images with the document
role through :meth:`jina_embeddings.Embedder.embed_images`. It is what
``MultiModalVectorStoreIndex(image_embed_model=...)`` needs for text-to-image retrieval with
``jina-clip-v2`` or ``jina-embeddings-v4``.

Images arrive as LlamaIndex's ``ImageType``: a path or URL string, or a ``BytesIO``
(``ImageNode.resolve_image()`` gives a ``BytesIO`` for ``image`` (base64) and ``image_url``,
and the path for ``image_path``). Remote backends send files and bytes as base64 of their
original bytes and URL strings as given; the local backend decodes them with Pillow (and
refuses URL strings rather than fetching them).
"""

from __future__ import annotations

import os
from typing import Any

from llama_index.core.base.embeddings.base import Embedding
from llama_index.core.bridge.pydantic import Field
from llama_index.core.embeddings.multi_modal_base import MultiModalEmbedding
from llama_index.core.schema import ImageType

from .embedding import JinaEmbedding

__all__ = ["DEFAULT_MULTIMODAL_MODEL", "JinaMultiModalEmbedding"]

DEFAULT_MULTIMODAL_MODEL = "jina-clip-v2"


class JinaMultiModalEmbedding(JinaEmbedding, MultiModalEmbedding):
    """Jina multimodal embeddings (texts and images in one space) for LlamaIndex.

    Every field of :class:`~llama_index_jina_embeddings.JinaEmbedding` (``backend``,
    ``dimensions``, ``precision``, ``api_key`` ...); the default model is ``jina-clip-v2``.
    Image batches follow ``embed_batch_size`` like text batches (one core call per batch;
    the core bounds requests by size and concurrency).

    Example::

        from llama_index.core.indices import MultiModalVectorStoreIndex
        from llama_index_jina_embeddings import JinaEmbedding, JinaMultiModalEmbedding

        clip = JinaMultiModalEmbedding(model="jina-clip-v2", backend="api")
        index = MultiModalVectorStoreIndex(nodes, embed_model=clip, image_embed_model=clip)
        hits = index.as_retriever(image_similarity_top_k=3).text_to_image_retrieve("a bar chart")
    """

    model: str = Field(default=DEFAULT_MULTIMODAL_MODEL, description="Model name, repo id or local folder.")

    def __init__(self, model: str | os.PathLike[str] | None = None, **kwargs: Any) -> None:
        if model is None and kwargs.get("model_name") is None:
            model = DEFAULT_MULTIMODAL_MODEL
        super().__init__(model, **kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "JinaMultiModalEmbedding"

    def _get_image_embedding(self, img_file_path: ImageType) -> Embedding:
        return self._get_image_embeddings([img_file_path])[0]

    async def _aget_image_embedding(self, img_file_path: ImageType) -> Embedding:
        return (await self._aget_image_embeddings([img_file_path]))[0]

    def _get_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        return self._client().embed_images(list(img_file_paths)).to_float_lists()

    async def _aget_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        return (await self._client().aembed_images(list(img_file_paths))).to_float_lists()
