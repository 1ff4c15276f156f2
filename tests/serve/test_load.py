"""Load: 50 concurrent clients, 1,000 requests, mixed tasks and roles, through the real server.

The server admits at most 48 inputs at once (``MAX_QUEUE``), far below what 50 clients send,
so it answers 429 with ``Retry-After``; the core's client waits and retries. In the end every
request has its vectors, every vector equals the local model's for its (task, role, text),
the server answered exactly 1,000 requests with 200, and concurrent requests shared forward
passes (fewer passes than requests: dynamic batching).
"""

from __future__ import annotations

import asyncio
import random

import numpy as np
import pytest

from jina_embeddings import Embedder

from .conftest import Served

pytestmark = [pytest.mark.local, pytest.mark.slow]

CLIENTS = 50
REQUESTS_PER_CLIENT = 20
TASKS = ("retrieval", "text-matching", "clustering", "classification")
WORDS = [
    "search",
    "vector",
    "model",
    "query",
    "document",
    "fox",
    "dog",
    "river",
    "city",
    "capital",
    "Berlin",
    "Paris",
    "code",
    "batch",
]


def pool(n: int = 40) -> list[str]:
    rng = random.Random(7)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30))) + f" #{i}" for i in range(n)]


def test_fifty_clients_thousand_requests_nothing_lost(served: Served) -> None:
    texts = pool()
    reference = {
        (task, role): Embedder(served.folder, backend="local", dtype="float32", task=task)
        .embed(texts, role=role)
        .vectors
        for task in TASKS
        for role in ("query", "document")
    }
    ok_before = served.counter('jina_serve_requests_total{route="embeddings",status="200"}')
    busy_before = served.counter('jina_serve_requests_total{route="embeddings",status="429"}')
    passes_before = served.counter("jina_serve_forward_passes_total")

    async def client(n: int) -> list[tuple[str, str, list[int], np.ndarray]]:
        rng = random.Random(n)
        task = TASKS[n % len(TASKS)]
        out = []
        async with Embedder(
            served.folder,
            backend="api",
            base_url=served.base_url,
            api_key=served.key,
            task=task,
            max_retries=2,
        ) as emb:
            for _ in range(REQUESTS_PER_CLIENT):
                picked = rng.sample(range(len(texts)), rng.randint(1, 8))
                role = rng.choice(("query", "document"))
                got = await emb.aembed([texts[i] for i in picked], role=role)
                out.append((task, role, picked, got.vectors))
        return out

    async def run() -> list[list[tuple[str, str, list[int], np.ndarray]]]:
        return await asyncio.gather(*(client(n) for n in range(CLIENTS)))

    results = [r for per_client in asyncio.run(run()) for r in per_client]
    assert len(results) == CLIENTS * REQUESTS_PER_CLIENT == 1000
    worst = 1.0
    rows = 0
    for task, role, picked, vectors in results:
        want = reference[(task, role)][picked]
        assert vectors.shape == want.shape
        cos = (vectors * want).sum(1) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(want, axis=1))
        worst = min(worst, float(cos.min()))
        rows += len(picked)
    assert worst >= 0.99999, worst
    ok = served.counter('jina_serve_requests_total{route="embeddings",status="200"}') - ok_before
    busy = served.counter('jina_serve_requests_total{route="embeddings",status="429"}') - busy_before
    passes = served.counter("jina_serve_forward_passes_total") - passes_before
    assert ok == 1000  # each request answered once: nothing lost, nothing doubled
    assert busy > 0  # the queue bound was hit and the client retried after Retry-After
    assert 0 < passes < 1000  # concurrent requests shared forward passes
    assert served.counter("jina_serve_queue_depth") == 0
    print(f"\n{rows} rows, {busy:.0f} answers 429, {passes:.0f} forward passes for 1000 requests")
