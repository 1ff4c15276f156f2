"""Remote late chunking: which chunks travel together, so that no request mixes documents.

The Jina API's ``late_chunking: true`` encodes all inputs of ONE request as one sequence and
splits it again; so each request here holds the chunks of one document, in order, and stays
within the model's late-chunking limit (:data:`LATE_CHUNKING_MAX_TOKENS`, 8,192 tokens for
v3, minus a margin for the task instruction and special tokens).

The client has no tokenizer for a hosted model, so it counts a chunk's UTF-8 bytes (+1 for
the joining space): no tokenizer used by Jina's models (SentencePiece, byte-level BPE,
WordPiece) makes more tokens than bytes, so a request planned this way can never exceed the
limit. Ordinary English prose is about 4-5 bytes per token, so a request then holds about a
quarter of the nominal 8,192 tokens of context.

A document larger than one request is split into **consecutive groups of whole chunks**;
context stops at a group boundary (a chunk sees the chunks of its own group only). A single
chunk larger than the bound travels alone (the server applies ``truncate`` to it). Groups of
different documents run concurrently like ordinary batches (``max_concurrency``), and
``batch_size`` does not split a group: context is bounded by the document and the limit only.
"""

from __future__ import annotations

from typing import cast

from .. import _constants as C
from .._models import ModelSpec
from .base import EmbedRequest

__all__ = ["LATE_CHUNKING_MAX_TOKENS", "RESERVED_TOKENS", "chunk_tokens_bound", "plan_document_groups"]

#: tokens of one late-chunking request on the Jina API (v3's context; v4 is capped here too)
LATE_CHUNKING_MAX_TOKENS = 8192
#: kept free for the task instruction the server prepends and the special tokens
RESERVED_TOKENS = 64


def chunk_tokens_bound(chunk: str) -> int:
    """An upper bound on the tokens ``chunk`` adds to a joined request: its UTF-8 bytes + 1."""
    return len(chunk.encode("utf-8")) + 1


def token_budget(spec: ModelSpec) -> int:
    """Tokens one late-chunking request may hold for ``spec`` (its chunks only)."""
    return min(LATE_CHUNKING_MAX_TOKENS, spec.max_tokens) - RESERVED_TOKENS


def plan_document_groups(request: EmbedRequest, spec: ModelSpec, *, max_chars: int) -> list[range]:
    """Consecutive ranges of ``request.texts``: each within one document and the limits.

    >>> from jina_embeddings._models import get_spec
    >>> from jina_embeddings._tasks import resolve
    >>> spec = get_spec("jina-embeddings-v3")
    >>> req = EmbedRequest(texts=["a", "b", "c"], binding=resolve(spec, "retrieval", "document"),
    ...     dimensions=None, precision="float32", normalize=True, truncate=True, batch_size=None,
    ...     show_progress=False, late_chunking=True, chunk_counts=(2, 1))
    >>> plan_document_groups(req, spec, max_chars=400_000)
    [range(0, 2), range(2, 3)]
    """
    budget = token_budget(spec)
    groups: list[range] = []
    start = 0
    for n in request.chunk_counts or ():
        stop = start + n
        first = start
        spent = chars = 0
        for i in range(start, stop):
            text = cast(str, request.texts[i])  # chunks are text (checked by the core)
            cost, size = chunk_tokens_bound(text), len(text)
            if i > first and (
                spent + cost > budget or chars + size > max_chars or i - first >= C.MAX_INPUTS_PER_REQUEST
            ):
                groups.append(range(first, i))
                first, spent, chars = i, 0, 0
            spent += cost
            chars += size
        groups.append(range(first, stop))
        start = stop
    return groups
