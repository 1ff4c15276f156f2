"""Real LlamaIndex objects over the real MiniLM, offline: index, retriever, ingestion pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import MetadataMode

from jina_embeddings import Embedder
from llama_index_jina_embeddings import JinaEmbedding

pytestmark = pytest.mark.local


@pytest.fixture(scope="module")
def embed_model(minilm_path: str) -> JinaEmbedding:
    return JinaEmbedding(minilm_path, backend="local", device="cpu", dtype="float32")


@pytest.fixture(scope="module")
def core(minilm_path: str) -> Embedder:
    """The core on the same model folder: the reference every adapter value is checked against."""
    return Embedder(minilm_path, backend="local", device="cpu", dtype="float32")


def test_defaults_for_the_local_backend(embed_model: JinaEmbedding, minilm_path: str) -> None:
    assert embed_model.model_name == minilm_path
    assert embed_model.embed_batch_size == 32
    assert embed_model.client.backend_name == "local"
    assert embed_model.to_payload()["dimensions"] == 384


def test_index_retriever_returns_the_relevant_node_first(
    embed_model: JinaEmbedding, documents: list[Document], queries: dict[str, str]
) -> None:
    index = VectorStoreIndex.from_documents(documents, embed_model=embed_model)
    retriever = index.as_retriever(similarity_top_k=3)
    for query, topic in queries.items():
        hits = retriever.retrieve(query)
        assert [h.node.ref_doc_id for h in hits][0] == topic, query
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
        assert scores[0] - scores[1] > 0.05, query  # a clear margin, not a coin toss


async def test_async_index_build_and_retrieval_match_sync(
    embed_model: JinaEmbedding, documents: list[Document], queries: dict[str, str]
) -> None:
    index = VectorStoreIndex([], embed_model=embed_model)
    await index.ainsert_nodes(SentenceSplitter().get_nodes_from_documents(documents))
    retriever = index.as_retriever(similarity_top_k=1)
    for query, topic in queries.items():
        hits = await retriever.aretrieve(query)
        assert hits[0].node.ref_doc_id == topic, query


def _long_documents(documents: list[Document]) -> list[Document]:
    """Three documents of four topics each, long enough for a 40-token splitter to cut."""
    return [
        Document(
            text=" ".join(d.text for d in documents[i : i + 4]),
            doc_id=f"part-{i // 4}",
            metadata={"part": i // 4},
        )
        for i in range(0, len(documents), 4)
    ]


@pytest.mark.parametrize("run_async", [False, True], ids=["run", "arun"])
async def test_ingestion_pipeline_embeds_every_node_like_the_core(
    embed_model: JinaEmbedding, core: Embedder, documents: list[Document], run_async: bool
) -> None:
    docs = _long_documents(documents)
    expected = SentenceSplitter(chunk_size=40, chunk_overlap=0).get_nodes_from_documents(docs)
    assert len(expected) > len(docs)  # the splitter really cut them
    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=40, chunk_overlap=0), embed_model]
    )
    nodes = await pipeline.arun(documents=docs) if run_async else pipeline.run(documents=docs)
    assert len(nodes) == len(expected)
    assert [n.get_content() for n in nodes] == [n.get_content() for n in expected]
    contents = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    assert all("part" in c for c in contents)  # metadata is part of what gets embedded
    reference = core.embed_documents(contents).vectors
    got = np.array([n.embedding for n in nodes], dtype=np.float32)
    np.testing.assert_allclose(got, reference, atol=1e-5)


async def test_every_sync_and_async_method_matches_the_core(
    embed_model: JinaEmbedding, core: Embedder, corpus: dict[str, str]
) -> None:
    texts = list(corpus.values())
    docs = core.embed_documents(texts).vectors
    query = core.embed_query("capital of Germany").vectors[0]
    batches = [
        embed_model.get_text_embedding_batch(texts),
        await embed_model.aget_text_embedding_batch(texts),
        [embed_model.get_text_embedding(t) for t in texts],
        [await embed_model.aget_text_embedding(t) for t in texts],
    ]
    for batch in batches:
        np.testing.assert_allclose(np.array(batch), docs, atol=1e-5)
    for vec in (
        embed_model.get_query_embedding("capital of Germany"),
        await embed_model.aget_query_embedding("capital of Germany"),
    ):
        np.testing.assert_allclose(np.array(vec), query, atol=1e-5)
    assert all(isinstance(x, float) for x in batches[0][0])


def test_show_progress_per_call_shows_the_core_bar(
    embed_model: JinaEmbedding, corpus: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    texts = list(corpus.values())
    with_bar = embed_model.get_text_embedding_batch(texts, show_progress=True)
    assert "Batches" in capsys.readouterr().err  # sentence-transformers' bar, from the core
    without = embed_model.get_text_embedding_batch(texts)
    assert "Batches" not in capsys.readouterr().err
    np.testing.assert_allclose(with_bar, without, atol=1e-6)
