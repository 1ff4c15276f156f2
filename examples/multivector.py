"""Late interaction (multi-vector, MaxSim) offline: index token vectors once, rerank cheaply.

    python examples/multivector.py

1. Local: a tiny random ColBERT checkpoint in PyLate's layout (built here by the project's test
   kit in ~0.3 s; the offline stand-in for ``jina-colbert-v2``, which cannot be downloaded
   without network) gives token vectors through ``MultiVectorEmbedder(backend="local")``:
   documents as many rows as scored tokens, queries exactly 32 (query expansion). They are
   stored as compact float16 blobs next to each chunk (the storage recipe), and
   ``Reranker(...).rerank(..., document_vectors=...)`` reranks with them, encoding only the query.
2. Remote: the test kit's loopback fake Jina API stands in for https://api.jina.ai:
   ``jina-colbert-v2`` with ``input_type`` per role and ``dimensions=96``.

The vectors are random-model vectors: the point is the API, not the ranking. With a Jina API
key, drop ``base_url`` and the same calls go to the Jina API.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from jina_embeddings import (  # noqa: E402
    MultiVectorEmbedder,
    MultiVectorEmbeddings,
    Reranker,
    decode_token_vectors,
    maxsim,
)
from jina_testkit.fake_api import FakeJinaServer  # noqa: E402
from jina_testkit.tiny_models import build_tiny_colbert  # noqa: E402

CHUNKS = [
    "Berlin is the capital and largest city of Germany.",
    "Mount Everest is the highest mountain on Earth.",
    "Honey bees make honey from the nectar of flowers.",
    "The blue whale is the largest animal that has ever lived.",
]
QUERY = "What is the highest mountain?"


def local(folder: Path) -> None:
    mv = MultiVectorEmbedder(folder, backend="local", device="cpu", dtype="float32")
    docs = mv.embed_documents(CHUNKS)
    q = mv.embed_query(QUERY)
    print(f"local  documents: token vectors per chunk {docs.lengths} x {docs.dimensions}")
    print(f"local  query: {q.vectors[0].shape} (expanded to the query length)")

    # Storage recipe: one base64 float16 blob per chunk, e.g. in the chunk's metadata.
    store = [
        {"text": t, "jina_token_vectors": b} for t, b in zip(CHUNKS, docs.to_blobs(as_text=True), strict=True)
    ]
    size = sum(len(row["jina_token_vectors"]) for row in store)
    print(f"local  stored {len(store)} blobs, {size} characters of base64 in all")
    blob = docs.to_bytes()  # or all at once, lengths included
    assert MultiVectorEmbeddings.from_bytes(blob, model=docs.model).lengths == docs.lengths

    scores = [maxsim(q.vectors[0], decode_token_vectors(row["jina_token_vectors"])) for row in store]
    print(f"local  maxsim by hand: {[round(s, 3) for s in scores]}")
    rr = Reranker(folder, backend="local", device="cpu", dtype="float32")
    ranking = rr.rerank(QUERY, CHUNKS, document_vectors=[row["jina_token_vectors"] for row in store], top_n=2)
    for r in ranking:
        print(f"local  rerank #{r.index}: {r.relevance_score:.3f} {r.document}")


def remote() -> None:
    with FakeJinaServer(api_key="demo-key") as server:
        mv = MultiVectorEmbedder(
            "jina-colbert-v2", backend="api", api_key="demo-key", base_url=server.base_url, dimensions=96
        )
        docs = mv.embed_documents(CHUNKS)
        scores = mv.score(QUERY, CHUNKS)  # documents in one call, one batched MaxSim pass
        bodies = [r.body for r in server.requests]
        print(
            f"remote input_type per request: {[b['input_type'] for b in bodies]}, dimensions {bodies[0]['dimensions']}"
        )
        print(
            f"remote token vectors per chunk {docs.lengths} x {docs.dimensions}; scores {[round(float(s), 3) for s in scores]}"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        local(build_tiny_colbert(Path(tmp) / "colbert"))
    remote()


if __name__ == "__main__":
    main()
