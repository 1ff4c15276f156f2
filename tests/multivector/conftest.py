"""Fixtures of the multi-vector tests: the tiny ColBERT checkpoint and fast remote retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jina_embeddings import _constants as C
from jina_testkit.fake_api import FakeJinaServer

KEY = "jina_test"
COLBERT = "jina-colbert-v2"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr(C, "MAX_RETRY_DELAY", 0.01)


@pytest.fixture
def server() -> Iterator[FakeJinaServer]:
    srv = FakeJinaServer(api_key=KEY).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def mve(tiny_colbert_path: str):
    """sentence-transformers' own MultiVectorEncoder on the tiny checkpoint: the reference."""
    from sentence_transformers import MultiVectorEncoder

    return MultiVectorEncoder(tiny_colbert_path, device="cpu", local_files_only=True)
