"""Deadlines no server can stretch: ``timeout`` bounds a whole attempt, ``call_timeout`` a call.

A trickling server (headers, then one byte every 50 ms; or the status line and headers one
byte at a time) keeps every single socket read short, so httpx's per-read timeout never
fires; the attempt's wall-clock deadline must. Waiting for a concurrency slot honours the
call's deadline, and callers queued behind a trickler get their turn when its attempt ends.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from jina_embeddings import APITimeoutError
from jina_testkit.fake_api import Fault

# (id, faults for each attempt, options, expected seconds (low, high))
ROWS: list[tuple[str, Fault, dict[str, Any], tuple[float, float]]] = [
    ("trickled-body", Fault.trickle(0.05), dict(timeout=0.5, max_retries=1), (0.95, 1.6)),
    ("trickled-headers", Fault.trickle(0.05, where="headers"), dict(timeout=0.5, max_retries=1), (0.95, 1.6)),
    ("hang-no-retry", Fault.hang(5.0), dict(timeout=0.4, max_retries=0), (0.38, 0.9)),
    # call_timeout ends the call whatever is left of timeout and max_retries
    ("call-timeout", Fault.hang(5.0), dict(timeout=10.0, max_retries=5, call_timeout=0.6), (0.55, 1.1)),
    (
        "call-timeout-trickle",
        Fault.trickle(0.05),
        dict(timeout=10.0, max_retries=5, call_timeout=0.6),
        (0.55, 1.1),
    ),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("fault", "options", "window"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_a_slow_server_cannot_stretch_the_deadline(
    srv: Any,
    make: Any,
    helpers: Any,
    fault: Fault,
    options: dict[str, Any],
    window: tuple[float, float],
    mode: str,
) -> None:
    srv.script(*[fault] * 8)
    emb = make(**options)
    start = time.perf_counter()
    with pytest.raises(APITimeoutError) as info:
        emb.embed(["x y"]) if mode == "sync" else asyncio.run(emb.aembed(["x y"]))
    elapsed = time.perf_counter() - start
    assert window[0] <= elapsed <= window[1], elapsed
    expected_attempts = 1 + options["max_retries"] if "call_timeout" not in options else 1
    assert len(helpers.embed_requests(srv)) == expected_attempts
    assert "timeout" in str(info.value)
    assert srv.wait_connections_closed(2.0)  # the timed-out attempts' sockets were closed


def test_callers_queued_behind_a_trickler_get_their_turn_when_its_attempt_ends(srv: Any, make: Any) -> None:
    emb = make(max_concurrency=1, timeout=0.5, max_retries=0, dimensions=32)
    srv.script(Fault.trickle(0.05))  # the first request trickles; the others are answered at once
    outcome: dict[str, Any] = {}

    def slow() -> None:
        try:
            emb.embed_query("first")
        except APITimeoutError as exc:
            outcome["first"] = (time.perf_counter() - start, exc)

    start = time.perf_counter()
    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.1)  # the trickler holds the only slot
    second = emb.embed_query("second")
    waited = time.perf_counter() - start
    thread.join(5)
    assert second.vectors.shape == (1, 32)
    assert 0.45 <= waited < 1.2, waited  # it waited for the trickler's deadline, not for 100 bytes x 50 ms
    assert 0.45 <= outcome["first"][0] < 1.2


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_waiting_for_a_slot_honours_the_call_deadline(
    fake_jina_server_factory: Any, make: Any, mode: str
) -> None:
    srv = fake_jina_server_factory(latency=3.0)
    emb = make(base_url=srv.base_url, max_concurrency=1, call_timeout=0.5, max_retries=0)
    results: list[Any] = []

    def call(i: int) -> None:
        start = time.perf_counter()
        try:
            emb.embed_query(f"q{i}") if mode == "sync" else asyncio.run(emb.aembed_query(f"q{i}"))
        except APITimeoutError as exc:
            results.append((time.perf_counter() - start, exc))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(3)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(results) == 3  # one timed out in flight, two while waiting for the slot
    assert all(0.45 <= took < 1.2 for took, _ in results), [took for took, _ in results]
    assert sum("call_timeout=0.5" in str(exc) for _, exc in results) >= 2
    # a waiter sends only if the slot frees before its own deadline: nothing reaches the server
    # after the calls' 0.5 s (how many waiters get in before theirs depends on the scheduler)
    assert 1 <= len(srv.requests) <= 3
    assert all(r.started - began < 0.6 for r in srv.requests), [r.started - began for r in srv.requests]
