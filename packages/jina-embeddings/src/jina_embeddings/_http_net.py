"""Wall-clock deadlines and cancellation under httpx, where no server can stretch them.

httpx times each socket operation on its own, so a server that sends one byte every half
second keeps a request alive forever. Here every connect, TLS handshake, read and write of
an attempt is clamped to the attempt's deadline, and reads block at most ``IO_SLICE`` at a
time so that a cancelled call (``KeyboardInterrupt`` in the caller, ``close()`` from another
thread) is noticed within that slice. The attempt in force is a context variable
(:data:`SCOPE`), set by :mod:`jina_embeddings._http` around each attempt: threads and tasks
each see their own.

The wrappers sit between httpcore's connection pool and its network backend
(:func:`install`), so pooling, TLS and proxies are httpx's own. A deadline shows up as
httpcore's own ``ReadTimeout`` / ``WriteTimeout`` / ``ConnectTimeout`` (httpx maps them to
``httpx.TimeoutException``); a cancellation as :class:`Abandoned`, after which httpcore closes
the connection, as it does for any exception.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore

from . import _constants as C

__all__ = ["SCOPE", "Abandoned", "AttemptScope", "CancelToken", "install"]


class CancelToken:
    """Set once, by an interrupted caller or by ``close()``; everything waiting on it wakes."""

    __slots__ = ("_event", "reason")

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def cancel(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; ``True`` if cancelled meanwhile (sync callers only)."""
        return self._event.wait(max(0.0, seconds))


class Abandoned(Exception):
    """Raised inside the socket layer when the call was cancelled; ``reason`` says by whom."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AttemptScope:
    """The rules of one attempt: a monotonic deadline and the call's cancel token."""

    deadline: float
    cancel: CancelToken
    timeout: float


SCOPE: contextvars.ContextVar[AttemptScope | None] = contextvars.ContextVar("jina_attempt", default=None)


def _budget(exc: type[Exception]) -> float | None:
    """Seconds the current attempt has left (``None`` outside an attempt); raises when none."""
    scope = SCOPE.get()
    if scope is None:
        return None
    if scope.cancel.cancelled:
        raise Abandoned(scope.cancel.reason)
    left = scope.deadline - time.monotonic()
    if left <= 0:
        raise exc(f"no complete response within timeout={scope.timeout:g} s (the whole attempt)")
    return left


def _timed_out() -> httpcore.ReadTimeout:
    scope = SCOPE.get()
    limit = f"timeout={scope.timeout:g} s, the whole attempt" if scope is not None else "the read timeout"
    return httpcore.ReadTimeout(f"no complete response within {limit}")


def _clamp(exc: type[Exception], timeout: float | None) -> float | None:
    left = _budget(exc)
    return timeout if left is None else left if timeout is None else min(timeout, left)


def _slice(exc: type[Exception], own_end: float | None) -> tuple[float, float]:
    """(this read's slice, the time it may still take) for a read ending at ``own_end``."""
    budget = _budget(exc)
    left = math.inf if budget is None else budget  # callers only slice inside a scoped attempt
    if own_end is not None:
        left = min(left, own_end - time.monotonic())
        if left <= 0:
            raise exc("read timed out")
    return min(C.IO_SLICE, left), left


class _Tracked:
    """Streams a backend opened, so ``close()`` can shut sockets a dead event loop left open."""

    def __init__(self) -> None:
        self._streams: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, stream: Any) -> None:
        with self._lock:
            self._streams.add(stream)

    def shutdown_sockets(self) -> None:
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            sock = stream.get_extra_info("socket")  # a socket, or asyncio's TransportSocket
            shutdown = getattr(sock, "shutdown", None)
            if callable(shutdown):
                with contextlib.suppress(OSError):
                    shutdown(socket.SHUT_RDWR)


# -- sync ------------------------------------------------------------------------------------
class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if SCOPE.get() is None:
            return self._inner.read(max_bytes, timeout)
        own_end = None if timeout is None else time.monotonic() + timeout
        while True:
            step, left = _slice(httpcore.ReadTimeout, own_end)
            try:
                return self._inner.read(max_bytes, step)
            except httpcore.ReadTimeout:
                if step >= left:
                    raise _timed_out() from None
                # only a slice ran out: look at the deadline and the cancel token again

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        limit = _clamp(httpcore.WriteTimeout, timeout)
        self._inner.write(buffer, limit)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        limit = _clamp(httpcore.ConnectTimeout, timeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, limit))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner
        self.tracked = _Tracked()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        limit = _clamp(httpcore.ConnectTimeout, timeout)
        stream = _Stream(self._inner.connect_tcp(host, port, limit, local_address, socket_options))
        self.tracked.add(stream)
        return stream

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        limit = _clamp(httpcore.ConnectTimeout, timeout)
        stream = _Stream(self._inner.connect_unix_socket(path, limit, socket_options))
        self.tracked.add(stream)
        return stream

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# -- async -----------------------------------------------------------------------------------
class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if SCOPE.get() is None:
            return await self._inner.read(max_bytes, timeout)
        own_end = None if timeout is None else time.monotonic() + timeout
        while True:
            step, left = _slice(httpcore.ReadTimeout, own_end)
            try:
                return await self._inner.read(max_bytes, step)
            except httpcore.ReadTimeout:
                if step >= left:
                    raise _timed_out() from None

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        limit = _clamp(httpcore.WriteTimeout, timeout)
        await self._inner.write(buffer, limit)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        limit = _clamp(httpcore.ConnectTimeout, timeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, limit))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner
        self.tracked = _Tracked()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        limit = _clamp(httpcore.ConnectTimeout, timeout)
        inner = await self._inner.connect_tcp(host, port, limit, local_address, socket_options)
        stream = _AsyncStream(inner)
        self.tracked.add(stream)
        return stream

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        limit = _clamp(httpcore.ConnectTimeout, timeout)
        stream = _AsyncStream(await self._inner.connect_unix_socket(path, limit, socket_options))
        self.tracked.add(stream)
        return stream

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install(client: Any) -> list[_Tracked]:
    """Put the deadline wrappers under every httpcore pool of an httpx client (its transport and
    its proxy mounts). Transports without a pool (``httpx.MockTransport``, your own) are left
    alone: their bodies are still bounded and timed by :mod:`jina_embeddings._http`.

    Returns the trackers of the wrapped backends.
    """
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    tracked: list[_Tracked] = []
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        inner = getattr(pool, "_network_backend", None)
        if isinstance(inner, (_Backend, _AsyncBackend)):
            tracked.append(inner.tracked)
        elif isinstance(inner, httpcore.NetworkBackend):
            wrapped: Any = _Backend(inner)
            pool._network_backend = wrapped  # type: ignore[union-attr]
            tracked.append(wrapped.tracked)
        elif isinstance(inner, httpcore.AsyncNetworkBackend):
            wrapped = _AsyncBackend(inner)
            pool._network_backend = wrapped  # type: ignore[union-attr]
            tracked.append(wrapped.tracked)
    return tracked
