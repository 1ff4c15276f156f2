"""Remote late chunking against the loopback fake Jina API (which late-chunks per request).

No request may mix documents, every request must stay within the late-chunking limit, and the
vectors must equal the server's for each document's group(s).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder, InvalidInputError
from jina_embeddings._backends.late_chunking_remote import chunk_tokens_bound, token_budget
from jina_testkit.fake_api import FakeJinaServer, expected_late_vectors, expected_vector

KEY = "jina_test"
V3 = "jina-embeddings-v3"


@pytest.fixture
def make(srv: FakeJinaServer) -> Iterator[Any]:
    made: list[Embedder] = []

    def factory(model: str = V3, **kwargs: Any) -> Embedder:
        emb = Embedder(model, backend="api", api_key=KEY, base_url=srv.base_url, **kwargs)
        made.append(emb)
        return emb

    yield factory
    for emb in made:
        emb.close()


def _requests(srv: FakeJinaServer) -> list[Any]:
    return [r for r in srv.requests if r.path == "/v1/embeddings"]


DOCS = [
    ["Acme was founded in 1998.", "It makes anvils.", "The company is in Berlin."],
    ["Photosynthesis needs light.", "Plants do it in leaves."],
    ["A one-chunk document."],
]


def test_one_request_per_document_and_server_vectors(srv: FakeJinaServer, make: Any) -> None:
    res = make(batch_size=2).embed_chunked(DOCS)  # batch_size never splits a document
    sent = sorted((tuple(r.body["input"]) for r in _requests(srv)), key=len)
    assert sorted(sent, key=len) == sorted((tuple(d) for d in DOCS), key=len)
    assert all(
        r.body["late_chunking"] is True and r.body["task"] == "retrieval.passage" for r in _requests(srv)
    )
    for doc, got in zip(DOCS, res, strict=True):
        np.testing.assert_allclose(
            got.vectors, expected_late_vectors(V3, "retrieval.passage", doc), atol=1e-6
        )
        alone = np.stack([expected_vector(V3, "retrieval.passage", c) for c in doc])
        if len(doc) > 1:
            assert np.abs(got.vectors - alone).max() > 1e-3  # the context changed them


def test_long_document_splits_into_consecutive_groups_within_the_limit(
    srv: FakeJinaServer, make: Any
) -> None:
    spec_budget = token_budget(make().spec)
    chunk = " ".join(["word"] * 120)  # 600 bytes -> 601 bound, 120 server tokens
    doc = [f"{i} {chunk}" for i in range(40)]  # ~24,000 bytes: several groups
    other = ["A short second document.", "With two chunks."]
    res = make(dimensions=256).embed_chunked([doc, other])
    reqs = _requests(srv)
    groups = [r.body["input"] for r in reqs]
    doc_groups = sorted((g for g in groups if g[0] in doc), key=lambda g: doc.index(g[0]))
    assert [c for g in doc_groups for c in g] == doc  # consecutive, complete, in order, no mixing
    assert [g for g in groups if g[0] not in doc] == [other]
    assert len(doc_groups) >= 3
    for g, nxt in zip(
        doc_groups, doc_groups[1:], strict=False
    ):  # full groups: the next chunk would not have fit
        assert sum(map(chunk_tokens_bound, g)) + chunk_tokens_bound(nxt[0]) > spec_budget
    for g in groups:
        assert sum(map(chunk_tokens_bound, g)) <= spec_budget  # the client's certain bound
        assert sum(len(c.split()) for c in g) <= 8192  # what the server counts
    want = np.concatenate([expected_late_vectors(V3, "retrieval.passage", g, 256) for g in doc_groups])
    np.testing.assert_allclose(res[0].vectors, want, atol=1e-6)
    np.testing.assert_allclose(
        res[1].vectors, expected_late_vectors(V3, "retrieval.passage", other, 256), atol=1e-6
    )


async def test_async_matches_sync_and_sends_the_same(srv: FakeJinaServer, make: Any) -> None:
    emb = make()
    sync = emb.embed_chunked(DOCS)
    sync_bodies = sorted(tuple(r.body["input"]) for r in _requests(srv))
    srv.reset()
    got = await emb.aembed_chunked(DOCS)
    assert sorted(tuple(r.body["input"]) for r in _requests(srv)) == sync_bodies
    for a, b in zip(sync, got, strict=True):
        np.testing.assert_array_equal(a.vectors, b.vectors)
    one = await emb.aembed_chunks(DOCS[0])
    np.testing.assert_array_equal(one.vectors, sync[0].vectors)


def test_flat_embed_documents_is_refused_queries_are_whole(srv: FakeJinaServer, make: Any) -> None:
    emb = make(late_chunking=True)
    with pytest.raises(InvalidInputError, match="embed_chunks") as info:
        emb.embed_documents(["Acme was founded in 1998.", "It makes anvils."])
    assert info.value.field == "late_chunking"
    assert _requests(srv) == []
    q = emb.embed_query("who makes anvils?")
    (req,) = _requests(srv)
    assert "late_chunking" not in req.body and req.body["task"] == "retrieval.query"
    np.testing.assert_allclose(
        q.vectors[0], expected_vector(V3, "retrieval.query", "who makes anvils?"), atol=1e-6
    )


@pytest.mark.parametrize("model", ["jina-embeddings-v5-text-small", "jina-code-embeddings-0.5b"])
def test_models_the_api_does_not_late_chunk_are_refused(srv: FakeJinaServer, make: Any, model: str) -> None:
    with pytest.raises(InvalidInputError, match="v3 and v4 only"):
        make(model, late_chunking=True)
    with pytest.raises(InvalidInputError, match="v3 and v4 only"):
        make(model).embed_chunks(["a chunk", "another"])
    assert _requests(srv) == []


def test_openai_backend_has_no_late_chunking(srv: FakeJinaServer) -> None:
    emb = Embedder(V3, backend="openai", base_url=srv.base_url)
    with pytest.raises(InvalidInputError, match="backend 'openai' has no late chunking"):
        emb.embed_chunks(["a chunk", "another"])
    emb.close()
