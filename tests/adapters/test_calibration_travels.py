"""Learned int8 ranges reach the query side: in one process, and through each framework's serialization."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from haystack import Document
from langchain_core.load import dumpd, load

from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder, JinaTextEmbedder
from jina_embeddings import Embedder, InvalidInputError
from langchain_jina_embeddings import JinaEmbeddings
from llama_index_jina_embeddings import JinaEmbedding

DOCS = ["berlin is the capital of germany", "paris is the capital of france", "rome is in italy"]
SETTINGS: dict[str, Any] = {"backend": "fake", "precision": "int8", "dimensions": 64}


def expected_query(query: str) -> list[float]:
    """The query vector quantized with the ranges learned from DOCS."""
    core = Embedder(**SETTINGS)
    ranges = core.calibrate(DOCS)
    return Embedder(**SETTINGS, quantization_ranges=ranges).embed_query(query).to_float_lists()[0]


def test_core_objects_with_the_same_settings_share_learned_ranges() -> None:
    indexer, searcher = Embedder(**SETTINGS), Embedder(**SETTINGS)
    with pytest.raises(InvalidInputError, match="calibration ranges"):
        searcher.embed_query("capital of germany")  # nothing learned yet
    indexer.embed_documents(DOCS)
    np.testing.assert_array_equal(searcher.quantization_ranges, indexer.quantization_ranges)
    assert searcher.embed_query("capital of germany").to_float_lists()[0] == expected_query(
        "capital of germany"
    )
    other = Embedder(**{**SETTINGS, "dimensions": 32})  # other settings: other vectors, no sharing
    with pytest.raises(InvalidInputError, match="calibration ranges"):
        other.embed_query("capital of germany")


def test_haystack_query_pipeline_uses_the_indexing_pipelines_ranges() -> None:
    JinaDocumentEmbedder(**SETTINGS, progress_bar=False).run([Document(content=t) for t in DOCS])
    out = JinaTextEmbedder(**SETTINGS).run("capital of germany")
    assert out["embedding"] == expected_query("capital of germany")


def test_haystack_to_dict_carries_learned_ranges() -> None:
    embedder = JinaDocumentEmbedder(**SETTINGS, progress_bar=False)
    embedder.run([Document(content=t) for t in DOCS])
    data = json.loads(json.dumps(embedder.to_dict()))  # JSON-serializable
    ranges = data["init_parameters"]["quantization_ranges"]
    np.testing.assert_allclose(ranges, Embedder(**SETTINGS).calibrate(DOCS), atol=1e-7)
    _clear()
    query_side = JinaTextEmbedder(**SETTINGS, quantization_ranges=ranges)
    assert query_side.run("capital of germany")["embedding"] == expected_query("capital of germany")


def test_langchain_dumpd_carries_learned_ranges() -> None:
    emb = JinaEmbeddings(**SETTINGS)
    emb.embed_documents(DOCS)
    blob = json.dumps(dumpd(emb))
    _clear()
    loaded = load(
        json.loads(blob),
        valid_namespaces=["langchain_jina_embeddings"],
        allowed_objects=[JinaEmbeddings],
        secrets_from_env=False,
    )
    assert loaded.embed_query("capital of germany") == expected_query("capital of germany")


def test_llamaindex_to_dict_carries_learned_ranges() -> None:
    emb = JinaEmbedding(**SETTINGS)
    emb.get_text_embedding_batch(DOCS)
    data = json.loads(json.dumps(emb.to_dict()))
    _clear()
    loaded = JinaEmbedding.from_dict(data)
    assert loaded.get_query_embedding("capital of germany") == expected_query("capital of germany")


def _clear() -> None:
    """As in another process: nothing learned here."""
    from jina_embeddings import _calibration

    _calibration._ranges.clear()
