"""The small protocol every backend implements.

:class:`~jina_embeddings.Embedder` validates input, resolves the (task, role) binding and
post-processes vectors; a backend only turns an :class:`EmbedRequest` into raw vectors. It
batches as suits it (sentence-transformers sorts by length; remote backends cap requests by
count and size and bound their concurrency) and may apply ``dimensions`` and bit precisions
server-side, saying so in :class:`BackendOutput` so the core does not apply them twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .._images import Image, image_cost
from .._results import Usage
from .._tasks import TaskBinding

__all__ = [
    "BackendOutput",
    "BackendPartialFailure",
    "EmbedRequest",
    "InputItem",
    "EmbeddingBackend",
    "RerankBackend",
    "RerankOutput",
    "RerankRequest",
    "text_cost",
]


#: One input: a text or an :class:`~jina_embeddings.Image`. Every consumer goes through
#: :func:`text_cost` (batching) and the model's ``modalities`` (validation, in ``_images``).
InputItem = str | Image


def text_cost(item: InputItem) -> int:
    """What one input costs when requests are capped (``max_batch_chars``): a text's
    characters, an image's characters in the request body (:func:`~jina_embeddings._images.image_cost`)."""
    return len(item) if isinstance(item, str) else image_cost(item)


@dataclass(frozen=True, kw_only=True)
class EmbedRequest:
    """One validated embedding job.

    ``precision`` and ``dimensions`` are what the caller wants in the end; a backend may
    deliver them (server-side) or leave them to the core.
    """

    texts: Sequence[InputItem]
    binding: TaskBinding
    dimensions: int | None
    precision: str
    normalize: bool
    truncate: bool
    batch_size: int | None
    show_progress: bool
    late_chunking: bool = False
    #: late chunking: ``texts`` are the chunks of consecutive documents, this many per
    #: document (set only by ``embed_chunks``/``embed_chunked``; ``late_chunking`` is then True).
    chunk_counts: tuple[int, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class BackendOutput:
    """Raw vectors for an :class:`EmbedRequest`, in input order.

    A backend never cuts, normalizes or quantizes on its own: the core does that once, for
    every backend and for the surviving rows of a partial failure. Only a server may have
    done part of it already, which ``precision`` and ``dimensions_applied`` say.

    Attributes:
        vectors: float32 (n, d) array, or packed bytes if ``precision`` is binary/ubinary;
            for multi-vector models a list of n (tokens, d) arrays (ragged).
        precision: precision of ``vectors`` (``float32`` unless the server quantized).
        dimensions_applied: ``vectors`` are already cut to the requested size and normalized.
        truncated: number of inputs the backend cut to the model's context.
        truncated_indices: which inputs, where the backend knows (``None``: only the count).
    """

    vectors: np.ndarray | list[np.ndarray]
    model: str
    usage: Usage = field(default_factory=Usage)
    precision: str = "float32"
    dimensions_applied: bool = False
    truncated: int = 0
    truncated_indices: tuple[int, ...] | None = None
    #: local backends: what computed the vectors (``"torch"``/``"onnx"``, ``"bfloat16"``...).
    runtime: str | None = None
    compute_dtype: str | None = None


class BackendPartialFailure(Exception):
    """Some batches of a request failed for good; the others finished (raised by a backend).

    Never reaches the caller: the core post-processes ``output`` (the surviving rows, in
    input order without the failed ones) exactly like a full result and raises
    :class:`~jina_embeddings.errors.PartialBatchError` with the finished rows.
    """

    def __init__(
        self,
        message: str,
        *,
        output: BackendOutput,
        failed_indices: Sequence[int],
        errors: Sequence[BaseException],
        cause: BaseException,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.output = output
        self.failed_indices = list(failed_indices)
        self.errors = list(errors)
        self.cause = cause


@runtime_checkable
class EmbeddingBackend(Protocol):
    """What :class:`~jina_embeddings.Embedder` calls. Sync and async share all logic but I/O."""

    name: str

    def embed(self, request: EmbedRequest) -> BackendOutput: ...

    async def aembed(self, request: EmbedRequest) -> BackendOutput: ...

    def warm_up(self, task: str | None = None) -> None:
        """Load the model / open connections now; ``task`` says which task's weights."""

    def close(self) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, kw_only=True)
class RerankRequest:
    """One validated rerank job (mirrors :class:`EmbedRequest`).

    ``top_n`` is what the caller wants in the end; a backend may ask the server for it (each
    batch's own top ``n`` always contains the overall top ``n``) or score everything.
    """

    query: str
    documents: Sequence[InputItem]
    top_n: int | None
    batch_size: int | None
    max_length: int | None
    show_progress: bool
    #: multi-vector rerankers: precomputed token vectors per document (``None`` = encode it).
    document_vectors: Sequence[Any] | None = None


@dataclass(frozen=True, kw_only=True)
class RerankOutput:
    """(index, score) pairs in any order, one per document or only the server's top_n.

    The core sorts them (score descending, ties by index) and cuts to ``top_n``.
    """

    scored: Sequence[tuple[int, float]]
    model: str
    usage: Usage = field(default_factory=Usage)


@runtime_checkable
class RerankBackend(Protocol):
    """What :class:`~jina_embeddings.Reranker` calls."""

    name: str

    def rerank(self, request: RerankRequest) -> RerankOutput: ...

    async def arerank(self, request: RerankRequest) -> RerankOutput: ...

    def warm_up(self) -> None: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...
