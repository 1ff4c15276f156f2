"""Real Haystack pipelines with a real local model (MiniLM), offline.

Indexing: JinaDocumentEmbedder -> DocumentWriter(InMemoryDocumentStore).
Query: JinaTextEmbedder -> InMemoryEmbeddingRetriever -> JinaRanker.
"""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path

import haystack
import numpy as np
import pytest
from haystack import Document, Pipeline
from haystack.utils import ComponentDevice

from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder, JinaTextEmbedder
from haystack_integrations.components.rankers.jina_embeddings import JinaRanker
from jina_embeddings import Embedder, Reranker
from jina_embeddings._backends.loading import loaded_models

pytestmark = pytest.mark.local


def embedders(model_path: str, **kwargs) -> tuple[JinaDocumentEmbedder, JinaTextEmbedder]:
    return (
        JinaDocumentEmbedder(model=model_path, backend="local", progress_bar=False, **kwargs),
        JinaTextEmbedder(model=model_path, backend="local", **kwargs),
    )


def ranked(result: dict) -> list[tuple[str, float]]:
    return [(d.id, d.score) for d in result["ranker"]["documents"]]


def test_indexing_and_query_pipelines_put_the_relevant_document_first(
    minilm_warm, corpus, queries, new_store, build_pipelines, query_data
):
    store = new_store()
    doc_embedder, text_embedder = embedders(minilm_warm)
    indexing, query = build_pipelines(doc_embedder, text_embedder, JinaRanker(backend="fake"), store)

    assert indexing.run({"embedder": {"documents": corpus}})["writer"]["documents_written"] == 12
    stored = {d.id: d for d in store.filter_documents()}
    assert len(stored) == 12 and {len(d.embedding) for d in stored.values()} == {384}
    # what was stored is exactly what the core computes for the document text
    core = Embedder(model=minilm_warm, backend="local").embed_documents([d.content for d in corpus]).vectors
    np.testing.assert_allclose([stored[d.id].embedding for d in corpus], core, atol=1e-5)

    for text, relevant in queries.items():
        result = query.run(query_data(text), include_outputs_from={"retriever"})
        retrieved = result["retriever"]["documents"]
        assert retrieved[0].id == relevant, (text, [d.id for d in retrieved])
        assert len(retrieved) == 4
        docs = result["ranker"]["documents"]
        assert docs[0].id == relevant
        assert [d.score for d in docs] == sorted((d.score for d in docs), reverse=True)
        assert {d.id for d in docs} == {d.id for d in retrieved}
        assert result["ranker"]["meta"]["model"] == "jina-reranker-v3"
    assert all(d.embedding is None for d in corpus)  # the pipeline input was not modified


def test_pipelines_loaded_back_from_yaml_behave_identically(
    minilm_warm, corpus, queries, new_store, build_pipelines, query_data, yaml_loads
):
    store = new_store()
    doc_embedder, text_embedder = embedders(minilm_warm, device=ComponentDevice.from_str("cpu"))
    indexing, query = build_pipelines(doc_embedder, text_embedder, JinaRanker(backend="fake", top_k=3), store)
    indexing.run({"embedder": {"documents": corpus}})
    first_vectors = {d.id: d.embedding for d in store.filter_documents()}
    first = {q: ranked(query.run(query_data(q))) for q in queries}

    indexing_yaml, query_yaml = indexing.dumps(), query.dumps()
    assert (
        "haystack_integrations.components.embedders.jina_embeddings.document_embedder.JinaDocumentEmbedder"
        in indexing_yaml
    )
    assert "device: cpu" in query_yaml
    indexing2, query2 = yaml_loads(indexing_yaml), yaml_loads(query_yaml)
    assert indexing2.get_component("embedder") is not doc_embedder

    # the loaded store shares the index name: empty it so the loaded indexing pipeline must refill it
    store.delete_documents(list(first_vectors))
    assert store.count_documents() == 0
    assert indexing2.run({"embedder": {"documents": corpus}})["writer"]["documents_written"] == 12
    second_vectors = {d.id: d.embedding for d in store.filter_documents()}
    assert second_vectors.keys() == first_vectors.keys()
    for key, vector in first_vectors.items():
        np.testing.assert_allclose(second_vectors[key], vector, atol=1e-6)

    for q, expected in first.items():
        got = ranked(query2.run(query_data(q)))
        assert [i for i, _ in got] == [i for i, _ in expected]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-6)


