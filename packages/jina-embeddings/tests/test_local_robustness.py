"""The local backend when things go wrong: broken adapters and folders, bad devices, cancelled
calls, and the noise transformers makes while loading (issue 13: items 1, 4, 6, 9)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder, InvalidInputError, ModelNotFoundError, Reranker
from jina_embeddings._backends import loading

pytestmark = pytest.mark.local
TEXTS = ["The fox jumps over the dog.", "Embeddings for search, bitte."]


@pytest.fixture
def folder(tiny_models: dict[str, Path], tmp_path: Path) -> Path:
    """A private copy of the tiny qwen3 v5-style folder (safe to damage)."""
    return Path(shutil.copytree(tiny_models["qwen3"], tmp_path / "model"))


def _embedder(folder: Path, task: str | None = None, **kwargs: Any) -> Embedder:
    # A cache_folder of its own: the model is not shared with any other test.
    return Embedder(folder, backend="local", task=task, cache_folder=str(folder.parent), **kwargs)


# -- item 1: a failed adapter load leaves the shared model exactly as it was ---------------------
def _garbage(adapter: Path) -> None:
    (adapter / "adapter_model.safetensors").write_bytes(b"not a safetensors file" * 10)


def _truncated(adapter: Path) -> None:
    f = adapter / "adapter_model.safetensors"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def _missing(adapter: Path) -> None:
    (adapter / "adapter_model.safetensors").unlink()


def _rewrite(adapter: Path, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    from safetensors.torch import load_file, save_file

    f = str(adapter / "adapter_model.safetensors")
    save_file(change(load_file(f)), f)


def _wrong_rank(adapter: Path) -> None:
    """Rank-8 tensors under an adapter_config.json that says r=4."""
    import torch

    def pad(tensors: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name, t in tensors.items():
            dim = 0 if "lora_A" in name else 1
            out[name] = torch.cat([t, torch.zeros_like(t)], dim=dim).contiguous()
        return out

    _rewrite(adapter, pad)


def _incomplete(adapter: Path) -> None:
    """Half of the adapter's tensors gone: transformers would leave them randomly initialized."""
    _rewrite(adapter, lambda tensors: {k: v for i, (k, v) in enumerate(sorted(tensors.items())) if i % 2})


def _bad_config(adapter: Path) -> None:
    (adapter / "adapter_config.json").write_text("{not json")


