"""Local multi-vector: token vectors, MaxSim, query expansion and truncation on a tiny ColBERT."""

from __future__ import annotations

import numpy as np
import pytest

from jina_embeddings import InvalidInputError, MultiVectorEmbedder, MultiVectorEmbeddings, Reranker, maxsim

pytestmark = pytest.mark.local  # torch and sentence-transformers

DOCS = [
    "The quick brown fox jumps over the lazy dog.",
    "Embeddings map text to vectors for semantic search!",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Retrieval augmented generation needs a good embedding model.",
]
QUERY = "which fox jumps?"


@pytest.fixture(scope="module")
def mv(tiny_colbert_path: str) -> MultiVectorEmbedder:
    return MultiVectorEmbedder(tiny_colbert_path, backend="local", dtype="float32")


def hand_maxsim(q: np.ndarray, d: np.ndarray) -> float:
    total = 0.0
    for qi in q:
        total += max(float(np.dot(qi.astype(np.float64), dj.astype(np.float64))) for dj in d)
    return total


def test_token_vectors_equal_multivector_encoder(mv: MultiVectorEmbedder, mve) -> None:
    docs = mv.embed_documents(DOCS)
    ref = mve.encode_document(DOCS, convert_to_numpy=True)
    assert docs.lengths == [r.shape[0] for r in ref]
    for got, want in zip(docs.vectors, ref, strict=True):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, atol=1e-6)
    q = mv.embed_query(QUERY)
    np.testing.assert_allclose(q.vectors[0], mve.encode_query([QUERY], convert_to_numpy=True)[0], atol=1e-6)
    assert q.role == "query" and docs.role == "document"


def test_dimensions_cut_then_renormalize_per_token(tiny_colbert_path: str, mve) -> None:
    mv64 = MultiVectorEmbedder(tiny_colbert_path, backend="local", dtype="float32", dimensions=64)
    got = mv64.embed_documents(DOCS[:2])
    for g, full in zip(got.vectors, mve.encode_document(DOCS[:2], convert_to_numpy=True), strict=True):
        cut = full[:, :64] / np.linalg.norm(full[:, :64], axis=1, keepdims=True)
        assert g.shape[1] == 64
        np.testing.assert_allclose(g, cut, atol=1e-6)
        np.testing.assert_allclose(np.linalg.norm(g, axis=1), 1.0, atol=1e-5)


def test_query_expansion_to_exactly_32_and_truncation(
    mv: MultiVectorEmbedder, tiny_colbert_path: str
) -> None:
    short = mv.embed_query("fox")
    assert short.vectors[0].shape == (32, 128) and short.truncated == 0
    long_query = " ".join(["fox jumps"] * 40)
    res = mv.embed_queries(["fox", long_query])
    assert res.lengths == [32, 32]
    assert res.truncated == 1 and res.truncated_indices == (1,)
    # The marker and special tokens count: a query of exactly 32 tokens is not truncated.
    strict = MultiVectorEmbedder(tiny_colbert_path, backend="local", dtype="float32", truncate=False)
    with pytest.raises(InvalidInputError, match="query at index 1 has .* over .* query length of 32") as err:
        strict.embed_queries(["fox", long_query])
    assert err.value.index == 1


def test_query_boundary_is_exact(mv: MultiVectorEmbedder, tiny_colbert_path: str) -> None:
    from jina_embeddings import Role

    loaded = mv._backend.loaded()
    strict = MultiVectorEmbedder(tiny_colbert_path, backend="local", dtype="float32", truncate=False)
    candidates = [
        " ".join(["fox"] * k) + tail for k in range(1, 40) for tail in ("", " a", " dog", "s", " the")
    ]
    counts = dict(zip(candidates, loaded.token_counts(candidates, Role.QUERY), strict=True))
    exact = next(t for t, n in counts.items() if n == 32)  # marker and special tokens included
    over = next(t for t, n in counts.items() if n == 33)
    assert strict.embed_query(exact).lengths == [32]  # fits exactly: no error, not counted
    assert mv.embed_query(exact).truncated == 0
    assert mv.embed_query(over).truncated == 1
    with pytest.raises(InvalidInputError):
        strict.embed_query(over)


def test_document_length_from_checkpoint(mv: MultiVectorEmbedder, mve) -> None:
    long_doc = " ".join(["semantic search"] * 200)
    res = mv.embed_documents([long_doc, DOCS[0]])
    assert res.truncated == 1 and res.truncated_indices == (0,)
    assert res.lengths[0] == 180  # document_length 180, no punctuation to skip
    np.testing.assert_allclose(
        res.vectors[0], mve.encode_document([long_doc], convert_to_numpy=True)[0], atol=1e-6
    )


def test_skiplist_drops_punctuation_tokens(mv: MultiVectorEmbedder) -> None:
    plain, punct = mv.embed_documents(["fox dog", "fox , dog ."]).lengths
    assert punct < plain + 4  # the two punctuation tokens (and their spaces) are not all scored
    assert mv.embed_queries(["fox dog", "fox , dog ."]).lengths == [32, 32]  # queries keep them