async def test_async_pipeline_run_gives_the_same_result(
    minilm_warm, corpus, queries, new_store, build_pipelines, query_data
):
    store_sync, store_async = new_store(), new_store()
    indexing, query = build_pipelines(*embedders(minilm_warm), JinaRanker(backend="fake"), store_sync)
    indexing.run({"embedder": {"documents": corpus}})
    expected = {q: ranked(query.run(query_data(q))) for q in queries}

    # Haystack 3 runs any Pipeline asynchronously; 2.x has a separate AsyncPipeline
    async_cls = getattr(haystack, "AsyncPipeline", Pipeline)
    a_indexing, a_query = (
        async_cls.from_dict(p.to_dict())
        for p in build_pipelines(*embedders(minilm_warm), JinaRanker(backend="fake"), store_async)
    )
    out = await a_indexing.run_async({"embedder": {"documents": corpus}})
    assert out["writer"]["documents_written"] == 12
    results = await asyncio.gather(*(a_query.run_async(query_data(q)) for q in queries))
    for q, result in zip(queries, results, strict=True):
        got = ranked(result)
        assert [i for i, _ in got] == [i for i, _ in expected[q]]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected[q]], abs=1e-6)
        assert got[0][0] == queries[q]


def test_text_and_document_embedder_share_one_loaded_model(minilm_path, tmp_path):
    """warm_up of both loads one model: same settings -> one entry in the core's model cache."""

    # cache_folder is irrelevant to loading a folder but part of the cache key: a key unique to this test
    def mine() -> list[dict]:
        return [k for k in loaded_models() if k["cache_folder"] == str(tmp_path)]

    doc_embedder, text_embedder = embedders(minilm_path, cache_folder=str(tmp_path))
    gc.collect()
    assert mine() == []  # building the components loaded nothing
    text_embedder.warm_up()
    doc_embedder.warm_up()
    doc_embedder.warm_up()  # idempotent
    entries = mine()
    assert len(entries) == 1
    assert Path(entries[0]["source"]) == Path(minilm_path).resolve()
    assert entries[0]["kind"] == "embedding"
    assert text_embedder._core._backend.model_for(None) is doc_embedder._core._backend.model_for(None)

    doc_embedder.close()
    text_embedder.close()
    gc.collect()
    assert mine() == []  # closing both released the model


async def test_local_run_async_does_not_block_the_event_loop(minilm_warm):
    embedder = JinaDocumentEmbedder(model=minilm_warm, backend="local", progress_bar=False)
    documents = [Document(content=f"sentence number {i} about topic {i % 7}") for i in range(200)]
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    out = await embedder.run_async(documents)
    elapsed = time.perf_counter() - started
    task.cancel()
    assert len(out["documents"]) == 200
    # the loop kept ticking while the model ran in a worker thread (a blocked loop gives ~0 ticks)
    assert elapsed > 0.05 and ticks >= max(5, 0.1 * elapsed / 0.005), (ticks, elapsed)


def test_query_pipeline_with_a_local_cross_encoder_orders_by_its_scores(
    minilm_warm, tiny_reranker_path, corpus, queries, new_store, build_pipelines, query_data
):
    """The tiny reranker is random: check order == sorted scores and scores == the core's, not relevance."""
    store = new_store()
    indexing, query = build_pipelines(
        *embedders(minilm_warm), JinaRanker(model=tiny_reranker_path, backend="local", top_k=3), store
    )
    indexing.run({"embedder": {"documents": corpus}})
    core = Reranker(model=tiny_reranker_path, backend="local")
    for text in list(queries)[:3]:
        result = query.run(query_data(text), include_outputs_from={"retriever"})
        docs = result["ranker"]["documents"]
        assert len(docs) == 3
        assert [d.score for d in docs] == sorted((d.score for d in docs), reverse=True)
        retrieved = result["retriever"]["documents"]
        expected = core.rerank(text, [d.content for d in retrieved], top_n=3)
        assert [d.id for d in docs] == [retrieved[i].id for i in expected.indices]
        assert [d.score for d in docs] == pytest.approx(expected.scores, abs=1e-6)
