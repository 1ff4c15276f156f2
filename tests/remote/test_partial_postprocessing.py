"""A partial failure's surviving rows are post-processed exactly like a full success.

Batch 1 of 3 fails for good (503 on every attempt); batches 0 and 2 succeed. The surviving
rows in ``PartialBatchError.vectors`` must equal, byte for byte, what a successful call with
the same settings returns for those texts: the requested precision and width, never the
backend's raw float32 rows of the full native width.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from jina_embeddings import PartialBatchError
from jina_testkit.fake_api import Fault

TEXTS = [f"text number {i} about topic {i % 3}" for i in range(6)]
RANGES = np.stack([np.full(32, -0.3, np.float32), np.full(32, 0.3, np.float32)])
PRECISIONS = ["float32", "float16", "int8", "uint8", "binary", "ubinary"]
WIDTH = {"float32": 32, "float16": 32, "int8": 32, "uint8": 32, "binary": 4, "ubinary": 4}
DTYPE = {
    "float32": np.float32,
    "float16": np.float16,
    "int8": np.int8,
    "uint8": np.uint8,
    "binary": np.int8,
    "ubinary": np.uint8,
}


@pytest.mark.parametrize("backend", ["api", "openai"])
@pytest.mark.parametrize("precision", PRECISIONS)
def test_surviving_rows_have_the_requested_precision_and_width(
    srv: Any, make: Any, backend: str, precision: str
) -> None:
    model = "jina-embeddings-v5-text-small" if backend == "api" else "jina-embeddings-v5-text-small-retrieval"
    ranges = RANGES if precision in ("int8", "uint8") else None
    emb = make(
        model,
        backend=backend,
        batch_size=2,
        max_concurrency=1,
        dimensions=32,
        precision=precision,
        quantization_ranges=ranges,
        max_retries=2,
    )
    srv.script(Fault.slow(0.0), *[Fault.status(503)] * 3)  # batch 0 ok, batch 1 fails 3 times, batch 2 ok
    with pytest.raises(PartialBatchError) as info:
        emb.embed(TEXTS)
    err = info.value
    assert err.failed_indices == [2, 3]
    assert precision in str(err) and "32 dimensions" in str(err)

    srv.reset()
    survivors = [0, 1, 4, 5]
    expected = emb.embed([TEXTS[i] for i in survivors]).vectors  # a full success, same settings
    assert expected.shape == (4, WIDTH[precision]) and expected.dtype == DTYPE[precision]
    for row, i in enumerate(survivors):
        got = err.vectors[i]
        assert got.dtype == DTYPE[precision] and got.shape == (WIDTH[precision],)
        np.testing.assert_array_equal(got, expected[row])
    assert err.vectors[2] is None and err.vectors[3] is None
