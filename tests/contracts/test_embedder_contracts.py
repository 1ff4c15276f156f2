"""The shared Embedder contract, run against every local-capable backend and model kind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from jina_embeddings import Embedder
from jina_testkit.contracts import EmbedderContract


class TestFakeBackend(EmbedderContract):
    dimensions = 256

    @pytest.fixture
    def embedder_factory(self) -> Callable[..., Embedder]:
        return lambda **kw: Embedder("jina-embeddings-v5-text-small", backend="fake", **kw)


@pytest.mark.local
class TestLocalTinyV5(EmbedderContract):
    """A Jina v5-shaped folder: LoRA adapters, Query:/Document: prompts, 64-d."""

    dimensions = 32

    @pytest.fixture
    def embedder_factory(self, tiny_models: dict[str, Path]) -> Callable[..., Embedder]:
        return lambda **kw: Embedder(tiny_models["qwen3"], backend="local", **{"dtype": "float32", **kw})


@pytest.mark.local
class TestLocalMiniLM(EmbedderContract):
    """A plain sentence-transformers folder: no tasks, no prompts, real weights."""

    has_roles = False
    dimensions = 128

    @pytest.fixture
    def embedder_factory(self, minilm_path: str) -> Callable[..., Embedder]:
        return lambda **kw: Embedder(minilm_path, backend="local", **{"dtype": "float32", **kw})
