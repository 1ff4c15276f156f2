"""Late chunking's token bookkeeping, pure (no torch): which token belongs to which chunk, and
how a document longer than the context is cut into overlapping windows and stitched back.

The text the model sees is ``prompt + " ".join(chunks)``. A token belongs to chunk ``i`` when
the last non-space character it covers lies in chunk ``i`` (so a leading space that a
tokenizer glues to the next word does not move the word to the previous chunk; a token of
spaces only belongs to the chunk holding them); special tokens, prompt tokens and tokens
covering only the joining space belong to no chunk and are never pooled.

Long late chunking: the tokens between the leading special tokens + prompt (the *prefix*)
and the trailing special tokens (the *suffix*) are the *body*. If prefix + body + suffix fits
the window, the document is one pass over exactly the tokens a plain encode would see. If not,
the body is cut into windows of ``capacity = window - len(prefix) - len(suffix)`` tokens at a
stride of ``capacity - overlap``; every window is ``prefix + body[start:stop] + suffix``, so
each keeps its special tokens and the task's prompt (it looks like an ordinary input to the
model), and each later window drops its first ``overlap`` outputs (the previous window already
produced them, with more left context): Jina's late-chunking reference scheme.

Example::

    >>> plan_windows(10, capacity=4, overlap=1)
    [Window(start=0, stop=4, keep=0), Window(start=3, stop=7, keep=1), Window(start=6, stop=10, keep=1)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InvalidInputError

__all__ = ["DocumentTokens", "Window", "joined_text", "plan_windows", "split_document"]


def joined_text(prompt: str, chunks: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """``prompt + " ".join(chunks)`` and each chunk's ``[start, end)`` character span in it."""
    spans: list[tuple[int, int]] = []
    pos = len(prompt)
    for i, chunk in enumerate(chunks):
        if i:
            pos += 1  # the joining space
        spans.append((pos, pos + len(chunk)))
        pos += len(chunk)
    return prompt + " ".join(chunks), spans


def _char_owners(text: str, spans: Sequence[tuple[int, int]]) -> list[int]:
    owner = [-1] * len(text)
    for i, (a, b) in enumerate(spans):
        for c in range(a, b):
            owner[c] = i
    return owner


@dataclass(frozen=True)
class DocumentTokens:
    """One document's tokens: ``prefix`` (leading specials + prompt), ``body``, ``suffix``
    (trailing specials), and the chunk each body token belongs to (``-1``: none)."""

    prefix: list[int]
    body: list[int]
    suffix: list[int]
    owners: list[int]


def split_document(
    ids: Sequence[int],
    offsets: Sequence[tuple[int, int]],
    special: Sequence[int],
    text: str,
    spans: Sequence[tuple[int, int]],
) -> DocumentTokens:
    """Cut one tokenized document into prefix / body / suffix and assign body tokens to chunks.

    Raises:
        InvalidInputError: a chunk got no token at all (e.g. it holds only characters the
            tokenizer drops), so it has no span to pool; ``index`` is the chunk.
    """
    char_owner = _char_owners(text, spans)
    owners: list[int] = []
    for (a, b), is_special in zip(offsets, special, strict=True):
        own = -1
        if not is_special:
            chars = range(min(b, len(text)) - 1, a - 1, -1)
            visible = [c for c in chars if not text[c].isspace()]
            # a space-only token belongs to the chunk holding its spaces (none: a joining space)
            picks = visible[:1] or [c for c in chars if char_owner[c] >= 0][:1]
            own = char_owner[picks[0]] if picks else -1
        owners.append(own)
    chunked = [k for k, o in enumerate(owners) if o >= 0]
    if not chunked:
        raise InvalidInputError("no chunk of the document produced a token.", index=0, field="chunks")
    first = chunked[0]
    last = max(k for k, s in enumerate(special) if not s)
    body = slice(first, last + 1)
    seen = {o for o in owners if o >= 0}
    for i in range(len(spans)):
        if i not in seen:
            raise InvalidInputError(
                f"chunk {i} produced no token (it holds only characters the tokenizer drops), so "
                "it has no span to pool; remove it or merge it into a neighbour.",
                index=i,
                field="chunks",
            )
    return DocumentTokens(
        prefix=list(ids[:first]), body=list(ids[body]), suffix=list(ids[last + 1 :]), owners=owners[body]
    )


@dataclass(frozen=True)
class Window:
    """Body tokens ``[start, stop)`` in one pass; outputs before ``start + keep`` are dropped."""

    start: int
    stop: int
    keep: int


def plan_windows(length: int, *, capacity: int, overlap: int) -> list[Window]:
    """Windows covering ``length`` body tokens (see the module docstring).

    Raises:
        InvalidInputError: ``capacity`` < 1 (the prompt and special tokens fill the window) or
            ``overlap`` over half the capacity (the stride would shrink below the overlap).
    """
    if capacity < 1:
        raise InvalidInputError(
            "the late-chunking window has no room for text after the prompt and special tokens; "
            "raise late_chunking_window.",
            field="late_chunking_window",
        )
    if length <= capacity:
        return [Window(0, length, 0)]
    if overlap > capacity // 2:
        raise InvalidInputError(
            f"late_chunking_overlap={overlap} is more than half of the {capacity} text tokens per "
            f"window; use at most {capacity // 2}.",
            field="late_chunking_overlap",
        )
    windows = [Window(0, capacity, 0)]
    while windows[-1].stop < length:
        start = windows[-1].stop - overlap
        windows.append(Window(start, min(start + capacity, length), overlap))
    return windows
