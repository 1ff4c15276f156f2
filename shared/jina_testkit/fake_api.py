"""A real-socket fake of the Jina Embeddings / Rerank API, with fault injection.

Standard library + numpy only.  Routes: POST {base_url}/embeddings (Jina mode and OpenAI mode) and
POST {base_url}/rerank.  Vectors come from :func:`expected_vector`, scores from
:func:`expected_rerank_score`, so tests can check every value.  With ``late_chunking: true`` (v3, v4)
a request's vectors come from :func:`expected_late_vectors` (each depends on every input of its
request) and a request over 8,192 tokens (whitespace words) is refused with 400.

Order of events for one request: read it, record it (outcome "pending"), sleep ``latency``, take one
fault (scripted queue first, then random rates; only POSTs to the two API routes take one).
``status``/``drop``/``nonjson`` act before auth and validation (like a gateway in front of the API);
``hang``/``slow`` sleep, then the request is handled normally; ``short``/``shuffle``/``bad_dim``/``nan``/
``dup_index`` alter a 200 response (an error response is sent unchanged; the outcome then says
``status:NNN``).  The record is completed before the response is written, so a client that has its
response always sees the final outcome in ``requests``.  ``bad_dim`` is a no-op on rerank; ``nan`` sets
the first item's first value (embeddings: float and base64 only) or the first ``relevance_score``.

Rate windows (:meth:`FakeJinaServer.set_rate_limits`): fixed windows of ``window`` seconds from the
first API request admit ``requests`` requests and ``tokens`` tokens (whitespace words, as in ``usage``);
a request is charged when it arrives (before latency and faults), and one over the limit gets 429
``RATE_REQUEST_LIMIT_EXCEEDED`` / ``RATE_TOKEN_LIMIT_EXCEEDED`` with ``Retry-After`` (whole seconds)
and ``retry-after-ms`` (exact). Every API response carries ``X-RateLimit-{Limit,Remaining}-{Requests,
Tokens}``, plus ``X-RateLimit-Reset-*`` (OpenAI style, e.g. ``250ms``) with ``reset_headers=True``.

Hostile faults: ``raw`` (any status, headers and bytes, optionally chunked without Content-Length),
``trickle`` (the normal response, its body or its status line and headers one byte per interval),
``bomb`` (200 with a gzip body inflating to N MiB), ``endless`` (chunked body that never ends),
``echo`` (the request's key echoed in the request-id header, the JSON body as ``\\u`` escapes, a
redirect ``Location``, the reason phrase, a 200 preview).  A request whose client closes the socket
while the server waits (latency, hang, slow) is abandoned there: outcome ``client-closed``, and it
stops counting in ``in_flight`` at that moment.
"""

from __future__ import annotations

import contextlib
import http
import itertools
import json
import math
import random
import select
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .fake_vectors import (
    DEFAULT_NATIVE_DIMS,
    ERROR_CODES,
    RERANK_MODELS,
    ApiError,
    count_words,
    embeddings_response,
    expected_late_vectors,
    expected_rerank_score,
    expected_vector,
    gzip_bomb,
    rerank_response,
    v422,
)

__all__ = [
    "DEFAULT_NATIVE_DIMS",
    "RERANK_MODELS",
    "FakeJinaServer",
    "Fault",
    "RecordedRequest",
    "expected_late_vectors",
    "expected_rerank_score",
    "expected_vector",
]


