"""The core clients an adapter object built, which must not travel with its fields.

Pydantic copies private attributes on ``model_copy``/``deepcopy`` and LlamaIndex's
``BaseComponent`` pickles them. :class:`ClientCache` decides what a copy or a pickle gets:
nothing; the core client is rebuilt from the fields on first use (cheap: nothing loads or
connects until a call, and local weights are shared through the core's model cache). The key
lives in a :class:`jina_embeddings.integration.KeyRef`, which follows the core's one rule.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["ClientCache", "ClosesClients"]

C = TypeVar("C")


class ClientCache(Generic[C]):
    """Core clients keyed by a slot, each valid for the exact options it was built with.

    ``get`` rebuilds when the options differ, so a field changed after construction is
    honoured on the next call. Updates replace the dict rather than mutate it, so readers in
    other threads always see a consistent entry.
    """

    __slots__ = ("_built",)

    def __init__(self) -> None:
        self._built: dict[Hashable, tuple[dict[str, Any], C]] = {}

    def get(self, slot: Hashable, options: dict[str, Any], build: Callable[[], C]) -> C:
        found = self._built.get(slot)
        if found is None or found[0] != options:
            found = (options, build())
            self._built = {**self._built, slot: found}
        return found[1]

    def built(self) -> list[C]:
        """The clients built so far (to close them)."""
        return [client for _, client in self._built.values()]

    def __copy__(self) -> ClientCache[C]:
        return ClientCache()

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientCache[C]:
        return ClientCache()

    def __reduce__(self) -> tuple[type[ClientCache[Any]], tuple[()]]:
        return (ClientCache, ())

    def __repr__(self) -> str:
        return f"ClientCache({len(self._built)} built)"


class ClosesClients:
    """``close()`` / ``aclose()`` for an adapter object that keeps its core clients in ``_clients``."""

    _clients: ClientCache[Any]

    def close(self) -> None:
        """Release HTTP connections of every core client this object built (remote backends);
        also done when they are garbage-collected. A later call opens new ones."""
        for client in self._clients.built():
            client.close()

    async def aclose(self) -> None:
        """Async :meth:`close` (closes the async connection pools too)."""
        for client in self._clients.built():
            await client.aclose()
