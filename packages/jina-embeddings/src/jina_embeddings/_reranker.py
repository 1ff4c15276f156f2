"""``Reranker``: score documents against a query, best first, on any backend.

Backends return (index, score) pairs; this module validates input, sorts (score
descending, ties in input order) and cuts to ``top_n`` the same way for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._frontend import BaseClient
from ._backends.base import RerankOutput
from .errors import APIResponseValidationError
from ._options import LocalOptions, RemoteOptions, RerankOptions, check_positive_int
from ._results import Reranking, RerankResult, Usage
from ._validation import check_query, check_texts

__all__ = ["DEFAULT_RERANKER", "Reranker"]

DEFAULT_RERANKER = "jina-reranker-v3"


class Reranker(BaseClient):
    """Rerank documents for a query with a Jina reranker, locally or through a server.

    Args:
        model: registry name (``jina-reranker-v3``, ``jina-reranker-m0``,
            ``jina-reranker-v2-base-multilingual``), repo id, or a local cross-encoder folder.
        backend: ``"local"``, ``"api"``, ``"openai"`` (a server with a Jina-compatible
            ``/rerank``: vLLM, TEI, Infinity) or ``"fake"``; ``None`` follows the same rule
            as :class:`~jina_embeddings.Embedder`.
        top_n, batch_size, max_length, show_progress: see :class:`~jina_embeddings.RerankOptions`.
        Local and remote options: as for :class:`~jina_embeddings.Embedder`.

    Example::

        rr = Reranker("jina-reranker-v2-base-multilingual", backend="local")
        for r in rr.rerank("capital of Germany", ["Paris ...", "Berlin ..."], top_n=1):
            print(r.index, r.relevance_score, r.document)
    """

    _kind = "reranker"

    def __init__(
        self,
        model: str | Path = DEFAULT_RERANKER,
        *,
        backend: str | None = None,
        top_n: int | None = None,
        batch_size: int | None = None,
        max_length: int | None = None,
        show_progress: bool = False,
        device: str | None = None,
        dtype: str | None = None,
        trust_remote_code: bool | None = None,
        cache_folder: str | None = None,
        revision: str | None = None,
        local_files_only: bool = False,
        api_key: Any = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_retries: int = 2,
        max_concurrency: int = 4,
        allow_insecure: bool = False,
        served_model_name: str | None = None,
    ) -> None:
        self.options = RerankOptions(top_n=top_n, batch_size=batch_size, max_length=max_length,
                                     show_progress=show_progress)
        local = LocalOptions(device=device, dtype=dtype, trust_remote_code=trust_remote_code,  # type: ignore[arg-type]
                             cache_folder=cache_folder, revision=revision,
                             local_files_only=local_files_only)
        remote = RemoteOptions(base_url=base_url, timeout=timeout, connect_timeout=connect_timeout,
                               max_retries=max_retries, max_concurrency=max_concurrency,
                               allow_insecure=allow_insecure, served_model_name=served_model_name)
        super().__init__(model, backend=backend, local=local, remote=remote, api_key=api_key)
        self._log_created()

    @property
    def model(self) -> str:
        return self.spec.name

    def rerank(self, query: str, documents: Sequence[str], *, top_n: int | None = None) -> Reranking:
        """Score ``documents`` against ``query``; results best first, cut to ``top_n``.

        An empty ``documents`` list returns an empty result without calling the model.

        Raises:
            InvalidInputError: blank query, a bad document (named by index) or bad ``top_n``.
        """
        q, docs, n = self._check(query, documents, top_n)
        if not docs:
            return Reranking(results=(), model=self.spec.name, usage=Usage(0, 0))
        return self._finish(docs, n, self._backend.rerank(q, docs, top_n=n))

    async def arerank(self, query: str, documents: Sequence[str], *, top_n: int | None = None) -> Reranking:
        """Async :meth:`rerank`: remote backends use async HTTP; local runs in a worker thread."""
        q, docs, n = self._check(query, documents, top_n)
        if not docs:
            return Reranking(results=(), model=self.spec.name, usage=Usage(0, 0))
        return self._finish(docs, n, await self._backend.arerank(q, docs, top_n=n))

    def _check(self, query: str, documents: Sequence[str], top_n: int | None) -> tuple[str, list[str], int | None]:
        check_positive_int("top_n", top_n)
        return check_query(query), check_texts(documents, what="document"), top_n or self.options.top_n

    def _finish(self, documents: list[str], top_n: int | None, out: RerankOutput) -> Reranking:
        seen: set[int] = set()
        for index, score in out.scored:
            if not 0 <= index < len(documents) or index in seen or score != score:
                raise APIResponseValidationError(
                    f"reranker returned an invalid result (index {index}, score {score}) for "
                    f"{len(documents)} documents")
            seen.add(index)
        ordered = sorted(out.scored, key=lambda pair: (-pair[1], pair[0]))[:top_n]
        results = tuple(RerankResult(i, float(s), documents[i]) for i, s in ordered)
        return Reranking(results=results, model=out.model, usage=out.usage)

    def _local_backend_kwargs(self) -> dict[str, Any]:
        return {"rerank_options": self.options}

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "top_n": self.options.top_n}