@dataclass(frozen=True)
class Fault:
    """What the server does to ONE request.  Build with the class methods, e.g. ``Fault.status(429)``."""

    kind: str
    code: int | None = None
    body: Any = None  # None -> Jina error shape; str -> sent raw; anything else -> JSON
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    mode: str = ""

    @classmethod
    def status(cls, code: int, body: Any = None, headers: dict[str, str] | None = None) -> Fault:
        return cls("status", code=int(code), body=body, headers=tuple((headers or {}).items()))

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop")

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        return cls("hang", seconds=float(seconds))

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("slow", seconds=float(seconds))

    @classmethod
    def nonjson(cls) -> Fault:
        return cls("nonjson")

    @classmethod
    def short(cls) -> Fault:
        return cls("short")

    @classmethod
    def shuffle(cls) -> Fault:
        return cls("shuffle")

    @classmethod
    def bad_dim(cls) -> Fault:
        return cls("bad_dim")

    @classmethod
    def nan(cls) -> Fault:
        return cls("nan")

    @classmethod
    def dup_index(cls) -> Fault:
        return cls("dup_index")

    @classmethod
    def raw(
        cls, code: int, body: bytes | str, headers: dict[str, str] | None = None, *, chunked: bool = False
    ) -> Fault:
        """Exactly these bytes (no Content-Type unless given); ``chunked``: no Content-Length."""
        data = body.encode() if isinstance(body, str) else bytes(body)
        return cls(
            "raw", code=int(code), body=data, headers=tuple((headers or {}).items()), mode="chunked" * chunked
        )

    @classmethod
    def trickle(cls, interval: float, where: str = "body") -> Fault:
        """The normal response, its ``body`` (or its status line and ``headers``) one byte per ``interval``."""
        if where not in ("body", "headers"):
            raise ValueError("where must be 'body' or 'headers'")
        return cls("trickle", seconds=float(interval), mode=where)

    @classmethod
    def bomb(cls, mib: int = 1024, *, chunked: bool = False) -> Fault:
        """200, ``Content-Encoding: gzip``, ~1 KB per MiB that inflates to ``mib`` MiB of zeros
        (``chunked``: without Content-Length)."""
        return cls("bomb", code=int(mib), mode="chunked" * chunked)

    @classmethod
    def endless(cls, seconds: float = 30.0) -> Fault:
        """200 with a chunked body (no Content-Length) that goes on until the client leaves (at most ``seconds``)."""
        return cls("endless", seconds=float(seconds))

    @classmethod
    def echo(cls, where: str, code: int = 401) -> Fault:
        """Echo the request's bearer token: ``header`` (x-request-id), ``body`` (JSON, ``\\u`` escapes),
        ``location`` (a 307), ``reason`` (the reason phrase) or ``preview`` (a 200 HTML page, key at 190)."""
        if where not in ("header", "body", "location", "reason", "preview"):
            raise ValueError(f"unknown echo place {where!r}")
        return cls("echo", code=int(code), mode=where)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON (normally a dict), None if the body was not JSON
    outcome: str  # "ok", "status:NNN", "drop", "hang", "slow", "nonjson", "short", ..., "pending", "aborted"
    started: float
    finished: float  # nan while the request is still being handled


_Response = tuple  # (status, payload, request_id[, headers[, content_type]]) for FakeJinaServer._write


_STATUSES = {s.value for s in http.HTTPStatus}


