"""Ctrl-C stops a multi-batch sync call within about a second (issue 12, item 4).

A child process embeds 12 batches, 4 in flight, against a loopback server that takes 1 s per
request. 0.3 s after the first 4 requests arrived, a real SIGINT (or a signal whose handler
raises an exception of the caller's own) goes to the child. Checked: the child raises the
interrupt itself (not an API error) within ~1 s, no batch beyond the first 4 was ever sent,
and the server sees every one of the child's connections closed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

CHILD = textwrap.dedent(
    """
    import signal, sys, time
    from jina_embeddings import Embedder

    class CallerError(Exception):
        pass

    def stop(signum, frame):
        raise CallerError("the caller's own exception")

    signal.signal(signal.SIGUSR1, stop)
    # A runner started in the background (`cmd &`) passes SIGINT down ignored, and Python then
    # installs no KeyboardInterrupt handler; a user's terminal does not: restore Python's own.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    emb = Embedder("jina-embeddings-v5-text-small", backend="api", api_key="jina_test",
                   base_url=sys.argv[1], batch_size=1, max_concurrency=4, dimensions=32)
    print("ready", flush=True)
    try:
        emb.embed([f"text {i}" for i in range(12)])
    except BaseException as exc:
        print(f"raised {type(exc).__name__} {time.monotonic():.6f}", flush=True)
        sys.exit(0)
    print("finished", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    ("signum", "raised"), [(signal.SIGINT, "KeyboardInterrupt"), (signal.SIGUSR1, "CallerError")]
)
def test_interrupt_stops_a_sync_call_within_a_second(
    fake_jina_server_factory: Any, signum: int, raised: str
) -> None:
    srv = fake_jina_server_factory(latency=1.0)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, srv.base_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 20
        while srv.in_flight < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert srv.in_flight == 4, "the first four batches never arrived"
        time.sleep(0.3)
        sent = time.monotonic()
        os.kill(child.pid, signum)
        out, err = child.communicate(timeout=10)
        exited = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
    words = out.split()
    assert words[:2] == ["raised", raised], (out, err[-2000:])
    raised_after = float(words[2]) - sent  # time.monotonic() is system-wide on POSIX
    print(f"{raised} raised {raised_after:.3f} s after the signal; child exited after {exited:.3f} s")
    assert raised_after < 1.0, raised_after
    assert exited < 2.5, exited
    assert len(srv.requests) == 4  # no batch started after the interrupt
    assert srv.wait_connections_closed(1.0)
    assert srv.in_flight == 0 and {r.outcome for r in srv.requests} == {"client-closed"}
