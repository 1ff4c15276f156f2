"""Bounded load: requests in flight never exceed ``max_concurrency``, and actually reach it.

The server's gauge counts requests between reading them and answering; 50 ms of latency
makes overlapping requests visible.
"""

from __future__ import annotations

import asyncio
import threading
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


def test_single_batch_uses_no_thread_pool(srv: Any, make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import jina_embeddings._http as http

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a single request must not start threads")

    monkeypatch.setattr(http, "ThreadPoolExecutor", refuse)
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
