"""MaxSim, the late-interaction score of ColBERT-style models, in numpy.

For a query's token vectors ``q`` (m, d) and a document's ``D`` (n, d):
``maxsim(q, D) = sum_i max_j q_i . D_j``: every query token finds its best document token and
the best dot products add up (ColBERT, PyLate and sentence-transformers' ``maxsim`` agree; the
token vectors are unit length, so the dot product is a cosine). LlamaIndex's ``ColbertRerank``
takes the mean instead of the sum, which ranks the same for one query but is not the model's
score.

:func:`maxsim_scores` scores one query against many documents in one batched pass: the
documents are padded into blocks of equal length (padding scores ``-inf``, so it never wins a
max) and each block is one matrix product.

Example::

    >>> import numpy as np
    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    >>> d = np.array([[0.6, 0.8], [1.0, 0.0]], np.float32)
    >>> float(maxsim(q, d))          # max(0.6, 1.0) + max(0.8, 0.0)
    1.8
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import InvalidInputError

__all__ = ["maxsim", "maxsim_scores", "token_matrix"]

#: Values per padded block in :func:`maxsim_scores` (bounds memory for long documents).
_BLOCK_VALUES = 1 << 22


def token_matrix(value: Any, *, what: str = "token vectors", index: int | None = None) -> np.ndarray:
    """``value`` as a float32 (tokens, d) matrix: a numpy array, nested lists, or a serialized
    blob from :meth:`~jina_embeddings.MultiVectorEmbeddings.to_bytes` /
    :func:`~jina_embeddings.decode_token_vectors` (bytes or base64 text).

    Raises:
        InvalidInputError: not a non-empty 2-D matrix of finite numbers.
    """
    if isinstance(value, (bytes, bytearray, memoryview, str)):
        from ._multivector_io import decode_token_vectors

        value = decode_token_vectors(value)
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{what} must be a (tokens, dimensions) matrix of numbers.", index=index
        ) from None
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidInputError(
            f"{what} must be a non-empty (tokens, dimensions) matrix, got shape {arr.shape}.", index=index
        )
    if not np.isfinite(arr).all():
        raise InvalidInputError(f"{what} hold NaN or infinite values.", index=index)
    return arr


def maxsim(query: Any, document: Any) -> float:
    """Late-interaction score: sum over query tokens of the best dot product with a document token.

    Args:
        query: the query's token vectors, (m, d).
        document: one document's token vectors, (n, d), same ``d``.

    Raises:
        InvalidInputError: not matrices, or different widths.
    """
    q = token_matrix(query, what="query token vectors")
    d = token_matrix(document, what="document token vectors")
    _same_width(q, d, None)
    return float((q @ d.T).max(axis=1).sum())


def maxsim_scores(query: Any, documents: Sequence[Any]) -> np.ndarray:
    """MaxSim of one query against every document, in one batched pass; float32 (len(documents),).

    Raises:
        InvalidInputError: a document that is not a matrix of the query's width (named by index).
    """
    q = token_matrix(query, what="query token vectors")
    docs = [token_matrix(d, what="document token vectors", index=i) for i, d in enumerate(documents)]
    for i, d in enumerate(docs):
        _same_width(q, d, i)
    scores = np.empty(len(docs), np.float32)
    if not docs:
        return scores
    order = sorted(range(len(docs)), key=lambda i: docs[i].shape[0])  # similar lengths pad little
    width = q.shape[1]
    start = 0
    while start < len(order):
        longest = docs[order[start]].shape[0]
        stop = start + 1
        while stop < len(order):
            longest_next = docs[order[stop]].shape[0]
            if (stop - start + 1) * longest_next * width > _BLOCK_VALUES:
                break
            longest, stop = longest_next, stop + 1
        block = order[start:stop]
        padded = np.zeros((len(block), longest, width), np.float32)
        mask = np.ones((len(block), longest), bool)
        for row, i in enumerate(block):
            n = docs[i].shape[0]
            padded[row, :n] = docs[i]
            mask[row, :n] = False
        sims = np.einsum("md,bnd->bmn", q, padded)
        sims[np.broadcast_to(mask[:, None, :], sims.shape)] = -np.inf
        scores[block] = sims.max(axis=2).sum(axis=1)
        start = stop
    return scores


def _same_width(q: np.ndarray, d: np.ndarray, index: int | None) -> None:
    if q.shape[1] != d.shape[1]:
        where = "" if index is None else f" at index {index}"
        raise InvalidInputError(
            f"document token vectors{where} have {d.shape[1]} dimensions, the query's have {q.shape[1]}: "
            "they come from different models or dimensions= settings.",
            index=index,
        )
