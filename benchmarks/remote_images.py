"""Remote image ingest: batched ``Embedder.embed_images`` vs one image per request.

500 small PNG files (64x64 random pixels, ~12 KB each) go to the loopback fake Jina server
(``jina_testkit.fake_api``, in its own process) with 50 ms of added latency per request.

* ours: ``Embedder("jina-clip-v2", backend="api").embed_images(paths)`` with its defaults
  (batches sized by image cost within ``max_batch_chars``=400,000 characters of base64 and
  128 items, 4 requests in flight), sync and async;
* one image per request, the same client (``batch_size=1``: still 4 in flight);
* one image per request, sequential (what hand-written integrations do: a loop of POSTs).

The goal is >= 4x the one-image-per-request figure. Memory: the peak RSS growth of this
process during our sync run (files are read per batch, not all at once), next to the
corpus size. Each method runs once untimed, then ``--repeats`` times; the best run counts.
The machine is shared: compare the ratios of one run, not absolute figures across runs.

Usage::

    python benchmarks/remote_images.py [--images 500] [--size 64] [--latency 0.05] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing as mp
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from jina_embeddings import Embedder

MODEL = "jina-clip-v2"
KEY = "jina_bench"


def _serve(latency: float, conn: Any) -> None:
    """Server process: answers "count" (requests so far, then forgets them) and "stop"."""
    from jina_testkit.fake_api import FakeJinaServer

    srv = FakeJinaServer(api_key=KEY, latency=latency).start()
    conn.send(srv.port)
    while (command := conn.recv()) != "stop":
        if command == "count":
            conn.send(len([r for r in srv.requests if r.outcome == "ok"]))
            srv.reset()
    srv.stop()


def write_pngs(folder: Path, n: int, size: int) -> list[Path]:
    from PIL import Image

    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = folder / f"img{i:04d}.png"
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), "RGB").save(path)
        paths.append(path)
    return paths


def sequential_one_per_request(base_url: str, paths: list[Path]) -> None:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as client:
        for path in paths:
            body = {"model": MODEL, "input": [{"image": base64.b64encode(path.read_bytes()).decode()}]}
            resp = client.post("/embeddings", json=body)
            resp.raise_for_status()
            if len(resp.json()["data"]) != 1:
                raise RuntimeError("bad response")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def best_of(fn: Callable[[], object], repeats: int, server: Any) -> tuple[float, int]:
    fn()
    server.send("count")
    server.recv()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    server.send("count")
    return min(times), server.recv() // repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--size", type=int, default=64, help="pixels per side")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    here, there = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(args.latency, there), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{here.recv()}/v1"
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_pngs(Path(tmp), args.images, args.size)
        corpus_mib = sum(p.stat().st_size for p in paths) / 2**20
        ours = Embedder(MODEL, backend="api", api_key=KEY, base_url=base_url)
        single = Embedder(MODEL, backend="api", api_key=KEY, base_url=base_url, batch_size=1)
        strs = [str(p) for p in paths]
        try:
            ours.embed_images(strs[:8])  # warm connections and imports before measuring memory
            rss_before = peak_rss_mib()
            check = ours.embed_images(strs)
            rss_growth = peak_rss_mib() - rss_before
            if check.vectors.shape != (len(paths), 1024):
                raise RuntimeError(f"unexpected shape {check.vectors.shape}")
            runs = {
                "ours, sync  (embed_images)": lambda: ours.embed_images(strs),
                "ours, async (aembed_images)": lambda: asyncio.run(ours.aembed_images(strs)),
                "one per request, 4 in flight": lambda: single.embed_images(strs),
                "one per request, sequential": lambda: sequential_one_per_request(base_url, paths),
            }
            results = {name: best_of(fn, args.repeats, here) for name, fn in runs.items()}
        finally:
            ours.close()
            single.close()
            here.send("stop")
            server.join(5)

    n = len(paths)
    rates = {name: n / secs for name, (secs, _) in results.items()}
    one_conc, one_seq = rates["one per request, 4 in flight"], rates["one per request, sequential"]
    print(
        f"{n} PNGs of {args.size}x{args.size} ({corpus_mib:.1f} MiB), latency {args.latency * 1000:.0f} ms "
        f"per request, best of {args.repeats}"
    )
    print(
        f"{'method':32} {'seconds':>8} {'images/s':>9} {'requests':>8} {'vs 1/req x4':>11} {'vs 1/req seq':>12}"
    )
    for name, rate in rates.items():
        secs, count = results[name]
        print(
            f"{name:32} {secs:8.3f} {rate:9.0f} {count:8d} {rate / one_conc:10.1f}x {rate / one_seq:11.1f}x"
        )
    print(f"peak RSS growth during one sync ingest: {rss_growth:.1f} MiB (corpus {corpus_mib:.1f} MiB)")


if __name__ == "__main__":
    main()
