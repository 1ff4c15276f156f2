"""v4 multi-vector locally, through the model's own ``encode_text(return_multivector=True)``.

No v4 weights exist offline: a tiny stand-in with v4's entry point and signature sits in a
Hugging Face cache under ``jinaai/jina-embeddings-v4`` (see ``jina_testkit.tiny_v4``), so the
registry name loads through the same path as the real repo.
"""

from __future__ import annotations

import numpy as np
import pytest

from jina_embeddings import MultiVectorEmbedder

pytestmark = pytest.mark.local  # torch and sentence-transformers


@pytest.fixture(scope="module")
def v4(tiny_v4_cache: str) -> MultiVectorEmbedder:
    return MultiVectorEmbedder(
        "jina-embeddings-v4",
        backend="local",
        cache_folder=tiny_v4_cache,
        local_files_only=True,
        dtype="float32",
    )


def own_code(v4: MultiVectorEmbedder, texts: list[str], task: str, prompt_name: str) -> list[np.ndarray]:
    model = v4._backend.loaded().model
    return model.encode_text(
        texts, task=task, prompt_name=prompt_name, return_multivector=True, return_numpy=True
    )


def test_v4_token_vectors_from_its_own_code(v4: MultiVectorEmbedder) -> None:
    texts = ["Berlin is the capital of Germany.", "fox"]
    docs = v4.embed_documents(texts)
    q = v4.embed_query("capital of Germany?")
    for got, want in zip(docs.vectors, own_code(v4, texts, "retrieval", "passage"), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_allclose(
        q.vectors[0], own_code(v4, ["capital of Germany?"], "retrieval", "query")[0], atol=1e-6
    )
    assert docs.dimensions == 128 and q.binding is not None and q.binding.adapter == "retrieval"
    as_query = v4.embed_queries(["fox"]).vectors[0]  # "Query: fox" vs "Passage: fox"
    assert as_query.shape != docs.vectors[1].shape or not np.allclose(as_query, docs.vectors[1])


def test_v4_text_matching_uses_the_query_prompt_on_both_sides(tiny_v4_cache: str) -> None:
    mv = MultiVectorEmbedder(
        "jina-embeddings-v4",
        backend="local",
        cache_folder=tiny_v4_cache,
        local_files_only=True,
        dtype="float32",
        task="text-matching",
    )
    a = mv.embed_documents(["same text"]).vectors[0]
    b = mv.embed_queries(["same text"]).vectors[0]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, own_code(mv, ["same text"], "text-matching", "query")[0], atol=1e-6)
