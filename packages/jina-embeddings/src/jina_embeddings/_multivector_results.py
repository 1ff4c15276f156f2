"""``MultiVectorEmbeddings``: token vectors for a list of texts, and their compact storage."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._multivector_io import StoragePrecision, encode_token_vectors, pack_batch, unpack_batch
from ._results import Usage
from ._tasks import TaskBinding

__all__ = ["MultiVectorEmbeddings"]


@dataclass(frozen=True, eq=False)
class MultiVectorEmbeddings:
    """Token vectors for a list of texts, in input order: one (tokens_i, dimensions) matrix each.

    Attributes:
        vectors: list of float32 (or float16) arrays, ragged: documents have as many rows as
            scored tokens (the skiplist drops punctuation); queries exactly the query length
            (32 for jina-colbert-v2: query expansion).
        model, usage, precision, dimensions, task, role, truncated, truncated_indices: as for
            :class:`~jina_embeddings.Embeddings` (``truncated`` counts inputs cut to the
            model's query or document length).

    Example::

        docs = mv.embed_documents(["Berlin is the capital of Germany.", "Paris ..."])
        docs.lengths                        # [9, 4]
        blob = docs.to_bytes()              # compact float16 storage, lengths included
        again = MultiVectorEmbeddings.from_bytes(blob, model=docs.model)
    """

    vectors: list[np.ndarray]
    model: str
    usage: Usage = field(default_factory=Usage)
    precision: str = "float32"
    dimensions: int = 0
    task: str | None = None
    role: str = "document"
    truncated: int = 0
    truncated_indices: tuple[int, ...] | None = None
    binding: TaskBinding | None = None

    def __len__(self) -> int:
        return len(self.vectors)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.vectors)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.vectors[index]

    @property
    def lengths(self) -> list[int]:
        """Token vectors per input."""
        return [int(v.shape[0]) for v in self.vectors]

    def to_bytes(self, precision: StoragePrecision = "float16") -> bytes:
        """All inputs in one compact blob (each with its length); see :mod:`._multivector_io`."""
        return pack_batch(self.vectors, precision=precision)

    def to_blobs(self, precision: StoragePrecision = "float16", *, as_text: bool = False) -> list[Any]:
        """One blob per input (``bytes``, or base64 ``str`` for JSON metadata with ``as_text``)."""
        return [encode_token_vectors(v, precision=precision, as_text=as_text) for v in self.vectors]

    def to_lists(self) -> list[list[list[float]]]:
        """Nested Python floats (Haystack ``Document.multivector_embedding`` holds these)."""
        return [v.astype(np.float32).tolist() for v in self.vectors]

    @classmethod
    def from_bytes(cls, blob: Any, *, model: str, role: str = "document") -> MultiVectorEmbeddings:
        """Read back :meth:`to_bytes` (as float32)."""
        vectors = unpack_batch(blob)
        dims = int(vectors[0].shape[1]) if vectors else 0
        return cls(vectors=vectors, model=model, dimensions=dims, role=role)
