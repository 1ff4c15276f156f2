"""Quantization is sentence-transformers' arithmetic, byte for byte; cut -> normalize -> quantize."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from jina_embeddings import Embedder, InvalidInputError
from jina_embeddings._quantize import (
    calibration_ranges,
    packed_width,
    quantize,
    truncate_and_normalize,
    unpack_bits,
)

st_quant = pytest.importorskip("sentence_transformers.util.quantization")


def test_documented_example_bits() -> None:
    x = np.array([[0.5, -0.2, 0.0, 0.9, -0.7, 0.1, 0.3, -0.4, 0.25, -0.05]], np.float32)
    assert quantize(x, "ubinary").tolist() == [[150, 128]]  # 10010110 10000000, 0.0 -> bit 0
    assert quantize(x, "binary").tolist() == [[22, 0]]


floats = arrays(
    np.float32,
    st.tuples(st.integers(2, 12), st.integers(1, 70)),
    elements=st.floats(-1, 1, width=32, allow_subnormal=False),
)


@settings(max_examples=150, deadline=None)
@given(floats)
def test_bits_equal_sentence_transformers(x: np.ndarray) -> None:
    for precision in ("binary", "ubinary"):
        ours = quantize(x, precision)
        theirs = st_quant.quantize_embeddings(x, precision)
        assert ours.dtype == theirs.dtype and ours.tobytes() == theirs.tobytes()
        assert ours.shape == (x.shape[0], packed_width(x.shape[1]))
        np.testing.assert_array_equal(unpack_bits(ours, precision, x.shape[1]), np.where(x > 0, 1.0, -1.0))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # ST's side, tiny steps
@settings(max_examples=150, deadline=None)
@given(floats, floats)
def test_scalar_equal_sentence_transformers(x: np.ndarray, calib: np.ndarray) -> None:
    d = min(x.shape[1], calib.shape[1])
    x, calib = x[:, :d], calib[:, :d]
    ranges = calibration_ranges(calib)
    for precision in ("int8", "uint8"):
        ours = quantize(x, precision, ranges)
        theirs = st_quant.quantize_embeddings(x, precision, ranges=ranges)
        assert ours.dtype == theirs.dtype and ours.tobytes() == theirs.tobytes()
        # calibrating on the data itself, as sentence-transformers does without ranges
        assert (
            quantize(calib, precision, ranges).tobytes()
            == st_quant.quantize_embeddings(calib, precision, calibration_embeddings=calib).tobytes()
        )


def test_int8_is_uint8_minus_128() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 16)).astype(np.float32)
    ranges = calibration_ranges(x)
    np.testing.assert_array_equal(
        quantize(x, "int8", ranges).astype(np.int16), quantize(x, "uint8", ranges).astype(np.int16) - 128
    )


def test_order_is_cut_then_normalize() -> None:
    x = np.array([[3.0, 4.0, 12.0]], np.float32)  # norm 13
    out = truncate_and_normalize(x, 2, True)
    np.testing.assert_allclose(out, [[0.6, 0.8]], atol=1e-7)  # 3,4 renormalized, not 3/13,4/13
    assert truncate_and_normalize(x, None, False).tolist() == x.tolist()


def test_calibration_needs_two_rows_and_scalar_needs_ranges() -> None:
    with pytest.raises(InvalidInputError, match="at least 2"):
        calibration_ranges(np.ones((1, 4)))
    with pytest.raises(InvalidInputError, match="needs calibration ranges"):
        quantize(np.ones((2, 4)), "int8")
    assert quantize(np.ones((2, 4)), "float16").dtype == np.float16


def test_embedder_learns_ranges_from_documents_and_reuses_for_queries() -> None:
    emb = Embedder("jina-embeddings-v5-text-small", backend="fake", precision="int8", dimensions=64)
    ref = Embedder("jina-embeddings-v5-text-small", backend="fake", dimensions=64)
    corpus = [f"document number {i} about topic {i % 7}" for i in range(30)]
    docs = emb.embed_documents(corpus)
    assert docs.vectors.dtype == np.int8 and docs.vectors.shape == (30, 64)
    expected_ranges = calibration_ranges(ref.embed_documents(corpus).vectors)
    np.testing.assert_array_equal(emb.quantization_ranges, expected_ranges)
    q = emb.embed_query("topic 3")
    q_float = ref.embed_query("topic 3").vectors
    assert q.vectors.tobytes() == quantize(q_float, "int8", expected_ranges).tobytes()
    # a later document batch reuses the same ranges instead of learning new ones
    emb.embed_documents(["another document", "and one more"])
    np.testing.assert_array_equal(emb.quantization_ranges, expected_ranges)


def test_given_ranges_and_calibrate() -> None:
    ranges = np.stack([-np.ones(32), np.ones(32)]).astype(np.float32)
    emb = Embedder(
        "jina-embeddings-v5-text-small",
        backend="fake",
        precision="uint8",
        dimensions=32,
        quantization_ranges=ranges,
    )
    q = emb.embed_query("no calibration needed")
    assert q.vectors.dtype == np.uint8
    other = Embedder("jina-embeddings-v5-text-small", backend="fake", precision="uint8", dimensions=32)
    learned = other.calibrate(["a corpus sample", "of a few", "documents"])
    assert learned.shape == (2, 32) and other.embed_query("now it works").vectors.shape == (1, 32)


@pytest.mark.parametrize("precision", ["float32", "float16", "binary", "ubinary"])
def test_embedder_precisions_consistent(precision: str) -> None:
    base = Embedder("jina-embeddings-v3", backend="fake", dimensions=256)
    emb = Embedder("jina-embeddings-v3", backend="fake", dimensions=256, precision=precision)
    texts = ["alpha beta", "gamma delta", "epsilon"]
    floats = base.embed_documents(texts).vectors
    res = emb.embed_documents(texts)
    assert res.precision == precision and res.dimensions == 256
    assert res.vectors.tobytes() == quantize(floats, precision).tobytes()
    lists = res.to_float_lists()
    assert len(lists) == 3 and len(lists[0]) == 256 and all(isinstance(v, float) for v in lists[0])


@pytest.mark.parametrize("texts", [["same doc", "same doc"], ["same doc"] * 3])
def test_int8_never_learns_from_identical_documents(texts: list[str]) -> None:
    from jina_embeddings import Embedder, InvalidInputError

    emb = Embedder(backend="fake", precision="int8", dimensions=64)
    with pytest.raises(InvalidInputError, match="no spread") as info:
        emb.embed_documents(texts)
    assert info.value.field == "quantization_ranges"
    assert emb.quantization_ranges is None  # nothing degenerate was kept
    varied = emb.embed_documents(["berlin is in germany", "paris is in france", "rome is in italy"])
    assert len(np.unique(varied.vectors)) > 10  # a real spread of int8 values, not all -128
