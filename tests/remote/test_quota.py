"""Quota-bound ingest: rate windows are waited for, by the whole Embedder, within a time budget.

The loopback server runs fixed rate windows (``FakeJinaServer.set_rate_limits``): N requests or
tokens per window, 429 ``RATE_*_LIMIT_EXCEEDED`` with ``Retry-After`` beyond that, and
``X-RateLimit-*`` headers. Windows are short (0.1-0.25 s) so a corpus of many windows' budget
ingests in about two seconds. Every row checks: no text lost or duplicated (each vector is the
server's vector for its text), the wall time is close to the quota's own bound, and the share of
requests answered 429 stays small where the client can know the budget.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from typing import Any

import numpy as np
import pytest

from jina_embeddings import PartialBatchError, RateLimitError
from jina_embeddings import _constants as C
from jina_testkit.fake_api import Fault, expected_vector

V5 = "jina-embeddings-v5-text-small"
PER_BATCH = 128 * 5  # tokens in one default request of the texts below (5 words each)


def texts(n: int) -> list[str]:
    return [f"doc {i:05d} alpha beta gamma" for i in range(n)]


# (id, server limits, quota multiples, client options, sync/async, largest share of 429s)
ROWS: list[tuple[str, dict[str, Any], int, dict[str, Any], str, float]] = [
    # the first row: Jina headers, wording that says "quota"; rate windows spend no retries
    (
        "tokens-9x-jina-headers",
        dict(tokens=10 * PER_BATCH, window=0.25),
        9,
        dict(max_retries=0),
        "sync",
        0.15,
    ),
    ("tokens-9x-async", dict(tokens=10 * PER_BATCH, window=0.25), 9, {}, "async", 0.15),
    # the second row: wording without "quota", ~25x the window's budget
    (
        "tokens-25x-plain-wording",
        dict(tokens=2 * PER_BATCH, window=0.1, detail="Too many tokens, slow down"),
        25,
        {},
        "sync",
        0.40,
    ),
    # with reset times a 429 only comes from requests that reach the server out of send order
    (
        "tokens-9x-reset-headers",
        dict(tokens=10 * PER_BATCH, window=0.25, reset_headers=True),
        9,
        {},
        "sync",
        0.10,
    ),
    ("requests-9x", dict(requests=5, window=0.2), 9, {}, "async", 0.25),
    # a server that only says 429 + Retry-After: every window costs the requests in flight
    ("no-rate-headers", dict(tokens=10 * PER_BATCH, window=0.25, headers=False), 9, {}, "sync", 0.50),
]


@pytest.mark.parametrize(
    ("limits", "multiples", "options", "mode", "max_429_share"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)
def test_quota_bound_ingest_finishes_near_the_quota_bound(
    srv: Any,
    make: Any,
    helpers: Any,
    limits: dict[str, Any],
    multiples: int,
    options: dict[str, Any],
    mode: str,
    max_429_share: float,
) -> None:
    window = limits["window"]
    per_window = limits.get("tokens", 0) // PER_BATCH or limits["requests"]
    corpus = texts(multiples * per_window * 128)
    srv.set_rate_limits(**limits)
    emb = make(dimensions=32, **options)

    start = time.perf_counter()
    out = emb.embed(corpus) if mode == "sync" else asyncio.run(emb.aembed(corpus))
    elapsed = time.perf_counter() - start

    expected = np.stack([expected_vector(V5, "retrieval.passage", t, 32) for t in corpus])
    assert np.sum(out.vectors * expected, axis=1).min() > 0.9999
    requests = helpers.embed_requests(srv)
    served = Counter(t for r in requests if r.outcome == "ok" for t in r.body["input"])
    assert served == Counter(corpus)
    bound = (multiples - 1) * window  # the last window cannot open earlier
    assert bound * 0.95 <= elapsed <= bound * 1.3 + 0.5, (elapsed, bound)
    share = sum(r.outcome == "status:429" for r in requests) / len(requests)
    assert share <= max_429_share, share
    print(f"{mode}: {len(requests)} requests, 429 share {share:.1%}, {elapsed:.2f} s / bound {bound:.2f} s")


def test_client_side_tokens_per_minute_paces_a_server_that_says_nothing(
    srv: Any, make: Any, helpers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No headers and no Retry-After: the client's own sliding window keeps every fixed server
    window within budget, so no 429 ever comes back."""
    monkeypatch.setattr(C, "RATE_WINDOW", 0.25)
    srv.set_rate_limits(tokens=10 * PER_BATCH, window=0.25, headers=False, retry_after=False)
    corpus = texts(6 * 10 * 128)
    emb = make(dimensions=32, tokens_per_minute=10 * PER_BATCH)
    start = time.perf_counter()
    out = emb.embed(corpus)
    elapsed = time.perf_counter() - start
    assert out.vectors.shape == (len(corpus), 32)
    outcomes = Counter(r.outcome for r in helpers.embed_requests(srv))
    assert outcomes == {"ok": 60}, outcomes
    assert 5 * 0.25 * 0.95 <= elapsed < 6 * 0.25 + 1.0, elapsed


