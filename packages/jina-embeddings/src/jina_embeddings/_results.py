"""Result objects returned by :class:`Embedder` and :class:`Reranker`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing

from ._quantize import BIT_PRECISIONS, unpack_bits
from ._tasks import TaskBinding

__all__ = ["Embeddings", "RerankResult", "Reranking", "Usage"]


@dataclass(frozen=True)
class Usage:
    """Token counts as reported by the server (``None`` if unknown, e.g. for the local backend)."""

    total_tokens: int | None = None
    prompt_tokens: int | None = None

    def __add__(self, other: Usage) -> Usage:
        def add(a: int | None, b: int | None) -> int | None:
            return None if a is None and b is None else (a or 0) + (b or 0)

        return Usage(add(self.total_tokens, other.total_tokens), add(self.prompt_tokens, other.prompt_tokens))


@dataclass(frozen=True, eq=False)
class Embeddings:
    """Vectors for a list of texts, in input order, one row per text.

    Attributes:
        vectors: numpy array, shape (n, dimensions) for float and int8 precisions, or
            (n, ceil(dimensions / 8)) packed bytes for ``binary`` / ``ubinary``.
        model: the model that produced them.
        usage: token counts.
        precision: the precision of ``vectors``.
        dimensions: the logical vector size (bits, for packed precisions).
        task: the task used; ``role``: ``query`` or ``document``.
        truncated: how many inputs were longer than the model's context and were cut.
        truncated_indices: which inputs those were, where the backend knows (local); ``None``
            where it only has a count (a server).
        binding: what the call used for its (task, role): ``binding.adapter`` (LoRA adapter),
            ``binding.prompt`` (prompt prepended) and ``binding.api_task`` (API task string).
        runtime, compute_dtype: local backends: what computed the vectors (``"torch"`` or
            ``"onnx"``; ``"float32"``, ``"bfloat16"``, ``"int8"``...); ``None`` for servers.

    Example::

        res = emb.embed(["a", "b"], role="document")
        res.vectors.shape            # (2, 256)
        res.to_float_lists()         # lists of floats for a vector store (bits as ±1.0)
    """

    vectors: np.ndarray
    model: str
    usage: Usage = field(default_factory=Usage)
    precision: str = "float32"
    dimensions: int = 0
    task: str | None = None
    role: str = "document"
    truncated: int = 0
    truncated_indices: tuple[int, ...] | None = None
    binding: TaskBinding | None = None
    runtime: str | None = None
    compute_dtype: str | None = None

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.vectors)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.vectors[index]

    def __array__(self, dtype: np.typing.DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        return self.vectors if dtype is None else self.vectors.astype(dtype)

    @property
    def is_packed(self) -> bool:
        return self.precision in BIT_PRECISIONS

    def unpacked(self) -> np.ndarray:
        """Float32 view for search: packed bits as ±1.0, other precisions cast to float32."""
        if self.is_packed:
            return unpack_bits(self.vectors, self.precision, self.dimensions)
        return self.vectors.astype(np.float32)

    def to_float_lists(self) -> list[list[float]]:
        """Plain lists of Python floats, what LangChain, LlamaIndex and Haystack stores hold."""
        return self.unpacked().tolist()

    def to_list(self) -> list[list[float]] | list[list[int]]:
        """The raw values as lists (ints for int8/uint8/binary/ubinary)."""
        return self.vectors.tolist()


@dataclass(frozen=True)
class RerankResult:
    """One reranked document: its position in the caller's list, its score and its text."""

    index: int
    relevance_score: float
    document: str | None = None


@dataclass(frozen=True)
class Reranking:
    """Reranked documents, best first (ties keep input order).

    Iterating yields :class:`RerankResult` objects; ``indices`` gives the order at once.
    """

    results: tuple[RerankResult, ...]
    model: str
    usage: Usage = field(default_factory=Usage)

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[RerankResult]:
        return iter(self.results)

    def __getitem__(self, index: int) -> RerankResult:
        return self.results[index]

    @property
    def indices(self) -> list[int]:
        return [r.index for r in self.results]

    @property
    def scores(self) -> list[float]:
        return [r.relevance_score for r in self.results]
