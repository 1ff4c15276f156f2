"""JinaRerank in real LlamaIndex chains: retriever -> reranker, query engine, events."""

from __future__ import annotations

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex, get_response_synthesizer
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload, LlamaDebugHandler
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode

from jina_embeddings import InvalidInputError, Reranker
from llama_index_jina_embeddings import JinaEmbedding, JinaRerank

QUERY = "Which planet is the largest gas giant in the solar system?"


@pytest.fixture
def retriever(documents: list[Document]):
    """A real vector index (deterministic fake vectors) returning six candidates per query."""
    index = VectorStoreIndex.from_documents(documents, embed_model=JinaEmbedding(backend="fake"))
    return index.as_retriever(similarity_top_k=6)


@pytest.fixture(scope="module")
def tiny_rerank(tiny_reranker_path: str) -> JinaRerank:
    return JinaRerank(tiny_reranker_path, backend="local", device="cpu", top_n=4)


@pytest.mark.local
def test_retriever_then_local_reranker_orders_by_the_core_scores(
    retriever, tiny_rerank: JinaRerank, tiny_reranker_path: str
) -> None:
    candidates = retriever.retrieve(QUERY)
    before = [(n.node.node_id, n.score) for n in candidates]
    reranked = tiny_rerank.postprocess_nodes(candidates, query_str=QUERY)

    texts = [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in candidates]
    core = Reranker(tiny_reranker_path, backend="local", device="cpu").rerank(QUERY, texts)
    assert [n.node.node_id for n in reranked] == [candidates[r.index].node.node_id for r in core][:4]
    assert [n.score for n in reranked] == pytest.approx(core.scores[:4], abs=1e-6)
    assert [n.score for n in reranked] == sorted((n.score for n in reranked), reverse=True)
    assert [(n.node.node_id, n.score) for n in candidates] == before  # inputs untouched


@pytest.mark.local
async def test_async_local_rerank_equals_sync(retriever, tiny_rerank: JinaRerank) -> None:
    candidates = retriever.retrieve(QUERY)
    sync = tiny_rerank.postprocess_nodes(candidates, query_str=QUERY)
    async_ = await tiny_rerank.apostprocess_nodes(candidates, query_bundle=QueryBundle(QUERY))
    assert [(n.node.node_id, n.score) for n in async_] == [(n.node.node_id, n.score) for n in sync]


# The fake reranker scores word overlap, so these queries reuse their document's words.
LEXICAL_QUERIES = {
    "capital city of Germany": "berlin",
    "largest planet in the solar system": "jupiter",
    "highest mountain above sea level": "everest",
    "digital currency on a blockchain": "bitcoin",
    "keyboard instrument with strings": "piano",
}


def test_query_engine_chain_puts_the_relevant_node_first(retriever, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Settings, "_llm", MockLLM())  # the synthesizer wants one; "no_text" never calls it
    rerank = JinaRerank(backend="fake", top_n=3)
    synthesizer = get_response_synthesizer(response_mode="no_text")
    engine = RetrieverQueryEngine(retriever, response_synthesizer=synthesizer, node_postprocessors=[rerank])
    for query, topic in LEXICAL_QUERIES.items():
        candidates = retriever.retrieve(query)
        assert topic in {n.node.ref_doc_id for n in candidates}
        sources = engine.query(query).source_nodes
        assert len(sources) == 3
        assert sources[0].node.ref_doc_id == topic, query
        scores = [s.score for s in sources]
        assert scores == sorted(scores, reverse=True)
        assert scores[0] > scores[1]


def test_top_n_none_keeps_every_node_and_empty_input_is_empty() -> None:
    nodes = [NodeWithScore(node=TextNode(text=t), score=0.0) for t in ("red apple", "green apple pie", "car")]
    every = JinaRerank(backend="fake", top_n=None).postprocess_nodes(nodes, query_str="apple pie")
    assert [n.node.get_content() for n in every] == ["green apple pie", "red apple", "car"]
    assert JinaRerank(backend="fake").postprocess_nodes([], query_str="apple") == []


async def test_a_missing_query_is_a_clear_error() -> None:
    nodes = [NodeWithScore(node=TextNode(text="x"), score=1.0)]
    rerank = JinaRerank(backend="fake")
    with pytest.raises(InvalidInputError, match="needs the query"):
        rerank.postprocess_nodes(nodes)
    with pytest.raises(ValueError, match="needs the query"):  # same class the old one raised
        await rerank.apostprocess_nodes(nodes)


@pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])
async def test_rerank_events_like_core_rerankers(event_log, run_async: bool) -> None:
    debug = LlamaDebugHandler()
    rerank = JinaRerank(backend="fake", top_n=1, callback_manager=CallbackManager([debug]))
    nodes = [NodeWithScore(node=TextNode(text=t), score=0.5) for t in ("tea leaves", "green tea", "rocks")]
    if run_async:
        out = await rerank.apostprocess_nodes(nodes, query_str="green tea")
    else:
        out = rerank.postprocess_nodes(nodes, query_str="green tea")
    assert [n.node.get_content() for n in out] == ["green tea"]

    (start,) = event_log.named("ReRankStartEvent")
    assert (start.query.query_str, start.top_n, start.model_name, len(start.nodes)) == (
        "green tea",
        1,
        "jina-reranker-v3",
        3,
    )
    (end,) = event_log.named("ReRankEndEvent")
    assert [n.node.get_content() for n in end.nodes] == ["green tea"]

    (pair,) = debug.get_event_pairs(CBEventType.RERANKING)
    assert pair[0].payload[EventPayload.QUERY_STR] == "green tea"
    assert pair[0].payload[EventPayload.TOP_K] == 1
    assert [n.node.get_content() for n in pair[1].payload[EventPayload.NODES]] == ["green tea"]
