"""``runtime="onnx"``: our onnxruntime loop against torch float32, on every tiny architecture,
pooling and task, and on the real MiniLM; the shipped-file path; int8 behind its fidelity bar."""

from __future__ import annotations

import logging
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from jina_embeddings import Embedder, InvalidInputError, ModelNotFoundError
from jina_embeddings._backends import onnx_runtime

pytest.importorskip("onnxruntime")
pytestmark = [pytest.mark.local, pytest.mark.filterwarnings("ignore::jina_embeddings.TruncationWarning")]
TASKS = ("retrieval", "text-matching", "clustering", "classification")
TEXTS = [
    "The fox jumps over the dog.",
    "Embeddings for search, bitte.",
    "Un chien dort.",
    "ok",
    "日本語のテキストも扱えます。 Ещё немного текста по-русски.",
    "A much longer passage about rivers, mountains and the clouds above them, " * 6,
    " ".join(["abcdefghij"] * 150),  # over the tiny models' context: truncated alike
]


def _min_cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.min(np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("arch", ["qwen3", "eurobert", "xlm-roberta"])
def test_every_task_graph_equals_torch_float32(tiny_models: dict[str, Path], arch: str, task: str) -> None:
    """v5-style folders: one exported graph per task with its LoRA merged; last-token pooling
    with left padding (qwen3) and mean pooling (eurobert, xlm-roberta); both roles' prompts."""
    if arch not in tiny_models:
        pytest.skip(f"{arch} not in this transformers")
    torch_emb = Embedder(tiny_models[arch], backend="local", task=task, dtype="float32")
    onnx_emb = Embedder(tiny_models[arch], backend="local", task=task, runtime="onnx", batch_size=3)
    for role in ("query", "document"):
        want = torch_emb.embed(TEXTS, role=role)
        got = onnx_emb.embed(TEXTS, role=role)
        assert (got.runtime, got.compute_dtype) == ("onnx", "float32")
        assert got.truncated_indices == want.truncated_indices == (6,)
        assert _min_cos(got.vectors, want.vectors) >= 0.9999, (arch, task, role)
    other = "clustering" if task != "clustering" else "retrieval"
    other_vectors = Embedder(tiny_models[arch], backend="local", task=other, runtime="onnx").embed_documents(
        TEXTS
    )
    assert _min_cos(other_vectors.vectors, want.vectors) < 0.999  # a different task, a different graph


@pytest.mark.parametrize(
    ("arch", "pooling"),
    [("xlm-roberta", "cls"), ("xlm-roberta", "max"), ("qwen3", "mean"), ("eurobert", "lasttoken")],
)
def test_every_pooling_equals_torch_float32(
    plain_tiny: dict[tuple[str, str], Path], arch: str, pooling: str
) -> None:
    folder = plain_tiny[(arch, pooling)]
    want = Embedder(folder, backend="local", dtype="float32").embed_documents(TEXTS[:6]).vectors
    for batch_size in (1, 4):
        got = Embedder(folder, backend="local", runtime="onnx", batch_size=batch_size).embed_documents(
            TEXTS[:6]
        )
        assert _min_cos(got.vectors, want) >= 0.9999, (arch, pooling, batch_size)


def test_minilm_onnx_float32_equals_torch(minilm_path: str) -> None:
    texts = TEXTS[:6] * 3
    want = Embedder(minilm_path, backend="local", dtype="float32").embed_documents(texts).vectors
    emb = Embedder(minilm_path, backend="local", runtime="onnx")
    got = emb.embed_documents(texts)
    assert _min_cos(got.vectors, want) >= 0.9999
    assert "runtime='onnx'" in repr(emb) and "dtype='float32'" in repr(emb)


def test_matryoshka_and_quantization_go_through_the_core(tiny_models: dict[str, Path]) -> None:
    folder = tiny_models["qwen3"]
    for kwargs in ({"dimensions": 32}, {"precision": "ubinary"}, {"dimensions": 32, "precision": "binary"}):
        want = Embedder(folder, backend="local", dtype="float32", **kwargs).embed_queries(TEXTS[:6])
        got = Embedder(folder, backend="local", runtime="onnx", **kwargs).embed_queries(TEXTS[:6])
        assert got.vectors.shape == want.vectors.shape and got.precision == want.precision
        if got.is_packed:
            agree = np.mean(got.unpacked() == want.unpacked())
            assert agree >= 0.98, kwargs
        else:
            assert _min_cos(got.vectors, want.vectors) >= 0.9999
            np.testing.assert_allclose(np.linalg.norm(got.vectors, axis=1), 1.0, atol=1e-5)


@pytest.fixture(scope="module")
def shipped_minilm(minilm_path: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MiniLM folder that ships onnx/model.onnx (our export, copied in), without jina_onnx.json."""
    Embedder(minilm_path, backend="local", runtime="onnx").warm_up()  # exports into the cache
    model = Embedder(minilm_path, backend="local", runtime="onnx")._backend.model_for(None)
    folder = tmp_path_factory.mktemp("shipped") / "minilm"
    shutil.copytree(minilm_path, folder)
    (folder / "onnx").mkdir()
    shutil.copy(model.file, folder / "onnx" / "model.onnx")
    return folder


def test_a_shipped_onnx_file_is_used_without_export(
    shipped_minilm: Path, minilm_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported although the folder ships onnx/model.onnx")

    monkeypatch.setattr(onnx_runtime, "_export", no_export)
    emb = Embedder(shipped_minilm, backend="local", runtime="onnx")
    got = emb.embed_documents(TEXTS)
    assert emb._backend.model_for(None).file == str(shipped_minilm / "onnx" / "model.onnx")
    want = Embedder(minilm_path, backend="local", dtype="float32").embed_documents(TEXTS).vectors
    assert _min_cos(got.vectors, want) >= 0.9999
    shutil.copy(shipped_minilm / "onnx" / "model.onnx", shipped_minilm / "onnx" / "other.onnx")
    named = Embedder(shipped_minilm, backend="local", runtime="onnx", onnx_file="onnx/other.onnx")
    assert named._backend.model_for(None).file.endswith("other.onnx")
    with pytest.raises(ModelNotFoundError) as info:
        Embedder(shipped_minilm, backend="local", runtime="onnx", onnx_file="onnx/missing.onnx").warm_up()
    assert info.value.field == "onnx_file"


def test_int8_below_the_bar_is_refused_with_the_measured_figure(minilm_path: str) -> None:
    """MiniLM's dynamic int8 graph loses too much on the built-in sample (short, multilingual)."""
    with pytest.raises(
        InvalidInputError, match=r"min cosine of 0\.\d{4} to float32 on the built-in sample"
    ) as info:
        Embedder(minilm_path, backend="local", runtime="onnx", dtype="int8").warm_up()
    assert info.value.field == "dtype" and "0.99" in str(info.value)
    figure = float(str(info.value).split("min cosine of ")[1].split()[0])
    assert 0.5 < figure < 0.99


def test_int8_over_the_bar_is_used_and_logged(
    minilm_path: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With a (test-only) lower bar the same check accepts: the int8 graph runs and says so."""
    monkeypatch.setattr(onnx_runtime, "INT8_MIN_COSINE", 0.9)
    sample = ["A man is eating food.", "The stock market fell sharply today.", "How do I reset my password?"]
    with caplog.at_level(logging.INFO, logger="jina_embeddings"):
        emb = Embedder(minilm_path, backend="local", runtime="onnx", dtype="int8", fidelity_sample=sample)
        got = emb.embed_documents(TEXTS[:6])
    assert (got.runtime, got.compute_dtype) == ("onnx", "int8")
    assert any(
        "dtype=int8" in r.getMessage() and "your fidelity_sample of 3" in r.getMessage()
        for r in caplog.records
    )
    want = Embedder(minilm_path, backend="local", dtype="float32").embed_documents(TEXTS[:6]).vectors
    assert 0.9 <= _min_cos(got.vectors, want) < 0.99999  # quantized: close, not equal


def test_onnx_callers_are_coalesced_too(tiny_models: dict[str, Path]) -> None:
    folder = tiny_models["xlm-roberta"]
    emb = Embedder(folder, backend="local", runtime="onnx", task="retrieval")
    lone = {t: emb.embed_query(t).vectors[0] for t in TEXTS[:6]}
    model = emb._backend.model_for("retrieval")
    inner = model.run_batch
    sizes: list[int] = []
    lock = threading.Lock()

    def counting(batch: list[list[int]]) -> np.ndarray:
        with lock:
            sizes.append(len(batch))
        return inner(batch)

    model.run_batch = counting  # type: ignore[method-assign]
    try:
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda t: emb.embed_query(t).vectors[0], TEXTS[:6] * 16))
    finally:
        del model.run_batch
    for text, vector in zip(TEXTS[:6] * 16, got, strict=True):
        np.testing.assert_allclose(vector, lone[text], atol=1e-5)
    assert sum(sizes) == 96 and len(sizes) < 96


def test_bad_onnx_settings_are_refused(tiny_models: dict[str, Path]) -> None:
    folder = tiny_models["qwen3"]
    with pytest.raises(InvalidInputError) as info:
        Embedder(folder, backend="local", runtime="onnx", dtype="bfloat16")
    assert info.value.field == "dtype"
    with pytest.raises(InvalidInputError) as info:
        Embedder(folder, backend="local", runtime="tensorrt")
    assert info.value.field == "runtime"
    with pytest.raises(InvalidInputError) as info:
        Embedder(folder, backend="local", onnx_file="onnx/model.onnx")  # runtime='torch'
    assert info.value.field == "onnx_file"
    with pytest.raises(InvalidInputError) as info:
        Embedder(folder, backend="local", runtime="onnx", onnx_file="x.onnx", task="retrieval").warm_up()
    assert info.value.field == "onnx_file"
    with pytest.raises(InvalidInputError) as info:
        Embedder(folder, backend="local", runtime="onnx", device="cuda").warm_up()
    assert info.value.field == "device"
    with pytest.raises(InvalidInputError) as info:
        Embedder(folder, backend="local", fidelity_sample="one string")
    assert info.value.field == "fidelity_sample"
