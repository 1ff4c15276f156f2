"""Construction checks (no I/O), pooled connections, closing, event loops, pickling, memory."""

from __future__ import annotations

import asyncio
import gc
import pickle
import socket
import tracemalloc
from typing import Any

import numpy as np
import pytest

from jina_embeddings import AuthenticationError, Embedder, InvalidInputError
from jina_testkit.fake_api import Fault, expected_vector

V5 = "jina-embeddings-v5-text-small"
KEY = "jina_test"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- construction -----------------------------------------------------------------------------
@pytest.mark.parametrize("base_url", [None, "https://api.jina.ai/v1", "https://api.jina.ai/v1/"])
def test_hosted_api_without_key_fails_at_construction(base_url: str | None) -> None:
    with pytest.raises(InvalidInputError, match="JINA_API_KEY") as info:
        Embedder(V5, backend="api", base_url=base_url)
    assert info.value.field == "api_key"


@pytest.mark.parametrize(
    "base_url", ["http://gpu-box.example.com:8000/v1", "http://embed.example.org/v1", "http://example.com/v1"]
)
def test_key_over_plain_http_to_a_remote_host_is_refused(base_url: str) -> None:
    with pytest.raises(InvalidInputError, match="allow_insecure") as info:
        Embedder(V5, backend="api", api_key=KEY, base_url=base_url)
    assert info.value.field == "allow_insecure"
    Embedder(V5, backend="api", api_key=KEY, base_url=base_url, allow_insecure=True).close()
    Embedder(V5, backend="api", base_url=base_url).close()  # no key, nothing to leak


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("10.0.0.5", False),
        ("192.168.1.2", False),
        ("::2", False),
        ("127.0.0.9", True),
        ("::1", True),
        ("a.localhost", True),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    """Only loopback hosts may get a key over plain http (checked without any network)."""
    from jina_embeddings._backends.remote import _is_loopback

    assert _is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.2", "[::1]", "api.localhost"])
def test_loopback_http_needs_no_allow_insecure(host: str) -> None:
    Embedder(V5, backend="api", api_key=KEY, base_url=f"http://{host}:8080/v1").close()


@pytest.mark.parametrize(
    "base_url",
    [
        "https://user:s3cretpw@host.example.com/v1",
        "https://host.example.com/v1?key=s3cretpw",
        "https://host.example.com/v1#s3cretpw",
    ],
)
def test_secrets_in_base_url_are_refused_without_echo(base_url: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Embedder(V5, backend="api", api_key=KEY, base_url=base_url)
    assert "s3cretpw" not in str(info.value)


def test_construction_and_warm_up_do_no_network() -> None:
    emb = Embedder(V5, backend="api", api_key=KEY, base_url=f"http://127.0.0.1:{closed_port()}/v1")
    emb.warm_up()  # creates the pool; connects on the first request only
    assert "127.0.0.1" in repr(emb._backend) and "jina_test" not in repr(emb._backend)
    emb.close()


def test_self_hosted_server_without_key_sends_no_authorization(fake_jina_server_factory: Any) -> None:
    srv = fake_jina_server_factory(api_key=None)
    with Embedder(V5, backend="api", base_url=srv.base_url) as emb:
        emb.embed_query("hello")
    assert "authorization" not in srv.requests[0].headers


def test_wrong_key_is_an_authentication_error(make: Any) -> None:
    with pytest.raises(AuthenticationError, match="JINA_API_KEY"):
        make(api_key="jina_wrong").embed_query("x")


# -- connections ----------------------------------------------------------------------------
def test_sequential_calls_reuse_one_pooled_connection(srv: Any, make: Any) -> None:
    emb = make()
    for i in range(5):
        emb.embed_query(f"query {i}")
    assert srv.open_connections == 1
    emb.close()
    assert srv.wait_connections_closed(2.0)


def test_no_connection_left_open_after_mixed_calls_and_close(srv: Any, make: Any) -> None:
    emb = make(batch_size=3, dimensions=32, max_retries=5)

    async def many_async() -> None:  # its pool is closed when asyncio.run() shuts the loop down
        for i in range(10):
            if i % 3 == 0:
                srv.script(Fault.drop())
            await emb.aembed([f"a{i}-{j}" for j in range(10)])

    asyncio.run(many_async())
    for i in range(20):
        if i % 4 == 0:
            srv.script(Fault.drop(), Fault.status(503))
        emb.embed([f"s{i}-{j}" for j in range(10)])
    assert srv.open_connections > 0  # the sync pool is still open: the check below can fail
    emb.close()
    assert srv.wait_connections_closed(2.0), srv.open_connections


def test_context_managers_close_their_pools(srv: Any) -> None:
    with Embedder(V5, backend="api", api_key=KEY, base_url=srv.base_url, batch_size=2) as emb:
        emb.embed(["a", "b", "c", "d", "e"])
        assert srv.open_connections >= 1
    assert srv.wait_connections_closed(2.0)

    async def main() -> None:
        async with Embedder(V5, backend="api", api_key=KEY, base_url=srv.base_url, batch_size=2) as aemb:
            await aemb.aembed(["a", "b", "c", "d", "e"])
            assert srv.open_connections >= 1
        assert srv.wait_connections_closed(2.0)

    asyncio.run(main())


def test_asyncio_run_closes_its_pool_at_loop_shutdown(srv: Any, make: Any) -> None:
    emb = make(batch_size=2)
    asyncio.run(emb.aembed(["a", "b", "c", "d", "e"]))  # no aclose(): the loop's shutdown closes the pool
    assert srv.wait_connections_closed(2.0)
    # a second event loop gets a fresh pool: pools cannot move between loops
    out = asyncio.run(emb.aembed(["a", "b"]))
    np.testing.assert_allclose(out.vectors[1], expected_vector(V5, "retrieval.passage", "b"), atol=1e-6)


def test_memory_is_released_after_close(srv: Any) -> None:
    def cycle() -> None:
        emb = Embedder(V5, backend="api", api_key=KEY, base_url=srv.base_url, dimensions=32)
        emb.embed(["memory test a", "memory test b"])
        asyncio.run(emb.aembed(["memory test c"]))
        emb.close()

    cycle()  # warm caches (TLS context, module imports, lru caches)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(10):
        cycle()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert growth < 100_000, growth


# -- pickling ---------------------------------------------------------------------------------
def test_pickled_embedder_reads_env_key_again(srv: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINA_API_KEY", KEY)
    emb = Embedder(V5, backend="api", base_url=srv.base_url, dimensions=32)
    blob = pickle.dumps(emb)
    assert KEY.encode() not in blob
    clone = pickle.loads(blob)
    out = clone.embed_query("after pickling")
    np.testing.assert_allclose(
        out.vectors[0], expected_vector(V5, "retrieval.query", "after pickling", 32), atol=1e-6
    )
    assert srv.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    emb.close()
    clone.close()


def test_remote_backends_import_no_heavy_dependency(srv: Any) -> None:
    import subprocess
    import sys

    code = (
        f"import sys; from jina_embeddings import Embedder, Reranker\n"
        f"e = Embedder('{V5}', backend='api', api_key='{KEY}', base_url='{srv.base_url}')\n"
        f"e.embed(['a b']); Reranker('jina-reranker-v3', backend='api', api_key='{KEY}', base_url='{srv.base_url}')\n"
        f"print([m for m in ('torch', 'transformers', 'sentence_transformers', 'tqdm') if m in sys.modules])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
