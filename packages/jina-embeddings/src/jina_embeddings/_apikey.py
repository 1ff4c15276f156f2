"""The API key: resolved once, held in an object that never shows or pickles its value.

Precedence: ``api_key=`` argument > ``JINA_API_KEY`` > ``JINAAI_API_KEY`` (the name
LlamaIndex's integration reads). The value is only ever read by the HTTP layer to build the
``Authorization`` header.
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

from .errors import InvalidInputError

__all__ = ["ENV_VARS", "APIKey", "KeyRef", "resolve_api_key"]

ENV_VARS = ("JINA_API_KEY", "JINAAI_API_KEY")
_MASK = "**********"


class APIKey:
    """A secret string: ``repr``/``str`` show stars; pickling refuses (the key stays home).

    Objects that hold one (``Embedder``, the adapters) drop it when pickled and read it again
    from the environment, if that is where it came from.
    """

    __slots__ = ("_value", "source")

    def __init__(self, value: str, *, source: str = "argument") -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError("api_key must be a non-empty string.", field="api_key")
        value = value.strip()
        if not all("!" <= c <= "~" for c in value):
            # The key is not shown: a message, a traceback or an encoding error would leak it.
            raise InvalidInputError(
                "api_key contains a space, line break, control or non-ASCII character, which an "
                "HTTP header cannot carry; check how it was copied (the key is not shown).",
                field="api_key",
            )
        self._value = value
        self.source = source

    def get_secret_value(self) -> str:
        """The raw key. Only the HTTP layer calls this, to build the Authorization header."""
        return self._value

    def __repr__(self) -> str:
        return f"APIKey('{_MASK}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, APIKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash((APIKey, self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("APIKey cannot be pickled: the key must not leave the process.")

    def __getstate__(self) -> NoReturn:
        raise TypeError("APIKey cannot be pickled: the key must not leave the process.")


def _unwrap(value: Any) -> str | None:
    """Accept a str, an APIKey, or secret wrappers (pydantic ``SecretStr``, Haystack ``Secret``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, APIKey):
        return value.get_secret_value()
    for attr in ("get_secret_value", "resolve_value"):
        fn = getattr(value, attr, None)
        if callable(fn):
            result = fn()
            return result if result is None or isinstance(result, str) else None
    raise InvalidInputError(f"api_key must be a string, got {type(value).__name__}.", field="api_key")


def resolve_api_key(api_key: Any = None) -> APIKey | None:
    """The key from ``api_key`` or the environment, or ``None`` when there is none."""
    if isinstance(api_key, APIKey):
        return api_key
    value = _unwrap(api_key)
    if value is not None:
        return APIKey(value, source="argument")
    for name in ENV_VARS:
        env = os.environ.get(name, "").strip()
        if env:
            return APIKey(env, source=f"env:{name}")
    return None


class KeyRef:
    """Where an object keeps its key: THE rule for copies and pickles, in one place.

    * ``copy`` / ``deepcopy``: the copy has the same key (it is the same process).
    * pickle: the key never travels. A key that came from ``JINA_API_KEY`` / ``JINAAI_API_KEY``
      is read from the environment again when unpickled; a key passed as an argument stays
      behind (the unpickled object has none, and the hosted API then says so clearly).

    ``Embedder``, ``Reranker`` and the adapters hold their key in one of these, so none of
    them writes its own ``__getstate__`` for the key.
    """

    __slots__ = ("key",)

    def __init__(self, key: APIKey | None = None) -> None:
        self.key = key

    def __reduce__(self) -> tuple[Any, tuple[str | None]]:
        return (_restore_key_ref, (self.key.source if self.key is not None else None,))

    def __copy__(self) -> KeyRef:
        return KeyRef(self.key)

    def __deepcopy__(self, memo: dict[int, Any]) -> KeyRef:
        return KeyRef(self.key)

    def __repr__(self) -> str:
        return "KeyRef(set)" if self.key is not None else "KeyRef(empty)"


def _restore_key_ref(source: str | None) -> KeyRef:
    """Unpickle a :class:`KeyRef`: read the environment again if that is where the key came from."""
    return KeyRef(resolve_api_key(None) if source is not None and source.startswith("env:") else None)
