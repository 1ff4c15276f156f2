"""``close()`` while busy, copies, and errors that say where (issue 12, items 10 and 12).

``close()`` from another thread fails the calls in flight with a typed error (no raw
``RuntimeError``) and closes every pool the object opened: the sync one, an async one on a
loop running in another thread, one on a loop that is stopped but not closed. The server
side checks it: every connection the client held is closed.
"""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
import time
from typing import Any

import numpy as np
import pytest

from jina_embeddings import APIConnectionError, Embedder, JinaError
from jina_testkit.fake_api import expected_vector

V5 = "jina-embeddings-v5-text-small"


def texts(n: int) -> list[str]:
    return [f"text {i}" for i in range(n)]


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.01)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_close_from_another_thread_fails_calls_in_flight_with_a_typed_error(
    fake_jina_server_factory: Any, make: Any, mode: str
) -> None:
    srv = fake_jina_server_factory(latency=2.0)
    emb = make(base_url=srv.base_url, batch_size=1, max_concurrency=4)
    caught: list[BaseException] = []

    def work() -> None:
        try:
            emb.embed(texts(12)) if mode == "sync" else asyncio.run(emb.aembed(texts(12)))
        except BaseException as exc:  # noqa: BLE001 - the test inspects whatever came out
            caught.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    wait_for(lambda: srv.in_flight == 4)
    start = time.perf_counter()
    emb.close()
    thread.join(5)
    took = time.perf_counter() - start
    assert not thread.is_alive() and len(caught) == 1
    err = caught[0]
    assert isinstance(err, APIConnectionError) and "closed" in str(err), repr(err)
    assert took < 1.5, took
    assert srv.wait_connections_closed(2.0)
    assert len(srv.requests) == 4  # the queued batches were never sent
    # the object works again afterwards, with fresh pools
    srv.latency = 0.0
    out = emb.embed(["again"])
    np.testing.assert_allclose(out.vectors[0], expected_vector(V5, "retrieval.passage", "again"), atol=1e-6)


def test_sync_close_closes_the_pool_of_a_loop_running_in_another_thread(srv: Any, make: Any) -> None:
    emb = make(batch_size=2)
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    try:
        asyncio.run_coroutine_threadsafe(emb.aembed(texts(6)), loop).result(10)
        assert srv.open_connections >= 1  # the loop's pool keeps its connections
        emb.close()  # from this thread, which runs no loop
        assert srv.wait_connections_closed(2.0), srv.open_connections
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()


def test_sync_close_cuts_the_connections_of_a_stopped_loop(srv: Any, make: Any) -> None:
    emb = make(batch_size=2)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(emb.aembed(texts(6)))  # the loop stops but is not closed
        assert srv.open_connections >= 1
        emb.close()
        assert srv.wait_connections_closed(2.0), srv.open_connections
    finally:
        loop.close()


def test_close_while_waiting_for_a_rate_window_is_a_typed_error(srv: Any, make: Any) -> None:
    srv.set_rate_limits(requests=1, window=30.0)
    emb = make(batch_size=1, max_concurrency=1)
    caught: list[BaseException] = []

    def work() -> None:
        try:
            emb.embed(texts(3))
        except BaseException as exc:  # noqa: BLE001
            caught.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    wait_for(lambda: len(srv.requests) == 2)  # one ok, one 429: now it waits ~30 s for the window
    time.sleep(0.05)
    emb.close()
    thread.join(3)
    assert not thread.is_alive()
    assert isinstance(caught[0], JinaError) and "closed" in str(caught[0]), caught


# -- copies keep the key; errors name host and port ------------------------------------------
@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_copies_keep_the_key(srv: Any, how: Any) -> None:
    emb = Embedder(V5, backend="api", api_key=srv.api_key, base_url=srv.base_url, dimensions=32)
    clone = how(emb)
    try:
        out = clone.embed_query("copied")  # the server refuses requests without the key
        np.testing.assert_allclose(
            out.vectors[0], expected_vector(V5, "retrieval.query", "copied", 32), atol=1e-6
        )
        assert srv.requests[-1].headers["authorization"] == f"Bearer {srv.api_key}"
        assert clone._backend is not emb._backend  # its own pools
    finally:
        emb.close()
        clone.close()


def test_connection_error_names_host_and_port(make: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    emb = make(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, connect_timeout=0.5)
    with pytest.raises(APIConnectionError) as info:
        emb.embed(["x"])
    assert f"127.0.0.1:{port}" in str(info.value)
