"""Fixtures for the local speed paths: an ONNX cache of this session, plain tiny models per pooling."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Exports of this session go to a temporary folder, never the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("onnx-cache")
    saved = os.environ.get("JINA_EMBEDDINGS_ONNX_CACHE")
    os.environ["JINA_EMBEDDINGS_ONNX_CACHE"] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop("JINA_EMBEDDINGS_ONNX_CACHE", None)
    else:
        os.environ["JINA_EMBEDDINGS_ONNX_CACHE"] = saved


@pytest.fixture(scope="session")
def plain_tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """(arch, pooling) -> a plain sentence-transformers folder (no adapters) with that pooling:
    the poolings the v5-shaped tiny models do not cover (CLS, max) and right/left padding."""
    pytest.importorskip("sentence_transformers")
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer
    from transformers import AutoModel

    from jina_testkit.tiny_models import build_config, build_tokenizer

    transformers.logging.set_verbosity_error()
    root = tmp_path_factory.mktemp("plain-tiny")
    out: dict[tuple[str, str], Path] = {}
    for arch, pooling in (
        ("xlm-roberta", "cls"),
        ("xlm-roberta", "max"),
        ("qwen3", "mean"),
        ("eurobert", "lasttoken"),
    ):
        torch.manual_seed(1)
        hf_dir = root / f".{arch}-{pooling}-hf"
        tok = build_tokenizer(arch)
        AutoModel.from_config(build_config(arch, tok)).save_pretrained(hf_dir)
        tok.save_pretrained(hf_dir)
        first = Transformer(str(hf_dir), max_seq_length=128)
        dim = getattr(first, "get_embedding_dimension", None) or first.get_word_embedding_dimension
        st = SentenceTransformer(
            modules=[first, Pooling(dim(), pooling_mode=pooling), Normalize()], device="cpu"
        )
        folder = root / f"{arch}-{pooling}"
        st.save(str(folder))
        out[(arch, pooling)] = folder
    return out
