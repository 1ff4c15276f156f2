"""Fixtures of the remote-backend tests: a module-scoped loopback server and fast retries.

Retries are made fast by patching the backoff constants (the policy reads them at call
time); nothing in the public API changes for tests. Servers are real sockets on 127.0.0.1
(``jina_testkit.fake_api.FakeJinaServer``); ``httpx.MockTransport`` is used only for faults a
real server cannot produce (write timeouts, pool timeouts, proxy errors).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from jina_embeddings import Embedder, Reranker
from jina_embeddings import _constants as C
from jina_testkit.fake_api import FakeJinaServer

T = TypeVar("T", Embedder, Reranker)

KEY = "jina_test"
V5 = "jina-embeddings-v5-text-small"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff 1 ms doubling to 10 ms instead of 0.5 s doubling to 8 s."""
    monkeypatch.setattr(C, "INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr(C, "MAX_RETRY_DELAY", 0.01)


def _client_factory(cls: type[T], default_model: str, srv: FakeJinaServer) -> Iterator[Callable[..., T]]:
    """``factory(model=default_model, **kwargs)`` -> a ``cls`` on ``srv`` (backend api, key set); closed after."""
    made: list[T] = []

    def factory(model: str = default_model, **kwargs: Any) -> T:
        kwargs.setdefault("backend", "api")
        kwargs.setdefault("api_key", KEY)
        kwargs.setdefault("base_url", srv.base_url)
        client = cls(model, **kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def make(srv: FakeJinaServer) -> Iterator[Callable[..., Embedder]]:
    """``make(model=V5, **kwargs)`` -> an Embedder on ``srv`` (backend api, key set); closed after."""
    yield from _client_factory(Embedder, V5, srv)


@pytest.fixture
def make_reranker(srv: FakeJinaServer) -> Iterator[Callable[..., Reranker]]:
    """``make_reranker(model="jina-reranker-v3", **kwargs)`` -> a Reranker on ``srv``; closed after."""
    yield from _client_factory(Reranker, "jina-reranker-v3", srv)


def embed_requests(srv: FakeJinaServer) -> list[Any]:
    return [r for r in srv.requests if r.path == "/v1/embeddings"]


def mock_transports(
    handler: Callable[[httpx.Request], httpx.Response],
) -> tuple[httpx.MockTransport, httpx.MockTransport]:
    """Sync and async MockTransports around one sync handler."""

    async def ahandler(request: httpx.Request) -> httpx.Response:
        return handler(request)

    return httpx.MockTransport(handler), httpx.MockTransport(ahandler)


@pytest.fixture
def helpers() -> Any:
    """Plain helper functions (test modules cannot import each other under importlib mode)."""

    class H:
        embed_requests = staticmethod(embed_requests)
        mock_transports = staticmethod(mock_transports)

    return H
