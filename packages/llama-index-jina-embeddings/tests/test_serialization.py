"""to_dict / to_json / pickle round trips keep every option and never carry the API key."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from pydantic import ValidationError

from jina_embeddings import InvalidInputError
from jina_testkit.fake_api import FakeJinaServer
from llama_index_jina_embeddings import JinaEmbedding, JinaRerank

CANARY = "jina_CANARY_d41d8cd98f00b204"

EMBEDDING_CONFIGS: dict[str, dict[str, Any]] = {
    "local": dict(
        model="jina-embeddings-v5-text-small",
        backend="local",
        task="text-matching",
        dimensions=256,
        precision="binary",
        normalize=False,
        truncate=False,
        embed_batch_size=16,
        show_progress=True,
        device="cpu",
        dtype="float16",
        trust_remote_code=False,
        merge_adapters=True,
        cache_folder="/tmp/hf-cache",
        revision="main",
        local_files_only=True,
    ),
    "api": dict(
        model="jina-embeddings-v3",
        backend="api",
        api_key=CANARY,
        base_url="https://jina.example.com/v1",
        task="retrieval",
        dimensions=4,
        precision="int8",
        late_chunking=True,
        quantization_ranges=[[-0.5, -0.4, -0.3, -0.2], [0.5, 0.4, 0.3, 0.2]],
        timeout=12.5,
        connect_timeout=2.0,
        max_retries=5,
        max_concurrency=7,
        max_batch_chars=1000,
        allow_insecure=True,
        served_model_name="jina-v3-served",
        embed_batch_size=64,
    ),
    "openai": dict(
        model="jina-embeddings-v5-text-nano",
        backend="openai",
        api_key=CANARY,
        base_url="http://127.0.0.1:8000/v1",
        served_model_name="jinaai/jina-embeddings-v5-text-nano",
        server_dimensions=True,
        dimensions=128,
        precision="ubinary",
    ),
}


def _options(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "api_key"}


def _no_canary(*texts: str | bytes) -> None:
    for text in texts:
        needle = CANARY.encode() if isinstance(text, bytes) else CANARY
        assert needle not in text


@pytest.mark.parametrize("name", list(EMBEDDING_CONFIGS))
def test_embedding_round_trips_keep_every_option_and_drop_the_key(name: str) -> None:
    config = EMBEDDING_CONFIGS[name]
    emb = JinaEmbedding(**config)
    data = emb.to_dict()
    assert data["class_name"] == "JinaEmbedding"
    assert data["model_name"] == config["model"]
    assert {k: data[k] for k in _options(config)} == _options(config)
    assert "api_key" not in data

    via_dict = JinaEmbedding.from_dict(data)
    via_json = JinaEmbedding.from_json(emb.to_json())
    via_pickle = pickle.loads(pickle.dumps(emb))
    for copy_ in (via_dict, via_json, via_pickle):
        assert copy_.to_dict() == data
        assert copy_.client.backend_name == emb.client.backend_name

    _no_canary(
        emb.to_json(),
        repr(emb),
        str(emb),
        json.dumps(emb.to_payload()),
        emb.model_dump_json(),
        pickle.dumps(emb),
        repr(emb.client),
    )


def test_the_key_survives_copies_but_not_pickles(fake_jina_server: FakeJinaServer) -> None:
    emb = JinaEmbedding(base_url=fake_jina_server.base_url, api_key="jina_test")
    for clone in (copy.deepcopy(emb), emb.model_copy()):
        clone.get_query_embedding("hi")
        assert fake_jina_server.requests[-1].headers["authorization"] == "Bearer jina_test"
    unpickled = pickle.loads(pickle.dumps(emb))  # a key passed as an argument stays home
    with pytest.raises(Exception, match="401|uthentic"):
        unpickled.get_query_embedding("hi")
    assert "authorization" not in fake_jina_server.requests[-1].headers


def test_rerank_round_trips_keep_every_option_and_drop_the_key() -> None:
    config = dict(
        model="jina-reranker-v2-base-multilingual",
        api_key=CANARY,
        top_n=5,
        batch_size=8,
        base_url="https://rerank.example.com/v1",
        timeout=9.0,
        max_retries=0,
        max_concurrency=2,
        served_model_name="served-reranker",
    )
    rerank = JinaRerank(**config)
    data = rerank.to_dict()
    assert data["class_name"] == "JinaRerank"
    assert {k: data[k] for k in _options(config)} == _options(config)
    for copy_ in (
        JinaRerank.from_dict(data),
        JinaRerank.from_json(rerank.to_json()),
        pickle.loads(pickle.dumps(rerank)),
    ):
        assert copy_.to_dict() == data
    _no_canary(rerank.to_json(), repr(rerank), pickle.dumps(rerank), repr(rerank.client))
    assert JinaRerank(backend="fake").top_n == 2  # the old integration's default


def test_model_name_is_an_alias_of_model() -> None:
    assert (
        JinaEmbedding(model_name="jina-embeddings-v5-text-nano", backend="fake").model
        == "jina-embeddings-v5-text-nano"
    )
    with pytest.raises(InvalidInputError, match="disagree"):
        JinaEmbedding("jina-embeddings-v3", model_name="jina-embeddings-v4", backend="fake")


def test_bad_options_fail_at_construction_with_the_core_errors() -> None:
    with pytest.raises(InvalidInputError, match="precision"):
        JinaEmbedding(backend="fake", precision="int4")
    with pytest.raises(InvalidInputError, match="max_retries only applies to remote"):
        JinaEmbedding(backend="local", max_retries=7)
    with pytest.raises(InvalidInputError, match="API key"):
        JinaEmbedding(backend="api")  # the hosted API without a key
    with pytest.raises(ValidationError, match="dimension"):
        JinaEmbedding(backend="fake", dimension=256)  # a typo is not silently ignored
    with pytest.raises(InvalidInputError, match="top_n"):
        JinaRerank(backend="fake", top_n=0)


def test_old_encoding_names_map_to_precision_with_a_deprecation_warning() -> None:
    import pytest

    from jina_embeddings import InvalidInputError

    with pytest.warns(DeprecationWarning, match="precision="):
        emb = JinaEmbedding(backend="fake", encoding_queries="ubinary", encoding_documents="ubinary")
    assert emb.precision == "ubinary"
    assert set(emb.get_query_embedding("berlin")) <= {1.0, -1.0}  # bits come back as +-1.0
    with pytest.warns(DeprecationWarning):
        assert JinaEmbedding(backend="fake", encoding_documents="float").precision == "float32"
    with pytest.warns(DeprecationWarning), pytest.raises(InvalidInputError, match="disagree"):
        JinaEmbedding(backend="fake", encoding_queries="float", encoding_documents="binary")
