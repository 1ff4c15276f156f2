"""The core picks the right LoRA adapter per task on v5-style folders (tiny Qwen3/XLM-R/EuroBERT)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jina_embeddings import Embedder

TASKS = ("retrieval", "text-matching", "clustering", "classification")
TEXTS = ["The fox jumps over the dog.", "Embeddings for search, bitte.", "Un chien dort."]


def peft_reference(folder: Path, arch: str, task: str, prompt: str, texts: list[str]) -> np.ndarray:
    """Without sentence-transformers or the core: transformers + peft + manual pooling."""
    import torch
    from peft import PeftModel
    from transformers import AutoModel, AutoTokenizer

    base = AutoModel.from_pretrained(str(folder))
    model = PeftModel.from_pretrained(base, str(folder / "adapters" / task)).eval()
    tok = AutoTokenizer.from_pretrained(str(folder))
    rows = []
    with torch.no_grad():
        for text in texts:  # one at a time: no padding to get right
            hidden = model(**tok(prompt + text, return_tensors="pt")).last_hidden_state[0]
            pooled = hidden[-1] if arch == "qwen3" else hidden.mean(0)  # last-token vs mean pooling
            rows.append((pooled / pooled.norm()).numpy())
    return np.stack(rows)


def test_every_task_gives_different_vectors(tiny_models: dict[str, Path]) -> None:
    for arch, folder in tiny_models.items():
        vecs = {
            t: Embedder(folder, backend="local", task=t, dtype="float32").embed_documents(TEXTS).vectors
            for t in TASKS
        }
        for t, v in vecs.items():
            assert v.shape == (3, 64), (arch, t)
            np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
        for a in TASKS:
            for b in TASKS:
                if a < b:
                    assert np.abs(vecs[a] - vecs[b]).max() > 1e-3, (arch, a, b)


def test_documents_equal_the_transformers_peft_reference_per_task(tiny_models: dict[str, Path]) -> None:
    folder = tiny_models["qwen3"]  # the v5-text-small stand-in: all four adapters
    for task in TASKS:
        got = Embedder(folder, backend="local", task=task, dtype="float32").embed_documents(TEXTS)
        assert (got.task, got.role, got.dimensions) == (task, "document", 64)
        np.testing.assert_allclose(
            got.vectors, peft_reference(folder, "qwen3", task, "Document: ", TEXTS), atol=2e-5, err_msg=task
        )


def test_retrieval_queries_equal_the_reference_on_every_arch(tiny_models: dict[str, Path]) -> None:
    for arch, folder in tiny_models.items():
        emb = Embedder(folder, backend="local", task="retrieval", dtype="float32")
        queries = emb.embed_queries(TEXTS).vectors
        np.testing.assert_allclose(
            queries, peft_reference(folder, arch, "retrieval", "Query: ", TEXTS), atol=2e-5, err_msg=arch
        )
        # and the reference itself tells adapters apart: a wrong adapter could not pass the check above
        wrong = peft_reference(folder, arch, "clustering", "Query: ", TEXTS)
        assert np.abs(queries - wrong).max() > 1e-3, arch


def test_merged_adapter_equals_the_dynamic_one(tiny_models: dict[str, Path]) -> None:
    """merge_adapters=True folds the task's LoRA into the weights: same vectors, no adapter switching."""
    folder = tiny_models["qwen3"]
    for task in ("retrieval", "classification"):
        dynamic = Embedder(folder, backend="local", task=task, dtype="float32").embed_queries(TEXTS).vectors
        merged = (
            Embedder(folder, backend="local", task=task, merge_adapters=True, dtype="float32")
            .embed_queries(TEXTS)
            .vectors
        )
        np.testing.assert_allclose(merged, dynamic, atol=1e-5, err_msg=task)
