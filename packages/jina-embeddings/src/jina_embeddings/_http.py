"""The one HTTP layer of the remote backends: pooled clients, pacing, retries, deadlines, errors.

The decisions are sans-I/O and shared by sync and async; only the send loops do I/O:

* :mod:`._http_policy` decides what is retried and how long to wait: a 429 is a *rate window*
  (waited for, bounded by ``max_rate_limit_wait``, not counted in ``max_retries``) unless its
  code says the balance is spent; 408/409/5xx and dropped connections are *errors* (backoff
  ``min(0.5 * 2**n, 8) * U(0.75, 1]``, at most ``max_retries``); it builds the typed errors.
* :mod:`._http_limits` holds what one client shares across threads and event loops: one
  ``max_concurrency`` bound (:class:`~._http_limits.Slots`) and one rate governor
  (:class:`~._http_limits.RateGovernor`) that paces every request of the Embedder.
* :mod:`._http_net` makes ``timeout`` the wall-clock limit of a whole attempt (a trickling
  server cannot extend it) and makes in-flight requests notice a cancelled call within
  ``IO_SLICE``; :mod:`._http_body` bounds the bytes and the JSON of every response.
* :class:`Attempts` is the state of one logical request across its attempts.
  :meth:`HTTPClient.post` / :meth:`HTTPClient.apost` are the I/O loops (they differ only in
  ``await``); :meth:`HTTPClient.map` / :meth:`HTTPClient.amap` fan the batches of one call
  out, keeping input order. An exception in the calling thread (``KeyboardInterrupt``) stops
  a sync call at once: no new batch starts, in-flight ones are abandoned (their sockets
  closed), and the exception itself is raised.

The API key is read from :class:`~jina_embeddings._apikey.APIKey` only to build the
``Authorization`` header of the pooled clients. It never goes into a URL, a log record or an
error: everything a server sends back (headers, bodies in any JSON spelling, redirect
targets) is scrubbed of it, and so are httpx's and httpcore's log records. Logging (logger
``jina_embeddings.http``, DEBUG) records method, path, status, attempt and delay only.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import ssl
import threading
import time
import urllib.parse
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import httpx

from . import _constants as C
from ._apikey import APIKey
from ._http_attempts import CALL, Attempts, Call, Reply
from ._http_body import BodyError, BodyReader
from ._http_limits import RateGovernor, Slots, Ticket
from ._http_net import SCOPE, Abandoned, AttemptScope, install
from ._http_policy import (
    RetryPolicy,
    Scrubber,
    connection_error,
    install_log_scrubbing,
    is_fatal,
    parse_error_body,
    parse_retry_after,
    status_error,
)
from .errors import APIConnectionError, APIResponseValidationError

__all__ = [
    "Attempts",
    "HTTPClient",
    "Reply",
    "RetryPolicy",
    "Scrubber",
    "connection_error",
    "is_fatal",
    "parse_error_body",
    "parse_retry_after",
    "status_error",
]

logger = logging.getLogger("jina_embeddings.http")

T = TypeVar("T")
R = TypeVar("R")
_Thread = threading.Thread  # the workers of a sync fan-out (tests count them)


# -- fan-out bookkeeping shared by map/amap ---------------------------------------------------
class _FanOut:
    """Hands out job indices to workers, collects results in order, stops after a fatal error."""

    def __init__(self, n: int) -> None:
        self._n, self._next, self._lock = n, 0, threading.Lock()
        self._results: list[Any] = [None] * n
        self._fatal: BaseException | None = None

    def take(self) -> int | None:
        with self._lock:
            if self._fatal is not None or self._next >= self._n:
                return None
            self._next += 1
            return self._next - 1

    def stop(self, error: BaseException) -> None:
        """No new job starts; the unsent ones get ``error``."""
        with self._lock:
            if self._fatal is None:
                self._fatal = error

    def put(self, index: int, value: Any) -> None:
        with self._lock:
            self._results[index] = value
            if isinstance(value, BaseException) and self._fatal is None and is_fatal(value):
                self._fatal = value

    def results(self) -> list[Any]:
        """One entry per job: its result, its exception, or the fatal error if never sent."""
        with self._lock:
            return [self._fatal if i >= self._next else r for i, r in enumerate(self._results)]


@dataclass
class _AsyncPool:
    """One event loop's async client, the generator that closes it, and its sockets."""

    client: httpx.AsyncClient
    closer: AsyncGenerator[None, None]
    tracked: list[Any]

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.closer.aclose()

    def shutdown_sockets(self) -> None:
        for tracked in self.tracked:
            tracked.shutdown_sockets()


