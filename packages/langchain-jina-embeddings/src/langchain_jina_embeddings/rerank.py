"""``JinaRerank``: a LangChain document compressor over the core ``Reranker``.

It goes where a reranker goes in LangChain, e.g. ``ContextualCompressionRetriever``:
documents in, the best ``top_n`` out, as copies carrying ``metadata["relevance_score"]``
(the langchain-community and Cohere convention), best first. Scoring, sorting and the
``top_n`` cut happen in the core; this class only translates documents and results.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from typing import Any, ClassVar

from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from pydantic import Field

from jina_embeddings import DEFAULT_RERANKER, Reranker, Reranking
from jina_embeddings.integration import document_vectors_from

from ._base import JinaModel, option_fields

__all__ = ["JinaRerank"]

# One field per core option; top_n defaults to 3 like langchain-community's JinaRerank, so
# swapping the import changes nothing.
_RerankerFields = option_fields("_RerankerFields", "reranker", base=JinaModel, defaults={"top_n": 3})
_USE_DEFAULT = -1  # langchain-community's ``rerank(top_n=-1)``: "use self.top_n"


class JinaRerank(_RerankerFields, BaseDocumentCompressor):  # type: ignore[misc,valid-type]
    """Jina rerankers for LangChain, run locally or through the Jina API.

    A drop-in for ``langchain_community.document_compressors.JinaRerank`` (``jina_api_key``
    and ``model_name`` are accepted, ``top_n`` defaults to 3 and ``rerank`` returns the same
    dicts), with a current model by default, local inference, timeouts, retries and a
    native async path.

    Example:
        .. code-block:: python

            from langchain_core.documents import Document
            from langchain_jina_embeddings import JinaRerank

            reranker = JinaRerank(model="jina-reranker-v3", top_n=2)
            docs = [Document(page_content="Berlin is in Germany."), Document(page_content="Paris is in France.")]
            best = reranker.compress_documents(docs, "Where is Berlin?")
            best[0].metadata["relevance_score"]

    In a retriever: ``ContextualCompressionRetriever(base_compressor=reranker,
    base_retriever=store.as_retriever(search_kwargs={"k": 20}))``.
    """

    _core_class: ClassVar[type] = Reranker

    model: str = Field(default=DEFAULT_RERANKER, alias="model_name")
    """Registry name (``jina-reranker-v3``, ``jina-reranker-m0``,
    ``jina-reranker-v2-base-multilingual``, ``jina-colbert-v2``), a repo id or a local
    cross-encoder or ColBERT folder. ``jina-colbert-v2`` scores by MaxSim and reads documents'
    stored token vectors from ``metadata["jina_token_vectors"]`` (``TOKEN_VECTORS_KEY``), so
    only the query is encoded."""

    @property
    def reranker(self) -> Reranker:
        """The core ``Reranker`` (usage, ``warm_up()``, ``close()``)."""
        return self._core

    def rerank(
        self, documents: Sequence[str | Document], query: str, *, top_n: int | None = _USE_DEFAULT
    ) -> list[dict[str, Any]]:
        """Score ``documents`` against ``query``, like langchain-community's ``JinaRerank.rerank``.

        Args:
            documents: texts or ``Document`` objects (their ``page_content`` is scored).
            query: the query.
            top_n: how many to return; ``-1`` (default): ``self.top_n``; ``None``: all.

        Returns:
            ``[{"index": i, "relevance_score": s}, ...]``, best first; ``index`` is the
            position in ``documents``.
        """
        texts = _texts(documents)
        n = _core_top_n(top_n, len(texts))
        return _as_dicts(self._core.rerank(query, texts, top_n=n, document_vectors=self._stored(documents)))

    async def arerank(
        self, documents: Sequence[str | Document], query: str, *, top_n: int | None = _USE_DEFAULT
    ) -> list[dict[str, Any]]:
        """Async :meth:`rerank`: async HTTP remotely, a worker thread locally."""
        texts = _texts(documents)
        n = _core_top_n(top_n, len(texts))
        return _as_dicts(
            await self._core.arerank(query, texts, top_n=n, document_vectors=self._stored(documents))
        )

    def _stored(self, documents: Sequence[str | Document]) -> list[Any] | None:
        """Stored token vectors (``metadata["jina_token_vectors"]``) for multi-vector rerankers."""
        return document_vectors_from(
            self._core, [d.metadata if isinstance(d, Document) else {} for d in documents]
        )

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        """The best ``top_n`` documents for ``query``, best first, as copies with
        ``metadata["relevance_score"]``; the input documents are not changed."""
        vectors = self._stored(documents)
        return _scored_copies(
            documents, self._core.rerank(query, _texts(documents), document_vectors=vectors)
        )

    async def acompress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        """Async :meth:`compress_documents`."""
        vectors = self._stored(documents)
        return _scored_copies(
            documents, await self._core.arerank(query, _texts(documents), document_vectors=vectors)
        )


def _core_top_n(top_n: int | None, count: int) -> int | None:
    """community ``top_n`` -> the core's: ``-1`` -> ``None`` (the core then uses its own
    ``top_n``, which is ``self.top_n``); ``None`` (all) -> ``count``."""
    if top_n == _USE_DEFAULT:
        return None
    if top_n is None:
        return max(count, 1)
    return top_n


def _texts(documents: Sequence[str | Document]) -> list[str]:
    return [d.page_content if isinstance(d, Document) else d for d in documents]


def _as_dicts(reranking: Reranking) -> list[dict[str, Any]]:
    return [{"index": r.index, "relevance_score": r.relevance_score} for r in reranking]


def _scored_copies(documents: Sequence[Document], reranking: Reranking) -> list[Document]:
    return [
        documents[r.index].model_copy(
            update={
                "metadata": {**deepcopy(documents[r.index].metadata), "relevance_score": r.relevance_score}
            }
        )
        for r in reranking
    ]
