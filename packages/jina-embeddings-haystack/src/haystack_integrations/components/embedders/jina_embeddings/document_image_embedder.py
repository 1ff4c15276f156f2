"""``JinaDocumentImageEmbedder``: embeds the images of documents (document role) for
text-to-image retrieval with ``jina-clip-v2`` or ``jina-embeddings-v4``."""

from dataclasses import replace
from pathlib import Path
from typing import Any

from haystack import Document, component
from haystack.utils import ComponentDevice, Secret

from haystack_integrations.common.jina_embeddings.component import (
    JinaComponent,
    default_api_key,
    naming_documents,
    result_meta,
)
from haystack_integrations.common.jina_embeddings.images import document_images
from jina_embeddings import Embedder, Embeddings, Image

__all__ = ["DEFAULT_IMAGE_MODEL", "JinaDocumentImageEmbedder"]

DEFAULT_IMAGE_MODEL = "jina-clip-v2"


@component
class JinaDocumentImageEmbedder(JinaComponent):
    """Embed the image of each document with a Jina multimodal model, locally or through the API.

    The contract of Haystack's ``SentenceTransformersDocumentImageEmbedder`` (change the class,
    keep the pipeline): the image file is ``meta[file_path_meta_field]``, joined to
    ``root_path`` and refused if it escapes it (path traversal); a PDF needs
    ``meta["page_number"]`` (1-based; rendered with pypdfium2, the ``pdf`` extra). Unlike it,
    a document without a file path may carry its image in ``Document.blob`` (a ``ByteStream``).
    Embed queries with :class:`JinaTextEmbedder` and the same model: the text side of
    ``jina-clip-v2`` uses ``retrieval.query``, its image side no task; ``jina-embeddings-v4``
    uses ``retrieval.passage`` for images.

    Files and blobs travel to the API as base64 of their original bytes (no re-encoding); the
    local backend decodes them with Pillow. Returns copies of the documents with ``embedding``
    set and ``meta["embedding_source"] = {"type": "image", "file_path_meta_field": ...}``.

    Args:
        file_path_meta_field: the meta key holding the image (or PDF) path.
        root_path: folder the paths are relative to; paths that leave it are refused.
        api_key, model, batch_size, progress_bar, task, dimensions, backend, device and every
            other core option: as for :class:`JinaDocumentEmbedder`.

    Example::

        from haystack import Document
        from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentImageEmbedder

        embedder = JinaDocumentImageEmbedder(model="jina-clip-v2", root_path="scans")
        docs = [Document(meta={"file_path": "invoice.png"}),
                Document(meta={"file_path": "report.pdf", "page_number": 2})]
        embedded = embedder.run(docs)["documents"]
    """

    _core_class = Embedder
    _kind = "embedding"
    _exclude = ("late_chunking",)  # a text-only feature
    _haystack_defaults = {"show_progress": True}
    file_path_meta_field: str
    root_path: str | None

    def __init__(
        self,
        api_key: Secret | None = default_api_key(),  # noqa: B008 (Haystack's convention; Secret is frozen)
        model: str | Path = DEFAULT_IMAGE_MODEL,
        file_path_meta_field: str = "file_path",
        root_path: str | None = None,
        batch_size: int | None = None,
        progress_bar: bool = True,
        task: str | None = None,
        dimensions: int | None = None,
        *,
        backend: str | None = None,
        device: ComponentDevice | str | None = None,
        **options: Any,
    ) -> None:
        self._remember(locals())
        self.root_path = str(root_path) if root_path is not None else None

    @component.output_types(documents=list[Document], meta=dict[str, Any])
    def run(self, documents: list[Document]) -> dict[str, Any]:
        """Embed the image of each document; copies with ``embedding`` set, in input order.

        Raises:
            TypeError: ``documents`` is not a list of Documents.
            InvalidInputError: a document without an image, a path outside ``root_path``, a
                missing/corrupt/unsupported image or a PDF without ``page_number`` (named by
                document id), before any model call or request.
        """
        images = self._images(documents)
        with naming_documents(documents):
            result = self._client().embed_images(images)
        return self._output(documents, result)

    @component.output_types(documents=list[Document], meta=dict[str, Any])
    async def run_async(self, documents: list[Document]) -> dict[str, Any]:
        """Async :meth:`run`: concurrent async HTTP for remote backends, a worker thread locally."""
        images = self._images(documents)
        with naming_documents(documents):
            result = await self._client().aembed_images(images)
        return self._output(documents, result)

    def _images(self, documents: list[Document]) -> list[Image]:
        return document_images(
            documents,
            component=type(self).__name__,
            file_path_meta_field=self.file_path_meta_field,
            root_path=self.root_path,
        )

    def _output(self, documents: list[Document], result: Embeddings) -> dict[str, Any]:
        source = {"type": "image", "file_path_meta_field": self.file_path_meta_field}
        embedded = [
            replace(doc, embedding=vector, meta={**doc.meta, "embedding_source": source})
            for doc, vector in zip(documents, result.to_float_lists(), strict=True)
        ]
        return {"documents": embedded, "meta": result_meta(result.model, result.usage)}
