"""Validation: every bad option or input fails with a typed error before any model call."""

from __future__ import annotations

import copy
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jina_embeddings import (
    APIKey,
    Embedder,
    EmbedOptions,
    InvalidInputError,
    LocalOptions,
    RemoteOptions,
    Reranker,
)
from jina_embeddings._backends import loading as _loading
from jina_embeddings.integration import KeyRef


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail the test if anything tries to load a local model; returns the attempts."""
    attempts: list[str] = []

    def refuse(key: str, loader: Any) -> Any:
        attempts.append(key)
        raise AssertionError(f"model load attempted: {key}")

    monkeypatch.setattr(_loading, "load_cached", refuse)
    monkeypatch.setattr("jina_embeddings._backends.local.load_cached", refuse)
    return attempts


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"precision": "int4"}, "precision", "Unknown precision 'int4'"),
        ({"dimensions": 0}, "dimensions", "must be an integer >= 1, got 0"),
        ({"dimensions": 100}, "dimensions", "not a Matryoshka size"),
        ({"dimensions": 2048}, "dimensions", "not a Matryoshka size"),
        ({"dimensions": True}, "dimensions", "integer"),
        ({"batch_size": 4096}, "batch_size", "1..2048"),
        ({"task": "sentiment"}, "task", "Valid tasks"),
        ({"normalize": "yes"}, "normalize", "True or False"),
        ({"quantization_ranges": [[0, 1]], "precision": "float32"}, "quantization_ranges", "only applies"),
        ({"quantization_ranges": np.zeros((3, 4)), "precision": "int8"}, "quantization_ranges", "shape"),
        ({"late_chunking": True}, "late_chunking", "pools by 'last-token', not by mean"),
        ({"dtype": "int4"}, "dtype", "dtype must be"),
        ({"dtype": "int8"}, "dtype", "runtime=.onnx."),
        ({"backend": "cloud"}, "backend", "Unknown backend"),
        ({"merge_adapters": 1}, "merge_adapters", "True or False"),
        ({"timeout": 5}, "timeout", "timeout only applies to remote"),
        ({"base_url": "ftp://x"}, "base_url", "http:// or https://"),
    ],
)
def test_bad_option_fails_at_construction(
    kwargs: dict[str, Any], field: str, message: str, no_model_load: list[str]
) -> None:
    opts = {"backend": "local", **kwargs}
    with pytest.raises(InvalidInputError, match=message) as info:
        Embedder("jina-embeddings-v5-text-small", **opts)
    assert info.value.field == field
    assert no_model_load == []


def test_local_options_rejected_for_remote() -> None:
    with pytest.raises(InvalidInputError, match="device only applies to backend=.local."):
        Embedder("jina-embeddings-v5-text-small", backend="fake", device="cuda")


def test_api_dimension_range_differs_from_local() -> None:
    # The API accepts any size up to native; the local model only its Matryoshka sizes.
    assert EmbedOptions(dimensions=100).for_model(Embedder("jina-embeddings-v3", backend="fake").spec, "api")
    with pytest.raises(InvalidInputError, match="exceeds"):
        EmbedOptions(dimensions=1025).for_model(Embedder("jina-embeddings-v3", backend="fake").spec, "api")
    with pytest.raises(InvalidInputError, match="does not accept dimensions"):
        EmbedOptions(dimensions=64).for_model(
            Embedder("jina-embeddings-v2-base-en", backend="fake").spec, "api"
        )


@pytest.mark.parametrize(
    ("texts", "index", "message"),
    [
        (["ok", ""], 1, "is empty"),
        (["   ", "ok"], 0, "whitespace-only"),
        (["ok", "ok", None], 2, "got NoneType"),
        ([b"bytes"], 0, "got bytes"),
        (["ok", math.nan], 1, "NaN"),
        ([1.5], 0, "got float"),
        (["ok", ["nested"]], 1, "got list"),
    ],
)
def test_bad_text_named_before_model_call(
    tiny_models: dict[str, Path], texts: list[Any], index: int, message: str, no_model_load: list[str]
) -> None:
    emb = Embedder(tiny_models["qwen3"], backend="local")
    with pytest.raises(InvalidInputError, match=message) as info:
        emb.embed_documents(texts)
    assert info.value.index == index and f"index {index}" in str(info.value)
    assert no_model_load == []


def test_bare_string_and_non_sequence(no_model_load: list[str], tiny_models: dict[str, Path]) -> None:
    emb = Embedder(tiny_models["qwen3"], backend="local")
    with pytest.raises(InvalidInputError, match="single str"):
        emb.embed_documents("abc")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="got set"):
        emb.embed_documents({"a", "b"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="query is empty"):
        emb.embed_query("")
    assert no_model_load == []


def test_int8_query_without_ranges_refused_before_call(
    no_model_load: list[str], tiny_models: dict[str, Path]
) -> None:
    emb = Embedder(tiny_models["qwen3"], backend="local", precision="int8")
    with pytest.raises(InvalidInputError, match="Ranges from a single query would be meaningless"):
        emb.embed_query("what?")
    with pytest.raises(InvalidInputError, match="at least 2 texts"):
        emb.embed_documents(["only one"])
    assert no_model_load == []


def test_empty_list_needs_no_model(no_model_load: list[str], tiny_models: dict[str, Path]) -> None:
    res = Embedder(tiny_models["qwen3"], backend="local", precision="ubinary", dimensions=32).embed_documents(
        []
    )
    assert res.vectors.shape == (0, 4) and res.vectors.dtype == np.uint8
    assert no_model_load == []


def test_reranker_validation(no_model_load: list[str], tiny_reranker_path: str) -> None:
    rr = Reranker(tiny_reranker_path, backend="local")
    with pytest.raises(InvalidInputError, match="query is whitespace-only"):
        rr.rerank("  ", ["a"])
    with pytest.raises(InvalidInputError, match="document at index 1"):
        rr.rerank("q", ["a", None])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="top_n"):
        rr.rerank("q", ["a"], top_n=0)
    assert len(rr.rerank("q", [])) == 0
    assert no_model_load == []


def test_options_are_frozen() -> None:
    opts = EmbedOptions(dimensions=64)
    with pytest.raises(AttributeError):
        opts.dimensions = 128  # type: ignore[misc]
    with pytest.raises(TypeError):
        EmbedOptions(64)  # type: ignore[misc]  # keyword-only
    assert LocalOptions() == LocalOptions() and RemoteOptions().max_concurrency == 4


def test_backend_choice_is_predictable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Embedder(backend="fake").backend_name == "fake"
    local = Embedder("jina-embeddings-v5-text-small")
    assert local.backend_name == "local" and "backend='local'" in repr(local)
    monkeypatch.setenv("JINAAI_API_KEY", "jina_ENVKEY")
    from jina_embeddings._apikey import resolve_api_key
    from jina_embeddings._frontend import choose_backend

    key = resolve_api_key(None)
    assert key is not None and key.source == "env:JINAAI_API_KEY"
    assert choose_backend(None, api_key=key, remote=RemoteOptions()) == (
        "api",
        "auto: API key from env:JINAAI_API_KEY",
    )
    assert (
        choose_backend(None, api_key=None, remote=RemoteOptions(base_url="http://127.0.0.1:1/v1"))[0] == "api"
    )


def test_api_key_never_shown_or_pickled() -> None:
    key = APIKey("jina_CANARY_0123456789")
    assert "CANARY" not in repr(key) and "CANARY" not in str(key) and "CANARY" not in f"{key}"
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key)
    emb = Embedder(backend="fake")
    emb._api_key = KeyRef(key)  # a fake backend never uses it, but pickling must still drop it
    blob = pickle.dumps(emb)
    assert b"CANARY" not in blob
    clone = pickle.loads(blob)
    assert clone._api_key.key is None and clone.embed_query("x").vectors.shape == (1, 1024)
    assert copy.deepcopy(emb)._api_key.key is key and copy.copy(emb)._api_key.key is key  # copies keep it


def test_unpickled_without_argument_key_fails_on_use_not_on_load(fake_jina_server: object) -> None:
    emb = Embedder("jina-embeddings-v5-text-small", backend="api", api_key="jina_CANARY_ARG")
    blob = pickle.dumps(emb)
    assert b"CANARY" not in blob
    clone = pickle.loads(blob)  # the hosted API needs a key: rebuilding the backend fails ...
    assert "backend='api'" in repr(clone)
    with pytest.raises(InvalidInputError, match="unpickled but its backend could not be rebuilt"):
        clone.embed_query("x")  # ... and the first use says why
    clone.close()


def test_messages_read_right() -> None:
    """Wording a user sees first: model names quoted once, articles, no hint to embed a document as a query."""
    from jina_embeddings import Reranker

    with pytest.raises(InvalidInputError) as info:
        Embedder("jina-embeddings-v3", backend="api", api_key="k", dimensions=4096)
    assert "jina-embeddings-v3's native size" in str(info.value) and "''s" not in str(info.value)
    with pytest.raises(InvalidInputError, match="is a reranker model, not an embedding model"):
        Embedder("jina-reranker-v3", backend="fake")
    with pytest.raises(InvalidInputError) as bare:
        Embedder(backend="fake").embed_documents("one document")  # type: ignore[arg-type]
    assert "wrap it in a list: ['one document']" in str(bare.value) and "embed_query" not in str(bare.value)
    with pytest.raises(InvalidInputError) as blank:
        Reranker(backend="fake").rerank("q", ["fine", "  "])
    assert "nothing in it to embed or score" in str(blank.value) and "embedding of it" not in str(blank.value)
    with pytest.raises(InvalidInputError, match=r"timeout, max_retries only apply to"):
        Embedder(backend="fake", timeout=5, max_retries=3)


@pytest.mark.parametrize("url", ["http://127.0.0.1:abc/v1", "http://[::1/v1", "http:///v1"])
def test_malformed_base_url_is_refused_at_construction(url: str) -> None:
    for make in (
        lambda: Embedder(backend="api", base_url=url, api_key="k"),
        lambda: RemoteOptions(base_url=url),
    ):
        with pytest.raises(InvalidInputError) as info:
            make()
        assert info.value.field == "base_url" and url not in str(info.value)
