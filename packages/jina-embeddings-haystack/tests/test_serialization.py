"""to_dict / from_dict, YAML, secrets, pickling: settings travel, the key never does."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import yaml
from haystack import Document, Pipeline
from haystack.utils import Secret

from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder, JinaTextEmbedder
from haystack_integrations.components.rankers.jina_embeddings import JinaRanker

CANARY = "jina_CANARY_5f3e9a1b7c"
ENV_SECRET = {"type": "env_var", "env_vars": ["JINA_API_KEY", "JINAAI_API_KEY"], "strict": False}
COMPONENTS = [JinaTextEmbedder, JinaDocumentEmbedder, JinaRanker]


@pytest.mark.parametrize("cls", COMPONENTS)
def test_default_to_dict_names_env_vars_only(cls, monkeypatch):
    monkeypatch.setenv("JINA_API_KEY", CANARY)
    data = cls().to_dict()
    assert data["type"] == f"{cls.__module__}.{cls.__name__}"
    assert data["type"].startswith("haystack_integrations.components.")  # on Haystack's default allowlist
    assert data["init_parameters"]["api_key"] == ENV_SECRET
    assert CANARY not in repr(data)


def test_to_dict_from_dict_round_trip_keeps_every_setting():
    embedder = JinaDocumentEmbedder(
        model="jina-embeddings-v5-text-nano",
        prefix="p ",
        suffix=" s",
        batch_size=7,
        progress_bar=False,
        meta_fields_to_embed=["title"],
        embedding_separator=" | ",
        task="text-matching",
        dimensions=256,
        backend="api",
        precision="int8",
        quantization_ranges=np.zeros((2, 256), np.float32) + [[-1.0], [1.0]],
        base_url="http://127.0.0.1:1/v1",
        timeout=3.5,
        max_retries=5,
        max_concurrency=2,
    )
    data = embedder.to_dict()
    params = data["init_parameters"]
    assert (
        params["quantization_ranges"][0][:2] == [-1.0, -1.0] and len(params["quantization_ranges"][1]) == 256
    )
    assert params["meta_fields_to_embed"] == ["title"] and params["embedding_separator"] == " | "
    assert params["timeout"] == 3.5 and params["max_concurrency"] == 2 and params["backend"] == "api"
    frozen = copy.deepcopy(data)
    restored = JinaDocumentEmbedder.from_dict(data)
    assert data == frozen  # the caller's dict is not modified
    assert restored.to_dict() == data
    assert isinstance(restored.api_key, Secret)


def test_ranker_round_trip():
    ranker = JinaRanker(
        model="jina-reranker-m0",
        top_k=3,
        score_threshold=0.25,
        backend="fake",
        meta_fields_to_embed=["title"],
    )
    restored = JinaRanker.from_dict(ranker.to_dict())
    assert (restored.top_k, restored.score_threshold, restored.meta_fields_to_embed) == (3, 0.25, ["title"])
    assert restored.to_dict() == ranker.to_dict()


def test_serialized_component_device_is_read_back():
    data = JinaTextEmbedder(backend="local").to_dict()
    data["init_parameters"]["device"] = {
        "type": "single",
        "device": "cpu",
    }  # sentence-transformers-haystack style
    assert JinaTextEmbedder.from_dict(data).device == "cpu"


@pytest.mark.parametrize("cls", COMPONENTS)
def test_token_secret_refuses_to_serialize(cls):
    component = cls(api_key=Secret.from_token(CANARY))
    with pytest.raises(ValueError, match="Cannot serialize token-based secret"):
        component.to_dict()


@pytest.mark.parametrize("cls", COMPONENTS)
def test_repr_and_pickle_never_hold_a_token(cls, monkeypatch):
    monkeypatch.delenv("JINA_API_KEY", raising=False)
    component = cls(api_key=Secret.from_token(CANARY), backend="fake")
    component.warm_up()  # the core object now holds the key too
    assert CANARY not in repr(component) and CANARY not in str(vars(component))
    blob = pickle.dumps(component)
    assert CANARY.encode() not in blob
    copy_ = pickle.loads(blob)
    assert copy_.api_key.to_dict() == ENV_SECRET  # the copy reads the key from the environment
    assert copy_._core is None and copy_.backend == "fake"


def test_pickled_token_component_keeps_its_api_backend():
    """A token implied backend="api"; the copy (keyless) must not silently switch to local."""
    embedder = JinaTextEmbedder(api_key=Secret.from_token(CANARY))
    copy_ = pickle.loads(pickle.dumps(embedder))
    assert copy_.backend == "api"
    assert CANARY not in str(copy_.to_dict())


def test_env_secret_component_pickles_and_runs(monkeypatch):
    embedder = JinaDocumentEmbedder(backend="fake", progress_bar=False)
    embedder.run([Document(content="warm")])
    copy_ = pickle.loads(pickle.dumps(embedder))
    assert copy_.to_dict() == embedder.to_dict()
    a = copy_.run([Document(content="hello")])["documents"][0].embedding
    b = embedder.run([Document(content="hello")])["documents"][0].embedding
    assert a == b


def test_pipeline_yaml_round_trip_with_all_three(monkeypatch, yaml_loads):
    monkeypatch.setenv("JINA_API_KEY", CANARY)
    pipe = Pipeline()
    pipe.add_component("text", JinaTextEmbedder(backend="fake", dimensions=128))
    pipe.add_component("docs", JinaDocumentEmbedder(backend="fake", meta_fields_to_embed=["title"]))
    pipe.add_component("ranker", JinaRanker(backend="fake", top_k=2))
    text = pipe.dumps()
    assert CANARY not in text
    parsed = yaml.safe_load(text)
    assert parsed["components"]["text"]["init_parameters"]["api_key"] == ENV_SECRET
    loaded = yaml_loads(text)
    for name in ("text", "docs", "ranker"):
        assert loaded.get_component(name).to_dict() == pipe.get_component(name).to_dict()
    data = {
        "text": {"text": "hello"},
        "docs": {"documents": [Document(content="hello", meta={"title": "t"})]},
        "ranker": {"query": "hello", "documents": [Document(content="a hello"), Document(content="b")]},
    }
    assert loaded.run(copy.deepcopy(data)) == pipe.run(copy.deepcopy(data))
