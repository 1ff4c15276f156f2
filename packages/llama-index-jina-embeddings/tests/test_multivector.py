"""JinaRerank(model="jina-colbert-v2") as a node postprocessor in a real query flow, reading each
node's stored token vectors from ``metadata["jina_token_vectors"]`` (never part of its text)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from llama_index.core import Settings, VectorStoreIndex, get_response_synthesizer
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, TextNode

from jina_embeddings import TOKEN_VECTORS_KEY, MultiVectorEmbedder, maxsim
from jina_testkit.fake_multivector import expected_token_vectors
from llama_index_jina_embeddings import JinaEmbedding, JinaRerank

TEXTS = [
    "Jupiter is the largest planet in the solar system, a gas giant.",
    "Berlin is the capital city of Germany.",
    "Mount Everest is the highest mountain above sea level.",
    "The piano is a keyboard instrument with strings.",
    "Bitcoin is a digital currency on a blockchain.",
]
QUERY = "Which planet is the largest gas giant?"


def nodes_with_vectors(blobs: list[Any]) -> list[TextNode]:
    return [
        TextNode(
            id_=f"n{i}",
            text=text,
            metadata={"i": i, TOKEN_VECTORS_KEY: blob},
            excluded_embed_metadata_keys=[TOKEN_VECTORS_KEY, "i"],  # the recipe: keep them out of the text
            excluded_llm_metadata_keys=[TOKEN_VECTORS_KEY],
        )
        for i, (text, blob) in enumerate(zip(TEXTS, blobs, strict=True))
    ]


def engine_for(nodes: list[TextNode], rerank: JinaRerank) -> tuple[Any, RetrieverQueryEngine]:
    retriever = VectorStoreIndex(nodes, embed_model=JinaEmbedding(backend="fake")).as_retriever(
        similarity_top_k=5
    )
    synthesizer = get_response_synthesizer(response_mode="no_text")
    return retriever, RetrieverQueryEngine(
        retriever, response_synthesizer=synthesizer, node_postprocessors=[rerank]
    )


@pytest.mark.local
async def test_colbert_postprocessor_local(tiny_colbert_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Settings, "_llm", MockLLM())
    mv = MultiVectorEmbedder(tiny_colbert_path, backend="local", dtype="float32")
    docs = mv.embed_documents(TEXTS)
    rerank = JinaRerank(tiny_colbert_path, backend="local", dtype="float32", top_n=3)
    calls: list[str] = []
    inner = rerank.client._backend.inner
    embed = inner.embed
    inner.embed = lambda request: calls.append(request.binding.role.value) or embed(request)
    retriever, engine = engine_for(nodes_with_vectors(docs.to_blobs("float32", as_text=True)), rerank)
    sources = engine.query(QUERY).source_nodes
    assert calls == ["query"]
    q = mv.embed_query(QUERY).vectors[0]
    scores = np.array([maxsim(q, d) for d in docs.vectors])
    best = np.argsort(-scores)[:3]
    assert [s.node.metadata["i"] for s in sources] == best.tolist()
    assert [s.score for s in sources] == pytest.approx(scores[best].tolist(), rel=1e-5)
    # the reranker read the text without the blob (what the model scores is the node's text)
    assert TOKEN_VECTORS_KEY not in sources[0].node.get_content(metadata_mode=MetadataMode.EMBED)
    again = await rerank.apostprocess_nodes(retriever.retrieve(QUERY), query_str=QUERY)
    assert [n.node.node_id for n in again] == [s.node.node_id for s in sources]


def test_colbert_postprocessor_api(fake_jina_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Settings, "_llm", MockLLM())
    url, key = fake_jina_server.base_url, "jina_test"
    mv = MultiVectorEmbedder("jina-colbert-v2", backend="api", base_url=url, api_key=key)
    blobs = mv.embed_documents(TEXTS).to_blobs(as_text=True)
    nodes = nodes_with_vectors(blobs)
    nodes[4].metadata.pop(TOKEN_VECTORS_KEY)  # one node without stored vectors: encoded now
    rerank = JinaRerank("jina-colbert-v2", base_url=url, api_key=key, top_n=2)
    _, engine = engine_for(nodes, rerank)
    fake_jina_server.reset()
    sources = engine.query(QUERY).source_nodes
    bodies = [r.body for r in fake_jina_server.requests]
    assert [(b["input_type"], b["input"]) for b in bodies] == [("query", [QUERY]), ("document", [TEXTS[4]])]
    q = expected_token_vectors("jina-colbert-v2", "query", QUERY)
    scores = np.array([maxsim(q, expected_token_vectors("jina-colbert-v2", "document", t)) for t in TEXTS])
    best = np.argsort(-scores)[:2]
    assert [s.node.metadata["i"] for s in sources] == best.tolist()
    assert [s.score for s in sources] == pytest.approx(scores[best].tolist(), rel=2e-3)
