"""pytest fixtures for the fake Jina API server (load with ``-p jina_testkit.pytest_plugin``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .fake_api import FakeJinaServer

__all__ = ["fake_jina_module_server", "fake_jina_server", "fake_jina_server_factory", "srv"]


@pytest.fixture
def fake_jina_server() -> Iterator[FakeJinaServer]:
    """A started ``FakeJinaServer(api_key="jina_test")``, stopped after the test."""
    srv = FakeJinaServer(api_key="jina_test").start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def fake_jina_server_factory() -> Iterator[Callable[..., FakeJinaServer]]:
    """``factory(**kwargs)`` -> a started ``FakeJinaServer(**kwargs)``; all are stopped after the test.

    ``api_key`` defaults to ``"jina_test"`` like :func:`fake_jina_server`; pass ``api_key=None`` for no auth.
    """
    servers: list[FakeJinaServer] = []

    def factory(**kwargs: Any) -> FakeJinaServer:
        kwargs.setdefault("api_key", "jina_test")
        srv = FakeJinaServer(**kwargs).start()
        servers.append(srv)
        return srv

    try:
        yield factory
    finally:
        for srv in servers:
            srv.stop()


@pytest.fixture(scope="module")
def fake_jina_module_server() -> Iterator[FakeJinaServer]:
    """One ``FakeJinaServer(api_key="jina_test")`` per test module (starting one costs a thread
    and a port); use :func:`srv` to get it with a clean slate."""
    srv = FakeJinaServer(api_key="jina_test").start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def srv(fake_jina_module_server: FakeJinaServer) -> FakeJinaServer:
    """The module's fake server with a clean slate: no recorded requests, faults or rates."""
    fake_jina_module_server.reset()
    return fake_jina_module_server
