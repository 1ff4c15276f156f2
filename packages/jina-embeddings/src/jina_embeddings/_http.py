"""The one HTTP layer of the remote backends: pooled clients, retries, typed errors, concurrency.

The logic is sans-I/O and shared by sync and async; only two short loops do I/O:

* :class:`~jina_embeddings._http_policy.RetryPolicy` decides, without I/O, whether a status
  or exception is retried and how long to wait (``min(0.5 * 2**n, 8) * U(0.75, 1]``, or the
  server's ``Retry-After`` when it is at most 60 s; a longer hint fails at once); the same
  module maps responses to typed errors.
* :class:`Attempts` is the state of one logical request: it turns each httpx response or
  exception into a :class:`Reply`, a delay before the next attempt, or the typed error of
  :mod:`jina_embeddings.errors` (with ``status_code``, ``request_id``, ``retries_taken``
  and a scrubbed body).
* :meth:`HTTPClient.post` / :meth:`HTTPClient.apost` are the I/O loops (they differ only in
  ``await``); :meth:`HTTPClient.map` / :meth:`HTTPClient.amap` fan the batches of one call
  out over at most ``max_concurrency`` requests in flight, keeping input order.

The API key is read from :class:`~jina_embeddings._apikey.APIKey` only to build the
``Authorization`` header of the pooled clients. It never goes into a URL, a log record or an
error; error bodies are scrubbed of it (and of anything that looks like a key) in case a
proxy echoes it. Logging (logger ``jina_embeddings._http``, DEBUG) records method, path,
status, attempt and delay only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import threading
import time
import urllib.parse
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

import httpx

from . import _constants as C
from ._apikey import APIKey
from ._http_policy import (
    RetryPolicy,
    Scrubber,
    connection_error,
    is_fatal,
    parse_error_body,
    parse_retry_after,
    status_error,
)
from .errors import APIResponseValidationError

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


# -- one logical request ----------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    """A successful response: parsed JSON, the server's request id and the retries it took."""

    data: Any
    request_id: str | None
    retries_taken: int


@dataclass
class Attempts:
    """State of one request across its attempts; see the module docstring.

    ``on_response`` / ``on_exception`` return a :class:`Reply` (done) or a delay in seconds
    (sleep, then send again), or raise the final typed error.
    """

    policy: RetryPolicy
    method: str
    path: str
    scrub: Callable[[str], str]
    retries_taken: int = field(default=0)

    @property
    def _attempt(self) -> str:
        return f"attempt {self.retries_taken + 1}/{self.policy.max_retries + 1}"

    def on_response(self, response: httpx.Response) -> Reply | float:
        status, headers = response.status_code, response.headers
        rid = headers.get("x-request-id") or headers.get("request-id")
        logger.debug("%s %s -> %d (%s)", self.method, self.path, status, self._attempt)
        if 200 <= status < 300:
            try:
                return Reply(json.loads(response.content), rid, self.retries_taken)
            except ValueError:
                preview = self.scrub(response.text[:200])
                raise APIResponseValidationError(
                    f"{self.method} {self.path} returned HTTP {status} with a body that is not JSON "
                    f"({headers.get('content-type', 'no content-type')}): {preview!r}",
                    request_id=rid,
                    retries_taken=self.retries_taken,
                ) from None
        text = response.text
        detail, code, _ = parse_error_body(text)
        hint = parse_retry_after(headers, self.policy.now())
        retryable = status >= 400 and RetryPolicy.status_is_retryable(status, headers, code, detail)
        delay = self._next_delay(retryable, headers, f"HTTP {status}")
        if delay is not None:
            return delay
        raise status_error(
            status,
            method=self.method,
            path=self.path,
            headers=headers,
            body=text,
            scrub=self.scrub,
            retries_taken=self.retries_taken,
            retry_after=hint,
        )

    def on_exception(self, exc: BaseException) -> float:
        logger.debug("%s %s -> %s (%s)", self.method, self.path, type(exc).__name__, self._attempt)
        delay = self._next_delay(RetryPolicy.exception_is_retryable(exc), {}, type(exc).__name__)
        if delay is not None:
            return delay
        raise connection_error(
            exc, method=self.method, path=self.path, retries_taken=self.retries_taken
        ) from exc

    def _next_delay(self, retryable: bool, headers: Mapping[str, str], why: str) -> float | None:
        if not retryable or self.retries_taken >= self.policy.max_retries:
            return None
        delay = self.policy.delay(self.retries_taken, headers)
        if delay is None:
            logger.debug(
                "%s %s: server asks to wait more than %.0f s; not retrying",
                self.method,
                self.path,
                C.MAX_RETRY_AFTER,
            )
            return None
        self.retries_taken += 1
        logger.debug(
            "retrying %s %s in %.3f s after %s (%s)", self.method, self.path, delay, why, self._attempt
        )
        return delay


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
    """One event loop's async client, its in-flight bound, and the generator that closes it."""

    client: httpx.AsyncClient
    slots: asyncio.Semaphore
    closer: AsyncGenerator[None, None]


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


