"""``dtype=None`` on CPU: bfloat16 where the CPU has native bf16 and the fidelity check passes,
float32 otherwise; ``dtype="float32"`` stays exact; the choice is visible."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from jina_embeddings import Embedder
from jina_embeddings._backends import local_dtype
from jina_embeddings._backends.local_dtype import FIDELITY_SAMPLE, cpu_bf16_feature, min_cosine

pytestmark = pytest.mark.local
TASKS = ("retrieval", "text-matching", "clustering", "classification")
TEXTS = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "How do I reset my password?",
    "Steps to recover your account password.",
    "Best hiking trails in Norway.",
    "The stock market fell sharply today.",
    "Shares dropped steeply on Wall Street.",
    "A recipe for lemon cake with a crunchy sugar glaze and fresh berries on top. " * 4,
]


@pytest.fixture
def native_bf16() -> str:
    feature = cpu_bf16_feature()
    if feature is None:
        pytest.skip("this CPU has no native bf16 (AMX / AVX512-BF16)")
    return feature


def test_minilm_default_is_bf16_and_faithful(
    minilm_path: str, native_bf16: str, caplog: pytest.LogCaptureFixture
) -> None:
    from jina_embeddings._backends.loading import _CACHE

    _CACHE.clear()  # load again here so the log line is seen
    with caplog.at_level(logging.INFO, logger="jina_embeddings"):
        auto = Embedder(minilm_path, backend="local")
        got = auto.embed_documents(TEXTS)
    exact = Embedder(minilm_path, backend="local", dtype="float32").embed_documents(TEXTS)
    assert (got.runtime, got.compute_dtype, exact.compute_dtype) == ("torch", "bfloat16", "float32")
    assert "dtype='bfloat16'" in repr(auto)
    lines = [r.getMessage() for r in caplog.records if "dtype=bfloat16" in r.getMessage()]
    assert len(lines) == 1 and native_bf16 in lines[0] and "min cosine 0.99" in lines[0]
    assert min_cosine(got.vectors, exact.vectors) >= 0.995
    # the ranking a search would see: each query's nearest document is the same
    sims_auto, sims_exact = got.vectors @ got.vectors.T, exact.vectors @ exact.vectors.T
    np.fill_diagonal(sims_auto, -1)
    np.fill_diagonal(sims_exact, -1)
    assert (sims_auto.argmax(1) == sims_exact.argmax(1)).all()


def test_explicit_float32_is_exact_and_unchecked(minilm_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from sentence_transformers import SentenceTransformer

    def no_check(*args: object, **kwargs: object) -> None:
        raise AssertionError("dtype='float32' must not run the bf16 check")

    monkeypatch.setattr(local_dtype, "settle_cpu_dtype", no_check)
    got = (
        Embedder(minilm_path, backend="local", dtype="float32", normalize=False)
        .embed_documents(TEXTS)
        .vectors
    )
    st = SentenceTransformer(minilm_path, device="cpu")
    assert np.array_equal(got, st.encode(TEXTS, convert_to_numpy=True, normalize_embeddings=False))


def test_a_failed_check_falls_back_to_exact_float32(
    minilm_path: str, native_bf16: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from jina_embeddings._backends.loading import _CACHE

    _CACHE.clear()
    monkeypatch.setattr(local_dtype, "MIN_COSINE", 1.01)  # no bf16 reaches it
    with caplog.at_level(logging.WARNING, logger="jina_embeddings"):
        got = Embedder(minilm_path, backend="local").embed_documents(TEXTS)
    assert got.compute_dtype == "float32"
    assert any("only 0.99" in r.getMessage() and "under 1.010" in r.getMessage() for r in caplog.records)
    exact = Embedder(minilm_path, backend="local", dtype="float32").embed_documents(TEXTS)
    assert np.array_equal(got.vectors, exact.vectors)  # reloaded in float32, not cast back
    _CACHE.clear()


def test_switch_off_by_environment(minilm_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from jina_embeddings._backends.loading import _CACHE

    _CACHE.clear()
    monkeypatch.setenv("JINA_EMBEDDINGS_CPU_BF16", "0")
    assert Embedder(minilm_path, backend="local").embed_query("x").compute_dtype == "float32"
    _CACHE.clear()


def test_no_native_bf16_means_float32(minilm_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from jina_embeddings._backends.loading import _CACHE

    _CACHE.clear()
    monkeypatch.setattr(local_dtype, "cpu_bf16_feature", lambda: None)
    emb = Embedder(minilm_path, backend="local")
    assert emb.embed_query("x").compute_dtype == "float32" and "dtype='float32'" in repr(emb)
    _CACHE.clear()


@pytest.mark.parametrize("arch", ["qwen3", "eurobert", "xlm-roberta"])
def test_tiny_models_default_dtype_keeps_every_task_faithful(
    tiny_models: dict[str, Path], arch: str, native_bf16: str
) -> None:
    """The check runs on the base weights; the LoRA adapters then run on the bf16 base. Each
    task's vectors stay close to float32 (the tiny random models are harder than real ones)."""
    if arch not in tiny_models:
        pytest.skip(f"{arch} not in this transformers")
    for task in TASKS:
        auto = Embedder(tiny_models[arch], backend="local", task=task).embed_documents(list(FIDELITY_SAMPLE))
        exact = Embedder(tiny_models[arch], backend="local", task=task, dtype="float32").embed_documents(
            list(FIDELITY_SAMPLE)
        )
        assert auto.compute_dtype in ("bfloat16", "float32")
        if auto.compute_dtype == "float32":
            assert np.array_equal(auto.vectors, exact.vectors)
        else:
            assert min_cosine(auto.vectors, exact.vectors) >= 0.99, (arch, task)


def test_min_cosine() -> None:
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert min_cosine(a, a) == pytest.approx(1.0)
    assert min_cosine(a, np.array([[1.0, 1.0], [0.0, 1.0]])) == pytest.approx(np.sqrt(0.5))
