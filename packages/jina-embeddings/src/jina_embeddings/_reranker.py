"""``Reranker``: score documents against a query, best first, on any backend.

Backends return (index, score) pairs; this module validates input, sorts (score
descending, ties in input order) and cuts to ``top_n`` the same way for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from ._backends.base import RerankOutput, RerankRequest
from ._frontend import Frontend, signature_with_options
from ._images import Image, check_inputs
from ._maxsim_rerank import MaxSimRerankBackend, check_document_vectors, maxsim_rerank_spec
from ._options import RerankerOptions, RerankOptions, check_positive_int
from ._results import Reranking, RerankResult, Usage
from ._validation import check_query
from .errors import APIResponseValidationError

if TYPE_CHECKING:
    import httpx

__all__ = ["DEFAULT_RERANKER", "Reranker"]

DEFAULT_RERANKER = "jina-reranker-v3"


class Reranker(Frontend):
    """Rerank documents for a query with a Jina reranker, locally or through a server.

    Args:
        model: registry name (``jina-reranker-v3``, ``jina-reranker-m0``,
            ``jina-reranker-v2-base-multilingual``), repo id, or a local cross-encoder folder.
        backend: ``"local"``, ``"api"``, ``"openai"`` (a server with a Jina-compatible
            ``/rerank``: vLLM, TEI, Infinity) or ``"fake"``; ``None`` follows the same rule
            as :class:`~jina_embeddings.Embedder`.
        top_n, batch_size, max_length, show_progress: see :class:`~jina_embeddings.RerankOptions`.
        api_key, transport, async_transport, local and remote options: as for
            :class:`~jina_embeddings.Embedder` (``merge_adapters`` and ``server_dimensions``
            do not apply).

    Example::

        rr = Reranker("jina-reranker-v2-base-multilingual", backend="local")
        for r in rr.rerank("capital of Germany", ["Paris ...", "Berlin ..."], top_n=1):
            print(r.index, r.relevance_score, r.document)
    """

    _kind = "reranker"
    _options_class = RerankOptions
    options: RerankOptions

    def __init__(
        self,
        model: str | Path = DEFAULT_RERANKER,
        *,
        backend: str | None = None,
        api_key: Any = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        **options: Unpack[RerankerOptions],
    ) -> None:
        super().__init__(
            model,
            backend=backend,
            api_key=api_key,
            options=options,
            transport=transport,
            async_transport=async_transport,
        )
        self._log_created()

    @property
    def model(self) -> str:
        return self.spec.name

    def rerank(
        self,
        query: str,
        documents: Sequence[str | Image],
        *,
        top_n: int | None = None,
        document_vectors: Sequence[Any] | None = None,
    ) -> Reranking:
        """Score ``documents`` against ``query``; results best first, cut to ``top_n``.

        An empty ``documents`` list returns an empty result without calling the model.
        ``document_vectors`` (multi-vector rerankers such as ``jina-colbert-v2`` only): the
        documents' stored token vectors, one entry per document (``None``: encode it), so only
        the query is encoded.

        Raises:
            InvalidInputError: blank query, a bad document (named by index) or bad ``top_n``.
        """
        request = self._request(query, documents, top_n, document_vectors)
        if not request.documents:
            return Reranking(results=(), model=self.spec.name, usage=Usage(0, 0))
        return self._finish(request, self._backend.rerank(request))

    async def arerank(
        self,
        query: str,
        documents: Sequence[str | Image],
        *,
        top_n: int | None = None,
        document_vectors: Sequence[Any] | None = None,
    ) -> Reranking:
        """Async :meth:`rerank`: remote backends use async HTTP; local runs in a worker thread."""
        request = self._request(query, documents, top_n, document_vectors)
        if not request.documents:
            return Reranking(results=(), model=self.spec.name, usage=Usage(0, 0))
        return self._finish(request, await self._backend.arerank(request))

    def _request(
        self,
        query: str,
        documents: Sequence[str | Image],
        top_n: int | None,
        document_vectors: Sequence[Any] | None,
    ) -> RerankRequest:
        """Check everything (shared by sync and async) before any model call or request."""
        check_positive_int("top_n", top_n)
        docs = check_inputs(documents, spec=self.spec, row=self._row, what="document")
        q = check_query(query)
        vectors = check_document_vectors(self.spec, document_vectors, len(docs))
        opts = self.options
        return RerankRequest(
            query=q,
            documents=docs,
            top_n=top_n or opts.top_n,
            batch_size=opts.batch_size,
            max_length=opts.max_length,
            show_progress=opts.show_progress,
            document_vectors=vectors,
        )

    # -- multi-vector models (jina-colbert-v2) rerank by MaxSim: see _maxsim_rerank ----------
    def _resolve_spec(self, model: Any) -> Any:
        return maxsim_rerank_spec(model) or super()._resolve_spec(model)

    def _new_backend(self, kind: str | None = None) -> Any:
        if self.spec.kind != "multivector":
            return super()._new_backend(kind)
        inner = super()._new_backend("multivector")
        return MaxSimRerankBackend(
            inner, spec=self.spec, backend_name=self.backend_name, options=self.options
        )

    def _finish(self, request: RerankRequest, out: RerankOutput) -> Reranking:
        documents: Sequence[Any] = request.documents  # texts, or Image for image rerankers
        top_n = request.top_n
        seen: set[int] = set()
        for index, score in out.scored:
            if not 0 <= index < len(documents) or index in seen or score != score:
                raise APIResponseValidationError(
                    f"reranker returned an invalid result (index {index}, score {score}) for "
                    f"{len(documents)} documents"
                )
            seen.add(index)
        ordered = sorted(out.scored, key=lambda pair: (-pair[1], pair[0]))[:top_n]
        results = tuple(RerankResult(i, float(s), documents[i]) for i, s in ordered)
        return Reranking(results=results, model=out.model, usage=out.usage)

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "top_n": self.options.top_n}


Reranker.__init__.__signature__ = signature_with_options(Reranker.__init__, "reranker")  # type: ignore[attr-defined]
