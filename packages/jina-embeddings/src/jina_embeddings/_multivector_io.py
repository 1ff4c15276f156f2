"""Compact storage of token vectors: one self-describing blob per input, float16 or float32.

Late interaction stores a matrix per chunk, so a vector store's list-of-floats field is the
wrong place for it (a 300-token chunk at 128 dims is 38,400 floats). The usual recipe keeps the
matrix beside the chunk, in its metadata or a blob column, and reads it back at rerank time.

Format of one blob (little-endian): ``b"JMV1"``, one byte dtype (0 float32, 1 float16), three
zero bytes, uint32 tokens, uint32 dimensions, then ``tokens * dimensions`` values, row-major.
A batch (:func:`pack_batch`) is ``b"JMVB"``, a uint32 count and the blobs back to back (each
carries its own length). float16 halves the size; it changes scores by about 1e-3 relative,
which reorders only near-ties.

Example::

    >>> import numpy as np
    >>> m = np.eye(3, 4, dtype=np.float32)
    >>> blob = encode_token_vectors(m, precision="float16")
    >>> len(blob), decode_token_vectors(blob).shape
    (40, (3, 4))
    >>> text = encode_token_vectors(m, as_text=True)     # base64, for JSON metadata
    >>> bool((decode_token_vectors(text) == m).all())
    True
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from .errors import InvalidInputError

__all__ = [
    "STORAGE_PRECISIONS",
    "TOKEN_VECTORS_KEY",
    "decode_token_vectors",
    "encode_token_vectors",
    "pack_batch",
    "unpack_batch",
]

#: The metadata key the framework rerankers read precomputed document token vectors from
#: (LangChain ``Document.metadata``, LlamaIndex node ``metadata``, Haystack ``Document.meta``).
TOKEN_VECTORS_KEY = "jina_token_vectors"

StoragePrecision = Literal["float16", "float32"]
STORAGE_PRECISIONS: tuple[str, ...] = ("float16", "float32")
_MAGIC, _BATCH = b"JMV1", b"JMVB"
_HEADER = struct.Struct("<4sB3xII")
_COUNT = struct.Struct("<4sI")
_DTYPES: dict[int, np.dtype[Any]] = {0: np.dtype("<f4"), 1: np.dtype("<f2")}
_CODES = {"float32": 0, "float16": 1}


def _code(precision: str) -> int:
    if precision not in _CODES:
        raise InvalidInputError(
            f"storage precision must be 'float16' or 'float32', got {precision!r}.", field="precision"
        )
    return _CODES[precision]


def encode_token_vectors(
    vectors: Any, *, precision: StoragePrecision = "float16", as_text: bool = False
) -> Any:
    """One (tokens, d) matrix -> a blob (``bytes``), or base64 text with ``as_text=True``.

    Raises:
        InvalidInputError: not a 2-D matrix, or an unknown precision.
    """
    code = _code(precision)
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim != 2:
        raise InvalidInputError(
            f"token vectors must be a (tokens, dimensions) matrix, got shape {arr.shape}."
        )
    data = np.ascontiguousarray(arr, dtype=_DTYPES[code]).tobytes()
    blob = _HEADER.pack(_MAGIC, code, arr.shape[0], arr.shape[1]) + data
    return base64.b64encode(blob).decode("ascii") if as_text else blob


def _read_one(raw: memoryview, offset: int) -> tuple[np.ndarray, int]:
    if len(raw) - offset < _HEADER.size:
        raise InvalidInputError("token vector blob is truncated (no header).")
    magic, code, tokens, dims = _HEADER.unpack_from(raw, offset)
    if magic != _MAGIC or code not in _DTYPES:
        raise InvalidInputError("not a token vector blob (bad magic or dtype byte).")
    start = offset + _HEADER.size
    stop = start + tokens * dims * _DTYPES[code].itemsize
    if stop > len(raw):
        raise InvalidInputError(f"token vector blob is truncated: {tokens}x{dims} values announced.")
    values = np.frombuffer(raw[start:stop], dtype=_DTYPES[code]).astype(np.float32)
    return values.reshape(tokens, dims), stop


def _as_bytes(blob: Any) -> memoryview:
    if isinstance(blob, str):
        try:
            return memoryview(base64.b64decode(blob, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidInputError("token vector text is not valid base64.") from None
    if isinstance(blob, (bytes, bytearray, memoryview)):
        return memoryview(bytes(blob))
    raise InvalidInputError(f"token vectors must be bytes or base64 text here, got {type(blob).__name__}.")


def decode_token_vectors(blob: Any) -> np.ndarray:
    """A blob from :func:`encode_token_vectors` (bytes or base64 text) -> float32 (tokens, d).

    Raises:
        InvalidInputError: not such a blob, truncated, or with bytes left over.
    """
    raw = _as_bytes(blob)
    matrix, end = _read_one(raw, 0)
    if end != len(raw):
        raise InvalidInputError(f"token vector blob has {len(raw) - end} bytes after its data.")
    return matrix


def pack_batch(matrices: Sequence[Any], *, precision: StoragePrecision = "float16") -> bytes:
    """Several matrices (one per input, any lengths) -> one blob."""
    parts = [encode_token_vectors(m, precision=precision) for m in matrices]
    return _COUNT.pack(_BATCH, len(parts)) + b"".join(parts)


def unpack_batch(blob: Any) -> list[np.ndarray]:
    """The matrices of :func:`pack_batch`, in order, as float32.

    Raises:
        InvalidInputError: not such a blob, or truncated.
    """
    raw = _as_bytes(blob)
    if len(raw) < _COUNT.size or _COUNT.unpack_from(raw, 0)[0] != _BATCH:
        raise InvalidInputError("not a token vector batch blob (bad magic).")
    count = _COUNT.unpack_from(raw, 0)[1]
    offset, out = _COUNT.size, []
    for _ in range(count):
        matrix, offset = _read_one(raw, offset)
        out.append(matrix)
    if offset != len(raw):
        raise InvalidInputError(f"token vector batch has {len(raw) - offset} bytes after its data.")
    return out
