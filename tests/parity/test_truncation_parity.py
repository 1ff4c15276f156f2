"""truncate=False: a text far over the context gives the same error on every backend, unsent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jina_embeddings import Embedder, InvalidInputError

HUGE = " ".join(f"w{i % 97}" for i in range(40_000))  # 40k words: > 32,768 tokens for sure


def _backends(server: Any, minilm: str) -> dict[str, Callable[..., Embedder]]:
    model = "jina-embeddings-v5-text-small"
    return {
        "fake": lambda **kw: Embedder(model, backend="fake", **kw),
        "api": lambda **kw: Embedder(
            model, backend="api", base_url=server.base_url, api_key="jina_test", **kw
        ),
        "openai": lambda **kw: Embedder(
            f"{model}-retrieval", backend="openai", base_url=server.base_url, api_key="jina_test", **kw
        ),
        "local": lambda **kw: Embedder(minilm, backend="local", **kw),
    }


@pytest.mark.parametrize("backend", ["fake", "api", "openai", "local"])
def test_same_error_no_request_no_model_call(
    backend: str, fake_jina_server: Any, minilm_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jina_embeddings._backends import loading as _loading

    monkeypatch.setattr(_loading, "load_cached", lambda *a: pytest.fail("model loaded"))
    monkeypatch.setattr("jina_embeddings._backends.local.load_cached", lambda *a: pytest.fail("model loaded"))
    emb = _backends(fake_jina_server, minilm_path)[backend](truncate=False)
    with pytest.raises(InvalidInputError, match=r"text at index 1 has at least 40000 tokens") as info:
        emb.embed_documents(["fine", HUGE])
    assert (info.value.index, info.value.field) == (1, "truncate")
    assert fake_jina_server.requests == []
    emb.close()


def test_truncate_true_is_sent_to_the_api(fake_jina_server: Any) -> None:
    emb = Embedder(
        "jina-embeddings-v5-text-small",
        backend="api",
        base_url=fake_jina_server.base_url,
        api_key="jina_test",
    )
    emb.embed_documents(["a short text"])
    assert fake_jina_server.requests[-1].body["truncate"] is True
    strict = Embedder(
        "jina-embeddings-v5-text-small",
        backend="api",
        base_url=fake_jina_server.base_url,
        api_key="jina_test",
        truncate=False,
    )
    strict.embed_documents(["a short text"])
    assert fake_jina_server.requests[-1].body["truncate"] is False


def test_only_certain_tokens_count_toward_the_shortcut() -> None:
    """Zero-width spaces (and other format characters) may tokenize to nothing: 40,000 of them
    around two words are not 'certainly over' a 32,768-token context; 40,000 real words are."""
    from jina_embeddings import Embedder, InvalidInputError

    emb = Embedder("jina-embeddings-v5-text-small", backend="fake", truncate=False, dimensions=32)
    invisible = "\u200b " * 40_000 + "two words"
    assert emb.embed_documents([invisible]).vectors.shape == (1, 32)
    with pytest.raises(InvalidInputError, match="at least 40000 tokens") as info:
        emb.embed_documents(["ok", "word " * 40_000])
    assert info.value.index == 1
