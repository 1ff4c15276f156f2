"""Bounded load: requests in flight never exceed ``max_concurrency``, and actually reach it.

The server's gauge counts requests between reading them and answering; 50 ms of latency
makes overlapping requests visible.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pytest

from jina_testkit.fake_api import expected_vector

V5 = "jina-embeddings-v5-text-small"


@pytest.fixture
def slow_srv(fake_jina_server_factory: Any) -> Any:
    return fake_jina_server_factory(latency=0.05)


def texts(n: int) -> list[str]:
    return [f"text {i}" for i in range(n)]


@pytest.mark.parametrize("concurrency", [1, 2, 4])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_in_flight_reaches_but_never_exceeds_the_bound(
    slow_srv: Any, make: Any, mode: str, concurrency: int
) -> None:
    emb = make(base_url=slow_srv.base_url, batch_size=4, max_concurrency=concurrency, dimensions=32)
    items = texts(48)  # 12 batches
    out = emb.embed(items) if mode == "sync" else asyncio.run(emb.aembed(items))
    assert slow_srv.max_in_flight == concurrency
    np.testing.assert_allclose(
        out.vectors[47], expected_vector(V5, "retrieval.passage", "text 47", 32), atol=1e-6
    )


def test_bound_is_per_instance_across_concurrent_async_calls(slow_srv: Any, make: Any) -> None:
    emb = make(base_url=slow_srv.base_url, batch_size=2, max_concurrency=3, dimensions=32)

    async def main() -> list[Any]:
        return await asyncio.gather(*(emb.aembed(texts(12)) for _ in range(4)))

    results = asyncio.run(main())
    assert slow_srv.max_in_flight == 3  # 4 calls x 6 batches, still 3 at a time
    assert all(r.vectors.shape == (12, 32) for r in results)


def test_bound_is_per_instance_across_threads(slow_srv: Any, make: Any) -> None:
    emb = make(base_url=slow_srv.base_url, batch_size=2, max_concurrency=2, dimensions=32)
    outs: list[Any] = []
    threads = [threading.Thread(target=lambda: outs.append(emb.embed(texts(8)))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert slow_srv.max_in_flight == 2 and len(outs) == 3


def test_single_batch_uses_no_thread(srv: Any, make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import jina_embeddings._http as http

    class Refuse:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("a single request must not start threads")

    monkeypatch.setattr(http, "_Thread", Refuse)
    assert make().embed_query("hello").vectors.shape == (1, 1024)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_waiting_for_a_slot_never_times_out_in_the_pool(
    fake_jina_server_factory: Any, make: Any, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Callers queue on the instance's bound, not on httpx's pool (whose wait has a timeout):
    with a 20 ms pool timeout, six concurrent one-request calls through one slot all succeed."""
    import jina_embeddings._constants as C

    monkeypatch.setattr(C, "POOL_TIMEOUT", 0.02)
    srv = fake_jina_server_factory(latency=0.05)
    emb = make(base_url=srv.base_url, max_concurrency=1, max_retries=0, dimensions=32)
    if mode == "sync":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(6) as pool:
            outs = list(pool.map(lambda i: emb.embed_query(f"q{i}"), range(6)))
    else:

        async def main() -> list[Any]:
            return await asyncio.gather(*(emb.aembed_query(f"q{i}") for i in range(6)))

        outs = asyncio.run(main())
    assert len(outs) == 6 and srv.max_in_flight == 1
    np.testing.assert_allclose(
        outs[5].vectors[0], expected_vector(V5, "retrieval.query", "q5", 32), atol=1e-6
    )


def test_one_bound_across_a_thread_and_two_event_loops(fake_jina_server_factory: Any, make: Any) -> None:
    """The issue's row: a sync thread and two event loops share one Embedder; the server must
    never see more than max_concurrency=4 requests in flight (it saw 12 before)."""
    srv = fake_jina_server_factory(latency=0.1)
    emb = make(base_url=srv.base_url, batch_size=1, max_concurrency=4, dimensions=32)
    outs: list[Any] = []
    barrier = threading.Barrier(3)

    def sync_caller() -> None:
        barrier.wait()
        outs.append(emb.embed(texts(12)))

    def loop_caller() -> None:
        barrier.wait()
        outs.append(asyncio.run(emb.aembed(texts(12))))

    threads = [threading.Thread(target=f) for f in (sync_caller, loop_caller, loop_caller)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(outs) == 3 and all(o.vectors.shape == (12, 32) for o in outs)
    assert srv.max_in_flight == 4, srv.max_in_flight


def test_cancelled_requests_count_until_their_sockets_close(fake_jina_server_factory: Any, make: Any) -> None:
    """``wait_for`` cancels a call with 4 requests in flight; the next call starts at once. The
    abandoned requests hold their slots until their sockets are closed, so the server (which
    drops a request the moment its client hangs up) never sees more than 4 at a time."""
    srv = fake_jina_server_factory(latency=0.5)
    emb = make(base_url=srv.base_url, batch_size=1, max_concurrency=4, dimensions=32)

    async def main() -> Any:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(emb.aembed(texts(16)), 0.2)
        srv.latency = 0.05
        return await emb.aembed(texts(8))

    out = asyncio.run(main())
    assert out.vectors.shape == (8, 32)
    assert srv.max_in_flight == 4, srv.max_in_flight
    assert sum(r.outcome == "client-closed" for r in srv.requests) == 4


def test_slots_hand_over_between_a_thread_and_a_loop() -> None:
    from jina_embeddings._http_limits import Slots

    slots = Slots(1)
    slots.acquire(lambda: None)
    got: list[str] = []

    async def waiter() -> None:
        await slots.aacquire(lambda: None)
        got.append("loop")
        slots.release()

    thread = threading.Thread(target=lambda: asyncio.run(waiter()))
    thread.start()
    time.sleep(0.05)
    assert got == [] and slots.in_use == 1
    slots.release()  # hands the slot to the waiting task on the other thread's loop
    thread.join(2)
    assert got == ["loop"] and slots.in_use == 0


def test_a_cancelled_waiter_passes_on_a_slot_it_was_granted() -> None:
    from jina_embeddings._http_limits import Slots

    slots = Slots(1)
    slots.acquire(lambda: None)

    async def main() -> None:
        task = asyncio.ensure_future(slots.aacquire(lambda: None))
        await asyncio.sleep(0.01)
        slots.release()  # granted to the task ...
        task.cancel()  # ... which is cancelled before it runs again
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert slots.in_use == 0  # the slot was not lost