async def _close_at_loop_shutdown(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """Suspended until closed: by :meth:`HTTPClient.aclose`, or by the loop's
    ``shutdown_asyncgens()`` (``asyncio.run`` calls it), so connections never outlive the loop."""
    try:
        yield
    finally:
        await client.aclose()


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One verified TLS context for all clients (building one costs ~50 ms)."""
    return httpx.create_ssl_context()


def _where(base_url: str) -> str:
    parts = urllib.parse.urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or "?"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# -- the client -------------------------------------------------------------------------------
class _InFlight:
    """One attempt on the wire, shared by the sync and async send paths (only the I/O differs).

    Entering counts the request in flight and scopes its deadline; leaving turns what went wrong
    into the policy's answer (a retry delay in :attr:`result`, or the typed error) and always
    releases the slot and the rate-window ticket.
    """

    def __init__(self, http: HTTPClient, att: Attempts, call: Call, ticket: Ticket, client: Any) -> None:
        self.http, self.att, self.call, self.ticket, self.client = http, att, call, ticket, client
        self.status = 0
        self.result: Reply | float = 0.0

    def __enter__(self) -> _InFlight:
        self.http._activity(+1)
        self.att.begin()
        self.scope = self.http._scope(self.call)
        self.token = SCOPE.set(self.scope)
        return self

    def reading(self, response: httpx.Response, max_bytes: int | None) -> tuple[Any, bytes | None]:
        """The bounded body reader, fed already if the transport loaded the body."""
        self.status = response.status_code
        reader, loaded = self.http._reader(response, max_bytes)
        if loaded is not None:
            reader.feed(loaded)
        return reader, loaded

    def feed(self, reader: Any, chunk: bytes) -> bool:
        """Feed one raw chunk; ``True`` when the reader has all it needs."""
        reader.feed(chunk)
        if reader.done:
            return True
        self.http._check_scope(self.scope)
        return False

    def done(self, response: httpx.Response, reader: Any) -> None:
        self.result = self.att.on_response(
            response.status_code, response.headers, reader.finish(), self.ticket
        )

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        try:
            if exc is None:
                return False
            att = self.att
            if isinstance(exc, httpx.RequestError):
                if self.call.left() <= 0:
                    self.http.governor.settle(self.ticket, None)
                    raise att.call_expired(self.call) from exc
                self.result = att.on_exception(exc, self.ticket)
                return True
            if isinstance(exc, Abandoned):
                raise att.abandoned(exc.reason) from None
            if isinstance(exc, BodyError):
                raise self.http._invalid_body(att, self.status, exc) from None
            if isinstance(exc, RuntimeError) and self.client.is_closed:
                # closed by another thread between taking the client and sending
                raise att.abandoned("closed") from None
            return False
        finally:
            SCOPE.reset(self.token)
            self.http.governor.forget(self.ticket)
            self.http.slots.release()
            self.http._activity(-1)


class HTTPClient:
    """Pooled sync and async clients for one backend instance (created on first use).

    Args:
        base_url: OpenAI-SDK-style root (``https://api.jina.ai/v1``).
        api_key: sent as ``Authorization: Bearer ...``; ``None`` sends no such header.
        timeout: wall-clock limit of one attempt (connect, send, wait, read), seconds.
        connect_timeout: seconds to open a connection (within ``timeout``).
        max_retries: retries per request for errors (rate windows do not count).
        max_concurrency: requests in flight at once, all threads and event loops together.
        call_timeout: wall-clock limit of one :meth:`map` / :meth:`amap` call (``None``: none).
        max_rate_limit_wait: seconds one request may wait for rate windows in total.
        requests_per_minute, tokens_per_minute: client-side pacing (``None``: none).

    ``transport`` / ``async_transport`` replace the network for tests (``httpx.MockTransport``).

    Example::

        http = HTTPClient("http://127.0.0.1:8080/v1", api_key=None)
        reply = http.post("/embeddings", {"model": "...", "input": ["hi"]})
        http.close()
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: APIKey | None,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        max_concurrency: int = 4,
        call_timeout: float | None = None,
        max_rate_limit_wait: float = C.DEFAULT_MAX_RATE_LIMIT_WAIT,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.where = _where(self.base_url)
        self.max_concurrency = max_concurrency
        self.policy = RetryPolicy(max_retries)
        self.attempt_timeout = timeout
        self.call_timeout = call_timeout
        self.max_rate_limit_wait = max_rate_limit_wait
        self.timeout = httpx.Timeout(
            connect=connect_timeout, read=timeout, write=timeout, pool=C.POOL_TIMEOUT
        )
        self.transport: httpx.BaseTransport | None = None
        self.async_transport: httpx.AsyncBaseTransport | None = None
        self.governor = RateGovernor(
            requests_per_minute=requests_per_minute, tokens_per_minute=tokens_per_minute
        )
        self.slots = Slots(max_concurrency)
        self._api_key = api_key
        self._scrub = Scrubber(api_key.get_secret_value() if api_key else None, register=True)
        install_log_scrubbing()
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._apools: dict[asyncio.AbstractEventLoop, _AsyncPool] = {}
        self._calls: set[Call] = set()
        self._active = 0
        self._idle = threading.Condition(self._lock)

    def __repr__(self) -> str:
        return (
            f"HTTPClient(base_url={self.base_url!r}, max_retries={self.policy.max_retries}, "
            f"max_concurrency={self.max_concurrency})"
        )

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("HTTPClient holds live connections and the API key; it cannot be pickled.")

    # -- pooled clients -------------------------------------------------------------------
    def _client_options(self) -> dict[str, Any]:
        from . import __version__

        headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",  # decoded here, within the response's byte budget
            "Content-Type": "application/json",
            "User-Agent": f"jina-embeddings-python/{__version__}",
        }
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get_secret_value()}"
        limits = httpx.Limits(
            max_connections=self.max_concurrency, max_keepalive_connections=self.max_concurrency
        )
        return dict(
            base_url=self.base_url,
            headers=headers,
            timeout=self.timeout,
            limits=limits,
            follow_redirects=False,
            verify=_ssl_context(),
        )

    def _sync_client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(transport=self.transport, **self._client_options())
                install(self._client)
            return self._client

    async def _async_pool(self) -> _AsyncPool:
        """The pool of the running event loop (pools cannot move between loops)."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                for old in [lp for lp in self._apools if lp.is_closed()]:
                    self._apools.pop(old).shutdown_sockets()  # a loop closed without closing its pool
                found = self._apools.get(loop)
                fresh = found is None or found.client.is_closed
                if found is None or fresh:
                    client = httpx.AsyncClient(transport=self.async_transport, **self._client_options())
                    found = self._apools[loop] = _AsyncPool(
                        client, _close_at_loop_shutdown(client), install(client)
                    )
                pool = found
            if not fresh:
                return pool
            try:
                await anext(pool.closer)  # registers with the loop: asyncio.run() closes it at the end
                return pool
            except StopAsyncIteration:  # closed by close() before it started; make another
                continue

    def warm_up(self) -> None:
        """Create the sync pool now (connections still open on the first request)."""
        self._sync_client()

    def close(self) -> None:
        """Close every pool this client opened, sync and async (in any event loop).

        Requests in flight on other threads or loops fail with ``APIConnectionError``; they
        notice within ``IO_SLICE`` and close their sockets. The client can be used again
        afterwards (new pools open on the next request).
        """
        pools = self._shut_down()
        for loop, pool in pools:
            self._close_pool_elsewhere(loop, pool)

    async def aclose(self) -> None:
        """:meth:`close`, awaiting the running loop's pool."""
        loop = asyncio.get_running_loop()
        with self._lock:
            pool = self._apools.pop(loop, None)
        pools = self._shut_down()
        end = time.monotonic() + C.ABANDON_GRACE
        while self._active and time.monotonic() < end:
            await asyncio.sleep(C.RATE_POLL)
        if pool is not None:
            await pool.aclose()
        for other, other_pool in pools:
            self._close_pool_elsewhere(other, other_pool)

    def _shut_down(self) -> list[tuple[asyncio.AbstractEventLoop, _AsyncPool]]:
        """Cancel the calls in flight, close the sync pool; return the async pools to close."""
        with self._lock:
            calls = list(self._calls)
            client, self._client = self._client, None
            pools = list(self._apools.items())
            self._apools.clear()
        for call in calls:
            call.cancel.cancel("closed")
        try:
            in_a_loop = asyncio.get_running_loop() is not None
        except RuntimeError:
            in_a_loop = False
        if calls and not in_a_loop:  # (a loop's own requests cannot progress while we block it)
            with self._idle:
                self._idle.wait_for(lambda: self._active == 0, C.ABANDON_GRACE)
        if client is not None:
            client.close()
        return pools

    @staticmethod
    def _close_pool_elsewhere(loop: asyncio.AbstractEventLoop, pool: _AsyncPool) -> None:
        """Close an async pool from outside its loop: on the loop if it runs, else its sockets."""
        if loop.is_closed() or not loop.is_running():
            pool.shutdown_sockets()
            return
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            loop.create_task(pool.aclose())
            return
        future = asyncio.run_coroutine_threadsafe(pool.aclose(), loop)
        try:
            future.result(C.ABANDON_GRACE)
        except Exception:  # noqa: BLE001 - the loop is stuck or gone: cut its connections instead
            pool.shutdown_sockets()

    # -- calls ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _call(self, *, fresh: bool) -> Iterator[Call]:
        """The call in force (a :meth:`map`'s), or a new one registered for :meth:`close`."""
        current = CALL.get()
        if not fresh and current is not None and current.owner is self:
            yield current
            return
        call = Call(self, self.call_timeout)
        with self._lock:
            self._calls.add(call)
        token = CALL.set(call)
        try:
            yield call
        finally:
            CALL.reset(token)
            with self._lock:
                self._calls.discard(call)

    def _attempts(self, path: str) -> Attempts:
        return Attempts(
            self.policy,
            "POST",
            urllib.parse.urlsplit(self.base_url).path + path,
            self._scrub,
            where=self.where,
            governor=self.governor,
            max_rate_wait=self.max_rate_limit_wait,
        )

    def _scope(self, call: Call) -> AttemptScope:
        deadline = min(time.monotonic() + self.attempt_timeout, call.deadline)
        return AttemptScope(deadline, call.cancel, self.attempt_timeout)

    def _activity(self, delta: int) -> None:
        with self._idle:
            self._active += delta
            if not self._active:
                self._idle.notify_all()

    @staticmethod
    def _reader(response: httpx.Response, max_bytes: int | None) -> tuple[BodyReader, bytes | None]:
        """A reader for the response's body, and the body itself if the transport already
        loaded it (in-memory transports such as ``httpx.MockTransport``; httpx decoded it)."""
        ok = 200 <= response.status_code < 300
        limit = (
            min(max_bytes or C.MAX_RESPONSE_BYTES, C.MAX_RESPONSE_BYTES) if ok else C.MAX_ERROR_RESPONSE_BYTES
        )
        try:
            loaded: bytes | None = response.content
        except httpx.ResponseNotRead:
            loaded = None
        reader = BodyReader(
            limit,
            content_encoding=None if loaded is not None else response.headers.get("content-encoding"),
            content_length=None if loaded is not None else response.headers.get("content-length"),
            truncate=not ok,
        )
        return reader, loaded

    @staticmethod
    def _check_scope(scope: AttemptScope) -> None:
        """Between chunks (transports without our socket layer): the deadline and the token."""
        if scope.cancel.cancelled:
            raise Abandoned(scope.cancel.reason)
        if time.monotonic() > scope.deadline:
            raise httpx.ReadTimeout(
                f"no complete response within timeout={scope.timeout:g} s (the whole attempt)"
            )

    def _abandoned(self, reason: str) -> APIConnectionError:
        return self._attempts("/...").abandoned(reason)

    def _invalid_body(self, att: Attempts, status: int, exc: BodyError) -> APIResponseValidationError:
        return APIResponseValidationError(
            f"{att.method} {att.path} returned HTTP {status} with a body that breaks the limits: {exc}.",
            retries_taken=att.retries_taken,
        )

    # -- one request: the only I/O, sync and async ------------------------------------------
    def post(
        self, path: str, body: Mapping[str, Any], *, chars: int | None = None, max_bytes: int | None = None
    ) -> Reply:
        """POST ``body`` as JSON to ``{base_url}{path}``, paced, with retries; see :class:`Attempts`.

        ``chars`` is the request's size for token estimates (default: its JSON length);
        ``max_bytes`` the byte budget of the response (default: ``MAX_RESPONSE_BYTES``).
        """
        content = _encode(body)
        chars = len(content) if chars is None else chars
        with self._call(fresh=False) as call:
            att = self._attempts(path)
            while True:
                ticket = self._turn(chars, call, att)
                step = self._attempt(path, content, max_bytes, call, att, ticket)
                if isinstance(step, Reply):
                    return step
                if step > 0:
                    att.check(call)
                    if call.cancel.wait(min(step, call.left())):
                        raise att.abandoned(call.cancel.reason)
                att.check(call)

    def _turn(self, chars: int, call: Call, att: Attempts) -> Ticket:
        while True:
            att.check(call)
            ticket, wait = self.governor.admit(chars)
            if ticket is not None:
                return ticket
            step = min(att.rate_step(wait), max(call.left(), 0.0))
            start = time.monotonic()
            if call.cancel.wait(step):
                raise att.abandoned(call.cancel.reason)
            att.rate_waited += time.monotonic() - start

    def _attempt(
        self, path: str, content: bytes, max_bytes: int | None, call: Call, att: Attempts, ticket: Ticket
    ) -> Reply | float:
        try:
            client = self._sync_client()
            self.slots.acquire(lambda: att.check(call))
        except BaseException:
            self.governor.forget(ticket)
            raise
        flight = self._launch(att, call, ticket, client)
        if flight is None:
            return 0.0  # a 429 closed the window while we waited for a slot
        with flight, client.stream("POST", path, content=content) as response:
            reader, loaded = flight.reading(response, max_bytes)
            if loaded is None:
                for chunk in response.iter_raw():
                    if flight.feed(reader, chunk):
                        break
            flight.done(response, reader)
        return flight.result

    async def apost(
        self, path: str, body: Mapping[str, Any], *, chars: int | None = None, max_bytes: int | None = None
    ) -> Reply:
        """Async :meth:`post`."""
        content = _encode(body)
        chars = len(content) if chars is None else chars
        with self._call(fresh=False) as call:
            att = self._attempts(path)
            while True:
                ticket = await self._aturn(chars, call, att)
                step = await self._aattempt(path, content, max_bytes, call, att, ticket)
                if isinstance(step, Reply):
                    return step
                end = time.monotonic() + min(step, call.left())
                while (left := end - time.monotonic()) > 0:
                    att.check(call)
                    await asyncio.sleep(min(left, C.IO_SLICE))
                att.check(call)

    async def _aturn(self, chars: int, call: Call, att: Attempts) -> Ticket:
        while True:
            att.check(call)
            ticket, wait = self.governor.admit(chars)
            if ticket is not None:
                return ticket
            step = min(att.rate_step(wait), max(call.left(), 0.0), C.IO_SLICE)
            start = time.monotonic()
            await asyncio.sleep(step)
            att.rate_waited += time.monotonic() - start

    async def _aattempt(
        self, path: str, content: bytes, max_bytes: int | None, call: Call, att: Attempts, ticket: Ticket
    ) -> Reply | float:
        try:
            pool = await self._async_pool()
            await self.slots.aacquire(lambda: att.check(call))
        except BaseException:
            self.governor.forget(ticket)
            raise
        flight = self._launch(att, call, ticket, pool.client)
        if flight is None:
            return 0.0
        with flight:
            async with pool.client.stream("POST", path, content=content) as response:
                reader, loaded = flight.reading(response, max_bytes)
                if loaded is None:
                    async for chunk in response.aiter_raw():
                        if flight.feed(reader, chunk):
                            break
                flight.done(response, reader)
        return flight.result

    def _launch(self, att: Attempts, call: Call, ticket: Ticket, client: Any) -> _InFlight | None:
        """After the slot: check the deadline again, take the rate window, count it in flight.

        ``None`` (slot released) when a 429 closed the window while the request waited."""
        try:
            att.check(call)  # the slot may have come after the call's deadline
        except BaseException:
            self.slots.release()
            self.governor.forget(ticket)
            raise
        if not self.governor.launch(ticket):
            self.slots.release()
            return None
        return _InFlight(self, att, call, ticket, client)

    # -- many requests: bounded fan-out, input order ----------------------------------------
    def map(self, jobs: Sequence[T], run: Callable[[T], R]) -> list[R | BaseException]:
        """``run(job)`` for every job, at most ``max_concurrency`` at a time, results in job order.

        A job's exception takes its slot in the result. After a fatal error (see
        :func:`is_fatal`) no new job starts; the unsent ones get that error. An exception in
        the calling thread (``KeyboardInterrupt``) cancels the call: no new job starts, the
        jobs in flight close their connections within ``IO_SLICE``, and it propagates.
        """
        fan = _FanOut(len(jobs))
        with self._call(fresh=True) as call:

            def worker() -> None:
                while (i := fan.take()) is not None:
                    if call.cancel.cancelled:
                        error = self._abandoned(call.cancel.reason)
                        fan.put(i, error)
                        fan.stop(error)
                        break
                    try:
                        fan.put(i, run(jobs[i]))
                    except Exception as exc:  # noqa: BLE001 - kept per job, raised by the caller
                        fan.put(i, exc)

            workers = min(self.max_concurrency, len(jobs))
            if workers <= 1:
                worker()
                return fan.results()
            threads = [
                _Thread(
                    target=contextvars.copy_context().run, args=(worker,), name=f"jina-http-{n}", daemon=True
                )
                for n in range(workers)
            ]
            for thread in threads:
                thread.start()
            try:
                for thread in threads:
                    while thread.is_alive():
                        thread.join(C.IO_SLICE)
            except BaseException:
                fan.stop(self._abandoned("interrupted"))
                call.cancel.cancel("interrupted")
                end = time.monotonic() + C.ABANDON_GRACE
                for thread in threads:
                    thread.join(max(0.0, end - time.monotonic()))
                raise
        return fan.results()

    async def amap(self, jobs: Sequence[T], run: Callable[[T], Awaitable[R]]) -> list[R | BaseException]:
        """Async :meth:`map`: worker tasks on the running loop, the same bound and pacing."""
        fan = _FanOut(len(jobs))
        with self._call(fresh=True) as call:

            async def worker() -> None:
                while (i := fan.take()) is not None:
                    if call.cancel.cancelled:
                        error = self._abandoned(call.cancel.reason)
                        fan.put(i, error)
                        fan.stop(error)
                        break
                    try:
                        fan.put(i, await run(jobs[i]))
                    except Exception as exc:  # noqa: BLE001 - kept per job, raised by the caller
                        fan.put(i, exc)

            await asyncio.gather(*(worker() for _ in range(min(self.max_concurrency, len(jobs)))))
        return fan.results()


def _encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