# -- the client -------------------------------------------------------------------------------
class HTTPClient:
    """Pooled sync and async clients for one backend instance (created on first use).

    Args:
        base_url: OpenAI-SDK-style root (``https://api.jina.ai/v1``).
        api_key: sent as ``Authorization: Bearer ...``; ``None`` sends no such header.
        timeout: read and write timeout in seconds; connect: ``connect_timeout``.
        max_retries: retries per request after the first attempt.
        max_concurrency: requests in flight at once per instance (sync), per event loop (async).

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
        max_retries: int = 2,
        max_concurrency: int = 4,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_concurrency = max_concurrency
        self.policy = RetryPolicy(max_retries)
        self.timeout = httpx.Timeout(
            connect=connect_timeout, read=timeout, write=timeout, pool=C.POOL_TIMEOUT
        )
        self.transport: httpx.BaseTransport | None = None
        self.async_transport: httpx.AsyncBaseTransport | None = None
        self._api_key = api_key
        self._scrub = Scrubber(api_key.get_secret_value() if api_key else None)
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._client: httpx.Client | None = None
        self._apools: dict[asyncio.AbstractEventLoop, _AsyncPool] = {}

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
            return self._client

    async def _async_pool(self) -> _AsyncPool:
        """The pool of the running event loop (pools cannot move between loops)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            for old in [lp for lp in self._apools if lp.is_closed()]:
                del self._apools[old]  # its pool was closed at loop shutdown, or died with it
            pool = self._apools.get(loop)
            if pool is None or pool.client.is_closed:
                client = httpx.AsyncClient(transport=self.async_transport, **self._client_options())
                pool = self._apools[loop] = _AsyncPool(
                    client, asyncio.Semaphore(self.max_concurrency), _close_at_loop_shutdown(client)
                )
                fresh = True
            else:
                fresh = False
        if fresh:
            await anext(pool.closer)  # registers with the loop: asyncio.run() closes it at the end
        return pool

    def warm_up(self) -> None:
        """Create the sync pool now (connections still open on the first request)."""
        self._sync_client()

    def close(self) -> None:
        """Close the sync pool. Async pools close with :meth:`aclose`, or when their event
        loop shuts down (``asyncio.run`` finalizes them)."""
        with self._lock:
            client, self._client = self._client, None
            for loop in [lp for lp in self._apools if lp.is_closed()]:
                del self._apools[loop]  # closed at that loop's shutdown, or died with it
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the pool of the running event loop and the sync pool."""
        loop = asyncio.get_running_loop()
        with self._lock:
            pool = self._apools.pop(loop, None)
        if pool is not None:
            await pool.closer.aclose()
        self.close()

    # -- one request: the only I/O, sync and async ------------------------------------------
    def post(self, path: str, body: Mapping[str, Any]) -> Reply:
        """POST ``body`` as JSON to ``{base_url}{path}`` with retries; see :class:`Attempts`."""
        content, attempts, client = _encode(body), self._attempts(path), self._sync_client()
        while True:
            try:
                with self._slots:
                    response = client.post(path, content=content)
            except httpx.RequestError as exc:
                step: Reply | float = attempts.on_exception(exc)
            else:
                step = attempts.on_response(response)
            if isinstance(step, Reply):
                return step
            time.sleep(step)

    async def apost(self, path: str, body: Mapping[str, Any]) -> Reply:
        """Async :meth:`post`."""
        content, attempts, pool = _encode(body), self._attempts(path), await self._async_pool()
        while True:
            try:
                async with pool.slots:
                    response = await pool.client.post(path, content=content)
            except httpx.RequestError as exc:
                step: Reply | float = attempts.on_exception(exc)
            else:
                step = attempts.on_response(response)
            if isinstance(step, Reply):
                return step
            await asyncio.sleep(step)

    def _attempts(self, path: str) -> Attempts:
        return Attempts(self.policy, "POST", urllib.parse.urlsplit(self.base_url).path + path, self._scrub)

    # -- many requests: bounded fan-out, input order ----------------------------------------
    def map(self, jobs: Sequence[T], run: Callable[[T], R]) -> list[R | BaseException]:
        """``run(job)`` for every job, ``max_concurrency`` at a time, results in job order.

        A job's exception takes its slot in the result. After a fatal error (see
        :func:`is_fatal`) no new job starts; the unsent ones get that error.
        """
        fan = _FanOut(len(jobs))

        def worker() -> None:
            while (i := fan.take()) is not None:
                try:
                    fan.put(i, run(jobs[i]))
                except Exception as exc:  # noqa: BLE001 - kept per job, raised by the caller
                    fan.put(i, exc)

        workers = min(self.max_concurrency, len(jobs))
        if workers <= 1:
            worker()
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="jina-http") as pool:
                for future in [pool.submit(worker) for _ in range(workers)]:
                    future.result()
        return fan.results()

    async def amap(self, jobs: Sequence[T], run: Callable[[T], Awaitable[R]]) -> list[R | BaseException]:
        """Async :meth:`map`: ``max_concurrency`` worker tasks on the running loop."""
        fan = _FanOut(len(jobs))

        async def worker() -> None:
            while (i := fan.take()) is not None:
                try:
                    fan.put(i, await run(jobs[i]))
                except Exception as exc:  # noqa: BLE001 - kept per job, raised by the caller
                    fan.put(i, exc)

        await asyncio.gather(*(worker() for _ in range(min(self.max_concurrency, len(jobs)))))
        return fan.results()


def _encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