DAMAGE = {
    "garbage": (_garbage, "SafetensorError"),
    "truncated": (_truncated, "SafetensorError"),
    "missing": (_missing, "FileNotFoundError"),
    "wrong-rank": (_wrong_rank, "do not fit the base model"),
    "incomplete": (_incomplete, "tensors are missing"),
    "bad-config": (_bad_config, "JSONDecodeError"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_failed_adapter_load_leaves_other_tasks_exactly_as_they_were(
    folder: Path, tiny_models: dict[str, Path], damage: str
) -> None:
    corrupt, expected = DAMAGE[damage]
    matching = _embedder(folder, "text-matching")
    before = matching.embed_documents(TEXTS).vectors
    before_query = matching.embed_query(TEXTS[0]).vectors
    corrupt(folder / "adapters" / "clustering")

    clustering = _embedder(folder, "clustering")
    with pytest.raises(ModelNotFoundError, match=expected) as first:
        clustering.embed_documents(TEXTS)
    assert "'clustering' adapter" in str(first.value) and first.value.field == "model"
    with pytest.raises(ModelNotFoundError) as again:  # not "Adapter with name ... already exists"
        clustering.embed_documents(TEXTS)
    assert str(again.value) == str(first.value)

    np.testing.assert_array_equal(matching.embed_documents(TEXTS).vectors, before)
    np.testing.assert_array_equal(matching.embed_query(TEXTS[0]).vectors, before_query)
    # An adapter loaded after the failure is right too (same as from the undamaged folder).
    retrieval_emb = _embedder(folder, "retrieval")
    assert retrieval_emb._backend.model_for("retrieval") is matching._backend.model_for("text-matching")
    retrieval = retrieval_emb.embed_documents(TEXTS).vectors
    reference = Embedder(tiny_models["qwen3"], backend="local", task="retrieval").embed_documents(TEXTS)
    np.testing.assert_array_equal(retrieval, reference.vectors)


def test_first_adapter_failing_leaves_a_clean_model(folder: Path, tiny_models: dict[str, Path]) -> None:
    """No adapter loaded yet when one fails: the next adapter gives the reference vectors."""
    reference = Embedder(tiny_models["qwen3"], backend="local", task="text-matching").embed_documents(TEXTS)
    _garbage(folder / "adapters" / "clustering")
    clustering = _embedder(folder, "clustering")  # kept: the model stays loaded (weak cache)
    with pytest.raises(ModelNotFoundError):
        clustering.embed_documents(TEXTS)
    matching = _embedder(folder, "text-matching")
    assert matching._backend.model_for("text-matching") is clustering._backend.model_for("clustering")
    np.testing.assert_array_equal(matching.embed_documents(TEXTS).vectors, reference.vectors)


def test_unrestorable_model_refuses_instead_of_returning_wrong_vectors(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jina_embeddings._backends import local

    matching = _embedder(folder, "text-matching")
    matching.embed_documents(TEXTS)
    _garbage(folder / "adapters" / "clustering")
    monkeypatch.setattr(local.LocalModel, "_roll_back", _failing_roll_back(local.LocalModel._roll_back))
    with pytest.raises(ModelNotFoundError):
        _embedder(folder, "clustering").embed_documents(TEXTS)
    with pytest.raises(ModelNotFoundError, match="could not be put back"):
        matching.embed_documents(TEXTS)


def _failing_roll_back(original: Any) -> Any:
    def roll_back(self: Any, host: Any, before: Any, adapter: str) -> None:
        host.delete_adapter = None  # calling it fails: the state is unknown afterwards
        original(self, host, before, adapter)

    return roll_back


# -- item 4: broken folders are ModelNotFoundError -------------------------------------------------
def _write(name: str, text: str) -> Callable[[Path], object]:
    return lambda folder: (folder / name).write_text(text)


BROKEN = {
    "weights-garbage": (_write("model.safetensors", "xx"), "SafetensorError"),
    "weights-truncated": (
        lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:5000]),
        "SafetensorError",
    ),
    "modules-json": (_write("modules.json", "[oops"), "JSONDecodeError"),
    "prompts-json": (_write("config_sentence_transformers.json", "{oops"), "JSONDecodeError"),
    "pooling-json": (_write("1_Pooling/config.json", "{oops"), "JSONDecodeError"),
    "pooling-missing": (lambda f: shutil.rmtree(f / "1_Pooling"), "Pooling"),
    "config-no-type": (_write("config.json", "{}"), "model_type"),
    "tokenizer-missing": (lambda f: (f / "tokenizer.json").unlink(), "tokenizer"),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_broken_folder_is_model_not_found(folder: Path, broken: str) -> None:
    damage, mentioned = BROKEN[broken]
    damage(folder)
    emb = _embedder(folder, merge_adapters=False)
    with pytest.raises(ModelNotFoundError, match=mentioned) as info:
        emb.embed_documents(TEXTS)
    assert str(folder) in str(info.value) and "damaged" in str(info.value)
    assert info.value.__cause__ is not None  # the original error stays attached


def test_broken_reranker_folder_is_model_not_found(tiny_reranker_path: str, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tiny_reranker_path, tmp_path / "reranker"))
    (copy / "model.safetensors").write_bytes(b"xx")
    with pytest.raises(ModelNotFoundError, match="SafetensorError"):
        Reranker(copy, backend="local", cache_folder=str(tmp_path)).rerank("q", ["a", "b"])


def test_errors_that_are_not_about_files_are_not_renamed() -> None:
    oom = RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert loading.load_error(oom, "/some/folder", folder=True) is None
    assert loading.load_error(ValueError("bad"), "owner/repo", folder=False) is None  # a hub model
    assert loading.load_error(KeyboardInterrupt(), "/some/folder", folder=True) is None
    assert isinstance(loading.load_error(OSError("gone"), "owner/repo", folder=False), ModelNotFoundError)
    from huggingface_hub.errors import HFValidationError
    from safetensors import SafetensorError

    for exc in (
        HFValidationError("Repo id must be ..."),
        SafetensorError("header"),
        json.JSONDecodeError("x", "", 0),
    ):
        error = loading.load_error(exc, "owner/repo", folder=False)
        assert isinstance(error, ModelNotFoundError) and type(exc).__name__ in str(error)


# -- item 4: devices are checked when the object is built ----------------------------------------------
@pytest.mark.parametrize("device", ["gpu", "tpu:9", "cuda:x", "CUDA", "cuda:-1", "cpu:0:1", " cpu"])
def test_misspelled_device_refused_at_construction(tiny_models: dict[str, Path], device: str) -> None:
    with pytest.raises(InvalidInputError, match="is not a torch device") as info:
        Embedder(tiny_models["qwen3"], backend="local", device=device)
    assert info.value.field == "device"
    with pytest.raises(InvalidInputError, match="is not a torch device"):
        Reranker("jina-reranker-v3", backend="local", device=device)


def test_device_hints() -> None:
    with pytest.raises(InvalidInputError, match="use 'cuda'"):
        loading.check_device("gpu")
    with pytest.raises(InvalidInputError, match="'xla'"):
        loading.check_device("tpu:9")
    for good in ("cpu", "cuda", "cuda:1", "mps", "xpu:0", None):
        loading.check_device(good)


def test_device_spelling_is_checked_without_importing_torch() -> None:
    code = (
        "import sys\n"
        "from jina_embeddings import Embedder, InvalidInputError\n"
        "try:\n"
        "    Embedder('jina-embeddings-v5-text-small', backend='local', device='gpu')\n"
        "except InvalidInputError as e:\n"
        "    print('refused', e.field)\n"
        "Embedder('jina-embeddings-v5-text-small', backend='local', device='cuda:3')\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["refused", "device", "False"], out.stderr


def _cpu_only_torch() -> bool:
    import torch

    return torch.version.cuda is None and not getattr(torch.version, "hip", None)


def test_cuda_on_cpu_only_torch_refused_at_construction(tiny_models: dict[str, Path]) -> None:
    import torch

    if not _cpu_only_torch():
        pytest.skip("this torch is built with CUDA")
    assert "torch" in sys.modules
    for device in ("cuda", "cuda:0"):
        with pytest.raises(InvalidInputError, match="CPU-only build") as info:
            Embedder(tiny_models["qwen3"], backend="local", device=device)
        assert info.value.field == "device" and torch.__version__ in str(info.value)
        with pytest.raises(InvalidInputError, match="CPU-only build"):
            Reranker("jina-reranker-v3", backend="local", device=device)
    if not torch.backends.mps.is_built():
        with pytest.raises(InvalidInputError, match="without MPS"):
            Embedder(tiny_models["qwen3"], backend="local", device="mps")


def test_absent_device_is_a_typed_error_at_first_use(
    tiny_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built before torch was imported (nothing checked then): first use raises, before loading."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    monkeypatch.setattr(loading, "_imported_torch", lambda: None)  # as if torch were not imported
    emb = Embedder(tiny_models["qwen3"], backend="local", device="cuda:0", cache_folder="/nonexistent")
    rr = Reranker("jina-reranker-v3", backend="local", device="cuda")
    monkeypatch.undo()
    why = "CPU-only build" if _cpu_only_torch() else "no CUDA device"
    with pytest.raises(InvalidInputError, match=why) as info:
        emb.embed_documents(TEXTS)
    assert info.value.field == "device"
    with pytest.raises(InvalidInputError, match=why):
        rr.rerank("q", ["a", "b"])


# -- item 6: cancelling an async call stops its worker at the next batch -------------------------
@pytest.fixture
def counted_batches(folder: Path) -> Iterator[tuple[Embedder, list[float]]]:
    emb = _embedder(folder, "retrieval", batch_size=8)
    emb.warm_up()
    batches: list[float] = []
    model = emb._backend.model_for("retrieval")
    handle = model.st[0].register_forward_pre_hook(lambda *a: batches.append(time.perf_counter()))
    yield emb, batches
    handle.remove()


def test_cancelled_aembed_stops_the_worker_and_frees_the_model(
    counted_batches: tuple[Embedder, list[float]],
) -> None:
    emb, batches = counted_batches
    texts = [f"sentence number {i} about some topic or other" for i in range(3000)]  # 375 batches
    expected_query = emb.embed_query("hello").vectors
    batches.clear()

    async def main() -> tuple[int, int, np.ndarray]:
        job = asyncio.create_task(emb.aembed_documents(texts))
        while len(batches) < 3:
            await asyncio.sleep(0.005)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        at_cancel = len(batches)
        query = await emb.aembed_query("hello")
        await asyncio.sleep(0.3)  # a worker still running would keep adding batches
        return at_cancel, len(batches), query.vectors

    at_cancel, at_end, query = asyncio.run(main())
    # At most the batch in flight when cancelled, then the query's one batch.
    assert at_end - at_cancel <= 2, (at_cancel, at_end)
    assert at_end < 20
    np.testing.assert_array_equal(query, expected_query)


def test_uncancelled_aembed_equals_sync(counted_batches: tuple[Embedder, list[float]]) -> None:
    emb, _ = counted_batches
    texts = [f"text {i}" for i in range(40)]
    np.testing.assert_array_equal(
        asyncio.run(emb.aembed_documents(texts)).vectors, emb.embed_documents(texts).vectors
    )


# -- item 9: loading is quiet unless show_progress ------------------------------------------------
@pytest.fixture
def transformers_warnings() -> Iterator[None]:
    """transformers at its default verbosity (the tiny-model fixture sets it to error)."""
    import transformers

    level = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_warning()
    yield
    transformers.logging.set_verbosity(level)


def test_second_adapter_loads_quietly_and_show_progress_shows_bars(
    folder: Path, transformers_warnings: None, capfd: pytest.CaptureFixture[str]
) -> None:
    first = _embedder(folder, "text-matching")  # kept alive: the model is shared, not reloaded
    first.embed_documents(TEXTS)
    second = _embedder(folder, "clustering")
    second.embed_documents(TEXTS)  # transformers alone prints a LOAD REPORT table here
    assert second._backend.model_for("clustering") is first._backend.model_for("text-matching")
    err = capfd.readouterr().err
    for noise in ("LOAD REPORT", "MISSING", "Loading weights", "Batches"):
        assert noise not in err, err
    third = _embedder(folder, "classification", show_progress=True)
    third.embed_documents(TEXTS)
    err = capfd.readouterr().err
    assert "Loading weights" in err and "Batches" in err and "LOAD REPORT" not in err


def test_adapter_load_report_goes_to_debug_log(
    folder: Path, transformers_warnings: None, caplog: pytest.LogCaptureFixture
) -> None:
    first = _embedder(folder, "text-matching")
    first.embed_documents(TEXTS)
    with caplog.at_level("DEBUG", logger="jina_embeddings"):
        _embedder(folder, "clustering").embed_documents(TEXTS)
    assert any("load_adapter('clustering') report" in r.getMessage() for r in caplog.records)


def test_quiet_progress_restores_the_switch_after_nesting() -> None:
    import transformers.utils.logging as tf_logging

    before = tf_logging.is_progress_bar_enabled()
    with loading.quiet_progress(False):
        with loading.quiet_progress(False):
            assert not tf_logging.is_progress_bar_enabled()
        assert not tf_logging.is_progress_bar_enabled()
    assert tf_logging.is_progress_bar_enabled() == before
    with loading.quiet_progress(True):
        assert tf_logging.is_progress_bar_enabled() == before


def test_wrong_rank_message_quotes_the_hidden_report(folder: Path) -> None:
    _wrong_rank(folder / "adapters" / "clustering")
    with pytest.raises(ModelNotFoundError) as info:
        _embedder(folder, "clustering").embed_documents(TEXTS)
    message = str(info.value)
    assert "MISMATCH" in message and "above report" not in message
    assert json.loads((folder / "adapters" / "clustering" / "adapter_config.json").read_text())["r"] == 4
