"""Chaos ingest: 2,000 documents through 30 % 429s, 3 % 503s and 5 % dropped connections.

Goal (reliability.md, goal 4): 0 lost, duplicated or misordered vectors, each equal to the
server's deterministic vector for its text and task, in under 20 s, with the seeds logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

import numpy as np
import pytest

from jina_testkit.fake_api import expected_vector

V5 = "jina-embeddings-v5-text-small"
N_DOCS = 2000
DIMS = 64
log = logging.getLogger(__name__)


@pytest.mark.parametrize(("mode", "seed"), [("sync", 1234), ("async", 4321)])
def test_chaos_ingest_loses_nothing(
    srv: Any, make: Any, helpers: Any, mode: str, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    print(f"chaos seeds: fault schedule seed={seed}, corpus seed={seed}")  # shown on failure
    log.warning("chaos seeds: fault schedule seed=%d", seed)
    rng = np.random.default_rng(seed)
    words = [
        "berlin",
        "paris",
        "vector",
        "index",
        "ünïcödé",
        "שלום",
        "مرحبا",
        "日本語",
        "emoji🙂",
        "tab\there",
    ]
    texts = [f"doc {i}: " + " ".join(rng.choice(words, size=int(rng.integers(1, 12)))) for i in range(N_DOCS)]
    srv.set_fault_rates(rate_429=0.30, rate_503=0.03, rate_drop=0.05, retry_after="0", seed=seed)
    # 12 retries: a batch fails for good with p = 0.38**13 ~ 3e-6; 63 batches of 32.
    emb = make(batch_size=32, max_retries=12, dimensions=DIMS)

    start = time.perf_counter()
    out = emb.embed(texts) if mode == "sync" else asyncio.run(emb.aembed(texts))
    elapsed = time.perf_counter() - start

    assert out.vectors.shape == (N_DOCS, DIMS)
    expected = np.stack([expected_vector(V5, "retrieval.passage", t, DIMS) for t in texts])
    cosines = np.sum(out.vectors * expected, axis=1)
    assert cosines.min() > 0.9999, f"row {int(cosines.argmin())} is not the vector of its text"
    # faults really happened, and every text was embedded by exactly one successful request
    requests = helpers.embed_requests(srv)
    outcomes = Counter(r.outcome for r in requests)
    assert outcomes["status:429"] >= 10 and outcomes["status:503"] >= 1 and outcomes["drop"] >= 1, outcomes
    served = Counter(t for r in requests if r.outcome == "ok" for t in r.body["input"])
    assert served == Counter(texts)
    assert out.usage.total_tokens == sum(len(t.split()) for t in texts)
    assert elapsed < 20.0, elapsed
    print(f"chaos {mode}: {len(requests)} requests {dict(outcomes)} in {elapsed:.2f} s")
