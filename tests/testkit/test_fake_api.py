"""Tests of the fake Jina API server itself, over real sockets with httpx."""

from __future__ import annotations

import base64
import math
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from jina_testkit.fake_api import FakeJinaServer, Fault, expected_rerank_score, expected_vector

KEY = "jina_test"
AUTH = {"Authorization": f"Bearer {KEY}"}
V3 = "jina-embeddings-v3"
V2 = "jina-embeddings-v2-base-en"
DROP_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError)
_TLS = ssl.create_default_context()  # built once: httpx.Client() would load the CA bundle each time (~35 ms)


def new_client(base_url: str = "", **kwargs: object) -> httpx.Client:
    kwargs.setdefault("timeout", 5.0)
    return httpx.Client(base_url=base_url, verify=_TLS, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def srv(fake_jina_server: FakeJinaServer) -> FakeJinaServer:
    return fake_jina_server


@pytest.fixture
def client(srv: FakeJinaServer) -> Iterator[httpx.Client]:
    with new_client(srv.base_url, headers=AUTH) as c:
        yield c


def embed(client: httpx.Client, **body: object) -> httpx.Response:
    body.setdefault("model", V3)
    return client.post("/embeddings", json=body)


def f32(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def b64_f32(s: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<f4")


# ----------------------------------------------------------------- deterministic functions
def test_expected_vector_is_deterministic_unit_and_input_dependent() -> None:
    v = expected_vector(V3, "retrieval.query", "hello")
    assert v.dtype == np.float32 and v.shape == (1024,)
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5
    assert np.array_equal(v, expected_vector(V3, "retrieval.query", "hello"))
    others = [
        expected_vector(V3, "retrieval.passage", "hello"),
        expected_vector(V3, None, "hello"),
        expected_vector("jina-clip-v2", "retrieval.query", "hello"),
        expected_vector(V3, "retrieval.query", "hell"),
    ]
    assert all(abs(float(v @ o)) < 0.2 for o in others)
    cut = expected_vector(V3, "retrieval.query", "hello", dimensions=64)
    assert cut.shape == (64,) and abs(float(np.linalg.norm(cut)) - 1.0) < 1e-5
    np.testing.assert_allclose(cut, v[:64] / np.linalg.norm(v[:64]), rtol=1e-5, atol=1e-6)
    assert expected_vector(V3, None, "hello", native_dim=768).shape == (768,)
    v[0] = 42.0  # a returned array is a copy: the cache is not corrupted
    assert expected_vector(V3, "retrieval.query", "hello")[0] != 42.0
    with pytest.raises(ValueError):
        expected_vector(V3, None, "x", dimensions=1025)


def test_expected_rerank_score_is_jaccard_with_tiny_tiebreak() -> None:
    same = expected_rerank_score("Quick brown fox", "the quick brown fox")
    assert abs(same - 0.75) < 2e-6
    none = expected_rerank_score("alpha", "beta gamma")
    assert 0.0 < none < 2e-6
    assert 0.0 < expected_rerank_score("", "") < 1.0
    assert expected_rerank_score("a b", "a b") < 1.0
    assert expected_rerank_score("q", "doc one") != expected_rerank_score("q", "doc two")  # tie broken


# ----------------------------------------------------------------- embeddings: happy paths
def test_float_vectors_usage_and_shape(client: httpx.Client) -> None:
    texts = ["hello world", "the quick brown fox", "x"]
    r = embed(client, input=texts, task="retrieval.passage")
    assert r.status_code == 200
    out = r.json()
    assert out["model"] == V3 and out["object"] == "list"
    assert out["usage"] == {"total_tokens": 7, "prompt_tokens": 7}
    assert [d["index"] for d in out["data"]] == [0, 1, 2]
    assert all(d["object"] == "embedding" for d in out["data"])
    for d, text in zip(out["data"], texts, strict=True):
        assert np.array_equal(f32(d["embedding"]), expected_vector(V3, "retrieval.passage", text))
    assert not np.array_equal(f32(out["data"][0]["embedding"]), expected_vector(V3, None, texts[0]))


def test_single_string_and_text_object_inputs(client: httpx.Client) -> None:
    a = embed(client, input="solo text", task="text-matching").json()["data"]
    b = embed(client, input=[{"text": "solo text"}], task="text-matching").json()["data"]
    assert len(a) == len(b) == 1
    assert a[0]["embedding"] == b[0]["embedding"]
    assert np.array_equal(f32(a[0]["embedding"]), expected_vector(V3, "text-matching", "solo text"))


@pytest.mark.parametrize("field", ["embedding_type", "encoding_format"])
def test_base64_vectors(client: httpx.Client, field: str) -> None:
    model = "jina-embeddings-v5-text-small-retrieval"
    body = {"model": model, "input": ["alpha beta", "gamma"], field: "base64"}
    if field == "embedding_type":
        body["task"] = "retrieval.query"
    data = client.post("/embeddings", json=body).json()["data"]
    task = "retrieval.query" if field == "embedding_type" else None
    for d, text in zip(data, ["alpha beta", "gamma"], strict=True):
        assert isinstance(d["embedding"], str)
        assert np.array_equal(b64_f32(d["embedding"]), expected_vector(model, task, text))


def test_openai_mode_has_no_task_and_uses_native_dims(client: httpx.Client) -> None:
    model = "jina-embeddings-v5-text-nano-retrieval"
    r = client.post("/embeddings", json={"model": model, "input": ["Query: what is a fox?"], "user": "u1"})
    assert r.status_code == 200
    v = f32(r.json()["data"][0]["embedding"])
    assert v.shape == (768,)
    assert np.array_equal(v, expected_vector(model, None, "Query: what is a fox?", native_dim=768))
    r = client.post(
        "/embeddings", json={"model": model, "input": "hi", "encoding_format": "float", "dimensions": 32}
    )
    assert np.array_equal(f32(r.json()["data"][0]["embedding"]), expected_vector(model, None, "hi", 32, 768))


@pytest.mark.parametrize("dims", [None, 100])
def test_binary_and_ubinary(client: httpx.Client, dims: int | None) -> None:
    texts = ["bits please", "more bits"]
    extra = {} if dims is None else {"dimensions": dims}
    ub = embed(client, input=texts, embedding_type="ubinary", **extra).json()["data"]
    sb = embed(client, input=texts, embedding_type="binary", **extra).json()["data"]
    for u, s, text in zip(ub, sb, texts, strict=True):
        packed = np.packbits(expected_vector(V3, None, text, dims) > 0)
        assert len(packed) == (128 if dims is None else 13)
        assert u["embedding"] == packed.tolist()
        assert s["embedding"] == (packed.astype(int) - 128).tolist()
        assert min(s["embedding"]) >= -128 and max(s["embedding"]) <= 127
    if dims == 100:
        assert not np.unpackbits(np.array(ub[0]["embedding"], dtype=np.uint8))[100:].any()  # zero padding


def test_embedding_type_list_returns_dict(client: httpx.Client) -> None:
    d = embed(client, input="multi", embedding_type=["float", "ubinary"]).json()["data"][0]["embedding"]
    assert set(d) == {"float", "ubinary"}
    assert d["ubinary"] == np.packbits(f32(d["float"]) > 0).tolist()


def test_dimensions_cut_and_unit_norm(client: httpx.Client) -> None:
    r = embed(client, input=["matryoshka doll"], dimensions=64, task="retrieval.query", normalized=True)
    v = f32(r.json()["data"][0]["embedding"])
    assert v.shape == (64,)
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5
    assert np.array_equal(v, expected_vector(V3, "retrieval.query", "matryoshka doll", 64))


def test_v2_without_task_or_dimensions_is_fine(client: httpx.Client) -> None:
    r = client.post(
        "/embeddings", json={"model": V2, "input": ["x y"], "normalized": True, "embedding_type": "float"}
    )
    assert r.status_code == 200
    assert np.array_equal(
        f32(r.json()["data"][0]["embedding"]), expected_vector(V2, None, "x y", native_dim=768)
    )


def test_2048_inputs_accepted(client: httpx.Client) -> None:
    r = embed(client, input=[f"t{i}" for i in range(2048)], dimensions=4, embedding_type="base64")
    assert r.status_code == 200
    assert len(r.json()["data"]) == 2048 and r.json()["usage"]["total_tokens"] == 2048


# ----------------------------------------------------------------- embeddings: errors
def test_auth(srv: FakeJinaServer) -> None:
    with new_client(srv.base_url) as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
            r = c.post("/embeddings", json={"model": V3, "input": "x"}, headers=headers)
            assert r.status_code == 401
            body = r.json()
            assert body["detail"] == "Invalid API key" and body["code"] == "AUTH_INVALID_API_KEY"
            assert body["request_id"].startswith("req-") and body["request_id"] == r.headers["x-request-id"]
    with FakeJinaServer(api_key=None) as open_srv, new_client(open_srv.base_url) as c:
        assert c.post("/embeddings", json={"model": V3, "input": "x"}).status_code == 200


BAD_BODIES = [
    ({"input": ["a"]}, 422, "model"),
    ({"model": 3, "input": ["a"]}, 422, "model"),
    ({"model": "jina-embeddings-v9", "input": ["a"]}, 400, "INPUT_MODEL_NOT_FOUND"),
    ({"model": V3}, 422, "input"),
    ({"model": V3, "input": []}, 422, "input"),
    ({"model": V3, "input": 5}, 422, "input"),
    ({"model": V3, "input": ["a", 1]}, 422, "input[1]"),
    ({"model": V3, "input": [{"image": "https://example.com/y.png"}]}, 422, "input[0]"),
    (
        {"model": V3, "input": [f"t{i}" for i in range(2049)]},
        400,
        "input length is larger than the largest allowed size 2048",
    ),
    ({"model": V3, "input": ""}, 400, "empty"),
    ({"model": V3, "input": ["ok", "  \n\t"]}, 400, "input[1]"),
    ({"model": V3, "input": "x", "foo": 1}, 422, "foo"),
    ({"model": V3, "input": "x", "task": "retrieval.query", "user": "u"}, 422, "user"),
    ({"model": V3, "input": "x", "encoding_format": "float", "task": "retrieval.query"}, 422, "task"),
    ({"model": V2, "input": "x", "task": "retrieval.query"}, 422, "task"),
    ({"model": V2, "input": "x", "dimensions": 64}, 422, "dimensions"),
    ({"model": V3, "input": "x", "dimensions": 0}, 422, "dimensions"),
    ({"model": V3, "input": "x", "dimensions": 1025}, 422, "dimensions"),
    ({"model": "jina-embeddings-v5-text-nano", "input": "x", "dimensions": 769}, 422, "dimensions"),
    ({"model": V3, "input": "x", "dimensions": "64"}, 422, "dimensions"),
    ({"model": V3, "input": "x", "dimensions": True}, 422, "dimensions"),
    ({"model": V3, "input": "x", "embedding_type": "int8"}, 422, "embedding_type"),
    ({"model": V3, "input": "x", "embedding_type": []}, 422, "embedding_type"),
    ({"model": V3, "input": "x", "encoding_format": "binary"}, 422, "encoding_format"),
    ({"model": V3, "input": "x", "normalized": "yes"}, 422, "normalized"),
    ({"model": V3, "input": "x", "task": 7}, 422, "task"),
]


@pytest.mark.parametrize(("body", "status", "mark"), BAD_BODIES)
def test_validation_errors(client: httpx.Client, body: dict, status: int, mark: str) -> None:
    r = client.post("/embeddings", json=body)
    assert r.status_code == status, r.text
    out = r.json()
    assert out["request_id"] == r.headers["x-request-id"]
    if status == 422:
        assert out["errors"][0]["field"] == mark and isinstance(out["detail"], str)
        extra = mark in ("foo", "user") or (
            mark in ("task", "dimensions") and (body["model"] == V2 or "encoding_format" in body)
        )
        if extra:
            assert out["detail"] == "Extra inputs are not permitted"
            assert out["errors"][0]["type"] == "extra_forbidden"
    else:
        assert mark in out["detail"] or mark == out["code"]
        assert isinstance(out["code"], str)


def test_non_json_and_non_object_bodies(client: httpx.Client) -> None:
    r = client.post("/embeddings", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["request_id"] == r.headers["x-request-id"]
    assert client.post("/embeddings", json=["a"]).status_code == 422


def test_unknown_route_and_method(client: httpx.Client) -> None:
    r = client.post("/classify", json={})
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    assert client.get("/embeddings").status_code == 405


def test_chunked_request_body(client: httpx.Client) -> None:
    chunks = iter([b'{"model": "jina-embeddings-v3", ', b'"input": ["chunked body"]}'])
    r = client.post("/embeddings", content=chunks, headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    assert np.array_equal(f32(r.json()["data"][0]["embedding"]), expected_vector(V3, None, "chunked body"))


# ----------------------------------------------------------------- faults
def test_fault_status_default_body_and_headers(srv: FakeJinaServer, client: httpx.Client) -> None:
    srv.script(Fault.status(429, headers={"Retry-After": "1"}), Fault.status(503))
    r = embed(client, input="x")
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    body = r.json()
    assert body["code"] == "RATE_REQUEST_LIMIT_EXCEEDED" and body["request_id"] == r.headers["x-request-id"]
    # faults act before auth, like a gateway in front of the API
    r = client.post("/embeddings", json={"model": V3, "input": "x"}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 503 and r.json()["code"] == "SERVICE_UNAVAILABLE"
    assert embed(client, input="x").status_code == 200  # queue consumed
    assert srv.pending_faults == 0


def test_fault_status_custom_bodies(srv: FakeJinaServer, client: httpx.Client) -> None:
    srv.script(
        Fault.status(500, body="input is too large to process"), Fault.status(403, body={"error": "broke"})
    )
    r = embed(client, input="x")
    assert r.status_code == 500 and r.text == "input is too large to process"
    assert r.headers["content-type"].startswith("text/plain")
    r = embed(client, input="x")
    assert r.status_code == 403 and r.json() == {"error": "broke"}


def test_fault_drop(srv: FakeJinaServer, client: httpx.Client) -> None:
    srv.script(Fault.drop())
    with pytest.raises(DROP_ERRORS):
        embed(client, input="x")
    assert embed(client, input="x").status_code == 200  # the client recovers with a new connection
    assert [r.outcome for r in srv.requests] == ["drop", "ok"]


def test_fault_hang_triggers_client_timeout(srv: FakeJinaServer) -> None:
    srv.script(Fault.hang(3.0))
    with new_client(srv.base_url, headers=AUTH, timeout=0.2) as c:
        t0 = time.monotonic()
        with pytest.raises(httpx.TimeoutException):
            embed(c, input="x")
        assert time.monotonic() - t0 < 1.0
    assert srv.requests[0].outcome == "pending" and math.isnan(srv.requests[0].finished)


def test_stop_does_not_wait_for_hanging_handler() -> None:
    srv = FakeJinaServer().start()
    srv.script(Fault.hang(30))
    errors: list[BaseException] = []

    def call() -> None:
        try:
            with new_client(srv.base_url, timeout=10) as c:
                embed(c, input="x")
        except httpx.HTTPError as exc:
            errors.append(exc)

    t = threading.Thread(target=call)
    t.start()
    deadline = time.monotonic() + 2
    while srv.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 1.5
    t.join(2)
    assert not t.is_alive() and len(errors) == 1
    assert srv.open_connections == 0
    with pytest.raises(httpx.ConnectError), new_client(timeout=1) as c:
        c.post(srv.base_url + "/embeddings", json={"model": V3, "input": "x"})


def test_fault_slow_still_answers(srv: FakeJinaServer, client: httpx.Client) -> None:
    srv.script(Fault.slow(0.3))
    t0 = time.monotonic()
    r = embed(client, input="slow one")
    assert time.monotonic() - t0 >= 0.3
    assert np.array_equal(f32(r.json()["data"][0]["embedding"]), expected_vector(V3, None, "slow one"))
    assert srv.requests[-1].outcome == "slow"


def test_fault_nonjson(srv: FakeJinaServer, client: httpx.Client) -> None:
    srv.script(Fault.nonjson())
    r = embed(client, input="x")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.text == "<html>oops</html>"
    with pytest.raises(ValueError):
        r.json()


def test_fault_short(srv: FakeJinaServer, client: httpx.Client) -> None:
    srv.script(Fault.short())
    data = embed(client, input=[f"w{i}" for i in range(5)]).json()["data"]
    assert [d["index"] for d in data] == [0, 1, 2, 3]


def test_fault_shuffle_keeps_indices_correct(srv: FakeJinaServer, client: httpx.Client) -> None:
    texts = [f"item {i}" for i in range(20)]
    srv.script(Fault.shuffle())
    data = embed(client, input=texts, dimensions=16).json()["data"]
    order = [d["index"] for d in data]
    assert sorted(order) == list(range(20)) and order != list(range(20))
    for d in data:
        assert np.array_equal(f32(d["embedding"]), expected_vector(V3, None, texts[d["index"]], 16))
    # same seed -> same permutation
    with FakeJinaServer(seed=0) as other, new_client(other.base_url) as c:
        other.script(Fault.shuffle())
        assert [d["index"] for d in embed(c, input=texts, dimensions=16).json()["data"]] == order


@pytest.mark.parametrize(("etype", "length"), [("float", 31), ("base64", 31), ("ubinary", 3)])
def test_fault_bad_dim(srv: FakeJinaServer, client: httpx.Client, etype: str, length: int) -> None:
    srv.script(Fault.bad_dim())
    data = embed(client, input=["a", "b"], dimensions=32, embedding_type=etype).json()["data"]
    for d in data:
        e = d["embedding"]
        assert len(b64_f32(e) if etype == "base64" else e) == length


def test_fault_nan(srv: FakeJinaServer, client: httpx.Client) -> None:
    srv.script(Fault.nan(), Fault.nan())
    r = embed(client, input=["a", "b"])
    assert '"embedding":[NaN,' in r.text
    data = r.json()["data"]
    assert math.isnan(data[0]["embedding"][0]) and np.isfinite(f32(data[0]["embedding"][1:])).all()
    assert np.isfinite(f32(data[1]["embedding"])).all()
    data = embed(client, input=["a", "b"], embedding_type="base64").json()["data"]
    v0 = b64_f32(data[0]["embedding"])
    assert np.isnan(v0[0]) and np.isfinite(v0[1:]).all() and np.isfinite(b64_f32(data[1]["embedding"])).all()


def test_fault_dup_index(srv: FakeJinaServer, client: httpx.Client) -> None:
    srv.script(Fault.dup_index())
    data = embed(client, input=["a", "b", "c"]).json()["data"]
    assert [d["index"] for d in data] == [0, 1, 0]
    assert np.array_equal(
        f32(data[2]["embedding"]), expected_vector(V3, None, "c")
    )  # the vector is still "c"


def test_script_is_fifo_and_consumed_by_error_requests(srv: FakeJinaServer, client: httpx.Client) -> None:
    srv.script(Fault.status(500), Fault.short(), Fault.short())
    assert embed(client, input=["a", "b"]).status_code == 500
    assert len(embed(client, input=["a", "b"]).json()["data"]) == 1
    assert embed(client, input="").status_code == 400  # consumes the second short, which cannot apply
    assert len(embed(client, input=["a", "b"]).json()["data"]) == 2
    assert [r.outcome for r in srv.requests] == ["status:500", "short", "status:400", "ok"]


# ----------------------------------------------------------------- random rates
def _statuses(srv: FakeJinaServer, n: int) -> list[int | str]:
    out: list[int | str] = []
    with new_client(srv.base_url, headers=AUTH, timeout=5) as c:
        for _ in range(n):
            try:
                out.append(embed(c, input="r", dimensions=4).status_code)
            except DROP_ERRORS:
                out.append("drop")
    return out


def test_rate_429(srv: FakeJinaServer) -> None:
    srv.set_fault_rates(rate_429=0.3, retry_after="2", seed=7)
    statuses = _statuses(srv, 200)
    assert 40 <= statuses.count(429) <= 80
    assert set(statuses) == {200, 429}
    r429 = [r for r in srv.requests if r.outcome == "status:429"]
    assert len(r429) == statuses.count(429)
    srv.reset()
    srv.set_fault_rates(rate_429=0.3, retry_after="2", seed=7)
    assert _statuses(srv, 200) == statuses  # same seed, same sequence


def test_rate_429_headers_and_mixed_rates(srv: FakeJinaServer, client: httpx.Client) -> None:
    srv.set_fault_rates(rate_429=1.0, retry_after="3")
    r = embed(client, input="x")
    assert r.status_code == 429 and r.headers["retry-after"] == "3"
    assert r.json()["code"] == "RATE_REQUEST_LIMIT_EXCEEDED"
    srv.script(Fault.short())  # the script wins over the rates
    assert len(embed(client, input=["a", "b"]).json()["data"]) == 1
    srv.set_fault_rates(rate_503=0.2, rate_drop=0.2, rate_slow=0.1, slow_seconds=0.01, seed=3)
    statuses = _statuses(srv, 100)
    counts = Counter(statuses)
    assert counts[503] > 5 and counts["drop"] > 5 and counts[200] > 40 and set(counts) == {200, 503, "drop"}
    outcomes = Counter(r.outcome for r in srv.requests[-100:])
    assert (
        outcomes["drop"] == counts["drop"] and outcomes["status:503"] == counts[503] and outcomes["slow"] > 0
    )
    with pytest.raises(ValueError):
        srv.set_fault_rates(rate_429=0.6, rate_503=0.6)


# ----------------------------------------------------------------- gauges, connections, load
def test_max_in_flight_with_latency(srv: FakeJinaServer) -> None:
    srv.latency = 0.2

    def one(_: int) -> int:
        with new_client(srv.base_url, headers=AUTH, timeout=5) as c:
            return embed(c, input="x").status_code

    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(one, range(8))) == [200] * 8
    assert time.monotonic() - t0 < 1.0
    assert srv.max_in_flight >= 4 and srv.in_flight == 0
    srv.reset()
    assert srv.max_in_flight == 0 and srv.requests == []


def test_open_connections_return_to_zero(srv: FakeJinaServer) -> None:
    c1 = new_client(srv.base_url, headers=AUTH)
    c2 = new_client(srv.base_url, headers=AUTH)
    for _ in range(3):  # keep-alive: one connection per client
        assert embed(c1, input="x").status_code == 200
    embed(c2, input="x")
    assert srv.open_connections == 2
    c1.close()
    c2.close()
    assert srv.wait_connections_closed(2.0) and srv.open_connections == 0


def test_concurrent_load_32_threads(srv: FakeJinaServer) -> None:
    def worker(k: int) -> int:
        ok = 0
        with new_client(srv.base_url, headers=AUTH, timeout=5) as c:
            for i in range(25):
                text = f"w{k} r{i}"
                v = embed(c, input=[text], dimensions=8, embedding_type="base64").json()["data"][0][
                    "embedding"
                ]
                ok += np.array_equal(b64_f32(v), expected_vector(V3, None, text, 8))
        return ok

    with ThreadPoolExecutor(32) as pool:
        assert sum(pool.map(worker, range(32))) == 800
    assert len(srv.requests) == 800 and 1 <= srv.max_in_flight <= 32
    assert srv.wait_connections_closed(2.0)


# ----------------------------------------------------------------- rerank
DOCS = [
    "the cat sat on the mat",
    "a fox jumps over the dog",
    "cats and dogs",
    {"text": "the quick brown fox jumps"},
]


def _doc_text(d: object) -> str:
    return d["text"] if isinstance(d, dict) else str(d)


def test_rerank_sorted_scores_and_usage(client: httpx.Client) -> None:
    q = "quick fox jumps"
    r = client.post("/rerank", json={"model": "jina-reranker-v3", "query": q, "documents": DOCS})
    out = r.json()
    assert r.status_code == 200 and out["model"] == "jina-reranker-v3" and out["object"] == "list"
    scores = [x["relevance_score"] for x in out["results"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 4
    for x in out["results"]:
        assert x["relevance_score"] == expected_rerank_score(q, _doc_text(DOCS[x["index"]]))
        assert x["document"] == {"text": _doc_text(DOCS[x["index"]])}
    assert out["results"][0]["index"] == 3
    assert out["usage"]["total_tokens"] == 3 + 6 + 6 + 3 + 5


def test_rerank_top_n_and_return_documents(client: httpx.Client) -> None:
    body = {"model": "jina-reranker-m0", "query": "fox", "documents": DOCS}
    full = client.post("/rerank", json=body).json()["results"]
    top = client.post("/rerank", json={**body, "top_n": 2, "return_documents": False}).json()["results"]
    assert [x["index"] for x in top] == [x["index"] for x in full[:2]]
    assert all("document" not in x for x in top)
    assert len(client.post("/rerank", json={**body, "top_n": 99}).json()["results"]) == 4


@pytest.mark.parametrize(
    ("patch", "status"),
    [
        ({"model": "jina-reranker-v9"}, 400),
        ({"foo": 1}, 422),
        ({"top_n": 0}, 422),
        ({"top_n": "2"}, 422),
        ({"documents": []}, 422),
        ({"query": ""}, 400),
        ({"query": None}, 422),
        ({"max_doc_length": 0}, 422),
        ({"return_documents": "no"}, 422),
        ({"truncation": True, "max_doc_length": 512}, 200),
    ],
)
def test_rerank_validation(client: httpx.Client, patch: dict, status: int) -> None:
    body = {"model": "jina-reranker-v2-base-multilingual", "query": "q", "documents": ["d"], **patch}
    r = client.post("/rerank", json={k: v for k, v in body.items() if v is not None})
    assert r.status_code == status, r.text


def test_rerank_faults(srv: FakeJinaServer, client: httpx.Client) -> None:
    docs = [f"doc number {i} about fox" if i % 2 else f"doc {i}" for i in range(10)]
    body = {"model": "jina-reranker-v3.5", "query": "fox about", "documents": docs}
    srv.script(Fault.shuffle(), Fault.short(), Fault.nan(), Fault.dup_index())
    shuffled = client.post("/rerank", json=body).json()["results"]
    scores = [x["relevance_score"] for x in shuffled]
    assert scores != sorted(scores, reverse=True) and sorted(x["index"] for x in shuffled) == list(range(10))
    assert len(client.post("/rerank", json=body).json()["results"]) == 9
    assert math.isnan(client.post("/rerank", json=body).json()["results"][0]["relevance_score"])
    dup = client.post("/rerank", json=body).json()["results"]
    assert dup[-1]["index"] == dup[0]["index"]


# ----------------------------------------------------------------- recording, reset, fixtures
def test_recorded_requests(srv: FakeJinaServer, client: httpx.Client) -> None:
    body = {"model": V3, "input": ["rec"], "task": "retrieval.query"}
    client.post("/embeddings", json=body, headers={"X-Trace-Id": "abc"})
    client.post("/rerank", json={"model": "jina-reranker-v3", "query": "q", "documents": ["d"], "bogus": 1})
    reqs = srv.requests
    assert [r.path for r in reqs] == ["/v1/embeddings", "/v1/rerank"]
    assert reqs[0].headers["authorization"] == f"Bearer {KEY}" and reqs[0].headers["x-trace-id"] == "abc"
    assert reqs[0].body == body and reqs[0].outcome == "ok" and reqs[1].outcome == "status:422"
    assert all(r.started <= r.finished for r in reqs) and reqs[0].finished <= reqs[1].started
    reqs.clear()  # a snapshot copy
    assert len(srv.requests) == 2
    srv.script(Fault.drop())
    srv.set_fault_rates(rate_429=1.0)
    srv.reset()
    assert srv.requests == [] and srv.pending_faults == 0
    assert embed(client, input="after reset").status_code == 200


def test_factory_fixture(fake_jina_server_factory) -> None:  # type: ignore[no-untyped-def]
    a = fake_jina_server_factory()
    b = fake_jina_server_factory(api_key=None, seed=5)
    assert a.base_url != b.base_url and a.api_key == KEY and b.api_key is None
    with new_client() as c:
        assert c.post(a.base_url + "/embeddings", json={"model": V3, "input": "x"}).status_code == 401
        assert c.post(b.base_url + "/embeddings", json={"model": V3, "input": "x"}).status_code == 200


def test_context_manager_and_native_dims_override() -> None:
    with FakeJinaServer() as s:
        s.native_dims["my-model"] = 12
        with new_client(s.base_url) as c:
            v = f32(embed(c, model="my-model", input="x").json()["data"][0]["embedding"])
    assert np.array_equal(v, expected_vector("my-model", None, "x", native_dim=12))
    assert s.open_connections == 0
    with pytest.raises(httpx.ConnectError), new_client(timeout=1) as c:
        c.post(s.base_url + "/embeddings", json={"model": V3, "input": "x"})
