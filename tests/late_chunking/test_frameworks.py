"""Late chunking in the three frameworks, with their real splitters, pipelines and stores.

Every chunk vector must equal the core's ``embed_chunks`` over the chunks of its own source
document, in the source's order, and come back in the framework's input order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder, InvalidInputError

pytestmark = pytest.mark.local

ACME = (
    "Acme Corporation was founded in Berlin in 1998 by two engineers. It makes anvils and rocket "
    "skates for desert customers. The company employs about two hundred people. Its main rival is "
    "a firm from Munich that sells springs."
)
PLANTS = (
    "Photosynthesis turns light into chemical energy. Plants do it in their leaves, using "
    "chlorophyll. It also releases oxygen into the air."
)


@pytest.fixture(scope="module")
def core(minilm_path: str) -> Embedder:
    return Embedder(minilm_path, backend="local", dtype="float32")


def _check(core: Embedder, chunks_by_source: dict[Any, list[str]], got: dict[Any, Any]) -> None:
    for chunks in chunks_by_source.values():
        want = core.embed_chunks(chunks).vectors
        np.testing.assert_allclose(np.asarray([got[c] for c in chunks]), want, atol=1e-5)
        if len(chunks) > 1:  # really late: not the chunks embedded alone
            alone = core.embed_documents(chunks).vectors
            assert np.abs(want - alone).max() > 1e-3


# -- Haystack ---------------------------------------------------------------------------------
@pytest.mark.parametrize("split_by", ["word", "period"])
def test_haystack_pipeline_groups_by_source_id(core: Embedder, minilm_path: str, split_by: Any) -> None:
    from haystack import Document, Pipeline
    from haystack.components.preprocessors import DocumentSplitter
    from haystack.components.writers import DocumentWriter
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder

    store = InMemoryDocumentStore()
    pipe = Pipeline()
    length = 9 if split_by == "word" else 1
    pipe.add_component("split", DocumentSplitter(split_by=split_by, split_length=length, split_overlap=0))
    pipe.add_component(
        "embed",
        JinaDocumentEmbedder(
            model=minilm_path, backend="local", late_chunking=True, dtype="float32", progress_bar=False
        ),
    )
    pipe.add_component("write", DocumentWriter(store))
    pipe.connect("split", "embed")
    pipe.connect("embed", "write")
    pipe.run({"split": {"documents": [Document(content=ACME), Document(content=PLANTS)]}})
    docs = store.filter_documents()
    by_source: dict[Any, list[Any]] = {}
    for d in docs:
        by_source.setdefault(d.meta["source_id"], []).append(d)
    assert len(by_source) == 2 and all(len(v) >= 3 for v in by_source.values())
    chunks = {
        k: [d.content for d in sorted(v, key=lambda d: d.meta["split_id"])] for k, v in by_source.items()
    }
    _check(core, chunks, {d.content: d.embedding for d in docs})


def test_haystack_keeps_input_order_and_lone_documents(core: Embedder, minilm_path: str) -> None:
    from haystack import Document

    from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder

    a = ["Acme was founded in 1998.", "It makes anvils.", "The company is in Berlin."]
    docs = [
        Document(content=a[2], meta={"source_id": "acme", "split_id": 2}),
        Document(content="A lone note without a source."),
        Document(content=a[0], meta={"source_id": "acme", "split_id": 0}),
        Document(content=a[1], meta={"source_id": "acme", "split_id": 1}),
    ]
    emb = JinaDocumentEmbedder(model=minilm_path, backend="local", late_chunking=True, dtype="float32")
    out = emb.run(docs)["documents"]
    assert [d.id for d in out] == [d.id for d in docs]
    got = {d.content: d.embedding for d in out}
    _check(core, {"acme": a, "lone": ["A lone note without a source."]}, got)
    plain = JinaDocumentEmbedder(model=minilm_path, backend="local", dtype="float32").run(docs)["documents"]
    assert np.abs(np.asarray(plain[0].embedding) - np.asarray(out[0].embedding)).max() > 1e-3


async def test_haystack_run_async_equals_run(minilm_path: str) -> None:
    from haystack import Document

    from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder

    docs = [
        Document(content=c, meta={"source_id": "s", "split_id": i}) for i, c in enumerate(["One.", "It two."])
    ]
    emb = JinaDocumentEmbedder(model=minilm_path, backend="local", late_chunking=True, dtype="float32")
    sync = emb.run(docs)["documents"]
    got = (await emb.run_async(docs))["documents"]
    np.testing.assert_allclose([d.embedding for d in got], [d.embedding for d in sync], atol=1e-6)


# -- LlamaIndex -------------------------------------------------------------------------------
def test_llama_index_ingestion_pipeline_groups_by_ref_doc(core: Embedder, minilm_path: str) -> None:
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter

    from llama_index_jina_embeddings import JinaEmbedding
    from llama_index_jina_embeddings.late_chunking import JinaLateChunkingEmbedding

    embed_model = JinaEmbedding(model=minilm_path, backend="local", late_chunking=True, dtype="float32")
    pipeline = IngestionPipeline(
        transformations=[
            SentenceSplitter(chunk_size=24, chunk_overlap=0),
            JinaLateChunkingEmbedding(embed_model=embed_model),
        ]
    )
    docs = [Document(text=ACME, id_="acme"), Document(text=PLANTS, id_="plants")]
    nodes = pipeline.run(documents=docs)
    by_doc: dict[Any, list[Any]] = {}
    for n in nodes:
        by_doc.setdefault(n.ref_doc_id, []).append(n)
    assert set(by_doc) == {"acme", "plants"} and all(len(v) >= 2 for v in by_doc.values())
    chunks = {
        k: [n.get_content() for n in sorted(v, key=lambda n: n.start_char_idx)] for k, v in by_doc.items()
    }
    _check(core, chunks, {n.get_content(): n.embedding for n in nodes})
    index = VectorStoreIndex(nodes, embed_model=embed_model)  # embeds nothing again
    hits = index.as_retriever(similarity_top_k=1).retrieve("Who makes anvils?")
    assert hits[0].node.ref_doc_id == "acme"


def test_llama_index_plain_batch_refuses_late_chunking(minilm_path: str) -> None:
    from llama_index_jina_embeddings import JinaEmbedding

    embed_model = JinaEmbedding(model=minilm_path, backend="local", late_chunking=True)
    with pytest.raises(InvalidInputError, match="embed_chunks"):
        embed_model.get_text_embedding_batch(["Acme was founded in 1998.", "It makes anvils."])
    assert len(embed_model.get_query_embedding("anvils?")) == 384


async def test_llama_index_async_transform(core: Embedder, minilm_path: str) -> None:
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    from llama_index_jina_embeddings import JinaEmbedding
    from llama_index_jina_embeddings.late_chunking import JinaLateChunkingEmbedding

    texts = ["Acme was founded in 1998.", "It makes anvils."]
    nodes = [
        TextNode(
            text=t,
            start_char_idx=i * 30,
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="d")},
        )
        for i, t in enumerate(texts)
    ][::-1]
    model = JinaEmbedding(model=minilm_path, backend="local", dtype="float32")
    out = await JinaLateChunkingEmbedding(embed_model=model).acall(nodes)
    assert [n.get_content() for n in out] == texts[::-1]
    _check(core, {"d": texts}, {n.get_content(): n.embedding for n in out})


# -- LangChain --------------------------------------------------------------------------------
def test_langchain_split_documents_into_a_vector_store(core: Embedder, minilm_path: str) -> None:
    from langchain_core.documents import Document
    from langchain_core.vectorstores import InMemoryVectorStore
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from langchain_jina_embeddings import JinaEmbeddings
    from langchain_jina_embeddings.late_chunking import JinaLateChunking

    embeddings = JinaEmbeddings(model=minilm_path, backend="local", late_chunking=True, dtype="float32")
    splitter = RecursiveCharacterTextSplitter(chunk_size=70, chunk_overlap=0, add_start_index=True)
    chunks = splitter.split_documents(
        [Document(ACME, metadata={"source": "acme.txt"}), Document(PLANTS, metadata={"source": "plants.txt"})]
    )
    shuffled = chunks[::-1]
    store = InMemoryVectorStore(embeddings)
    ids = JinaLateChunking(embeddings).add_documents(store, shuffled)
    assert len(ids) == len(chunks) == len(store.store)
    by_source: dict[str, list[Any]] = {}
    for c in chunks:
        by_source.setdefault(c.metadata["source"], []).append(c)
    ordered = {
        k: [c.page_content for c in sorted(v, key=lambda c: c.metadata["start_index"])]
        for k, v in by_source.items()
    }
    _check(core, ordered, {r["text"]: r["vector"] for r in store.store.values()})
    hit = store.similarity_search("Who makes anvils?", k=1)[0]
    assert hit.metadata["source"] == "acme.txt"
    with pytest.raises(InvalidInputError, match="embed_chunks"):
        embeddings.embed_documents([c.page_content for c in chunks])


async def test_langchain_async_and_add_embeddings(core: Embedder, minilm_path: str) -> None:
    from langchain_core.documents import Document

    from langchain_jina_embeddings import JinaEmbeddings
    from langchain_jina_embeddings.late_chunking import JinaLateChunking

    docs = [
        Document("It makes anvils.", metadata={"source": "a", "start_index": 30}),
        Document("Acme was founded in 1998.", metadata={"source": "a", "start_index": 0}),
    ]
    late = JinaLateChunking(JinaEmbeddings(model=minilm_path, backend="local", dtype="float32"))
    vectors = await late.aembed_documents(docs)
    _check(
        core,
        {"a": ["Acme was founded in 1998.", "It makes anvils."]},
        {d.page_content: v for d, v in zip(docs, vectors, strict=True)},
    )

    class Store:  # the add_embeddings convention of FAISS, PGVector, ...
        def add_embeddings(self, text_embeddings: Any, metadatas: Any = None, ids: Any = None) -> list[str]:
            self.got = (list(text_embeddings), metadatas, ids)
            return ["x", "y"]

    store = Store()
    assert late.add_documents(store, docs, ids=["1", "2"]) == ["x", "y"]  # type: ignore[arg-type]
    assert [t for t, _ in store.got[0]] == [d.page_content for d in docs] and store.got[2] == ["1", "2"]
