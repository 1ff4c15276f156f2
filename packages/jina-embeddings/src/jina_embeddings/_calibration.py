"""int8/uint8 calibration ranges learned in this process, shared by objects with the same settings.

A Haystack indexing pipeline's ``JinaDocumentEmbedder(precision="int8")`` learns the ranges from
its first document batch; the query pipeline's ``JinaTextEmbedder(precision="int8")`` is another
object with the same settings and must quantize queries with the SAME ranges, or int8 scores mean
nothing. Ranges are not secret: they are also written by the adapters' ``to_dict`` / ``dumpd``.

The key holds everything that changes the float vectors: model (and folder), backend, task,
dimensions and normalization. ``int8`` and ``uint8`` share ranges (they are float min/max).
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["RangesKey", "keep", "lookup"]

RangesKey = tuple[object, ...]

_lock = threading.Lock()
_ranges: dict[RangesKey, np.ndarray] = {}


def lookup(key: RangesKey) -> np.ndarray | None:
    """Ranges learned in this process for ``key``, if any."""
    with _lock:
        return _ranges.get(key)


def keep(key: RangesKey, ranges: np.ndarray) -> np.ndarray:
    """Remember ``ranges`` for ``key``; the first ranges learned for a key win (all objects with
    the same settings then quantize alike). Returns the ranges in force."""
    with _lock:
        return _ranges.setdefault(key, ranges)
