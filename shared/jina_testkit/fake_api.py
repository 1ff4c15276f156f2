"""A real-socket fake of the Jina Embeddings / Rerank API, with fault injection.

Standard library + numpy only.  Routes: POST {base_url}/embeddings (Jina mode and OpenAI mode) and
POST {base_url}/rerank.  Vectors come from :func:`expected_vector`, scores from
:func:`expected_rerank_score`, so tests can check every value.

Order of events for one request: read it, record it (outcome "pending"), sleep ``latency``, take one
fault (scripted queue first, then random rates; only POSTs to the two API routes take one).
``status``/``drop``/``nonjson`` act before auth and validation (like a gateway in front of the API);
``hang``/``slow`` sleep, then the request is handled normally; ``short``/``shuffle``/``bad_dim``/``nan``/
``dup_index`` alter a 200 response (an error response is sent unchanged; the outcome then says
``status:NNN``).  The record is completed before the response is written, so a client that has its
response always sees the final outcome in ``requests``.  ``bad_dim`` is a no-op on rerank; ``nan`` sets
the first item's first value (embeddings: float and base64 only) or the first ``relevance_score``.
"""

from __future__ import annotations

import contextlib
import http
import itertools
import json
import random
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
    embeddings_response,
    expected_rerank_score,
    expected_vector,
    rerank_response,
    v422,
)

__all__ = [
    "DEFAULT_NATIVE_DIMS",
    "RERANK_MODELS",
    "FakeJinaServer",
    "Fault",
    "RecordedRequest",
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


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON (normally a dict), None if the body was not JSON
    outcome: str  # "ok", "status:NNN", "drop", "hang", "slow", "nonjson", "short", ..., "pending", "aborted"
    started: float
    finished: float  # nan while the request is still being handled


_Response = tuple  # (status, payload, request_id[, headers[, content_type]]) for FakeJinaServer._write


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

    def _sleep(self, seconds: float) -> bool:
        """Sleep in small slices; False if the server was stopped meanwhile."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self._stop.wait(min(left, 0.05)):
                return False
        return not self._stop.is_set()

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
    def _write(
        h: _Handler, status: int, payload: Any, rid: str, headers: tuple = (), ctype: str = "application/json"
    ) -> None:
        if isinstance(payload, (bytes, str)):
            data = payload.encode() if isinstance(payload, str) else payload
        else:
            data = json.dumps(payload, separators=(",", ":")).encode()
        names = {k.lower() for k, _ in headers}
        h.send_response(status)
        if "content-type" not in names:
            h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.send_header("x-request-id", rid)
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    @staticmethod
    def _error(err: ApiError, rid: str, headers: tuple = ()) -> tuple[str, _Response]:
        return f"status:{err.status}", (err.status, {**err.payload(), "request_id": rid}, rid, headers)

    def _process(self, h: _Handler, body: Any, rid: str) -> tuple[str, _Response | None]:
        """Decide what to do with one request: (outcome, response to write or None for no response)."""
        if self.latency and not self._sleep(self.latency):
            return "aborted", None
        path = h.path.split("?", 1)[0].rstrip("/")
        route = {"/v1/embeddings": "data", "/v1/rerank": "results"}.get(path)
        if route is None or h.command != "POST":
            err = (
                ApiError(404, "Not Found", "NOT_FOUND")
                if route is None
                else ApiError(405, "Method Not Allowed", "METHOD_NOT_ALLOWED")
            )
            return self._error(err, rid)
        fault = self._next_fault()
        kind = fault.kind if fault else None
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
            if not self._sleep(fault.seconds):
                return kind, None
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
            return self._error(err, rid)
        return kind or "ok", (200, payload, rid)
