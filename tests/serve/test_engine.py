"""In-process pieces of ``serve``: the task table's reverse, the shared model, parsing, config."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from jina_embeddings import InvalidInputError
from jina_embeddings._backends.loading import loaded_models
from jina_embeddings._models import get_spec, list_models
from jina_embeddings._tasks import Role, from_api_task, resolve
from jina_embeddings.server import ServeConfig, keys_from_env
from jina_embeddings.server._engine import load_models
from jina_embeddings.server._metrics import Metrics
from jina_embeddings.server._protocol import ServeError, parse_embed, parse_rerank


@pytest.mark.parametrize("spec", [s for s in list_models() if s.kind == "embedding"], ids=lambda s: s.name)
def test_from_api_task_inverts_resolve_for_every_registry_model(spec) -> None:
    for task in spec.tasks or (None,):
        for role in (Role.QUERY, Role.DOCUMENT):
            binding = resolve(spec, task, role)
            if binding.api_task is None:
                continue
            back_task, back_role = from_api_task(spec, binding.api_task)
            again = resolve(spec, back_task, back_role)
            assert (again.adapter, again.prompt, again.api_task) == (
                binding.adapter,
                binding.prompt,
                binding.api_task,
            )


def test_from_api_task_defaults_and_errors() -> None:
    v5 = get_spec("jina-embeddings-v5-text-small")
    assert from_api_task(v5, None) == ("retrieval", Role.DOCUMENT)
    assert from_api_task(v5, "retrieval.query") == ("retrieval", Role.QUERY)
    with pytest.raises(InvalidInputError, match="valid tasks: retrieval.passage, retrieval.query") as info:
        from_api_task(v5, "separation")
    assert info.value.field == "task"
    assert from_api_task(get_spec("jina-embeddings-v3"), "separation") == ("clustering", Role.DOCUMENT)


@pytest.mark.local
def test_embedders_of_all_tasks_share_one_load_and_one_lock(tiny_models: dict[str, Path]) -> None:
    folder = str(tiny_models["qwen3"])
    embedding, _ = load_models(ServeConfig(model=folder, dtype="float32", api_keys=()))
    assert embedding is not None
    embedding.warm_up()
    embs = [
        embedding.embedder(t, dimensions=d, normalize=True, precision="float32", truncate=True)
        for t in ("retrieval", "text-matching", "clustering", "classification")
        for d in (None, 32)
    ]
    models = {id(e._backend.model_for(e.task)) for e in embs}
    assert len(models) == 1
    model = embs[0]._backend.model_for("retrieval")
    assert model._attached == {"retrieval", "text-matching", "clustering", "classification"}
    assert len({id(e._backend.model_for(e.task).lock) for e in embs}) == 1
    mine = [m for m in loaded_models() if m["source"] == str(Path(folder).resolve())]
    assert len(mine) == 1
    # the same Embedder object is reused for the same settings
    assert (
        embedding.embedder("clustering", dimensions=32, normalize=True, precision="float32", truncate=True)
        is embs[5]
    )


@pytest.mark.local
def test_engine_embed_builds_jina_rows_in_order(tiny_models: dict[str, Path]) -> None:
    folder = str(tiny_models["qwen3"])
    embedding, _ = load_models(ServeConfig(model=folder, dtype="float32", api_keys=()))
    assert embedding is not None
    texts = ["one text", "another text", "a third"]
    call = parse_embed({"input": texts, "task": "retrieval.query", "embedding_type": "float"}, max_items=10)
    body = asyncio.run(embedding.embed(call))
    got = np.array([d["embedding"] for d in body["data"]], np.float32)
    from jina_embeddings import Embedder

    want = Embedder(folder, backend="local", dtype="float32").embed(texts, role="query").vectors
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert [d["index"] for d in body["data"]] == [0, 1, 2] and body["model"] == Path(folder).name


def test_parse_embed_modes() -> None:
    jina = parse_embed({"input": "one", "task": "text-matching", "dimensions": 32}, max_items=4)
    assert (jina.texts, jina.openai, jina.api_task, jina.dimensions, jina.truncate) == (
        ["one"],
        False,
        "text-matching",
        32,
        False,
    )
    openai = parse_embed(
        {"model": "m:retrieval.query", "input": ["a", {"text": "b"}], "encoding_format": "base64"},
        max_items=4,
    )
    assert openai.openai and openai.texts == ["a", "b"] and openai.embedding_types == ("base64",)
    several = parse_embed({"input": ["a"], "embedding_type": ["float", "ubinary", "float"]}, max_items=4)
    assert several.several_types and several.embedding_types == ("float", "ubinary")
    with pytest.raises(ServeError) as info:
        parse_embed({"input": ["a"] * 5}, max_items=4)
    assert info.value.status == 413
    with pytest.raises(ServeError, match="normalized"):
        parse_embed({"input": ["a"], "normalized": 1}, max_items=4)
    rr = parse_rerank({"query": {"text": "q"}, "documents": ["a", {"text": "b"}], "top_n": 1}, max_items=4)
    assert (rr.query, rr.documents, rr.top_n, rr.return_documents) == ("q", ["a", "b"], 1, True)


def test_config_validation_and_keys() -> None:
    assert keys_from_env({"JINA_SERVE_API_KEYS": " a, ,b "}) == ("a", "b")
    assert keys_from_env({}) == ()
    config = ServeConfig(model="m", api_keys=("secret-key",))
    assert "secret-key" not in repr(config)
    for bad in (
        {"max_batch_size": 0},
        {"max_queue": 10, "max_inputs_per_request": 20},
        {"max_wait_ms": -1},
        {"port": 70000},
        {"served_model_name": "a:b"},
        {"api_keys": ("has space",)},
    ):
        with pytest.raises(InvalidInputError) as info:
            ServeConfig(model="m", **bad)  # type: ignore[arg-type]
        assert info.value.field == next(iter(bad)) or info.value.field == "max_queue"


def test_metrics_render_prometheus_text() -> None:
    m = Metrics(queue_capacity=10)
    m.answered("embeddings", 200, 0.02)
    m.answered("embeddings", 429, 0.001)
    m.admitted("embeddings", 3)
    text = m.render()
    assert 'jina_serve_requests_total{route="embeddings",status="429"} 1' in text
    assert 'jina_serve_request_duration_seconds_bucket{route="embeddings",le="0.025"} 2' in text
    assert 'jina_serve_request_duration_seconds_bucket{route="embeddings",le="0.005"} 1' in text
    assert 'jina_serve_request_inputs_bucket{route="embeddings",le="2"} 0' in text
    assert 'jina_serve_request_inputs_bucket{route="embeddings",le="4"} 1' in text
    assert "jina_serve_queue_capacity 10" in text


def test_importing_the_package_and_cli_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, jina_embeddings, jina_embeddings.cli, jina_embeddings.server, jina_embeddings.server.canary;"
        "print(sorted(m for m in ('starlette', 'uvicorn', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_serve_with_a_missing_model_exits_2_before_listening(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jina_embeddings.cli import main

    assert main(["serve", str(tmp_path / "no-such-model"), "--port", "0"]) == 2
    assert "Unknown model" in capsys.readouterr().err
    assert main(["serve", "m", "--max-queue", "1", "--max-inputs-per-request", "2"]) == 2
    assert "max_queue" in capsys.readouterr().err


@pytest.mark.local
def test_reranker_only_server_and_a_full_queue(tiny_reranker_path: str) -> None:
    """In process (Starlette's TestClient): a reranker-only server, and 429 when the queue is full."""
    from starlette.testclient import TestClient

    from jina_embeddings.server import create_app

    app = create_app(
        ServeConfig(model=tiny_reranker_path, max_queue=8, max_inputs_per_request=4, api_keys=())
    )
    with TestClient(app) as client:
        reply = client.post("/v1/embeddings", json={"input": ["a"]})
        assert reply.status_code == 404 and reply.json()["code"] == "NOT_FOUND"
        ok = client.post("/v1/rerank", json={"query": "fox", "documents": ["a fox", "a dog"], "top_n": 1})
        assert ok.status_code == 200 and len(ok.json()["results"]) == 1
        assert ok.json()["results"][0]["document"] == {"text": ok.json()["results"][0]["document"]["text"]}
        service = app.state.service
        service.metrics.queue_depth = 7  # as if 7 inputs were being served
        busy = client.post("/v1/rerank", json={"query": "fox", "documents": ["a", "b"]})
        assert busy.status_code == 429
        assert (
            busy.json()["code"] == "SERVER_BUSY" and busy.json()["request_id"] == busy.headers["x-request-id"]
        )
        assert int(busy.headers["retry-after"]) >= 1 and 10 <= int(busy.headers["retry-after-ms"]) <= 5000
        one = client.post("/v1/rerank", json={"query": "fox", "documents": ["a"]})
        assert one.status_code == 200  # 7 + 1 fits
        service.metrics.queue_depth = 0
        assert service.metrics.count("rerank", 429) == 1
