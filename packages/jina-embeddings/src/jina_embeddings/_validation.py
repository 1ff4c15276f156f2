"""Input checks that run before any model call or request.

Every problem is an :class:`~jina_embeddings.errors.InvalidInputError` that names the item
(``index``) and says what is wrong. Nothing is coerced: ``None`` is not embedded as
``"None"`` (as sentence-transformers would), an empty string is not sent to a server that
answers 400 (or, worse, returns a junk vector), and a bare string is not iterated as a list
of characters.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

from .errors import InvalidInputError

__all__ = ["certain_tokens", "check_query", "check_texts"]

_PREVIEW = 40


def _describe(item: object) -> str:
    if isinstance(item, float) and math.isnan(item):
        return "NaN"
    text = repr(item)
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 3] + "..."


def check_text(item: object, *, index: int | None = None, what: str = "text") -> str:
    """Return ``item`` if it is a non-blank string, else raise naming it."""
    where = f"{what} at index {index}" if index is not None else what
    if not isinstance(item, str):
        raise InvalidInputError(
            f"{where} must be a str, got {type(item).__name__} ({_describe(item)}).", index=index
        )
    if not item.strip():
        kind = "empty" if not item else "whitespace-only"
        raise InvalidInputError(
            f"{where} is {kind}; there is nothing in it to embed or score, so it is refused "
            "rather than sent or silently replaced.",
            index=index,
        )
    if not item.isascii():
        try:
            item.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates: no tokenizer or JSON body takes them
            raise InvalidInputError(
                f"{where} is not valid Unicode (a lone surrogate at position {exc.start}).", index=index
            ) from None
    return item


def check_texts(texts: object, *, what: str = "text") -> list[str]:
    """Validate a list of texts; returns it as a list (the caller's object is not modified).

    Raises:
        InvalidInputError: ``texts`` is a bare string, bytes or not a sequence, or any item is
            not a non-blank ``str`` (the error names the first bad index).
    """
    if isinstance(texts, str | bytes):
        raise InvalidInputError(
            f"Expected a list of strings, got a single {type(texts).__name__}; wrap it in a "
            f"list: [{_describe(texts)}].",
            field="texts",
        )
    if not isinstance(texts, Sequence):
        raise InvalidInputError(f"Expected a list of strings, got {type(texts).__name__}.", field="texts")
    for i, item in enumerate(texts):
        check_text(item, index=i, what=what)
    return list(texts)


def check_query(query: object) -> str:
    """Validate a single query string."""
    return check_text(query, what="query")


def _counts(word: str) -> bool:
    """A word that some tokenizer could drop entirely (zero-width and other format characters,
    lone combining marks, control characters) is not certainly a token."""
    return any(unicodedata.category(c)[0] in "LNPS" for c in word)


def certain_tokens(text: str) -> int:
    """A lower bound on the tokens of ``text`` under any tokenizer: its words that hold at least
    one letter, number, punctuation mark or symbol (each such word yields at least one token).

    Example::

        >>> certain_tokens("two words"), certain_tokens("\u200b " * 300 + "hi")
        (2, 1)
    """
    words = text.split()
    if text.isascii() and text.isprintable():
        return len(words)
    return sum(1 for w in words if _counts(w))
