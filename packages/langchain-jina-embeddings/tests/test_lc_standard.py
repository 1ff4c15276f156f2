"""LangChain's own standard suites (langchain-tests), run on every backend.

``langchain_tests`` builds the model with ``self.embeddings_class(**self.embedding_model_params)``;
params that depend on a pytest fixture (a model folder, a live server) are read by an
autouse fixture into the test instance before that happens.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from langchain_jina_embeddings import JinaEmbeddings


class _Jina:
    """Shared by every suite below: the class, and params filled in by a fixture."""

    params: dict[str, Any] = {}

    @property
    def embeddings_class(self) -> type[JinaEmbeddings]:
        return JinaEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return dict(self.params)


class _Fake(_Jina):
    params = {"backend": "fake", "dimensions": 64}


class _MiniLM(_Jina):
    @pytest.fixture(autouse=True)
    def _model_folder(self, minilm_path: str) -> None:
        self.params = {"model": minilm_path, "backend": "local", "device": "cpu"}


class _TinyV5(_Jina):
    @pytest.fixture(autouse=True)
    def _model_folder(self, tiny_models: dict[str, Any]) -> None:
        self.params = {
            "model": str(tiny_models["qwen3"]),
            "backend": "local",
            "device": "cpu",
            "task": "retrieval",
        }


class _API(_Jina):
    @pytest.fixture(autouse=True)
    def _server(self, fake_jina_server: Any) -> None:
        self.params = {"base_url": fake_jina_server.base_url, "api_key": "jina_test", "dimensions": 256}


class _EnvKey:
    """``test_init_from_env``: the key comes from ``JINA_API_KEY`` when none is passed."""

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        params = {k: v for k, v in self.embedding_model_params.items() if k != "api_key"}  # type: ignore[attr-defined]
        return {"JINA_API_KEY": "jina_env_key"}, params, {"api_key": "jina_env_key"}


class TestFakeUnit(_EnvKey, _Fake, EmbeddingsUnitTests):
    pass


class TestFakeIntegration(_Fake, EmbeddingsIntegrationTests):
    pass


@pytest.mark.local
class TestMiniLMUnit(_EnvKey, _MiniLM, EmbeddingsUnitTests):
    pass


@pytest.mark.local
class TestMiniLMIntegration(_MiniLM, EmbeddingsIntegrationTests):
    pass


@pytest.mark.local
class TestTinyV5Unit(_EnvKey, _TinyV5, EmbeddingsUnitTests):
    pass


@pytest.mark.local
class TestTinyV5Integration(_TinyV5, EmbeddingsIntegrationTests):
    pass


class TestAPIUnit(_EnvKey, _API, EmbeddingsUnitTests):
    pass


class TestAPIIntegration(_API, EmbeddingsIntegrationTests):
    pass
