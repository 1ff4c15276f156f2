"""``Reranker("jina-colbert-v2")``: rerank by MaxSim over token vectors, local or remote.

The reranker encodes the query (query role: markers, expansion to 32 tokens) and every
document it has no token vectors for (document role), through the multi-vector backend of the
chosen ``backend=`` (local ``MultiVectorEncoder`` or the API's ``/v1/embeddings``), and scores
all documents in one batched MaxSim pass (:func:`~jina_embeddings.maxsim_scores`).

Documents whose token vectors were stored at indexing time are passed as
``rerank(query, docs, document_vectors=[...])`` (one entry per document: a matrix, a blob from
:func:`~jina_embeddings.encode_token_vectors`, or ``None`` to encode that one), so only the
query is encoded: what makes late interaction cheaper than a cross-encoder, which must read
every (query, document) pair. The framework rerankers read them from the metadata key
:data:`~jina_embeddings.TOKEN_VECTORS_KEY` (``"jina_token_vectors"``).

Precomputed vectors set the width: stored at 64 or 96 dims, the query (and any document
encoded now) is cut to the same width and renormalized, as ``dimensions=`` would; all given
vectors must share one width, a size of the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._backends.base import BackendOutput, EmbedRequest, RerankOutput, RerankRequest
from ._maxsim import maxsim_scores, token_matrix
from ._models import ModelSpec, get_spec
from ._multivector import finish_token_vectors
from ._results import Usage
from ._tasks import Role, resolve
from .errors import InvalidInputError

__all__ = ["MaxSimRerankBackend", "check_document_vectors", "maxsim_rerank_spec"]


def maxsim_rerank_spec(model: Any) -> ModelSpec | None:
    """The spec if ``model`` names a multi-vector model (the reranker then scores by MaxSim)."""
    try:
        spec = get_spec(model)
    except Exception:  # not a registry name or folder: the reranker's own lookup decides
        return None
    return spec if spec.kind == "multivector" else None


def check_document_vectors(
    spec: ModelSpec, vectors: Sequence[Any] | None, count: int
) -> list[np.ndarray | None] | None:
    """Validate ``document_vectors=`` of a rerank call (before any model call or request).

    Raises:
        InvalidInputError: given to a reranker that is not multi-vector; not one entry per
            document; an entry that is not a token matrix (named by index); mixed widths or a
            width the model does not have.
    """
    if vectors is None:
        return None
    if spec.kind != "multivector":
        raise InvalidInputError(
            f"document_vectors= applies to multi-vector rerankers (jina-colbert-v2), not {spec.name!r}.",
            field="document_vectors",
        )
    if isinstance(vectors, (str, bytes)) or not isinstance(vectors, Sequence) or len(vectors) != count:
        got = len(vectors) if isinstance(vectors, Sequence) else type(vectors).__name__
        raise InvalidInputError(
            f"document_vectors must have one entry per document ({count}), got {got}; use None for "
            "documents without stored token vectors.",
            field="document_vectors",
        )
    checked = [
        None if v is None else token_matrix(v, what=f"document_vectors[{i}]", index=i)
        for i, v in enumerate(vectors)
    ]
    widths = sorted({m.shape[1] for m in checked if m is not None})
    if len(widths) > 1:
        raise InvalidInputError(
            f"document_vectors mix widths {widths}; store every document at one dimensions= setting.",
            field="document_vectors",
        )
    allowed = spec.matryoshka_dims
    native = spec.multivector_dim
    if widths and (
        (allowed is not None and widths[0] not in allowed) or (native is not None and widths[0] > native)
    ):
        sizes = ", ".join(map(str, allowed)) if allowed else f"at most {native}"
        raise InvalidInputError(
            f"document_vectors are {widths[0]} wide; {spec.name} token vectors are {sizes} wide.",
            field="document_vectors",
        )
    return checked


@dataclass
class _Plan:
    query: EmbedRequest
    documents: EmbedRequest | None  # the documents to encode now, or None
    missing: list[int]  # their indices
    vectors: list[np.ndarray | None]


class MaxSimRerankBackend:
    """Rerank backend over a multi-vector backend; see the module docstring."""

    def __init__(self, inner: Any, *, spec: ModelSpec, backend_name: str, options: Any) -> None:
        if options.max_length is not None:
            raise InvalidInputError(
                f"max_length does not apply to {spec.name}: its query and document lengths come from "
                "the model (queries 32 tokens).",
                field="max_length",
            )
        self.inner = inner
        self.spec = spec
        self.backend_name = backend_name
        self.name = getattr(inner, "name", backend_name)

    def _embed_request(
        self, texts: list[str], role: Role, dims: int | None, request: RerankRequest
    ) -> EmbedRequest:
        return EmbedRequest(
            texts=texts,
            binding=resolve(self.spec, None, role),
            dimensions=dims,
            precision="float32",
            normalize=True,
            truncate=True,
            batch_size=request.batch_size,
            show_progress=request.show_progress,
        )

    def _plan(self, request: RerankRequest) -> _Plan:
        given = list(request.document_vectors or [None] * len(request.documents))
        width = next((v.shape[1] for v in given if v is not None), None)
        native = self.spec.multivector_dim
        dims = width if width is not None and width != native else None
        missing = [i for i, v in enumerate(given) if v is None]
        docs = (
            self._embed_request([str(request.documents[i]) for i in missing], Role.DOCUMENT, dims, request)
            if missing
            else None
        )
        return _Plan(self._embed_request([request.query], Role.QUERY, dims, request), docs, missing, given)

    def _score(self, plan: _Plan, q_out: BackendOutput, d_out: BackendOutput | None) -> RerankOutput:
        finish = finish_token_vectors
        query = finish(q_out, plan.query, spec=self.spec, backend=self.backend_name)[0]
        vectors = list(plan.vectors)
        usage = q_out.usage
        if plan.documents is not None and d_out is not None:
            encoded = finish(d_out, plan.documents, spec=self.spec, backend=self.backend_name)
            for i, matrix in zip(plan.missing, encoded, strict=True):
                vectors[i] = matrix
            usage = usage + d_out.usage
        scores = maxsim_scores(query, vectors)
        return RerankOutput(
            scored=list(enumerate(map(float, scores))), model=q_out.model, usage=usage or Usage()
        )

    def rerank(self, request: RerankRequest) -> RerankOutput:
        plan = self._plan(request)
        q_out = self.inner.embed(plan.query)
        d_out = self.inner.embed(plan.documents) if plan.documents is not None else None
        return self._score(plan, q_out, d_out)

    async def arerank(self, request: RerankRequest) -> RerankOutput:
        plan = self._plan(request)
        q_out = await self.inner.aembed(plan.query)
        d_out = await self.inner.aembed(plan.documents) if plan.documents is not None else None
        return self._score(plan, q_out, d_out)

    def warm_up(self, task: str | None = None) -> None:
        self.inner.warm_up()

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()
