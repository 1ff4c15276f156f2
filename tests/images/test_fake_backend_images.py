"""``backend="fake"`` takes images too (a vector per image bytes), for users' own offline tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder, Image, InvalidInputError, Reranker


def test_fake_images_are_deterministic_by_bytes(png_bytes: list[bytes], pil_images: list[Any]) -> None:
    emb = Embedder("jina-clip-v2", backend="fake", dimensions=64)
    a = emb.embed_images([png_bytes[0], png_bytes[1], png_bytes[0]])
    assert a.vectors.shape == (3, 64)
    np.testing.assert_array_equal(a.vectors[0], a.vectors[2])
    assert not np.allclose(a.vectors[0], a.vectors[1])
    mixed = emb.embed([Image.from_bytes(png_bytes[1]), "a caption"])
    np.testing.assert_allclose(mixed.vectors[0], a.vectors[1], atol=1e-6)


def test_fake_refuses_urls_and_text_models(png_bytes: list[bytes]) -> None:
    with pytest.raises(InvalidInputError, match="not fetched by backend='fake'"):
        Embedder("jina-clip-v2", backend="fake").embed_images(["https://example.com/a.png"])
    with pytest.raises(InvalidInputError, match="takes text only"):
        Embedder("jina-embeddings-v3", backend="fake").embed_images([png_bytes[0]])


def test_fake_m0_ranks_image_documents(png_bytes: list[bytes]) -> None:
    result = Reranker("jina-reranker-m0", backend="fake").rerank(
        "cat", [Image.from_bytes(png_bytes[0]), "a cat"]
    )
    assert [r.index for r in result] == [1, 0]
