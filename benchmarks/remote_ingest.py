"""Remote ingest throughput: our sync and async paths vs the existing integrations' pattern.

2,000 documents go to the loopback fake Jina server (``jina_testkit.fake_api``) with 50 ms
of added latency per request, like a nearby API. The existing LangChain / LlamaIndex /
Haystack Jina integrations send sequential requests of a few inputs (10 or 32, float JSON);
that pattern is implemented here plainly with httpx. Ours: ``Embedder.embed`` and
``Embedder.aembed`` with their defaults (128 texts per request, 4 in flight, base64 floats).

The server runs in its own process so its work does not compete with the client for the
GIL. Each method runs once untimed (warm connections, the server's vector cache), then
``--repeats`` times; the best run counts.

The bound: with ``c`` requests in flight of ``b`` texts each and latency ``L``, no client can
beat ``c * b / L`` texts per second; for a fixed corpus of ``n`` texts the rounds are whole,
so the reachable figure is ``n / (ceil(ceil(n / b) / c) * L)``.

Usage::

    python benchmarks/remote_ingest.py [--docs 2000] [--latency 0.05] [--repeats 3] [--dimensions 256]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from jina_embeddings import Embedder
from jina_embeddings import _constants as C

MODEL = "jina-embeddings-v5-text-small"
KEY = "jina_bench"
WORDS = [
    "vector",
    "search",
    "index",
    "document",
    "retrieval",
    "embedding",
    "model",
    "query",
    "passage",
    "berlin",
    "paris",
    "data",
    "latency",
    "throughput",
    "batch",
    "request",
    "server",
    "client",
    "token",
    "context",
]


def _serve(latency: float, conn: Any) -> None:
    """Server process: answers "stats" (then forgets the requests so far) and "stop" on ``conn``."""
    from jina_testkit.fake_api import FakeJinaServer

    srv = FakeJinaServer(api_key=KEY, latency=latency).start()
    conn.send(srv.port)
    while (command := conn.recv()) != "stop":
        if command == "stats":
            done = [r for r in srv.requests if r.outcome == "ok"]
            cpu = [r.finished - r.started - latency for r in done]
            conn.send((len(done), sum(cpu) / max(len(cpu), 1), srv.max_in_flight))
            srv.reset()
    srv.stop()


def corpus(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [f"doc {i}: " + " ".join(rng.choices(WORDS, k=rng.randint(20, 60))) for i in range(n)]


def sequential_pattern(base_url: str, texts: list[str], batch: int, dimensions: int | None) -> None:
    """What the integrations do: one request at a time, ``batch`` inputs each, float JSON."""
    extra = {"dimensions": dimensions} if dimensions else {}
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as client:
        for start in range(0, len(texts), batch):
            chunk = texts[start : start + batch]
            body = {"model": MODEL, "input": chunk, "task": "retrieval.passage", **extra}
            resp = client.post("/embeddings", json=body)
            resp.raise_for_status()
            data = sorted(resp.json()["data"], key=lambda d: d["index"])
            assert len(data) == len(chunk)


def raw_ceiling(
    base_url: str, texts: list[str], batch: int, concurrency: int, dimensions: int | None
) -> None:
    """The most this server allows: ``concurrency`` threads posting ready-made bodies (same
    fields and batch size as ours) and not even decoding the answers."""
    extra = {"dimensions": dimensions} if dimensions else {}
    bodies = [
        json.dumps(
            {
                "model": MODEL,
                "input": texts[i : i + batch],
                "task": "retrieval.passage",
                "embedding_type": "base64",
                **extra,
            }
        ).encode()
        for i in range(0, len(texts), batch)
    ]
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency)
    with (
        httpx.Client(base_url=base_url, headers=headers, timeout=60, limits=limits) as client,
        ThreadPoolExecutor(concurrency) as pool,
    ):
        for resp in pool.map(lambda body: client.post("/embeddings", content=body), bodies):
            assert resp.status_code == 200


def best_of(fn: Callable[[], object], repeats: int, server: Any) -> tuple[float, tuple[int, float, int]]:
    """Best wall time of ``repeats`` runs after one warm-up run (connections, the server's
    vector cache), and the server's view: requests per run, its own time per request
    beyond the added latency, and the most requests it had in flight."""
    fn()
    server.send("stats")
    server.recv()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    server.send("stats")
    count, cpu, in_flight = server.recv()
    return min(times), (count // repeats, cpu, in_flight)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dimensions", type=int, default=None, help="Matryoshka size (default: native 1024)")
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    here, there = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(args.latency, there), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{here.recv()}/v1"
    texts = corpus(args.docs)
    n = len(texts)
    emb = Embedder(MODEL, backend="api", api_key=KEY, base_url=base_url, dimensions=args.dimensions)
    try:
        runs = {
            "integrations' pattern, sequential x10": lambda: sequential_pattern(
                base_url, texts, 10, args.dimensions
            ),
            "integrations' pattern, sequential x32": lambda: sequential_pattern(
                base_url, texts, 32, args.dimensions
            ),
            "ceiling: raw threads, no decoding": lambda: raw_ceiling(
                base_url, texts, C.DEFAULT_API_BATCH_SIZE, emb.remote_options.max_concurrency, args.dimensions
            ),
            "ours, sync  (Embedder.embed)": lambda: emb.embed(texts),
            "ours, async (Embedder.aembed)": lambda: asyncio.run(emb.aembed(texts)),
        }
        results = {name: best_of(fn, args.repeats, here) for name, fn in runs.items()}
    finally:
        emb.close()
        here.send("stop")
        server.join(5)

    batch, conc, lat = C.DEFAULT_API_BATCH_SIZE, emb.remote_options.max_concurrency, args.latency
    bound = conc * batch / lat
    reachable = n / (math.ceil(math.ceil(n / batch) / conc) * lat)
    rates = {name: n / secs for name, (secs, _) in results.items()}
    base10, base32 = list(rates.values())[:2]
    print(
        f"{n} documents, {args.dimensions or 1024} dimensions, latency {lat * 1000:.0f} ms per request, "
        f"best of {args.repeats}"
    )
    print(
        f"bound: concurrency {conc} x batch {batch} / latency = {bound:,.0f} docs/s "
        f"(whole rounds for {n} docs: {reachable:,.0f} docs/s)"
    )
    ceiling = rates["ceiling: raw threads, no decoding"]
    print(
        f"{'method':38} {'seconds':>8} {'docs/s':>8} {'vs x10':>7} {'vs x32':>7} {'of bound':>8} "
        f"{'of ceiling':>10} {'requests':>8} {'server ms/req':>13} {'in flight':>9}"
    )
    for name, rate in rates.items():
        secs, (count, cpu, in_flight) = results[name]
        print(
            f"{name:38} {secs:8.3f} {rate:8,.0f} {rate / base10:6.1f}x {rate / base32:6.1f}x {rate / reachable:8.0%} "
            f"{rate / ceiling:10.0%} {count:8d} {cpu * 1000:13.1f} {in_flight:9d}"
        )
    print(
        "bound: latency only (a server that costs nothing). ceiling: what this Python server allows at the "
        "same concurrency and batch size. server ms/req: its own work per request beyond the added latency "
        "(vectors; JSON encoding not included), serialized by its GIL."
    )


if __name__ == "__main__":
    main()
