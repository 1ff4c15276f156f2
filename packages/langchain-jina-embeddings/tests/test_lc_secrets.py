"""The API key never leaves the process: repr, str, dumpd, pickle, errors, logs.

A canary key is given every way a user can give it (argument, community alias, environment)
and looked for in everything the objects can turn into.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.load import dumpd, dumps, load
from pydantic import ValidationError

from jina_embeddings import AuthenticationError, InvalidInputError
from langchain_jina_embeddings import JinaEmbeddings, JinaRerank

CANARY = "jina_CANARY_7f3a91c2"
SECRET_REF = {"lc": 1, "type": "secret", "id": ["JINA_API_KEY"]}


def renderings(obj: Any) -> dict[str, str]:
    """Every text or bytes form a user, a log or a tracer could produce."""
    return {
        "repr": repr(obj),
        "str": str(obj),
        "format": f"{obj}",
        "dumps": dumps(obj),
        "dumpd": repr(dumpd(obj)),
        "pickle": pickle.dumps(obj).decode("latin-1"),
        "model_dump_json": obj.model_dump_json(),
        "model_dump": repr(obj.model_dump()),
        "core": repr(obj._core),
    }


def assert_no_canary(obj: Any) -> None:
    leaks = [name for name, text in renderings(obj).items() if CANARY in text]
    assert leaks == []


@pytest.fixture
def canary_server(fake_jina_server_factory: Callable[..., Any]) -> Any:
    return fake_jina_server_factory(api_key=CANARY)


@pytest.mark.parametrize("cls", [JinaEmbeddings, JinaRerank])
@pytest.mark.parametrize("how", ["api_key", "jina_api_key", "env"])
def test_key_is_in_no_rendering(
    cls: type, how: str, canary_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "env":
        monkeypatch.setenv("JINA_API_KEY", CANARY)
        obj = cls(base_url=canary_server.base_url)
    else:
        obj = cls(base_url=canary_server.base_url, **{how: CANARY})
    assert obj.api_key.get_secret_value() == CANARY  # it is there, only hidden
    assert_no_canary(obj)
    assert dumpd(obj)["kwargs"]["api_key"] == SECRET_REF


@pytest.mark.filterwarnings("ignore:The function `load` is in beta")
def test_dumpd_round_trips_through_load_with_the_key_from_a_secrets_map(canary_server: Any) -> None:
    emb = JinaEmbeddings(base_url=canary_server.base_url, api_key=CANARY, dimensions=128)
    data = dumpd(emb)
    assert data["id"] == ["langchain_jina_embeddings", "embeddings", "JinaEmbeddings"]
    assert data["kwargs"]["dimensions"] == 128
    again = load(
        data,
        secrets_map={"JINA_API_KEY": CANARY},
        allowed_objects=[JinaEmbeddings],
        valid_namespaces=["langchain_jina_embeddings"],
    )
    assert isinstance(again, JinaEmbeddings) and again.dimensions == 128
    assert again.embed_query("hello") == emb.embed_query("hello")
    assert canary_server.requests[-1].headers["authorization"] == f"Bearer {CANARY}"


def test_pickled_env_key_is_read_again_from_the_environment(
    canary_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JINA_API_KEY", CANARY)
    blob = pickle.dumps(JinaEmbeddings(base_url=canary_server.base_url))
    assert CANARY.encode() not in blob
    clone = pickle.loads(blob)
    assert clone.api_key.get_secret_value() == CANARY
    assert len(clone.embed_query("hello")) == 1024
    assert canary_server.requests[-1].headers["authorization"] == f"Bearer {CANARY}"


def test_pickled_argument_key_stays_behind_and_the_backend_stays_remote(
    canary_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emb = JinaEmbeddings(api_key=CANARY, base_url=canary_server.base_url)
    blob = pickle.dumps(emb)
    assert CANARY.encode() not in blob
    monkeypatch.setenv("JINA_API_KEY", CANARY)  # an argument key is not replaced by the environment's
    clone = pickle.loads(blob)
    assert clone.api_key is None
    assert clone.embedder.backend_name == "api"  # not silently switched to local inference
    with pytest.raises(AuthenticationError) as info:
        clone.embed_query("hello")
    assert info.value.status_code == 401
    assert "authorization" not in canary_server.requests[-1].headers


def test_rejected_options_do_not_echo_the_key() -> None:
    with pytest.raises(ValidationError) as info:
        JinaEmbeddings(api_key=CANARY, timeout="soon")  # type: ignore[arg-type]
    assert CANARY not in str(info.value) and CANARY not in repr(info.value.errors())
    with pytest.raises(InvalidInputError) as core_info:
        JinaEmbeddings(api_key=CANARY, precision="int4")
    assert CANARY not in str(core_info.value)
    with pytest.raises(ValidationError) as info:
        JinaRerank(jina_api_key=CANARY, user_agent="langchain")  # type: ignore[call-arg]
    assert CANARY not in str(info.value)


def test_wrong_key_error_and_logs_do_not_show_it(
    fake_jina_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emb = JinaEmbeddings(api_key=CANARY, base_url=fake_jina_server.base_url)  # server wants "jina_test"
    with pytest.raises(AuthenticationError) as info:
        emb.embed_documents(["hello"])
    assert CANARY not in str(info.value) and CANARY not in repr(info.value)
    assert caplog.records, "the core logs its construction"
    assert CANARY not in caplog.text
