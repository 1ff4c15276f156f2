"""On a local 2-CPU Ray: the vectors are the in-process ``Embedder``'s, row for row, in input order.

Local models run with ``dtype="float32"`` on both sides (``dtype=None`` may pick bfloat16 on
CPUs that have it). Batches on the actors differ from the in-process call (other rows, other
padding), so float vectors agree to float32 rounding, not bit for bit; the fake backend is
deterministic, so there the bytes are compared exactly, for every precision's column type.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder
from jina_embeddings.ray import embed_dataset

V5 = "jina-embeddings-v5-text-small"


def vectors_of(rows: list[dict[str, Any]], column: str = "embedding") -> np.ndarray:
    return np.stack([np.asarray(r[column]) for r in rows])


@pytest.mark.slow
def test_tiny_v5_two_actors_many_blocks_order_kept(local_ray: Any, helpers: Any, tiny_v5: Any) -> None:
    texts = helpers.corpus(120)
    ds = helpers.dataset(texts, blocks=12, doc_id=[f"d{i}" for i in range(120)])
    out = embed_dataset(
        ds, model=str(tiny_v5), backend="local", dtype="float32", task="retrieval", role="query",
        num_actors=2, rows_per_batch=7, batch_size=4,
    )  # fmt: skip
    rows = out.take_all()
    assert [r["n"] for r in rows] == list(range(120))  # order kept across 12 blocks and 2 actors
    assert [r["doc_id"] for r in rows] == [f"d{i}" for i in range(120)]  # other columns untouched
    assert set(rows[0]) == {"text", "n", "doc_id", "embedding"}  # the row-id column is gone
    ref = Embedder(str(tiny_v5), backend="local", dtype="float32", task="retrieval").embed_queries(texts)
    got = vectors_of(rows)
    assert got.shape == ref.vectors.shape
    np.testing.assert_allclose(got, ref.vectors, atol=2e-6)
    docs = Embedder(str(tiny_v5), backend="local", dtype="float32", task="retrieval").embed_documents(texts)
    assert np.abs(got - docs.vectors).max() > 1e-3  # the query side was used, not the document side


@pytest.mark.slow
def test_minilm_matches_in_process(local_ray: Any, helpers: Any, minilm_path: str) -> None:
    texts = helpers.corpus(64, seed=1)
    out = embed_dataset(
        helpers.dataset(texts, blocks=4), model=minilm_path, backend="local", dtype="float32",
        num_actors=1, rows_per_batch=16,  # the 2-actor order check is the tiny model's (cheaper)
    )  # fmt: skip
    assert str(out.schema().base_schema.field("embedding").type) == "fixed_size_list<item: float>[384]"
    got = vectors_of(out.take_all())
    ref = Embedder(minilm_path, backend="local", dtype="float32").embed_documents(texts).vectors
    cos = np.sum(got * ref, axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() > 0.99999
    np.testing.assert_allclose(got, ref, atol=2e-6)


@pytest.mark.parametrize(
    ("precision", "arrow_type"),
    [("float16", "halffloat"), ("ubinary", "uint8")],  # binary: packed into int8, as in ST
)
def test_precision_and_dimensions_as_the_embedder(
    local_ray: Any, helpers: Any, precision: Any, arrow_type: str
) -> None:
    texts = helpers.corpus(40, seed=2)
    out = embed_dataset(
        helpers.dataset(texts, blocks=3), model=V5, backend="fake", dimensions=64,
        precision=precision, num_actors=2, rows_per_batch=6,
    )  # fmt: skip
    width = 8 if precision.endswith("binary") else 64  # packed: 64 bits -> 8 bytes per row
    assert (
        str(out.schema().base_schema.field("embedding").type)
        == f"fixed_size_list<item: {arrow_type}>[{width}]"
    )
    got = vectors_of(out.take_all())
    ref = Embedder(V5, backend="fake", dimensions=64, precision=precision).embed_documents(texts).vectors
    assert got.tobytes() == ref.astype(got.dtype).tobytes()
    assert got.shape == ref.shape == (40, width)


def test_int8_with_given_ranges_and_tensor_columns(local_ray: Any, helpers: Any) -> None:
    texts = helpers.corpus(30, seed=3)
    emb = Embedder(V5, backend="fake", dimensions=32, precision="int8")
    ranges = emb.calibrate(texts)
    out = embed_dataset(
        helpers.dataset(texts, blocks=3), model=V5, backend="fake", dimensions=32, precision="int8",
        quantization_ranges=ranges, vector_type="tensor", num_actors=2, rows_per_batch=4,
    )  # fmt: skip
    batch = out.take_batch(30, batch_format="numpy")
    assert batch["embedding"].shape == (30, 32) and batch["embedding"].dtype == np.int8  # one 2-D array
    assert list(batch["n"]) == list(range(30))
    assert np.array_equal(batch["embedding"], emb.embed_documents(texts).vectors)
