"""``backend="api"`` on Ray against the loopback fake Jina server: exact requests, the
per-actor concurrency bound, the same vectors as in-process, and a key that never travels in clear.

The actors are separate processes on this machine, so they reach the test's server on
127.0.0.1 like any client.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder
from jina_embeddings.ray import SealedKey, embed_config, embed_dataset
from jina_testkit.fake_api import FakeJinaServer

V5 = "jina-embeddings-v5-text-small"
KEY = "jina_ray_test_key_7f3a9c"


@pytest.fixture
def srv() -> Iterator[FakeJinaServer]:
    server = FakeJinaServer(api_key=KEY, latency=0.05).start()  # latency: requests overlap
    try:
        yield server
    finally:
        server.stop()


def test_requests_bound_vectors_and_key(local_ray: Any, helpers: Any, srv: FakeJinaServer) -> None:
    import ray.cloudpickle

    texts = helpers.corpus(96)
    options: dict[str, Any] = dict(base_url=srv.base_url, batch_size=8, max_concurrency=2, dimensions=128)
    out = embed_dataset(
        helpers.dataset(texts, blocks=6), model=V5, backend="api", api_key=KEY, num_actors=2,
        task="retrieval", **options,
    )  # fmt: skip
    assert KEY.encode() not in ray.cloudpickle.dumps(out._logical_plan)  # what the actors are built from
    rows = out.take_all()
    requests = [r for r in srv.requests if r.path == "/v1/embeddings"]
    # rows_per_batch defaults to batch_size * max_concurrency = 16: 96 rows -> 6 batches -> 12 requests of 8
    assert sorted(len(r.body["input"]) for r in requests) == [8] * 12
    assert sorted(t for r in requests for t in r.body["input"]) == sorted(texts)  # each text sent once
    assert {r.outcome for r in requests} == {"ok"}
    assert {r.body["task"] for r in requests} == {"retrieval.passage"}
    assert {r.headers.get("authorization") for r in requests} == {f"Bearer {KEY}"}  # the key arrived
    assert 2 <= srv.max_in_flight <= 4  # 2 actors x max_concurrency=2 (more would break the bound)
    assert [r["n"] for r in rows] == list(range(96))
    srv.reset()
    with Embedder(V5, backend="api", api_key=KEY, **options) as emb:
        ref = emb.embed_documents(texts).vectors
    got = np.stack([np.asarray(r["embedding"]) for r in rows])
    np.testing.assert_allclose(got, ref, atol=1e-6)


def test_the_key_is_sealed_in_the_object_store(local_ray: Any, srv: FakeJinaServer) -> None:
    cfg = embed_config(model=V5, backend="api", api_key=KEY, base_url=srv.base_url)
    assert isinstance(cfg.api_key, SealedKey)
    for blob in (pickle.dumps(cfg), pickle.dumps((cfg,)), repr(cfg).encode(), repr(cfg.api_key).encode()):
        assert KEY.encode() not in blob
    assert pickle.loads(pickle.dumps(cfg)).api_key.open() == KEY  # what an actor does


def test_the_key_is_not_in_rays_logs(local_ray: Any, helpers: Any, srv: FakeJinaServer) -> None:
    import ray

    out = embed_dataset(
        helpers.dataset(helpers.corpus(8), blocks=1), model=V5, backend="api", api_key=KEY,
        base_url=srv.base_url,
    )  # fmt: skip
    assert out.count() == 8 and len(srv.requests) == 1
    node: Any = ray._private.worker._global_node
    session = Path(node.get_session_dir_path())
    leaked = [p for p in session.rglob("*") if p.is_file() and KEY.encode() in _read(p)]
    assert leaked == []


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # sockets, files rotated away
        return b""
