"""What a call used is visible: on the result, in one DEBUG line, and the auto-chosen remote backend is loud."""

from __future__ import annotations

import logging
import warnings

import pytest

from jina_embeddings import Embedder, RemoteBackendWarning


def test_the_result_says_which_adapter_prompt_and_api_task_it_used() -> None:
    emb = Embedder("jina-embeddings-v5-text-small", backend="fake", dimensions=64)
    q, d = emb.embed_query("capital?"), emb.embed_documents(["Berlin."])
    assert (q.binding.adapter, q.binding.prompt, q.binding.api_task) == (
        "retrieval",
        "Query: ",
        "retrieval.query",
    )
    assert (d.binding.adapter, d.binding.prompt, d.binding.api_task) == (
        "retrieval",
        "Document: ",
        "retrieval.passage",
    )
    assert (
        Embedder("jina-embeddings-v3", backend="fake").embed_query("x").binding.api_task == "retrieval.query"
    )


def test_one_debug_line_per_call(caplog: pytest.LogCaptureFixture) -> None:
    emb = Embedder("jina-embeddings-v5-text-small", backend="fake", dimensions=64, precision="binary")
    with caplog.at_level(logging.DEBUG, logger="jina_embeddings"):
        emb.embed_documents(["a", "b", "c"])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("embedded")]
    assert lines == [
        "embedded 3 texts: model=jina-embeddings-v5-text-small backend=fake role=document task=retrieval "
        "adapter=retrieval prompt='Document: ' api_task=retrieval.passage dimensions=64 precision=binary truncated=0"
    ]


def test_an_environment_key_choosing_the_api_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from jina_embeddings import _frontend

    monkeypatch.setattr(_frontend, "_env_key_warned", False)
    monkeypatch.setenv("JINA_API_KEY", "jina_CANARY_env")
    with pytest.warns(RemoteBackendWarning, match="JINA_API_KEY is set") as caught:
        first = Embedder()
    assert first.backend_name == "api" and "CANARY" not in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Embedder()  # once per process
        Embedder(backend="api")  # explicit: no warning
    monkeypatch.setattr(_frontend, "_env_key_warned", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Embedder(backend="api")
        Embedder(api_key="jina_arg")  # a key passed in code is a choice made in code


def test_local_results_say_which_texts_were_truncated(minilm_path: str) -> None:
    emb = Embedder(minilm_path, backend="local")
    with pytest.warns(UserWarning, match="truncated"):
        res = emb.embed_documents(["short", "word " * 400, "also short", "\u200b " * 400 + "tiny"])
    assert res.truncated == 1 and res.truncated_indices == (1,)  # zero-width spaces are not tokens