def test_client_side_requests_per_minute(
    srv: Any, make: Any, helpers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(C, "RATE_WINDOW", 0.3)
    emb = make(dimensions=32, batch_size=1, requests_per_minute=3)
    start = time.perf_counter()
    emb.embed(texts(9))
    elapsed = time.perf_counter() - start
    starts = sorted(r.started for r in helpers.embed_requests(srv))
    assert len(starts) == 9 and elapsed >= 0.6 * 0.95
    for i in range(len(starts) - 3):  # never 4 requests within one window
        assert starts[i + 3] - starts[i] >= 0.3 * 0.95, starts


def test_one_429_holds_back_every_batch_of_the_embedder(srv: Any, make: Any, helpers: Any) -> None:
    srv.script(Fault.status(429, headers={"retry-after-ms": "300"}))
    emb = make(dimensions=32, batch_size=1, max_concurrency=4)
    emb.embed(texts(12))
    requests = helpers.embed_requests(srv)
    limited = next(r for r in requests if r.outcome == "status:429")
    during = [r for r in requests if limited.finished + 0.03 < r.started < limited.finished + 0.28]
    assert during == [], [r.started - limited.finished for r in during]
    assert len(requests) == 13


def test_a_window_beyond_the_budget_fails_fast_and_stops_the_call(srv: Any, make: Any, helpers: Any) -> None:
    srv.set_rate_limits(requests=1, window=30.0)
    emb = make(dimensions=32, batch_size=1, max_concurrency=1, max_rate_limit_wait=2.0)
    start = time.perf_counter()
    with pytest.raises(PartialBatchError) as info:
        emb.embed(texts(5))
    assert time.perf_counter() - start < 1.0
    err = info.value
    assert err.failed_indices == [1, 2, 3, 4] and err.vectors[0] is not None
    limited = err.errors[0]
    assert isinstance(limited, RateLimitError) and limited.stops_call
    assert limited.retry_after is not None and 25 < limited.retry_after <= 30
    assert limited.code == "RATE_REQUEST_LIMIT_EXCEEDED"  # a rate window, whatever the wording says
    assert len(helpers.embed_requests(srv)) == 2  # the others were never sent


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_rate_wait_budget_ends_an_endless_429(srv: Any, make: Any, mode: str) -> None:
    srv.set_rate_limits(requests=0, window=0.05)  # every request: 429, window opens in <= 50 ms
    emb = make(max_rate_limit_wait=0.4, max_retries=0)
    start = time.perf_counter()
    with pytest.raises(RateLimitError) as info:
        emb.embed(["x y"]) if mode == "sync" else asyncio.run(emb.aembed(["x y"]))
    assert 0.3 <= time.perf_counter() - start < 1.5
    assert info.value.retries_taken >= 3 and "max_rate_limit_wait=0.4" in str(info.value)


def test_probe_once_per_window_without_reset_headers(srv: Any, make: Any, helpers: Any) -> None:
    """With Remaining headers but no reset time, a spent window costs one probe (the request whose
    429 says when the window opens), not one 429 per request in flight (4 here); now and then a
    request that reaches the server out of send order adds one."""
    srv.set_rate_limits(tokens=6 * PER_BATCH, window=0.2)
    emb = make(dimensions=32)
    emb.embed(texts(6 * 6 * 128))
    outcomes = Counter(r.outcome for r in helpers.embed_requests(srv))
    windows = math.ceil(srv.windows_seen)
    assert outcomes["ok"] == 36 and outcomes["status:429"] <= 1.5 * windows, (outcomes, windows)
