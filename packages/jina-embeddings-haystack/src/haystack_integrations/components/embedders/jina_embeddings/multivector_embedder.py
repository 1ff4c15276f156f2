"""Multi-vector (late interaction) embedders: token vectors from jina-colbert-v2 or v4.

``JinaMultiVectorTextEmbedder`` embeds a query (query role: markers, expansion to 32 tokens)
and returns ``multivector_embedding`` (a list of token vectors). ``JinaMultiVectorDocumentEmbedder``
embeds documents and returns copies carrying their token vectors: in
``Document.multivector_embedding`` where the installed Haystack has it (3.5+), else in
``meta["jina_token_vectors"]`` as compact base64 (see ``common.jina_embeddings.multivector``).
:class:`~haystack_integrations.components.rankers.jina_embeddings.JinaRanker` with
``model="jina-colbert-v2"`` reads them back and only encodes the query.
"""

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
from haystack_integrations.common.jina_embeddings.multivector import attach_token_vectors
from jina_embeddings import MultiVectorEmbedder, MultiVectorEmbeddings
from jina_embeddings.integration import check_query

__all__ = ["JinaMultiVectorDocumentEmbedder", "JinaMultiVectorTextEmbedder"]

DEFAULT_MULTIVECTOR_MODEL = "jina-colbert-v2"


@component
class JinaMultiVectorTextEmbedder(JinaComponent):
    """Embed a query as token vectors (late interaction), locally or through the Jina API.

    Args:
        api_key, backend, device and the other options: as for ``JinaTextEmbedder``;
            ``dimensions`` is 64, 96 or 128 for jina-colbert-v2 and refused for v4.
        model: ``jina-colbert-v2`` (default), ``jina-embeddings-v4`` or a ColBERT folder.

    Example::

        embedder = JinaMultiVectorTextEmbedder(model="jina-colbert-v2", backend="local")
        embedder.run("Where is the Brandenburg Gate?")["multivector_embedding"]  # 32 x 128
    """

    _core_class = MultiVectorEmbedder
    _kind = "multivector"
    _exclude = ("batch_size", "show_progress")
    prefix: str
    suffix: str

    def __init__(
        self,
        api_key: Secret | None = default_api_key(),  # noqa: B008 (Haystack's convention)
        model: str | Path = DEFAULT_MULTIVECTOR_MODEL,
        prefix: str = "",
        suffix: str = "",
        dimensions: int | None = None,
        *,
        backend: str | None = None,
        device: ComponentDevice | str | None = None,
        **options: Any,
    ) -> None:
        self._remember(locals())

    @component.output_types(multivector_embedding=list[list[float]], meta=dict[str, Any])
    def run(self, text: str) -> dict[str, Any]:
        """Token vectors of ``text`` as a query: ``{"multivector_embedding": [[...], ...], "meta": ...}``."""
        return self._output(self._client().embed_query(self._query(text)))

    @component.output_types(multivector_embedding=list[list[float]], meta=dict[str, Any])
    async def run_async(self, text: str) -> dict[str, Any]:
        return self._output(await self._client().aembed_query(self._query(text)))

    def _query(self, text: str) -> str:
        if not isinstance(text, str):
            raise TypeError(
                "JinaMultiVectorTextEmbedder expects a string; use JinaMultiVectorDocumentEmbedder for Documents."
            )
        return self.prefix + check_query(text) + self.suffix

    @staticmethod
    def _output(result: MultiVectorEmbeddings) -> dict[str, Any]:
        return {
            "multivector_embedding": result.to_lists()[0],
            "meta": result_meta(result.model, result.usage),
        }


@component
class JinaMultiVectorDocumentEmbedder(DocumentTextsMixin, JinaComponent):
    """Embed documents as token vectors; returns copies carrying them (see the module docstring).

    Args:
        storage_precision: ``float16`` (default) or ``float32`` for the ``meta`` blob written
            where ``Document.multivector_embedding`` does not exist.
        meta_fields_to_embed, embedding_separator, prefix, suffix, batch_size, progress_bar:
            as for ``JinaDocumentEmbedder``.
        the other arguments: as for :class:`JinaMultiVectorTextEmbedder`.
    """

    _core_class = MultiVectorEmbedder
    _kind = "multivector"
    _haystack_defaults = {"show_progress": True}
    prefix: str
    suffix: str
    embedding_separator: str
    meta_fields_to_embed: list[str]
    storage_precision: str

    def __init__(
        self,
        api_key: Secret | None = default_api_key(),  # noqa: B008 (Haystack's convention)
        model: str | Path = DEFAULT_MULTIVECTOR_MODEL,
        prefix: str = "",
        suffix: str = "",
        batch_size: int | None = None,
        progress_bar: bool = True,
        meta_fields_to_embed: list[str] | None = None,
        embedding_separator: str = "\n",
        dimensions: int | None = None,
        storage_precision: str = "float16",
        *,
        backend: str | None = None,
        device: ComponentDevice | str | None = None,
        **options: Any,
    ) -> None:
        self._remember(locals())
        self.meta_fields_to_embed = list(meta_fields_to_embed or [])
        if storage_precision not in ("float16", "float32"):
            from jina_embeddings import InvalidInputError

            raise InvalidInputError(
                f"storage_precision must be 'float16' or 'float32', got {storage_precision!r}.",
                field="storage_precision",
            )

    @component.output_types(documents=list[Document], meta=dict[str, Any])
    def run(self, documents: list[Document]) -> dict[str, Any]:
        """Copies of ``documents`` carrying their token vectors, in input order."""
        texts = self._texts(documents)
        with naming_documents(documents):
            result = self._client().embed_documents(texts)
        return self._output(documents, result)

    @component.output_types(documents=list[Document], meta=dict[str, Any])
    async def run_async(self, documents: list[Document]) -> dict[str, Any]:
        texts = self._texts(documents)
        with naming_documents(documents):
            result = await self._client().aembed_documents(texts)
        return self._output(documents, result)

    def _output(self, documents: list[Document], result: MultiVectorEmbeddings) -> dict[str, Any]:
        embedded = [
            attach_token_vectors(doc, matrix, storage_precision=self.storage_precision)
            for doc, matrix in zip(documents, result.vectors, strict=True)
        ]
        return {"documents": embedded, "meta": result_meta(result.model, result.usage)}
