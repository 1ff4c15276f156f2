"""The core's own remote client against ``serve``: every task and role as ``backend="local"``.

The server runs in its own process with its own copy of the weights (float32 on both sides),
so equal vectors mean the request's task reached the right adapter and prompt, the server
cut/normalized/quantized like the core, and the wire round trip lost nothing.
"""

from __future__ import annotations

import base64
import warnings
from pathlib import Path

import httpx
import numpy as np
import pytest

from jina_embeddings import Embedder, Reranker

from .conftest import KEYS, Served

pytestmark = pytest.mark.local

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Embeddings map text to vectors for semantic search.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
]
TASKS = ("retrieval", "text-matching", "clustering", "classification")


def remote(served: Served, **options: object) -> Embedder:
    return Embedder(served.folder, backend="api", base_url=served.base_url, api_key=served.key, **options)  # type: ignore[arg-type]


def local(served: Served, **options: object) -> Embedder:
    return Embedder(served.folder, backend="local", dtype="float32", **options)  # type: ignore[arg-type]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("role", ["query", "document"])
def test_every_task_and_role_equals_local(served: Served, task: str, role: str) -> None:
    with remote(served, task=task) as r:
        got = r.embed(TEXTS, role=role)
    want = local(served, task=task).embed(TEXTS, role=role)
    assert got.vectors.shape == want.vectors.shape == (3, 64)
    assert cosines(got.vectors, want.vectors).min() >= 0.99999
    assert got.model == Path(served.folder).name


def test_tasks_differ_so_the_adapter_is_applied(served: Served) -> None:
    """Positive control: the four adapters give different vectors for one text."""
    with remote(served, task="text-matching") as a, remote(served, task="clustering") as b:
        cos = cosines(a.embed(TEXTS[:1]).vectors, b.embed(TEXTS[:1]).vectors)[0]
    assert cos < 0.999
    with remote(served) as r:
        q, d = r.embed(TEXTS[:1], role="query").vectors, r.embed(TEXTS[:1], role="document").vectors
    assert cosines(q, d)[0] < 0.9999  # retrieval: "Query: " vs "Document: "


@pytest.mark.parametrize("precision", ["float32", "binary", "ubinary", "int8"])
def test_dimensions_and_precisions_equal_local(served: Served, precision: str) -> None:
    opts = {"task": "retrieval", "dimensions": 32, "precision": precision}
    with remote(served, **opts) as r:
        got = r.embed(TEXTS).vectors
    want = local(served, **opts).embed(TEXTS).vectors
    assert got.shape == want.shape
    if precision == "float32":
        assert got.shape == (3, 32)
        assert cosines(got, want).min() >= 0.99999
    elif precision in ("binary", "ubinary"):
        assert got.shape == (3, 4) and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    else:
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


def test_unnormalized_vectors_keep_their_norm(served: Served) -> None:
    with remote(served, normalize=False) as r:
        got = r.embed(TEXTS).vectors
    want = local(served, normalize=False).embed(TEXTS).vectors
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), np.linalg.norm(want, axis=1), rtol=1e-5)


def test_raw_jina_body_every_embedding_type(served: Served) -> None:
    """A list of embedding types answers each vector as {type: value}, encoded as the Jina API does."""
    body = {
        "input": TEXTS,
        "task": "retrieval.query",
        "embedding_type": ["float", "base64", "binary", "ubinary"],
    }
    reply = httpx.post(
        f"{served.base_url}/embeddings", json=body, headers={"Authorization": f"Bearer {KEYS[1]}"}
    )
    assert reply.status_code == 200, reply.text
    data = reply.json()["data"]
    assert [d["index"] for d in data] == [0, 1, 2]
    want = local(served, task="retrieval").embed(TEXTS, role="query").vectors
    floats = np.array([d["embedding"]["float"] for d in data], np.float32)
    b64 = np.stack([np.frombuffer(base64.b64decode(d["embedding"]["base64"]), "<f4") for d in data])
    np.testing.assert_array_equal(floats, b64)
    assert cosines(floats, want).min() >= 0.99999
    ubin = np.array([d["embedding"]["ubinary"] for d in data])
    np.testing.assert_array_equal(ubin, np.packbits(floats > 0, axis=1))
    np.testing.assert_array_equal(np.array([d["embedding"]["binary"] for d in data]), ubin - 128)