def _peer_closed(conn: socket.socket) -> bool:
    """Whether the client has closed its end (readable, and a peek finds end-of-file)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        if not readable:
            return False
        return conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _tokens_of(body: Any) -> int:
    """What a request costs in a rate window: the whitespace words its ``usage`` will report."""
    if not isinstance(body, dict):
        return 0
    items = body.get("input", body.get("documents"))
    items = items if isinstance(items, list) else [items]
    words = sum(
        count_words(t if isinstance(t, str) else t.get("text", ""))
        for t in items
        if isinstance(t, (str, dict))
    )
    query = body.get("query")
    return words + (count_words(query) if isinstance(query, str) else 0)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeJina/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._conn_opened(self.connection)

    def do_POST(self) -> None:
        self.server.fake._handle(self)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # no per-request noise
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # FakeJinaServer.stop() joins handler threads itself, with a deadline
    request_queue_size = 256
    fake: FakeJinaServer

    def shutdown_request(self, request: Any) -> None:
        try:
            super().shutdown_request(request)
        finally:
            self.fake._conn_closed(request)

    def handle_error(self, request: Any, client_address: Any) -> None:  # client went away etc.: stay quiet
        pass


class FakeJinaServer:
    """Jina-compatible HTTP server on 127.0.0.1 for tests and benchmarks (see module docstring).

    ``api_key=None`` disables the auth check.  ``latency`` (settable at any time) is added to every request.
    ``seed`` drives the ``shuffle`` permutations; the random fault rates have their own seed.
    """

    def __init__(
        self,
        api_key: str | None = None,
        latency: float = 0.0,
        seed: int = 0,
        native_dims: dict[str, int] | None = None,
    ):
        self.api_key = api_key
        self.latency = latency
        self.seed = seed
        self.native_dims: dict[str, int] = dict(DEFAULT_NATIVE_DIMS if native_dims is None else native_dims)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: dict[socket.socket, threading.Thread] = {}
        self._ids = itertools.count(1)
        self._in_flight = 0
        self.port: int | None = None
        self.reset()

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> FakeJinaServer:
        if self._httpd is not None:
            return self
        self._stop.clear()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"fake-jina-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stop.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            conns = dict(self._conns)
        for sock in conns:  # wakes handlers blocked reading a keep-alive connection
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 1.0
        for t in [self._thread, *conns.values()]:
            if t is not None and t is not threading.current_thread():
                t.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> FakeJinaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``; stays valid after stop() (then the port refuses connections)."""
        if self.port is None:
            raise RuntimeError("FakeJinaServer was never started; call start() first")
        return f"http://127.0.0.1:{self.port}/v1"

    # ----------------------------------------------------------------- state
    def reset(self) -> None:
        """Clear recorded requests, gauges (max_in_flight), scripted faults and random rates."""
        with self._lock:
            self._log: list[list] = []
            self._max_in_flight = self._in_flight
            self._script: list[Fault] = []
        self.set_fault_rates()
        self.set_rate_limits()
        self._shuffle_rng = random.Random(self.seed)

    def script(self, *faults: Fault) -> None:
        """Queue faults; each incoming API request consumes one (FIFO) before random rates apply."""
        with self._lock:
            self._script.extend(faults)

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._script)

    def set_fault_rates(
        self,
        rate_429: float = 0.0,
        rate_503: float = 0.0,
        rate_drop: float = 0.0,
        rate_slow: float = 0.0,
        slow_seconds: float = 0.2,
        retry_after: str | None = "0",
        seed: int = 0,
    ) -> None:
        """One draw per request (only while the script queue is empty): P(429)=rate_429, P(503)=rate_503,
        P(drop)=rate_drop, P(slow)=rate_slow (their sum must be <= 1)."""
        if (
            min(rate_429, rate_503, rate_drop, rate_slow) < 0
            or rate_429 + rate_503 + rate_drop + rate_slow > 1 + 1e-9
        ):
            raise ValueError("fault rates must be >= 0 and sum to <= 1")
        with self._lock:
            self._rates = (rate_429, rate_503, rate_drop, rate_slow)
            self._slow_seconds, self._retry_after = slow_seconds, retry_after
            self._rng = random.Random(seed)

    def set_rate_limits(
        self,
        requests: int | None = None,
        tokens: int | None = None,
        window: float = 60.0,
        *,
        reset_headers: bool = False,
        headers: bool = True,
        retry_after: bool = True,
        detail: str = "Rate limit exceeded: the quota for this window is spent",
    ) -> None:
        """Fixed rate windows (see the module docstring); ``None`` for both turns them off.

        ``headers=False`` sends no ``X-RateLimit-*`` headers, ``retry_after=False`` no
        ``Retry-After`` (servers that say nothing but 429)."""
        with self._lock:
            self._limits = (requests, tokens, float(window), reset_headers, detail, headers, retry_after)
            self._window_start: float | None = None
            self._window_end = 0.0
            self._window_used = [0, 0]
            self.windows_seen = 0

    def _rate(self, body: Any) -> tuple[ApiError | None, tuple, float]:
        """Charge one request: (429 error or None, headers, seconds to the window's end)."""
        requests, tokens, window, reset_headers, detail, send_headers, send_retry_after = self._limits
        if requests is None and tokens is None:
            return None, (), 0.0
        cost = _tokens_of(body)
        with self._lock:
            now = time.monotonic()
            if self._window_start is None:
                self._window_start = now
            index = math.floor((now - self._window_start) / window)
            start = self._window_start + index * window
            if index + 1 != self.windows_seen:
                self.windows_seen, self._window_used = index + 1, [0, 0]
            used = self._window_used
            err = None
            if requests is not None and used[0] + 1 > requests:
                err = ApiError(429, detail, "RATE_REQUEST_LIMIT_EXCEEDED")
            elif tokens is not None and used[1] + cost > tokens:
                err = ApiError(429, detail, "RATE_TOKEN_LIMIT_EXCEEDED")
            else:
                used[0] += 1
                used[1] += cost
            reset = start + window - now
            hdrs: list[tuple[str, str]] = []
            for name, limit, spent in (("Requests", requests, used[0]), ("Tokens", tokens, used[1])):
                if limit is not None and send_headers:
                    hdrs += [
                        (f"X-RateLimit-Limit-{name}", str(limit)),
                        (f"X-RateLimit-Remaining-{name}", str(max(0, limit - spent))),
                    ]
                    if reset_headers and err is not None:  # a 200's reset is computed when it is sent
                        hdrs.append((f"X-RateLimit-Reset-{name}", f"{max(1, math.ceil(reset * 1000))}ms"))
            if err is not None and send_retry_after:
                hdrs += [
                    ("Retry-After", str(max(1, math.ceil(reset)))),
                    ("retry-after-ms", str(max(1, math.ceil(reset * 1000)))),
                ]
            self._window_end = start + window
        return err, tuple(hdrs), reset

    def _reset_headers(self) -> tuple:
        """``X-RateLimit-Reset-*`` as of now (a response is sent after its work is done)."""
        requests, tokens, _, reset_headers, _, send_headers, _ = self._limits
        if not (reset_headers and send_headers) or (requests is None and tokens is None):
            return ()
        with self._lock:
            left = max(0.0, self._window_end - time.monotonic())
        value = f"{max(1, math.ceil(left * 1000))}ms"
        names = [n for n, limit in (("Requests", requests), ("Tokens", tokens)) if limit is not None]
        return tuple((f"X-RateLimit-Reset-{n}", value) for n in names)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [RecordedRequest(*e) for e in self._log]

    @property
    def max_in_flight(self) -> int:
        with self._lock:
            return self._max_in_flight

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._conns)

    def wait_connections_closed(self, timeout: float = 2.0) -> bool:
        """Poll until no client connection is open on the server side; True if that happened in time."""
        deadline = time.monotonic() + timeout
        while self.open_connections:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _conn_opened(self, sock: socket.socket) -> None:
        with self._lock:
            self._conns[sock] = threading.current_thread()

    def _conn_closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._conns.pop(sock, None)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            if self._script:
                return self._script.pop(0)
            r429, r503, rdrop, rslow = self._rates
            r = self._rng.random()
            if r < r429:
                hdrs = {} if self._retry_after is None else {"Retry-After": str(self._retry_after)}
                return Fault.status(429, headers=hdrs)
            if r < r429 + r503:
                return Fault.status(503)
            if r < r429 + r503 + rdrop:
                return Fault.drop()
            if r < r429 + r503 + rdrop + rslow:
                return Fault.slow(self._slow_seconds)
            return None

    def _mangle(self, items: list, kind: str | None) -> list:
        """Apply a list-level fault to response items (``data`` or ``results``)."""
        if kind == "short" and items:
            items = items[:-1]
        elif kind == "shuffle" and len(items) > 1:
            order = list(range(len(items)))
            with self._lock:  # seeded, shared: the sequence of permutations is reproducible
                while order == sorted(order):
                    self._shuffle_rng.shuffle(order)
            items = [items[i] for i in order]
        elif kind == "dup_index" and items:
            items = [*items[:-1], {**items[-1], "index": items[0]["index"]}]
        return items

    def _sleep(self, seconds: float, conn: socket.socket | None = None) -> str | None:
        """Sleep in small slices; the reason to give up (``aborted``: server stopped, ``client-closed``:
        the client closed its socket), or None when the time is up."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if conn is None:
                if self._stop.wait(min(left, 0.02)):
                    return "aborted"
                continue
            try:  # wakes the moment the client hangs up
                readable, _, _ = select.select([conn], [], [], min(left, 0.02))
            except (OSError, ValueError):
                return "client-closed"
            if self._stop.is_set():
                return "aborted"
            if readable:
                if _peer_closed(conn):
                    return "client-closed"
                if self._stop.wait(min(left, 0.02)):  # data, not a hang-up: do not spin on it
                    return "aborted"
        return "aborted" if self._stop.is_set() else None

    # ----------------------------------------------------------------- request handling
    def _handle(self, h: _Handler) -> None:
        started = time.monotonic()
        try:
            raw = self._read_body(h)
        except ValueError:  # bad Content-Length or chunk size
            h.send_error(400, "Bad request body framing")
            h.close_connection = True
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        entry = [
            h.path.split("?", 1)[0],
            {k.lower(): v for k, v in h.headers.items()},
            body,
            "pending",
            started,
            float("nan"),
        ]
        with self._lock:
            self._log.append(entry)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        outcome, resp, rid = "aborted", None, f"req-{next(self._ids)}"
        try:
            outcome, resp = self._process(h, body, rid)
        except Exception as exc:  # a bug here must show up in the client, not vanish in a thread
            outcome, resp = self._error(ApiError(500, f"fake server error: {exc!r}", "INTERNAL_ERROR"), rid)
        finally:  # record before answering: a client that got its response sees the final record
            with self._lock:
                self._in_flight -= 1
                entry[3], entry[5] = outcome, time.monotonic()
        if resp is None:  # drop, or aborted by stop(): close without answering
            h.close_connection = True
            if outcome == "drop":
                with contextlib.suppress(OSError):
                    h.connection.shutdown(socket.SHUT_RDWR)
        elif callable(resp):
            h.close_connection = True
            with contextlib.suppress(OSError):
                resp(h)
        else:
            self._write(h, *resp)

    @staticmethod
    def _read_body(h: _Handler) -> bytes:
        if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while (size := int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                chunks.append(h.rfile.read(size))
                h.rfile.readline()
            while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return h.rfile.read(int(h.headers.get("Content-Length") or 0))

    @staticmethod
    def _head(
        h: _Handler,
        status: int,
        rid: str,
        headers: tuple,
        ctype: str | None,
        length: int | None,
        reason: str | None = None,
    ) -> bytes:
        names = {k.lower() for k, _ in headers}
        phrase = (
            reason
            if reason is not None
            else (http.HTTPStatus(status).phrase if status in _STATUSES else "Status")
        )
        lines = [f"HTTP/1.1 {status} {phrase}", "Server: FakeJina/1.0"]
        if ctype and "content-type" not in names:
            lines.append(f"Content-Type: {ctype}")
        if length is not None:
            lines.append(f"Content-Length: {length}")
        if "x-request-id" not in names:
            lines.append(f"x-request-id: {rid}")
        lines += [f"{k}: {v}" for k, v in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")

    @classmethod
    def _write(
        cls,
        h: _Handler,
        status: int,
        payload: Any,
        rid: str,
        headers: tuple = (),
        ctype: str = "application/json",
    ) -> None:
        if isinstance(payload, (bytes, str)):
            data = payload.encode() if isinstance(payload, str) else payload
        else:
            data = json.dumps(payload, separators=(",", ":")).encode()
        h.wfile.write(cls._head(h, status, rid, headers, ctype, len(data)) + data)

    @staticmethod
    def _error(err: ApiError, rid: str, headers: tuple = ()) -> tuple[str, _Response]:
        return f"status:{err.status}", (err.status, {**err.payload(), "request_id": rid}, rid, headers)

    def _process(self, h: _Handler, body: Any, rid: str) -> tuple[str, _Response | None]:
        """Decide what to do with one request: (outcome, response to write or None for no response)."""
        if self.latency and (why := self._sleep(self.latency, h.connection)):
            return why, None
        path = h.path.split("?", 1)[0].rstrip("/")
        route = {"/v1/embeddings": "data", "/v1/rerank": "results"}.get(path)
        if route is None or h.command != "POST":
            err = (
                ApiError(404, "Not Found", "NOT_FOUND")
                if route is None
                else ApiError(405, "Method Not Allowed", "METHOD_NOT_ALLOWED")
            )
            return self._error(err, rid)
        limited, rate_headers, _ = self._rate(body)
        if limited is not None:
            return self._error(limited, rid, rate_headers)
        fault = self._next_fault()
        kind = fault.kind if fault else None
        hostile = self._hostile(h, fault, rid) if fault is not None else None
        if hostile is not None:
            return hostile
        if kind == "status":
            assert fault is not None
            if fault.body is None:
                try:
                    detail = http.HTTPStatus(fault.code or 500).phrase
                except ValueError:
                    detail = "Injected fault"
                err = ApiError(fault.code or 500, detail, ERROR_CODES.get(fault.code or 0, "INJECTED_FAULT"))
                return self._error(err, rid, fault.headers)
            ctype = (
                "text/plain; charset=utf-8" if isinstance(fault.body, (str, bytes)) else "application/json"
            )
            return f"status:{fault.code}", (fault.code or 500, fault.body, rid, fault.headers, ctype)
        if kind == "drop":
            return "drop", None
        if kind == "nonjson":
            return "nonjson", (200, "<html>oops</html>", rid, (), "text/html; charset=utf-8")
        if kind in ("hang", "slow"):
            assert fault is not None
            if why := self._sleep(fault.seconds, h.connection):
                return (kind if why == "aborted" else why), None
        key = self.api_key
        if key is not None and h.headers.get("Authorization") != f"Bearer {key}":
            return self._error(ApiError(401, "Invalid API key", "AUTH_INVALID_API_KEY"), rid)
        try:
            if not isinstance(body, dict):
                if body is None:
                    raise ApiError(400, "Request body is not valid JSON", "INPUT_INVALID_JSON")
                raise v422("body", "Input should be a valid dictionary", "dict_type")
            if route == "data":
                payload = embeddings_response(body, self.native_dims, kind)
            else:
                payload = rerank_response(body, kind)
            payload[route] = self._mangle(payload[route], kind)
        except ApiError as err:
            return self._error(err, rid, rate_headers)
        rate_headers += self._reset_headers()
        if kind == "trickle":
            assert fault is not None
            return "trickle", self._trickler(payload, rid, rate_headers, fault)
        return kind or "ok", (200, payload, rid, rate_headers)

    def _hostile(self, h: _Handler, fault: Fault, rid: str) -> tuple[str, Any] | None:
        """The faults that write their own bytes (all but ``trickle``, which needs the normal payload)."""
        kind = fault.kind
        if kind == "raw":
            assert isinstance(fault.body, bytes)
            return "raw", self._raw_writer(
                fault.code or 200, fault.body, rid, fault.headers, fault.mode == "chunked"
            )
        if kind == "bomb":
            data = gzip_bomb(fault.code or 1024)
            hdrs = (("Content-Encoding", "gzip"), ("Content-Type", "application/json"))
            return "bomb", self._raw_writer(200, data, rid, hdrs, fault.mode == "chunked")
        if kind == "endless":
            return "endless", self._endless_writer(rid, fault.seconds)
        if kind == "echo":
            token = h.headers.get("Authorization", "").removeprefix("Bearer ")
            where, code = fault.mode, fault.code or 401
            if where == "header":
                return "echo", (
                    code,
                    {"detail": "Invalid API key", "code": "AUTH_INVALID_API_KEY"},
                    token,
                    (("x-request-id", token),),
                )
            if where == "body":
                escaped = "".join(f"\\u{ord(c):04x}" for c in token)
                text = (
                    '{"detail": "invalid key \\"'
                    + escaped
                    + '\\"", "code": "AUTH_INVALID_API_KEY", "request_id": "'
                    + escaped
                    + '"}'
                )
                return "echo", (code, text, rid, (), "application/json")
            if where == "location":
                location: tuple[tuple[str, str], ...] = (
                    ("Location", f"https://evil.example.com/v1/embeddings?key={token}#{token}"),
                )
                return "echo", (307, "", rid, location, "text/plain")
            if where == "reason":
                return "echo", self._raw_writer(
                    code,
                    b'{"detail": "no"}',
                    rid,
                    (("Content-Type", "application/json"),),
                    False,
                    reason=f"Bad key {token}",
                )
            return "echo", (200, "<html>" + "x" * 184 + token + "</html>", rid, (), "text/html")
        return None

    def _raw_writer(
        self, status: int, data: bytes, rid: str, headers: tuple, chunked: bool, reason: str | None = None
    ) -> Any:
        def write(h: _Handler) -> None:
            if chunked:
                hdrs = (*headers, ("Transfer-Encoding", "chunked"))
                h.wfile.write(self._head(h, status, rid, hdrs, None, None, reason))
                for i in range(0, len(data), 65536):
                    part = data[i : i + 65536]
                    h.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                h.wfile.write(b"0\r\n\r\n")
            else:
                h.wfile.write(self._head(h, status, rid, headers, None, len(data), reason) + data)
            h.wfile.flush()

        return write

    def _endless_writer(self, rid: str, seconds: float) -> Any:
        def write(h: _Handler) -> None:
            h.wfile.write(
                self._head(h, 200, rid, (("Transfer-Encoding", "chunked"),), "application/json", None)
            )
            chunk = b"[" + b"0," * 32767 + b"0"
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            end = time.monotonic() + seconds
            while time.monotonic() < end and not self._stop.is_set():  # until the client leaves
                h.wfile.write(frame)

        return write

    def _trickler(self, payload: Any, rid: str, headers: tuple, fault: Fault) -> Any:
        data = json.dumps(payload, separators=(",", ":")).encode()

        def write(h: _Handler) -> None:
            head = self._head(h, 200, rid, headers, "application/json", len(data))
            if fault.mode == "headers":
                slow, rest = head, data
            else:
                h.wfile.write(head)
                h.wfile.flush()
                slow, rest = data, b""
            for i in range(len(slow)):
                h.wfile.write(slow[i : i + 1])
                h.wfile.flush()
                if self._sleep(fault.seconds, h.connection):
                    return
            h.wfile.write(rest)

        return write
