"""Exact attempt counts per status and per exception, counted where the requests arrive.

Statuses, dropped connections and hangs come from the real loopback server (its request log
counts the attempts); exceptions a server cannot produce on demand (write/pool timeouts,
proxy and protocol errors) come from an ``httpx.MockTransport`` that counts its calls.
Rows pass ``max_retries`` explicitly (the default is 5): a retried error with
``max_retries=2`` costs 3 attempts, a final one 1. 429 rate windows do not count against
``max_retries``; they are bounded by ``max_rate_limit_wait`` (seconds).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import numpy as np
import pytest

from jina_embeddings import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InsufficientBalanceError,
    InternalServerError,
    NotFoundError,
    PartialBatchError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    UnprocessableEntityError,
)
from jina_testkit.fake_api import Fault, expected_vector

V5 = "jina-embeddings-v5-text-small"
QUOTA = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota"}}
TOO_LARGE = {
    "error": {"code": 500, "message": "input is too large to process. increase the physical batch size"}
}
FORBIDDEN = {"detail": "Forbidden", "code": "AUTHZ_FORBIDDEN"}

RETRIED = [
    (408, APIStatusError),
    (409, ConflictError),
    (500, InternalServerError),
    (502, InternalServerError),
    (503, InternalServerError),
    (504, InternalServerError),
    (529, InternalServerError),
]

RATE_WORDS = {"detail": "Rate limit: quota for this window is spent", "code": "RATE_TOKEN_LIMIT_EXCEEDED"}
OPENAI_RATE = {"error": {"message": "Rate limit reached for requests", "code": "rate_limit_exceeded"}}
GOOGLE_MINUTE = {"error": {"message": "Quota exceeded: requests per minute", "status": "RESOURCE_EXHAUSTED"}}
GOOGLE_DAY = {"error": {"message": "Quota exceeded for requests per day", "code": "RESOURCE_EXHAUSTED"}}
JINA_BALANCE_429 = {"detail": "Not enough tokens left", "code": "AUTHZ_INSUFFICIENT_BALANCE"}
FAST = {"retry-after-ms": "5"}

# (id, scripted faults, max_retries, expected attempts, expected error class or None for success)
STATUS_ROWS: list[tuple[str, list[Fault], int, int, type[Exception] | None]] = [
    *[(f"{code}-once-then-ok", [Fault.status(code)], 2, 2, None) for code, _ in RETRIED],
    ("429-once-then-ok", [Fault.status(429, headers=FAST)], 2, 2, None),
    # rate windows do not spend max_retries: five 429s with max_retries=0 still succeed
    ("429x5-max-retries-0", [Fault.status(429, headers=FAST)] * 5, 0, 6, None),
    ("429-rate-code-quota-words", [Fault.status(429, body=RATE_WORDS, headers=FAST)], 0, 2, None),
    ("429-openai-rate-limit", [Fault.status(429, body=OPENAI_RATE, headers=FAST)], 0, 2, None),
    ("429-resource-exhausted-minute", [Fault.status(429, body=GOOGLE_MINUTE, headers=FAST)], 0, 2, None),
    ("429-resource-exhausted-day", [Fault.status(429, body=GOOGLE_DAY)], 2, 1, InsufficientBalanceError),
    ("429-jina-balance-code", [Fault.status(429, body=JINA_BALANCE_429)], 2, 1, InsufficientBalanceError),
    *[(f"{code}-always", [Fault.status(code)] * 3, 2, 3, cls) for code, cls in RETRIED],
    ("400", [Fault.status(400)], 2, 1, BadRequestError),
    ("401", [Fault.status(401)], 2, 1, AuthenticationError),
    ("402", [Fault.status(402)], 2, 1, InsufficientBalanceError),
    ("403-balance", [Fault.status(403)], 2, 1, InsufficientBalanceError),
    ("403-forbidden", [Fault.status(403, body=FORBIDDEN)], 2, 1, PermissionDeniedError),
    ("404", [Fault.status(404)], 2, 1, NotFoundError),
    ("413", [Fault.status(413)], 2, 1, RequestTooLargeError),
    ("422", [Fault.status(422)], 2, 1, UnprocessableEntityError),
    ("429-quota", [Fault.status(429, body=QUOTA)], 2, 1, InsufficientBalanceError),
    ("500-input-too-large", [Fault.status(500, body=TOO_LARGE)], 2, 1, InternalServerError),
    (
        "400-x-should-retry-true",
        [Fault.status(400, headers={"x-should-retry": "true"})] * 3,
        2,
        3,
        BadRequestError,
    ),
    (
        "503-x-should-retry-false",
        [Fault.status(503, headers={"x-should-retry": "false"})],
        2,
        1,
        InternalServerError,
    ),
    (
        "429-quota-x-should-retry-true",
        [Fault.status(429, body=QUOTA, headers={"x-should-retry": "true"})],
        2,
        2,
        None,
    ),
    ("429-retry-after-over-budget", [Fault.status(429, headers={"Retry-After": "61"})], 2, 1, RateLimitError),
    ("503-retry-after-120", [Fault.status(503, headers={"Retry-After": "120"})], 2, 1, InternalServerError),
    ("429-retry-after-ms-5", [Fault.status(429, headers={"retry-after-ms": "5"})], 2, 2, None),
    ("503-max-retries-0", [Fault.status(503)], 0, 1, InternalServerError),
    ("503x5-max-retries-5", [Fault.status(503)] * 5, 5, 6, None),
    ("503x6-max-retries-5", [Fault.status(503)] * 6, 5, 6, InternalServerError),
    ("drop-once", [Fault.drop()], 2, 2, None),
    ("drop-always", [Fault.drop()] * 3, 2, 3, APIConnectionError),
    ("nonjson-200", [Fault.nonjson()], 2, 1, APIResponseValidationError),
    ("short-200", [Fault.short()], 2, 1, APIResponseValidationError),
]


@pytest.mark.parametrize(
    ("faults", "max_retries", "attempts", "error"),
    [r[1:] for r in STATUS_ROWS],
    ids=[r[0] for r in STATUS_ROWS],
)
def test_attempts_per_status(
    srv: Any,
    make: Any,
    helpers: Any,
    faults: list[Fault],
    max_retries: int,
    attempts: int,
    error: type[Exception] | None,
) -> None:
    srv.script(*faults)
    emb = make(max_retries=max_retries, dimensions=32, max_rate_limit_wait=30.0)
    if error is None:
        out = emb.embed(["one text", "two texts"])
        np.testing.assert_allclose(
            out.vectors[1], expected_vector(V5, "retrieval.passage", "two texts", 32), atol=1e-6
        )
    else:
        with pytest.raises(error) as info:
            emb.embed(["one text", "two texts"])
        assert type(info.value) is error
        assert info.value.retries_taken == attempts - 1
        if isinstance(info.value, APIStatusError):
            assert info.value.request_id and info.value.request_id.startswith("req-")
    assert len(helpers.embed_requests(srv)) == attempts


def test_rate_limit_error_carries_retry_after(srv: Any, make: Any) -> None:
    srv.script(Fault.status(429, headers={"Retry-After": "90"}))
    with pytest.raises(RateLimitError) as info:
        make(max_rate_limit_wait=30.0).embed(["x y"])
    assert info.value.retry_after == pytest.approx(90.0, abs=0.5) and info.value.retries_taken == 0
    assert info.value.stops_call and "max_rate_limit_wait=30" in str(info.value)


def test_rate_window_wait_is_bounded_by_its_budget_not_by_max_retries(
    srv: Any, make: Any, helpers: Any
) -> None:
    srv.script(*[Fault.status(429, headers={"retry-after-ms": "50"})] * 100)
    start = time.perf_counter()
    with pytest.raises(RateLimitError) as info:
        make(max_retries=0, max_rate_limit_wait=0.3).embed(["x y"])
    elapsed = time.perf_counter() - start
    assert 0.25 <= elapsed < 1.5, elapsed
    assert 4 <= len(helpers.embed_requests(srv)) <= 8  # ~0.3 s / 50 ms, not 1 (max_retries=0)
    assert info.value.stops_call


def test_retry_after_is_waited_for(srv: Any, make: Any) -> None:
    srv.script(Fault.status(429, headers={"Retry-After": "0.3"}))
    start = time.perf_counter()
    make().embed(["x y"])
    assert 0.3 <= time.perf_counter() - start < 2.0


# Exceptions a real server cannot produce on demand: (id, exception, retried?, class)
EXCEPTIONS = [
    ("connect-error", httpx.ConnectError("refused"), True, APIConnectionError),
    ("connect-timeout", httpx.ConnectTimeout("slow connect"), True, APITimeoutError),
    ("read-timeout", httpx.ReadTimeout("slow read"), True, APITimeoutError),
    ("write-timeout", httpx.WriteTimeout("slow write"), True, APITimeoutError),
    ("pool-timeout", httpx.PoolTimeout("no connection"), True, APITimeoutError),
    ("read-error", httpx.ReadError("reset"), True, APIConnectionError),
    ("write-error", httpx.WriteError("broken pipe"), True, APIConnectionError),
    ("remote-protocol-error", httpx.RemoteProtocolError("server disconnected"), True, APIConnectionError),
    ("local-protocol-error", httpx.LocalProtocolError("bad header"), False, APIConnectionError),
    ("unsupported-protocol", httpx.UnsupportedProtocol("ftp"), False, APIConnectionError),
    ("proxy-error", httpx.ProxyError("proxy refused"), False, APIConnectionError),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    ("exc", "retried", "cls"), [e[1:] for e in EXCEPTIONS], ids=[e[0] for e in EXCEPTIONS]
)
def test_attempts_per_exception(
    make: Any, helpers: Any, mode: str, exc: Exception, retried: bool, cls: type[Exception]
) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise exc

    sync_t, async_t = helpers.mock_transports(handler)
    emb = make(transport=sync_t, async_transport=async_t, max_retries=2)
    with pytest.raises(cls) as info:
        if mode == "sync":
            emb.embed(["x y"])
        else:
            asyncio.run(emb.aembed(["x y"]))
    assert type(info.value) is cls
    assert len(calls) == (3 if retried else 1)
    assert info.value.retries_taken == len(calls) - 1
    assert info.value.__cause__ is exc


def test_exception_then_success_counts_two(make: Any, helpers: Any) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadTimeout("once")
        data = [{"object": "embedding", "index": 0, "embedding": [0.6, 0.8]}]
        return httpx.Response(200, json={"model": V5, "data": data, "usage": {"total_tokens": 2}})

    emb = make("some-org/generic-model", transport=helpers.mock_transports(handler)[0])
    out = emb.embed(["x y"])
    assert len(calls) == 2
    np.testing.assert_allclose(out.vectors[0], [0.6, 0.8], rtol=1e-6)


def test_hanging_server_times_out_within_budget(srv: Any, make: Any, helpers: Any) -> None:
    srv.script(*[Fault.hang(5.0)] * 3)
    emb = make(timeout=0.2, max_retries=2)
    start = time.perf_counter()
    with pytest.raises(APITimeoutError) as info:
        emb.embed(["x y"])
    elapsed = time.perf_counter() - start
    # read x (retries + 1) + backoff (fast in tests) + slack
    assert 0.6 <= elapsed < 2.0, elapsed
    assert info.value.retries_taken == 2 and len(helpers.embed_requests(srv)) == 3


def test_connect_error_on_closed_port_is_retried_then_typed(make: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: connections are refused
    emb = make(base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, connect_timeout=0.5)
    with pytest.raises(APIConnectionError) as info:
        emb.embed(["x y"])
    assert info.value.retries_taken == 1
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_redirects_are_not_followed(make: Any, helpers: Any) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(307, headers={"location": "https://evil.example.com/v1/embeddings"})

    emb = make(transport=helpers.mock_transports(handler)[0])
    with pytest.raises(APIStatusError) as info:
        emb.embed(["x y"])
    assert len(calls) == 1 and info.value.status_code == 307
    assert "not followed" in str(info.value)


# -- batches that fail for good -----------------------------------------------------------------
def test_one_failed_batch_raises_partial_with_the_other_vectors(srv: Any, make: Any, helpers: Any) -> None:
    texts = [f"text number {i}" for i in range(6)]
    emb = make(batch_size=2, max_concurrency=1, dimensions=32, max_retries=2)
    srv.script(Fault.slow(0.0), *[Fault.status(503)] * 3)  # batch 0 ok, batch 1 fails 3 times, batch 2 ok
    with pytest.raises(PartialBatchError) as info:
        emb.embed(texts)
    err = info.value
    assert err.failed_indices == [2, 3]
    assert [v is None for v in err.vectors] == [False, False, True, True, False, False]
    for i in (0, 1, 4, 5):
        np.testing.assert_allclose(
            err.vectors[i], expected_vector(V5, "retrieval.passage", texts[i], 32), atol=1e-6
        )
    assert len(err.errors) == 1 and isinstance(err.errors[0], InternalServerError)
    assert err.__cause__ is err.errors[0]
    assert len(helpers.embed_requests(srv)) == 1 + 3 + 1


def test_every_batch_failing_raises_the_error_itself(srv: Any, make: Any) -> None:
    srv.script(*[Fault.status(422)] * 3)
    with pytest.raises(UnprocessableEntityError):
        make(batch_size=1, max_concurrency=1).embed(["a", "b", "c"])


def test_fatal_error_stops_sending_other_batches(srv: Any, make: Any, helpers: Any) -> None:
    srv.script(Fault.status(401))
    emb = make(batch_size=1, max_concurrency=1)
    with pytest.raises(AuthenticationError):
        emb.embed([f"t{i}" for i in range(20)])
    assert len(helpers.embed_requests(srv)) == 1  # not 20 requests that all answer 401


def test_fatal_error_after_some_batches_keeps_their_vectors(srv: Any, make: Any) -> None:
    srv.script(Fault.slow(0.0), Fault.status(402))
    emb = make(batch_size=1, max_concurrency=1, dimensions=32)
    with pytest.raises(PartialBatchError) as info:
        emb.embed(["a", "b", "c", "d"])
    assert info.value.failed_indices == [1, 2, 3]
    assert isinstance(info.value.errors[0], InsufficientBalanceError)
    assert info.value.vectors[0] is not None and info.value.vectors[1:] == [None, None, None]
