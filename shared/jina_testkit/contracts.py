"""Contract suites: what every backend must do, written once, run against each.

Subclass :class:`EmbedderContract` and provide an ``embedder_factory`` fixture returning a
callable ``(**options) -> Embedder``; every test below then runs against that backend.
Set ``has_roles = False`` for models without query/document distinctions (plain ST models).

    class TestFakeBackend(EmbedderContract):
        @pytest.fixture
        def embedder_factory(self):
            return lambda **kw: Embedder("jina-embeddings-v5-text-small", backend="fake", **kw)
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder, InvalidInputError

__all__ = ["TEXTS", "EmbedderContract"]

TEXTS = [
    "Berlin is the capital of Germany.",
    "The quick brown fox jumps over the lazy dog.",
    "Embeddings map text to vectors for semantic search.",
    "Le renard brun rapide saute par-dessus le chien paresseux.",
    "short",
    "A considerably longer sentence that talks about retrieval augmented generation, "
    "vector databases, chunking strategies and rerankers, to vary the padding in a batch.",
]

BAD_ITEMS: list[tuple[str, Any]] = [
    ("empty", ""),
    ("whitespace", "   \n\t"),
    ("none", None),
    ("int", 7),
    ("bytes", b"bytes"),
    ("nan", math.nan),
    ("lone-surrogate", "ok \ud800 no"),
]


class EmbedderContract:
    """Backend-independent behaviour of :class:`~jina_embeddings.Embedder`."""

    has_roles: bool = True
    dimensions: int | None = None  # a valid Matryoshka size to test cutting with
    atol: float = 1e-5

    @pytest.fixture
    def embedder_factory(self) -> Callable[..., Embedder]:
        raise NotImplementedError("subclasses provide embedder_factory")

    @pytest.fixture
    def embedder(self, embedder_factory: Callable[..., Embedder]) -> Embedder:
        return embedder_factory()

    def test_shape_order_and_batch_invariance(self, embedder: Embedder) -> None:
        res = embedder.embed_documents(TEXTS)
        assert res.vectors.shape[0] == len(TEXTS)
        assert res.role == "document"
        for i in (0, 4, len(TEXTS) - 1):  # each row is its own text's vector, in order
            alone = embedder.embed_documents([TEXTS[i]]).vectors[0]
            np.testing.assert_allclose(res.vectors[i], alone, atol=self.atol)
        distinct = {tuple(np.round(v, 4)) for v in res.vectors}
        assert len(distinct) == len(TEXTS)

    def test_unit_norm_and_finite(self, embedder: Embedder) -> None:
        vecs = embedder.embed_documents(TEXTS).vectors
        assert np.isfinite(vecs).all()
        np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3)

    def test_query_and_document_roles(self, embedder: Embedder) -> None:
        q = embedder.embed_query(TEXTS[0]).vectors[0]
        d = embedder.embed_documents([TEXTS[0]]).vectors[0]
        if self.has_roles:
            assert float(q @ d) < 0.9999, "query and document of a retrieval model must differ"
        else:
            np.testing.assert_allclose(q, d, atol=self.atol)

    def test_empty_list_returns_empty(self, embedder: Embedder) -> None:
        res = embedder.embed_documents([])
        assert len(res) == 0 and res.vectors.shape[0] == 0

    @pytest.mark.parametrize(("name", "bad"), BAD_ITEMS, ids=[n for n, _ in BAD_ITEMS])
    def test_bad_item_is_named(self, embedder: Embedder, name: str, bad: Any) -> None:
        with pytest.raises(InvalidInputError) as info:
            embedder.embed_documents(["fine", bad, "also fine"])
        assert info.value.index == 1
        assert "index 1" in str(info.value)

    def test_bare_string_refused(self, embedder: Embedder) -> None:
        with pytest.raises(InvalidInputError, match="single str"):
            embedder.embed_documents("not a list")

    def test_async_equals_sync(self, embedder: Embedder) -> None:
        sync = embedder.embed_documents(TEXTS).vectors
        result = asyncio.run(embedder.aembed_documents(TEXTS)).vectors
        np.testing.assert_allclose(result, sync, atol=self.atol)
        q_sync = embedder.embed_query(TEXTS[1]).vectors
        q_async = asyncio.run(embedder.aembed_query(TEXTS[1])).vectors
        np.testing.assert_allclose(q_async, q_sync, atol=self.atol)

    def test_dimensions_cut_renormalized(self, embedder_factory: Callable[..., Embedder]) -> None:
        if self.dimensions is None:
            pytest.skip("no Matryoshka size declared for this backend's model")
        full = embedder_factory().embed_documents(TEXTS).vectors
        cut = embedder_factory(dimensions=self.dimensions).embed_documents(TEXTS).vectors
        assert cut.shape == (len(TEXTS), self.dimensions)
        expected = full[:, : self.dimensions]
        expected = expected / np.linalg.norm(expected, axis=1, keepdims=True)
        np.testing.assert_allclose(cut, expected, atol=1e-4)

    def test_binary_matches_float_signs(self, embedder_factory: Callable[..., Embedder]) -> None:
        floats = embedder_factory().embed_documents(TEXTS)
        packed = embedder_factory(precision="ubinary").embed_documents(TEXTS)
        np.testing.assert_array_equal(packed.vectors, np.packbits(floats.vectors > 0, axis=-1))
        unpacked = np.asarray(packed.to_float_lists())
        assert unpacked.shape == floats.vectors.shape
        np.testing.assert_array_equal(unpacked, np.where(floats.vectors > 0, 1.0, -1.0))
