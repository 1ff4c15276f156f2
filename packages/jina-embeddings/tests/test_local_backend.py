"""The local backend against independent references, on tiny Jina-shaped models and real MiniLM."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder, InvalidInputError, MissingDependencyError, TruncationWarning
from jina_embeddings._backends import local as local_module
from jina_embeddings._backends.loading import loaded_models

pytestmark = pytest.mark.local
TASKS = ("retrieval", "text-matching", "clustering", "classification")
TEXTS = ["The fox jumps over the dog.", "Embeddings for search, bitte.", "Un chien dort."]
PROMPTS = {("retrieval", "query"): "Query: "}  # every other (task, role) uses "Document: "


@pytest.fixture(scope="module")
def peft_reference(tiny_models: dict[str, Path]) -> Any:
    """Vectors computed without sentence-transformers: transformers + peft + manual pooling."""
    import torch
    from peft import PeftModel
    from transformers import AutoModel, AutoTokenizer

    cache: dict[tuple[str, str], Any] = {}

    def reference(arch: str, task: str, role: str, texts: list[str]) -> np.ndarray:
        folder = str(tiny_models[arch])
        if (arch, task) not in cache:
            base = AutoModel.from_pretrained(folder)
            model = PeftModel.from_pretrained(base, f"{folder}/adapters/{task}").eval()
            cache[(arch, task)] = (AutoTokenizer.from_pretrained(folder), model)
        tok, model = cache[(arch, task)]
        prompt = PROMPTS.get((task, role), "Document: ")
        rows = []
        with torch.no_grad():
            for text in texts:  # one at a time: no padding to get right
                hidden = model(**tok(prompt + text, return_tensors="pt")).last_hidden_state[0]
                pooled = hidden[-1] if arch == "qwen3" else hidden.mean(0)  # last-token vs mean
                rows.append((pooled / pooled.norm()).numpy())
        return np.stack(rows)

    return reference


@pytest.mark.parametrize("role", ["query", "document"])
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("arch", ["qwen3", "eurobert", "xlm-roberta"])
def test_each_task_and_role_equals_peft_reference(
    tiny_models: dict[str, Path], peft_reference: Any, arch: str, task: str, role: str
) -> None:
    if arch not in tiny_models:
        pytest.skip(f"{arch} needs a newer transformers")
    emb = Embedder(tiny_models[arch], backend="local", task=task, dtype="float32")
    got = emb.embed(TEXTS, role=role)
    np.testing.assert_allclose(got.vectors, peft_reference(arch, task, role, TEXTS), atol=2e-5)
    assert (got.task, got.role, got.dimensions) == (task, role, 64)


@pytest.mark.parametrize("arch", ["qwen3", "eurobert", "xlm-roberta"])
def test_tasks_give_different_vectors(tiny_models: dict[str, Path], arch: str) -> None:
    if arch not in tiny_models:
        pytest.skip(f"{arch} needs a newer transformers")
    vecs = {
        t: Embedder(tiny_models[arch], backend="local", task=t).embed_documents(TEXTS).vectors for t in TASKS
    }
    for a in TASKS:
        for b in TASKS:
            if a < b:
                assert np.abs(vecs[a] - vecs[b]).max() > 1e-3, (a, b)


def test_matryoshka_dims_exact_and_unit_norm(tiny_models: dict[str, Path]) -> None:
    full = Embedder(tiny_models["qwen3"], backend="local").embed_queries(TEXTS).vectors
    cut = Embedder(tiny_models["qwen3"], backend="local", dimensions=32).embed_queries(TEXTS).vectors
    assert cut.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(cut, axis=1), 1.0, atol=1e-6)
    expected = full[:, :32] / np.linalg.norm(full[:, :32], axis=1, keepdims=True)
    np.testing.assert_allclose(cut, expected, atol=1e-6)
    with pytest.raises(InvalidInputError, match="valid sizes: 32, 64"):
        Embedder(tiny_models["qwen3"], backend="local", dimensions=48)


@pytest.mark.parametrize("task", TASKS)
def test_merged_adapters_equal_dynamic(tiny_models: dict[str, Path], task: str) -> None:
    exact = {"backend": "local", "task": task, "dtype": "float32"}
    dynamic = Embedder(tiny_models["eurobert"], **exact).embed_queries(TEXTS)
    merged_emb = Embedder(tiny_models["eurobert"], merge_adapters=True, **exact)
    merged = merged_emb.embed_queries(TEXTS).vectors
    np.testing.assert_allclose(merged, dynamic.vectors, atol=1e-5)
    model = merged_emb._backend.model_for(task)
    assert model.mode == "plain"  # no adapter switching, no LoRA layers on the hot path


def test_models_are_shared_between_embedders(tiny_models: dict[str, Path]) -> None:
    a = Embedder(tiny_models["xlm-roberta"], backend="local", task="retrieval")
    b = Embedder(tiny_models["xlm-roberta"], backend="local", task="clustering")
    a.warm_up()
    b.warm_up()
    assert a._backend.model_for("retrieval") is b._backend.model_for("clustering")
    keys = [k for k in loaded_models() if k["source"] == str(tiny_models["xlm-roberta"])]
    assert len(keys) == 1 and keys[0]["device"] == "cpu"


def _hammer(tiny_models: dict[str, Path], calls_per_thread: int, **options: Any) -> tuple[int, int]:
    """Threads with different tasks on one shared model; returns (wrong, total)."""
    folder = tiny_models["qwen3"]
    embedders = {t: Embedder(folder, backend="local", task=t, **options) for t in TASKS}
    expected = {t: e.embed_documents(TEXTS).vectors for t, e in embedders.items()}
    wrong = total = 0
    lock = threading.Lock()
    start = threading.Barrier(len(TASKS))

    def worker(task: str) -> None:
        nonlocal wrong, total
        start.wait()
        for _ in range(calls_per_thread):
            try:
                got = embedders[task].embed_documents(TEXTS).vectors
                ok = np.allclose(got, expected[task], atol=1e-5)
            except Exception:  # a tokenizer whose padding state another thread changed
                ok = False
            with lock:
                total += 1
                wrong += int(not ok)

    threads = [threading.Thread(target=worker, args=(t,)) for t in TASKS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return wrong, total


def test_concurrent_tasks_never_mix_adapters(tiny_models: dict[str, Path]) -> None:
    wrong, total = _hammer(tiny_models, calls_per_thread=75)
    assert (wrong, total) == (0, 300)


def test_hammer_detects_mixing_without_the_lock(
    tiny_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control: without the per-model lock the same threads get wrong adapters or broken batches.

    (With coalesce=True, the default, the coalescer also runs one pass at a time.)
    """
    model = Embedder(tiny_models["qwen3"], backend="local")._backend.model_for("retrieval")
    monkeypatch.setattr(model, "lock", contextlib.nullcontext())
    wrong, total = _hammer(tiny_models, calls_per_thread=75, coalesce=False)
    assert total == 300 and wrong > 0


