"""``JinaEmbeddings`` translates and nothing more: every value is checked against the core."""

from __future__ import annotations

import copy
import inspect
import pickle

import numpy as np
import pytest
from pydantic import ValidationError

from jina_embeddings import DEFAULT_MODEL, Embedder, InvalidInputError
from langchain_jina_embeddings import JinaEmbeddings

TEXTS = ["Berlin is the capital of Germany.", "Paris is the capital of France.", "Bananas are yellow."]


def fake(**kwargs: object) -> JinaEmbeddings:
    return JinaEmbeddings(backend="fake", dimensions=64, **kwargs)  # type: ignore[arg-type]


def core_fake(**kwargs: object) -> Embedder:
    return Embedder(backend="fake", dimensions=64, **kwargs)  # type: ignore[arg-type]


# -- one field per core option, same names, same defaults ---------------------------------------
def test_fields_are_the_core_options_with_the_core_defaults() -> None:
    params = {
        n: p
        for n, p in inspect.signature(Embedder.__init__).parameters.items()
        if n not in ("self", "transport", "async_transport")
    }  # live objects, not settings
    fields = JinaEmbeddings.model_fields
    assert set(fields) == set(params)
    for name, param in params.items():
        if name == "api_key":  # read from the environment by a factory (checked in test_lc_secrets)
            continue
        assert fields[name].default == param.default, name
    assert fields["model"].default == DEFAULT_MODEL == "jina-embeddings-v5-text-small"


def test_every_field_is_documented() -> None:
    undocumented = [n for n, f in JinaEmbeddings.model_fields.items() if not (f.description or "").strip()]
    assert undocumented == []


def test_community_names_are_accepted() -> None:
    emb = JinaEmbeddings(model_name="jina-embeddings-v5-text-nano", jina_api_key="k1", backend="fake")
    assert emb.model == "jina-embeddings-v5-text-nano"
    assert emb.api_key is not None and emb.api_key.get_secret_value() == "k1"
    assert emb.embedder.model == "jina-embeddings-v5-text-nano"


# -- roles -> core calls --------------------------------------------------------------------------
def test_documents_and_queries_use_their_roles() -> None:
    emb, core = fake(), core_fake()
    assert emb.embed_documents(TEXTS) == core.embed_documents(TEXTS).to_float_lists()
    assert emb.embed_query(TEXTS[0]) == core.embed_query(TEXTS[0]).to_float_lists()[0]
    # the document and query sides differ (a role mapping bug would make them equal)
    assert emb.embed_query(TEXTS[0]) != emb.embed_documents([TEXTS[0]])[0]
    assert emb.embedder.task == "retrieval"


async def test_async_paths_give_the_sync_vectors() -> None:
    emb = fake()
    assert await emb.aembed_documents(TEXTS) == emb.embed_documents(TEXTS)
    assert await emb.aembed_query(TEXTS[1]) == emb.embed_query(TEXTS[1])


def test_options_reach_the_core() -> None:
    emb = JinaEmbeddings(backend="fake", task="text-matching", dimensions=128)
    core = Embedder(backend="fake", task="text-matching", dimensions=128)
    vectors = emb.embed_documents(TEXTS)
    assert [len(v) for v in vectors] == [128] * 3
    assert vectors == core.embed_documents(TEXTS).to_float_lists()
    # text-matching is symmetric: the query side is the document side
    assert emb.embed_query(TEXTS[0]) == vectors[0]


def test_empty_list_gives_empty_list() -> None:
    assert fake().embed_documents([]) == []


def test_binary_precision_comes_back_as_plus_minus_one() -> None:
    floats = fake().embed_documents(TEXTS)
    bits = fake(precision="binary").embed_documents(TEXTS)
    assert [len(v) for v in bits] == [64] * 3
    assert {x for v in bits for x in v} == {1.0, -1.0}
    assert np.array_equal(np.where(np.asarray(floats) > 0, 1.0, -1.0), np.asarray(bits))
    assert all(isinstance(x, float) for x in bits[0])


def test_int8_ranges_from_numpy_are_accepted() -> None:
    ranges = core_fake().calibrate(TEXTS)
    emb = fake(precision="int8", quantization_ranges=ranges)
    assert emb.quantization_ranges == ranges.tolist()
    core = core_fake(precision="int8", quantization_ranges=ranges)
    assert emb.embed_query("capital") == core.embed_query("capital").to_float_lists()[0]


# -- bad options fail at construction, in the core, naming the option ---------------------------
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dimensions": 7}, "dimensions"),
        ({"precision": "int4"}, "precision"),
        ({"task": "summarization"}, "task"),
        ({"batch_size": 0}, "batch_size"),
        ({"device": "cpu"}, "device"),  # a local option on the fake backend
        ({"timeout": 3.0}, "timeout"),  # a remote option on the fake backend
        ({"backend": "grpc"}, "backend"),
    ],
)
def test_bad_option_raises_the_core_error(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        JinaEmbeddings(**{"backend": "fake", **kwargs})  # type: ignore[arg-type]
    assert info.value.field == field
    assert field in str(info.value)


def test_wrong_type_and_unknown_keyword_raise_pydantic_errors() -> None:
    with pytest.raises(ValidationError, match="dimensions"):
        JinaEmbeddings(backend="fake", dimensions="large")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="session"):
        JinaEmbeddings(backend="fake", session=object())  # type: ignore[call-arg]


# -- immutable: changes make a new, validated object ---------------------------------------------
def test_assignment_is_refused_and_model_copy_rebuilds() -> None:
    emb = fake()
    with pytest.raises(ValidationError, match="frozen"):
        emb.dimensions = 128  # type: ignore[misc]
    wider = emb.model_copy(update={"dimensions": 128})
    assert len(wider.embed_query("x")) == 128 and len(emb.embed_query("x")) == 64
    with pytest.raises(InvalidInputError, match="dimensions"):
        emb.model_copy(update={"dimensions": 7})


def test_copies_share_the_core_client() -> None:
    emb = fake()
    assert copy.deepcopy(emb).embedder is emb.embedder
    assert copy.copy(emb).embedder is emb.embedder
    assert emb.model_copy().embedder is emb.embedder


def test_pickle_round_trip_keeps_learned_int8_ranges() -> None:
    emb = fake(precision="int8")
    emb.embed_documents(TEXTS)  # learns the calibration ranges
    clone = pickle.loads(pickle.dumps(emb))
    assert clone.embedder is not emb.embedder
    assert clone.embed_query("capital") == emb.embed_query("capital")
    # a fresh object with the same settings shares the ranges learned in this process ...
    assert fake(precision="int8").embed_query("capital") == emb.embed_query("capital")
    # ... one with other settings has none yet: a query alone cannot be quantized
    with pytest.raises(InvalidInputError, match="calibration"):
        fake(precision="int8", task="clustering").embed_query("capital")


def test_model_name_reads_back_like_langchain_community() -> None:
    emb = JinaEmbeddings(model_name="jina-embeddings-v5-text-nano", backend="fake")
    assert emb.model_name == emb.model == "jina-embeddings-v5-text-nano"