def test_maxsim_equals_hand_computation(mv: MultiVectorEmbedder) -> None:
    q = mv.embed_query(QUERY).vectors[0]
    docs = mv.embed_documents(DOCS)
    hand = [hand_maxsim(q, d) for d in docs.vectors]
    np.testing.assert_allclose([maxsim(q, d) for d in docs.vectors], hand, rtol=1e-5)
    np.testing.assert_allclose(mv.score(QUERY, DOCS), hand, rtol=1e-5)


def test_rerank_order_equals_maxsim_order(tiny_colbert_path: str, mv: MultiVectorEmbedder) -> None:
    rr = Reranker(tiny_colbert_path, backend="local", dtype="float32")
    scores = mv.score(QUERY, DOCS)
    result = rr.rerank(QUERY, DOCS)
    assert result.indices == list(np.argsort(-scores, kind="stable"))
    np.testing.assert_allclose(result.scores, np.sort(scores)[::-1], rtol=1e-6)
    assert rr.rerank(QUERY, DOCS, top_n=2).indices == result.indices[:2]


def test_rerank_with_precomputed_vectors_encodes_only_the_query(
    tiny_colbert_path: str, mv: MultiVectorEmbedder
) -> None:
    rr = Reranker(tiny_colbert_path, backend="local", dtype="float32")
    stored = mv.embed_documents(DOCS).to_blobs("float32", as_text=True)
    roles: list[tuple[str, int]] = []
    inner = rr._backend.inner
    original = inner.embed

    def spy(request):
        roles.append((request.binding.role.value, len(request.texts)))
        return original(request)

    inner.embed = spy
    full = rr.rerank(QUERY, DOCS)
    pre = rr.rerank(QUERY, DOCS, document_vectors=stored)
    mixed = rr.rerank(QUERY, DOCS, document_vectors=[stored[0], None, stored[2], None])
    assert roles == [("query", 1), ("document", 4), ("query", 1), ("query", 1), ("document", 2)]
    assert pre.indices == full.indices == mixed.indices
    np.testing.assert_allclose(pre.scores, full.scores, rtol=1e-6)


def test_rerank_with_narrower_stored_vectors_cuts_the_query(tiny_colbert_path: str) -> None:
    rr = Reranker(tiny_colbert_path, backend="local", dtype="float32")
    mv64 = MultiVectorEmbedder(tiny_colbert_path, backend="local", dtype="float32", dimensions=64)
    stored = mv64.embed_documents(DOCS).vectors
    got = rr.rerank(QUERY, DOCS, document_vectors=stored)
    want = mv64.score(QUERY, DOCS)
    np.testing.assert_allclose(sorted(got.scores, reverse=True), np.sort(want)[::-1], rtol=1e-5)


async def test_async_twins_equal_sync(mv: MultiVectorEmbedder, tiny_colbert_path: str) -> None:
    sync = mv.embed_documents(DOCS)
    got = await mv.aembed_documents(DOCS)
    for a, b in zip(sync.vectors, got.vectors, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal((await mv.aembed_query(QUERY)).vectors[0], mv.embed_query(QUERY).vectors[0])
    np.testing.assert_allclose(await mv.ascore(QUERY, DOCS), mv.score(QUERY, DOCS), rtol=1e-6)
    rr = Reranker(tiny_colbert_path, backend="local", dtype="float32")
    assert (await rr.arerank(QUERY, DOCS)).indices == rr.rerank(QUERY, DOCS).indices


def test_storage_round_trip(mv: MultiVectorEmbedder) -> None:
    docs = mv.embed_documents(DOCS)
    exact = MultiVectorEmbeddings.from_bytes(docs.to_bytes("float32"), model=docs.model)
    half_blob = docs.to_bytes("float16")
    half = MultiVectorEmbeddings.from_bytes(half_blob, model=docs.model)
    assert exact.lengths == half.lengths == docs.lengths
    for a, b, c in zip(docs.vectors, exact.vectors, half.vectors, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, atol=1e-3)
    values = sum(docs.lengths) * 128
    assert len(half_blob) == 8 + 16 * len(DOCS) + 2 * values  # header, one header per input, float16
    assert len(docs.to_bytes("float32")) == 8 + 16 * len(DOCS) + 4 * values


def test_float16_precision(tiny_colbert_path: str, mv: MultiVectorEmbedder) -> None:
    half = MultiVectorEmbedder(tiny_colbert_path, backend="local", dtype="float32", precision="float16")
    got = half.embed_documents(DOCS[:1])
    assert got.vectors[0].dtype == np.float16 and got.precision == "float16"
    np.testing.assert_allclose(got.vectors[0], mv.embed_documents(DOCS[:1]).vectors[0], atol=1e-3)


def test_empty_input_makes_no_call(mv: MultiVectorEmbedder) -> None:
    assert len(mv.embed_documents([])) == 0
    assert mv.score(QUERY, []).shape == (0,)
