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
from typing import Protocol, runtime_checkable

import numpy as np

from .._results import Usage
from .._tasks import TaskBinding

__all__ = ["BackendOutput", "EmbedRequest", "EmbeddingBackend", "RerankBackend", "RerankOutput"]


@dataclass(frozen=True, kw_only=True)
class EmbedRequest:
    """One validated embedding job.

    ``precision`` and ``dimensions`` are what the caller wants in the end; a backend may
    deliver them (server-side) or leave them to the core.
    """

    texts: Sequence[str]
    binding: TaskBinding
    dimensions: int | None
    precision: str
    normalize: bool
    truncate: bool
    batch_size: int | None
    show_progress: bool
    late_chunking: bool = False


@dataclass(frozen=True, kw_only=True)
class BackendOutput:
    """Raw vectors for an :class:`EmbedRequest`, in input order.

    Attributes:
        vectors: float32 (n, d) array, or packed bytes if ``precision`` is binary/ubinary.
        precision: precision of ``vectors`` (``float32`` unless the server quantized).
        dimensions_applied: ``vectors`` are already cut to the requested size and normalized.
        truncated: number of inputs the backend cut to the model's context.
    """

    vectors: np.ndarray
    model: str
    usage: Usage = field(default_factory=Usage)
    precision: str = "float32"
    dimensions_applied: bool = False
    truncated: int = 0


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

    def rerank(self, query: str, documents: Sequence[str], *, top_n: int | None) -> RerankOutput: ...

    async def arerank(self, query: str, documents: Sequence[str], *, top_n: int | None) -> RerankOutput: ...

    def warm_up(self) -> None: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...
