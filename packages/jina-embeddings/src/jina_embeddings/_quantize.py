"""Matryoshka cut, renormalization and quantization, in that order, on every backend.

The arithmetic is sentence-transformers' ``quantize_embeddings`` (checked byte for byte in
the tests) so vectors from this package, from sentence-transformers and from the Jina API
(``embedding_type="binary" | "ubinary"``) can be mixed in one index:

* ``ubinary``: ``np.packbits(x > 0)``, most significant bit first, last byte zero-padded.
* ``binary``:  the same bytes minus 128, as int8.
* ``int8`` / ``uint8``: per-dimension buckets between calibration ``ranges`` (shape (2, dim):
  minimums, then maximums): ``q = clip(floor((x - min) / ((max - min) / 255)), 0, 255)``;
  uint8 is ``q``, int8 is ``q - 128``.

Vector stores of the three frameworks hold floats, so :func:`unpack_bits` turns packed bits
into a ±1.0 view; cosine similarity on it ranks exactly like Hamming distance.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from .errors import InvalidInputError

__all__ = [
    "learn_ranges",
    "PRECISIONS",
    "Precision",
    "calibration_ranges",
    "packed_width",
    "quantize",
    "truncate_and_normalize",
    "unpack_bits",
]

Precision = Literal["float32", "float16", "int8", "uint8", "binary", "ubinary"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
BIT_PRECISIONS = ("binary", "ubinary")
SCALAR_PRECISIONS = ("int8", "uint8")
_EPS = 1e-12


def packed_width(dimensions: int) -> int:
    """Bytes per vector once ``dimensions`` bits are packed."""
    return (dimensions + 7) // 8


def truncate_and_normalize(vectors: np.ndarray, dimensions: int | None, normalize: bool) -> np.ndarray:
    """Cut to the first ``dimensions`` values, then L2-normalize each row (if asked).

    Normalizing after the cut is what makes Matryoshka vectors usable with cosine and dot
    product alike; sentence-transformers only does it with ``normalize_embeddings=True``.
    """
    out = np.asarray(vectors, dtype=np.float32)
    if dimensions is not None and dimensions < out.shape[-1]:
        out = out[..., :dimensions]
    if normalize:
        norms = np.linalg.norm(out, axis=-1, keepdims=True)
        out = out / np.maximum(norms, _EPS)
    return np.ascontiguousarray(out, dtype=np.float32)


#: Below this max - min a learned dimension is flat (unit vectors: values are within [-1, 1]).
MIN_CALIBRATION_SPREAD = 1e-4


def calibration_ranges(vectors: np.ndarray) -> np.ndarray:
    """Per-dimension (min, max) of a document corpus, shape (2, dim), for int8/uint8.

    Raises:
        InvalidInputError: fewer than two vectors (one vector has no spread to learn from).
    """
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise InvalidInputError(
            "int8/uint8 calibration needs at least 2 document vectors; pass "
            "quantization_ranges= or calibrate on a corpus first.",
            field="quantization_ranges",
        )
    return np.stack([arr.min(axis=0), arr.max(axis=0)]).astype(np.float32)


def learn_ranges(vectors: np.ndarray) -> np.ndarray:
    """:func:`calibration_ranges` for ranges an ``Embedder`` learns and keeps for later calls.

    Raises:
        InvalidInputError: as :func:`calibration_ranges`, or vectors so alike that most
            dimensions have no spread: every later vector would quantize to the ends of the
            range (all -128 for identical texts), silently useless.
    """
    arr = np.asarray(vectors, dtype=np.float32)
    ranges = calibration_ranges(arr)
    flat = int(((ranges[1] - ranges[0]) < MIN_CALIBRATION_SPREAD).sum())
    if flat * 2 > arr.shape[1]:
        raise InvalidInputError(
            f"int8/uint8 calibration from {arr.shape[0]} (nearly) identical vectors: {flat} of "
            f"{arr.shape[1]} dimensions have no spread, so every later vector would quantize to the "
            "ends of the range. Call calibrate(texts) on a varied sample of documents, or pass "
            "quantization_ranges=.",
            field="quantization_ranges",
        )
    return ranges


def check_ranges(ranges: object, dimensions: int | None) -> np.ndarray:
    """Validate user-given int8/uint8 ranges; returns them as a float32 (2, dim) array."""
    try:
        arr = np.asarray(ranges, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"quantization_ranges must be numeric: {exc}", field="quantization_ranges"
        ) from None
    if arr.ndim != 2 or arr.shape[0] != 2 or (dimensions is not None and arr.shape[1] != dimensions):
        want = f"(2, {dimensions})" if dimensions else "(2, dim)"
        raise InvalidInputError(
            f"quantization_ranges must have shape {want}, got {arr.shape}.", field="quantization_ranges"
        )
    if not np.isfinite(arr).all() or (arr[1] < arr[0]).any():
        raise InvalidInputError(
            "quantization_ranges must be finite with max >= min per dimension.", field="quantization_ranges"
        )
    return arr


def quantize(vectors: np.ndarray, precision: str, ranges: np.ndarray | None = None) -> np.ndarray:
    """Convert float vectors (already cut and normalized) to ``precision``.

    Raises:
        InvalidInputError: unknown precision, or int8/uint8 without ``ranges``.
    """
    arr = np.asarray(vectors, dtype=np.float32)
    if precision == "float32":
        return arr
    if precision == "float16":
        return arr.astype(np.float16)
    if precision in BIT_PRECISIONS:
        packed = np.packbits(arr > 0, axis=-1)
        return (packed - 128).astype(np.int8) if precision == "binary" else packed
    if precision in SCALAR_PRECISIONS:
        if ranges is None:
            raise InvalidInputError(f"{precision} needs calibration ranges.", field="quantization_ranges")
        bounds = np.asarray(ranges, dtype=np.float32)
        starts = bounds[0]
        steps = (bounds[1] - starts) / 255
        steps = np.where(steps == 0, 1, steps)
        with np.errstate(over="ignore"):  # a tiny step overflows to inf, which the clip bounds
            q = np.clip(np.floor((arr - starts) / steps), 0, 255)
        return q.astype(np.uint8) if precision == "uint8" else (q - 128).astype(np.int8)
    raise InvalidInputError(
        f"Unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}.", field="precision"
    )


def unpack_bits(packed: np.ndarray, precision: str, dimensions: int) -> np.ndarray:
    """Packed ``binary``/``ubinary`` rows -> float32 ±1.0 rows of length ``dimensions``."""
    raw = np.asarray(packed)
    as_uint8 = (
        (raw.astype(np.int16) + 128).astype(np.uint8) if precision == "binary" else raw.astype(np.uint8)
    )
    bits = np.unpackbits(as_uint8, axis=-1)[..., :dimensions]
    return bits.astype(np.float32) * 2.0 - 1.0
