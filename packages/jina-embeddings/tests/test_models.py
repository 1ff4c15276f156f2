"""Registry facts and specs read from folders (no weights loaded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jina_embeddings import MODELS, ModelNotFoundError, get_spec, list_models

EXPECTED = {
    # name: (native dim, max tokens, tasks, licence)
    "jina-embeddings-v5-text-small": (1024, 32768, 4, "cc-by-nc-4.0"),
    "jina-embeddings-v5-text-nano": (768, 8192, 4, "cc-by-nc-4.0"),
    "jina-embeddings-v3": (1024, 8192, 4, "cc-by-nc-4.0"),
    "jina-embeddings-v4": (2048, 32768, 3, "cc-by-nc-4.0"),
    "jina-code-embeddings-0.5b": (896, 32768, 5, "cc-by-nc-4.0"),
    "jina-code-embeddings-1.5b": (1536, 32768, 5, "cc-by-nc-4.0"),
    "jina-clip-v2": (1024, 8192, 1, "cc-by-nc-4.0"),
    "jina-colbert-v2": (128, 8192, 1, "cc-by-nc-4.0"),
    "jina-embeddings-v2-base-en": (768, 8192, 0, "apache-2.0"),
    "jina-embeddings-v2-base-de": (768, 8192, 0, "apache-2.0"),
    "jina-embeddings-v2-base-es": (768, 8192, 0, "apache-2.0"),
    "jina-embeddings-v2-base-zh": (768, 8192, 0, "apache-2.0"),
    "jina-embeddings-v2-base-code": (768, 8192, 0, "apache-2.0"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_registry_facts(name: str) -> None:
    spec = MODELS[name]
    dim, max_tokens, n_tasks, licence = EXPECTED[name]
    assert (spec.native_dim, spec.max_tokens, len(spec.tasks), spec.license) == (
        dim,
        max_tokens,
        n_tasks,
        licence,
    )
    assert spec.hf_repo == f"jinaai/{name}" and spec.api_name == name
    if spec.matryoshka_dims:
        assert spec.matryoshka_dims[-1] == dim and list(spec.matryoshka_dims) == sorted(spec.matryoshka_dims)


def test_rerankers_and_merged_repos() -> None:
    assert {s.name for s in list_models("reranker")} == {
        "jina-reranker-v3",
        "jina-reranker-m0",
        "jina-reranker-v2-base-multilingual",
    }
    merged = MODELS["jina-embeddings-v5-text-small-retrieval"]
    assert (merged.fixed_task, merged.tasks, merged.adapter_layout, merged.base_model) == (
        "retrieval",
        ("retrieval",),
        "merged",
        "jina-embeddings-v5-text-small",
    )
    assert MODELS["jina-embeddings-v5-text-nano-clustering"].trust_remote_code is True
    assert MODELS["jina-embeddings-v5-text-small-clustering"].trust_remote_code is False


def test_lookup_by_repo_id_and_generic_repo() -> None:
    assert get_spec("jinaai/jina-embeddings-v3") is MODELS["jina-embeddings-v3"]
    generic = get_spec("sentence-transformers/all-MiniLM-L6-v2")
    assert (generic.family, generic.tasks, generic.hf_repo) == (
        "generic",
        (),
        "sentence-transformers/all-MiniLM-L6-v2",
    )


def test_unknown_name_lists_registry() -> None:
    with pytest.raises(ModelNotFoundError, match="jina-embeddings-v5-text-small"):
        get_spec("jina-embeddings-v9")


def test_kind_mismatch() -> None:
    with pytest.raises(ModelNotFoundError, match="is a reranker model, not an embedding model"):
        get_spec("jina-reranker-v3", kind="embedding")


def test_folder_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="neither modules.json"):
        get_spec(tmp_path)


def test_minilm_folder_is_generic(minilm_path: str) -> None:
    spec = get_spec(minilm_path)
    assert (spec.family, spec.native_dim, spec.tasks, spec.pooling, spec.max_tokens) == (
        "generic",
        384,
        (),
        "mean",
        256,
    )
    assert spec.matryoshka_dims is None and spec.prompts == {}


def _fake_v5_folder(root: Path, dim: int, tasks: tuple[str, ...]) -> Path:
    (root / "1_Pooling").mkdir(parents=True)
    (root / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            ]
        )
    )
    (root / "config.json").write_text(json.dumps({"hidden_size": dim}))
    (root / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": dim, "pooling_mode_lasttoken": True})
    )
    (root / "config_sentence_transformers.json").write_text(
        json.dumps({"prompts": {"query": "Q> ", "document": "D> "}})
    )
    for t in tasks:
        (root / "adapters" / t).mkdir(parents=True)
        (root / "adapters" / t / "adapter_config.json").write_text("{}")
    return root


def test_v5_like_folder(tmp_path: Path) -> None:
    spec = get_spec(_fake_v5_folder(tmp_path / "m", 96, ("retrieval", "clustering")))
    assert spec.family == "v5" and spec.adapter_layout == "peft"
    assert spec.tasks == ("retrieval", "clustering") and spec.default_task == "retrieval"
    assert spec.native_dim == 96 and spec.matryoshka_dims == (32, 64, 96)
    assert spec.prompts == {"query": "Q> ", "document": "D> "} and spec.pooling == "lasttoken"


def test_tiny_model_folders(tiny_models: dict[str, Path]) -> None:
    for arch, folder in tiny_models.items():
        spec = get_spec(folder)
        assert spec.family == "v5", arch
        assert spec.tasks == ("retrieval", "text-matching", "clustering", "classification")
        assert spec.native_dim == 64 and spec.matryoshka_dims == (32, 64)
        assert spec.prompts == {"query": "Query: ", "document": "Document: "}


def test_cross_encoder_folder(tiny_reranker_path: str) -> None:
    spec = get_spec(tiny_reranker_path)
    assert (spec.kind, spec.family) == ("reranker", "cross-encoder")