def test_minilm_semantics(minilm_path: str) -> None:
    emb = Embedder(minilm_path, backend="local")
    assert emb.task is None and emb.spec.native_dim == 384
    pairs = [
        ("A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."),
        (
            "How do I reset my password?",
            "Steps to recover your account password.",
            "Best hiking trails in Norway.",
        ),
        (
            "The stock market fell sharply today.",
            "Shares dropped steeply on Wall Street.",
            "A recipe for lemon cake.",
        ),
    ]
    for anchor, related, unrelated in pairs:
        v = emb.embed_documents([anchor, related, unrelated]).vectors
        assert v[0] @ v[1] > v[0] @ v[2] + 0.3, anchor
    q = emb.embed_query("A man is eating food.").vectors
    d = emb.embed_documents(["A man is eating food."]).vectors
    np.testing.assert_allclose(q, d, atol=1e-6)  # no tasks, no prompts: roles agree


def test_truncation_counted_warned_once_or_refused(minilm_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    long_text = " ".join(["word"] * 400)  # ~400 tokens > 256
    emb = Embedder(minilm_path, backend="local")
    with pytest.warns(TruncationWarning, match="1 of 2 texts"):
        res = emb.embed_documents(["short text", long_text])
    assert res.truncated == 1 and res.usage.total_tokens is None  # local: tokens not counted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert emb.embed_documents([long_text]).truncated == 1  # warned once per Embedder
    strict = Embedder(minilm_path, backend="local", truncate=False)
    strict.warm_up()
    calls: list[int] = []
    original = local_module.LocalModel.encode
    monkeypatch.setattr(
        local_module.LocalModel, "encode", lambda self, *a, **k: calls.append(1) or original(self, *a, **k)
    )
    with pytest.raises(InvalidInputError, match="text at index 1 has at least 400 tokens"):
        strict.embed_documents(["fine", long_text])  # the core's word bound: no tokenizer needed
    few_words = " ".join(["don't"] * 100)  # 100 words but 300 word pieces: only exact counting knows
    with pytest.raises(InvalidInputError, match="text at index 1 has 302 tokens") as info:
        strict.embed_documents(["fine", few_words])
    assert info.value.index == 1 and calls == []
    assert strict.embed_documents(["fine"]).truncated == 0 and calls == [1]


def test_async_runs_in_a_thread_and_never_blocks_the_loop(minilm_path: str) -> None:
    emb = Embedder(minilm_path, backend="local")
    emb.warm_up()
    texts = [f"sentence number {i} about some topic or other" for i in range(300)]

    async def main() -> tuple[int, float]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                await asyncio.sleep(0.005)
                ticks += 1

        task = asyncio.create_task(ticker())
        start = time.perf_counter()
        await emb.aembed_documents(texts)
        elapsed = time.perf_counter() - start
        done.set()
        await task
        return ticks, elapsed

    ticks, elapsed = asyncio.run(main())
    # A blocked loop ticks at most once; a free one about every 5 ms of the embedding time.
    assert ticks >= max(5, int(elapsed / 0.005 * 0.3)), (ticks, elapsed)


def test_progress_bar(minilm_path: str, capfd: pytest.CaptureFixture[str]) -> None:
    Embedder(minilm_path, backend="local", show_progress=True, batch_size=2).embed_documents(
        ["a b", "c d", "e f"]
    )
    assert "Batches" in capfd.readouterr().err
    Embedder(minilm_path, backend="local").embed_documents(["a b", "c d", "e f"])
    assert "Batches" not in capfd.readouterr().err


def test_device_and_dtype_defaults(minilm_path: str) -> None:
    import torch

    from jina_embeddings._backends.local_dtype import cpu_bf16_feature

    emb = Embedder(minilm_path, backend="local", dtype="float32")
    model = emb._backend.model_for(None)
    param = next(model.st.parameters())
    assert (param.device.type, param.dtype) == ("cpu", torch.float32)
    auto = Embedder(minilm_path, backend="local")  # dtype=None: bf16 where the CPU has it natively
    expected = torch.bfloat16 if cpu_bf16_feature() else torch.float32
    assert next(auto._backend.model_for(None).st.parameters()).dtype == expected
    half = Embedder(minilm_path, backend="local", dtype="bfloat16")
    assert next(half._backend.model_for(None).st.parameters()).dtype == torch.bfloat16
    v32 = emb.embed_documents(TEXTS).vectors
    v16 = half.embed_documents(TEXTS).vectors
    assert (np.sum(v32 * v16, axis=1) > 0.99).all()


def test_unloadable_model_is_a_typed_error(tmp_path: Path) -> None:
    from jina_embeddings import ModelNotFoundError

    emb = Embedder("jinaai/not-a-cached-model", backend="local", local_files_only=True)
    with pytest.raises(ModelNotFoundError, match="jinaai/not-a-cached-model") as info:
        emb.embed_documents(["x"])
    assert isinstance(info.value.__cause__, OSError)


@pytest.mark.parametrize("words", [10, 120, 254, 255, 300, 2000])
def test_truncation_bounds_agree_with_exact_counts(minilm_path: str, words: int) -> None:
    """The cheap byte/word bounds decide like exact token counts (limit 256 with 2 specials)."""
    emb = Embedder(minilm_path, backend="local")
    model = emb._backend.model_for(None)
    texts = [
        " ".join(["word"] * words),
        " ".join(["x"] * words),
        "ünïcödé " * (words // 2 + 1),
        "a" * (words * 3),
        "中文" * words,
    ]
    with model.lock:
        exact = [i for i, n in enumerate(model.token_lengths(texts, "")) if n > 256]
        assert model.too_long(texts, "") == exact
        assert model.too_long(texts, "Document: ") == [
            i for i, n in enumerate(model.token_lengths(texts, "Document: ")) if n > 256
        ]


@pytest.mark.parametrize("merge", [False, True])
def test_peft_refused_by_transformers_is_a_typed_error_naming_versions(
    tiny_models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge: bool
) -> None:
    """transformers' own version check (as 5.24 does with every peft released) becomes
    MissingDependencyError naming both versions and the fix, not a bare ValueError."""
    import importlib.metadata

    import transformers.integrations.peft as tf_peft

    first = next(iter(tiny_models.values()))
    monkeypatch.setattr(tf_peft, "MIN_PEFT_VERSION", "99.0")
    emb = Embedder(
        str(first), backend="local", task="clustering", merge_adapters=merge, cache_folder=str(tmp_path)
    )
    if merge:  # PeftModel.from_pretrained does not go through transformers' check: loads fine
        assert emb.embed_documents(["a text"]).vectors.shape[0] == 1
        return
    with pytest.raises(MissingDependencyError) as info:
        emb.embed_documents(["a text"])
    message = str(info.value)
    assert f"transformers {importlib.metadata.version('transformers')}" in message
    assert f"peft {importlib.metadata.version('peft')}" in message
    assert ">= 99.0" in message and 'pip install "transformers<5.24"' in message
    assert isinstance(info.value.__cause__, ValueError)
