"""Quota-bound ingest: our default Embedder against a rate-limited server, next to the existing
integrations' pattern.

The loopback fake Jina server (``jina_testkit.fake_api``, in its own process so that its work
does not compete with the client for the GIL) runs fixed rate windows: ``--window`` seconds,
``--batches-per-window`` default requests' worth of tokens per window, 429
``RATE_TOKEN_LIMIT_EXCEEDED`` with ``Retry-After`` / ``retry-after-ms`` beyond that, and
``X-RateLimit-{Limit,Remaining}-{Requests,Tokens}`` on every response (``reset`` rows also
send ``X-RateLimit-Reset-*``). The corpus is ``--windows`` times one window's token budget.

The quota's own bound: the server admits at most T tokens per window, windows start with the
first request, so a corpus of N tokens cannot finish before ``(ceil(N / T) - 1) * window`` plus
one request's latency. We report wall time / bound (goal <= 1.15) and the share of requests
answered 429 (goal <= 10 %).

Ours: ``Embedder(...).embed`` / ``aembed`` with default options (128 texts per request, 4 in
flight, default retries and ``max_rate_limit_wait``). The existing LangChain / LlamaIndex /
Haystack Jina integrations send one request per batch, sequentially, with no pacing and no
retry: they die on the first 429, which this script shows by doing the same with httpx.

Usage::

    python benchmarks/quota_ingest.py [--windows 24] [--window 1.0] [--batches-per-window 20]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import time
from collections import Counter
from typing import Any

import httpx

from jina_embeddings import Embedder

MODEL = "jina-embeddings-v5-text-small"
KEY = "jina_bench"
WORDS_PER_DOC = 10
BATCH = 128  # the default request size, so the quota is counted in default requests


def _serve(latency: float, conn: Any) -> None:
    """Server process: ``("limits", kwargs)`` sets rate windows, ``"stats"`` answers the outcome
    counts since the last limits, ``"stop"`` ends it."""
    from jina_testkit.fake_api import FakeJinaServer

    srv = FakeJinaServer(api_key=KEY, latency=latency).start()
    conn.send(srv.port)
    while (command := conn.recv()) != "stop":
        if command == "stats":
            conn.send(dict(Counter(r.outcome for r in srv.requests)))
        else:
            srv.reset()
            srv.set_rate_limits(**command[1])
            conn.send("ok")
    srv.stop()


def corpus(n: int) -> list[str]:
    return [f"document {i:06d} " + " ".join(["vector", "search", "index", "quota"] * 2) for i in range(n)]


def naive(base_url: str, texts: list[str]) -> str:
    """The integrations' pattern: one request per batch, in order, raise on any error status."""
    done = 0
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as client:
        for start in range(0, len(texts), BATCH):
            chunk = texts[start : start + BATCH]
            body = {"model": MODEL, "input": chunk, "task": "retrieval.passage", "dimensions": 64}
            resp = client.post("/embeddings", json=body)
            if resp.status_code != 200:
                return f"died: HTTP {resp.status_code} after {done} of {len(texts)} docs"
            done += len(chunk)
    return "finished"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--windows", type=int, default=24, help="corpus size in windows' token budgets (>= 20)"
    )
    parser.add_argument("--window", type=float, default=1.0, help="seconds per rate window")
    parser.add_argument("--batches-per-window", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the server takes per request")
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    here, there = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(args.latency, there), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{here.recv()}/v1"
    per_batch = BATCH * WORDS_PER_DOC
    tokens_per_window = args.batches_per_window * per_batch
    texts = corpus(args.windows * args.batches_per_window * BATCH)
    assert sum(len(t.split()) for t in texts[:BATCH]) == per_batch
    total_tokens = len(texts) * WORDS_PER_DOC
    bound = (math.ceil(total_tokens / tokens_per_window) - 1) * args.window + args.latency

    def limits(reset: bool) -> None:
        here.send(("limits", dict(tokens=tokens_per_window, window=args.window, reset_headers=reset)))
        here.recv()

    def stats() -> Counter[str]:
        here.send("stats")
        return Counter(here.recv())

    rows: list[tuple[str, float, Counter[str], str]] = []
    try:
        for name, reset, mode in (
            ("ours, sync, Jina headers (Remaining-*)", False, "sync"),
            ("ours, async, Jina headers (Remaining-*)", False, "async"),
            ("ours, sync, + X-RateLimit-Reset-*", True, "sync"),
        ):
            limits(reset)
            with Embedder(MODEL, backend="api", api_key=KEY, base_url=base_url, dimensions=64) as emb:
                start = time.perf_counter()
                out = emb.embed(texts) if mode == "sync" else asyncio.run(emb.aembed(texts))
                secs = time.perf_counter() - start
            assert out.vectors.shape == (len(texts), 64)
            rows.append((name, secs, stats(), "finished, nothing lost"))
        limits(False)
        start = time.perf_counter()
        verdict = naive(base_url, texts)
        rows.append(
            ("integrations' pattern (sequential, no pacing)", time.perf_counter() - start, stats(), verdict)
        )
    finally:
        here.send("stop")
        server.join(5)

    print(
        f"{len(texts):,} docs = {total_tokens:,} tokens = {total_tokens / tokens_per_window:.0f} x one window's "
        f"budget ({tokens_per_window:,} tokens per {args.window:g} s window); latency {args.latency * 1000:.0f} ms"
    )
    print(f"quota bound: {bound:.2f} s")
    print(
        f"{'method':48} {'seconds':>8} {'/ bound':>8} {'requests':>8} {'429s':>6} {'429 share':>9}  outcome"
    )
    for name, secs, outcomes, verdict in rows:
        requests = sum(outcomes.values())
        limited = outcomes.get("status:429", 0)
        print(
            f"{name:48} {secs:8.2f} {secs / bound:8.3f} {requests:8d} {limited:6d} "
            f"{limited / max(requests, 1):9.1%}  {verdict}"
        )


if __name__ == "__main__":
    main()
