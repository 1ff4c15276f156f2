"""Connections are released when an object is dropped, and every adapter has close()."""

from __future__ import annotations

import gc
import warnings
from typing import Any

import pytest

from jina_embeddings import Embedder, Reranker
from langchain_jina_embeddings import JinaEmbeddings, JinaRerank
from llama_index_jina_embeddings import JinaEmbedding
from llama_index_jina_embeddings import JinaRerank as LlamaJinaRerank

KEY = "jina_test"


def remote(server: Any) -> dict[str, Any]:
    return {"backend": "api", "api_key": KEY, "base_url": server.base_url}


def test_dropping_a_sync_remote_embedder_closes_its_sockets(fake_jina_server: Any) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        emb = Embedder("jina-embeddings-v5-text-small", dimensions=32, **remote(fake_jina_server))
        emb.embed_documents(["a", "b"])
        assert fake_jina_server.open_connections >= 1
        del emb
        gc.collect()
        assert fake_jina_server.wait_connections_closed(2.0)
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.parametrize(
    "make",
    [
        lambda kw: Embedder("jina-embeddings-v5-text-small", **kw),
        lambda kw: Reranker("jina-reranker-v3", **kw),
        lambda kw: JinaEmbeddings(model="jina-embeddings-v5-text-small", **kw),
        lambda kw: JinaRerank(model="jina-reranker-v3", **kw),
        lambda kw: JinaEmbedding(model="jina-embeddings-v5-text-small", **kw),
        lambda kw: LlamaJinaRerank(model="jina-reranker-v3", **kw),
    ],
    ids=["Embedder", "Reranker", "lc-JinaEmbeddings", "lc-JinaRerank", "li-JinaEmbedding", "li-JinaRerank"],
)
def test_every_object_closes_its_connections(fake_jina_server: Any, make: Any) -> None:
    obj = make(remote(fake_jina_server))
    call(obj)
    assert fake_jina_server.open_connections >= 1
    obj.close()
    assert fake_jina_server.wait_connections_closed(2.0)
    call(obj)  # a later call opens new ones
    obj.close()


def call(obj: Any) -> None:
    if isinstance(obj, (Embedder,)):
        obj.embed_query("x")
    elif isinstance(obj, Reranker):
        obj.rerank("q", ["a", "b"])
    elif isinstance(obj, JinaEmbeddings):
        obj.embed_query("x")
    elif isinstance(obj, JinaRerank):
        obj.rerank(["a", "b"], "q")
    elif isinstance(obj, JinaEmbedding):
        obj.get_query_embedding("x")
    else:
        from llama_index.core.schema import NodeWithScore, TextNode

        obj.postprocess_nodes([NodeWithScore(node=TextNode(text="a"))], query_str="q")