@pytest.mark.parametrize(
    ("model", "task", "role"),
    [
        ("{name}:retrieval.query", "retrieval", "query"),
        ("retrieval.passage", "retrieval", "document"),
        ("{name}:clustering", "clustering", "document"),
        ("{name}", "retrieval", "document"),
    ],
)
def test_openai_body_picks_the_task_from_model(served: Served, model: str, task: str, role: str) -> None:
    name = Path(served.folder).name
    body = {"model": model.format(name=name), "input": TEXTS, "encoding_format": "base64"}
    reply = httpx.post(
        f"{served.base_url}/embeddings", json=body, headers={"Authorization": f"Bearer {KEYS[0]}"}
    )
    assert reply.status_code == 200, reply.text
    got = np.stack([np.frombuffer(base64.b64decode(d["embedding"]), "<f4") for d in reply.json()["data"]])
    want = local(served, task=task).embed(TEXTS, role=role).vectors
    assert cosines(got, want).min() >= 0.99999


def test_truncate_false_refuses_a_text_over_the_context(served: Served) -> None:
    long = "word " * 600  # the tiny model's context is 512 tokens
    body = {"input": ["short", long], "task": "text-matching", "truncate": False}
    reply = httpx.post(
        f"{served.base_url}/embeddings", json=body, headers={"Authorization": f"Bearer {KEYS[0]}"}
    )
    assert reply.status_code == 400
    err = reply.json()
    assert err["code"] == "INPUT_INVALID" and "index 1" in err["detail"] and err["request_id"]
    body["truncate"] = True
    assert (
        httpx.post(
            f"{served.base_url}/embeddings", json=body, headers={"Authorization": f"Bearer {KEYS[0]}"}
        ).status_code
        == 200
    )


def test_rerank_equals_local(served: Served) -> None:
    docs = ["a fox in the woods", "Embeddings map text to vectors.", "Der Hund schläft.", "quick brown fox"]
    with Reranker(served.reranker, backend="api", base_url=served.base_url, api_key=served.key) as rr:
        got = rr.rerank("quick fox", docs)
        top = rr.rerank("quick fox", docs, top_n=2)
    want = Reranker(served.reranker, backend="local", dtype="float32").rerank("quick fox", docs)
    assert got.indices == want.indices
    np.testing.assert_allclose(got.scores, want.scores, rtol=1e-5, atol=1e-6)
    assert top.indices == want.indices[:2]
    assert [r.document for r in got] == [docs[i] for i in want.indices]


def test_async_client_and_one_shared_model(served: Served) -> None:
    """aembed through the server; the server process holds ONE model (all adapters) for all tasks."""
    import asyncio

    async def run() -> list[np.ndarray]:
        embs = [remote(served, task=t) for t in TASKS]
        try:
            out = await asyncio.gather(*(e.aembed(TEXTS, role="document") for e in embs))
        finally:
            for e in embs:
                await e.aclose()
        return [o.vectors for o in out]

    for task, got in zip(TASKS, asyncio.run(run()), strict=True):
        assert cosines(got, local(served, task=task).embed(TEXTS).vectors).min() >= 0.99999


def test_models_health_and_metrics(served: Served) -> None:
    auth = {"Authorization": f"Bearer {KEYS[0]}"}
    models = httpx.get(f"{served.base_url}/models", headers=auth).json()["data"]
    name = Path(served.folder).name
    assert [m["id"] for m in models] == [name, Path(served.reranker).name]
    assert models[0]["tasks"] == [
        "retrieval.passage",
        "retrieval.query",
        "text-matching",
        "clustering",
        "classification",
    ]
    assert models[0]["dimensions"] == 64 and models[1]["kind"] == "reranker"
    health = httpx.get(f"{served.root}/health")  # no key needed: load balancer probes
    assert health.status_code == 200 and health.json()["status"] == "ok"
    before = served.counter('jina_serve_requests_total{route="embeddings",status="200"}')
    passes = served.counter("jina_serve_forward_passes_total")
    with remote(served) as r:
        r.embed(TEXTS)
    assert served.counter('jina_serve_requests_total{route="embeddings",status="200"}') == before + 1
    assert served.counter("jina_serve_forward_passes_total") >= passes + 1
    text = served.metrics()
    for series in (
        "queue_depth",
        "queue_capacity 48",
        "request_duration_seconds_bucket",
        "request_inputs_count",
    ):
        assert f"jina_serve_{series}" in text
    assert 'le="+Inf"' in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the histogram lines parse as numbers
        for line in text.splitlines():
            if line and not line.startswith("#"):
                float(line.rpartition(" ")[2])
