"""``JinaDocumentEmbedder``: embeds documents (document role) before they are written to a store."""

from dataclasses import replace
from pathlib import Path
from typing import Any

from haystack import Document, component
from haystack.utils import ComponentDevice, Secret

from haystack_integrations.common.jina_embeddings.component import (
    DocumentTextsMixin,
    JinaComponent,
    default_api_key,
    naming_documents,
    result_meta,
)
from jina_embeddings import DEFAULT_MODEL, Embedder, Embeddings
from jina_embeddings.integration import group_chunks

__all__ = ["JinaDocumentEmbedder"]


@component
class JinaDocumentEmbedder(DocumentTextsMixin, JinaComponent):
    """Embed documents with a Jina model, locally or through the Jina API.

    The document side of the model's task is used (``retrieval.passage`` on the API, the
    document prompt locally). Returns copies of the input documents with ``embedding`` set;
    the input documents are never modified.

    Args:
        api_key, model, task, dimensions, backend, precision, normalize,
            truncate, quantization_ranges, local and remote options: as for
            :class:`JinaTextEmbedder` (use the same values on both).
        prefix, suffix: extra text around each document text.
        batch_size: texts per forward pass (local) or per request (API); ``None`` = the
            backend's default.
        progress_bar: show a progress bar while embedding.
        meta_fields_to_embed: meta fields whose values are embedded before the content.
        embedding_separator: joins the meta values and the content.
        late_chunking: late chunking (local mean-pooled models; API v3/v4): documents with the
            same ``meta["source_id"]`` (what ``DocumentSplitter`` writes) are one source
            document, embedded together in ``meta["split_id"]`` order, so each split's vector
            carries its source around it; documents without ``source_id`` are their own group.
            The output keeps the input order.

    Example::

        from haystack import Document
        from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder

        embedder = JinaDocumentEmbedder(backend="local", meta_fields_to_embed=["title"])
        docs = [Document(content="The gate was built in 1791.", meta={"title": "Brandenburg Gate"})]
        embedded = embedder.run(docs)["documents"]   # the model saw "Brandenburg Gate\\nThe gate ..."
        len(embedded[0].embedding)                     # 1024
    """

    _core_class = Embedder
    _kind = "embedding"
    _haystack_defaults = {"show_progress": True}  # Haystack's document embedders show a bar by default
    # __init__ arguments, kept as attributes of the same names (Haystack's to_dict convention)
    prefix: str
    suffix: str
    embedding_separator: str
    meta_fields_to_embed: list[str]

    def __init__(
        self,
        api_key: Secret | None = default_api_key(),  # noqa: B008 (Haystack's convention; Secret is frozen)
        model: str | Path = DEFAULT_MODEL,
        prefix: str = "",
        suffix: str = "",
        batch_size: int | None = None,
        progress_bar: bool = True,
        meta_fields_to_embed: list[str] | None = None,
        embedding_separator: str = "\n",
        task: str | None = None,
        dimensions: int | None = None,
        late_chunking: bool = False,
        *,
        backend: str | None = None,
        device: ComponentDevice | str | None = None,
        **options: Any,
    ) -> None:
        self._remember(locals())
        self.meta_fields_to_embed = list(meta_fields_to_embed or [])

    @component.output_types(documents=list[Document], meta=dict[str, Any])
    def run(self, documents: list[Document]) -> dict[str, Any]:
        """Embed ``documents``; returns copies with ``embedding`` set, in input order.

        An empty list returns ``{"documents": [], "meta": ...}`` without calling the model.

        Raises:
            TypeError: ``documents`` is not a list of Documents.
            InvalidInputError: a document without text (named by id), or a bad setting.
        """
        texts = self._texts(documents)
        with naming_documents(documents):
            if self.late_chunking:  # chunks of one source document share one pass / request
                result = self._client().embed_chunk_groups(texts, source_groups(documents))
            else:
                result = self._client().embed_documents(texts)
        return self._output(documents, result)

    @component.output_types(documents=list[Document], meta=dict[str, Any])
    async def run_async(self, documents: list[Document]) -> dict[str, Any]:
        """Async :meth:`run`: concurrent async HTTP for remote backends, a worker thread locally."""
        texts = self._texts(documents)
        with naming_documents(documents):
            if self.late_chunking:
                result = await self._client().aembed_chunk_groups(texts, source_groups(documents))
            else:
                result = await self._client().aembed_documents(texts)
        return self._output(documents, result)

    late_chunking: bool

    @staticmethod
    def _output(documents: list[Document], result: Embeddings) -> dict[str, Any]:
        vectors = result.to_float_lists()
        embedded = [replace(doc, embedding=vector) for doc, vector in zip(documents, vectors, strict=True)]
        return {"documents": embedded, "meta": result_meta(result.model, result.usage)}


def source_groups(documents: list[Document]) -> list[list[int]]:
    """Late chunking's documents: splits grouped by ``meta["source_id"]``, in ``meta["split_id"]`` order."""
    return group_chunks(
        [d.meta.get("source_id") for d in documents], [d.meta.get("split_id") for d in documents]
    )
