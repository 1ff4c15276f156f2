"""Bad keys, bad bodies, oversized inputs: Jina-shaped errors, and the key never echoed."""

from __future__ import annotations

import json

import httpx
import pytest

from jina_embeddings import AuthenticationError, Embedder, RequestTooLargeError, UnprocessableEntityError

from .conftest import KEYS, MAX_BODY, MAX_INPUTS, Served

pytestmark = pytest.mark.local


def post(
    served: Served, body: object, *, key: str | None = KEYS[0], path: str = "/embeddings"
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        f"{served.base_url}{path}", content=content, headers={**headers, "Content-Type": "application/json"}
    )


def jina_error(reply: httpx.Response, status: int, code: str) -> str:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"detail", "code", "request_id"}
    assert body["code"] == code
    assert body["request_id"] == reply.headers["x-request-id"] and len(body["request_id"]) == 32
    return str(body["detail"])


@pytest.mark.parametrize("key", [None, "wrong-key", KEYS[0] + "x", KEYS[0][:-1]])
def test_bad_or_missing_key_is_401_and_never_echoed(served: Served, key: str | None) -> None:
    reply = post(served, {"input": ["hello"]}, key=key)
    detail = jina_error(reply, 401, "AUTH_INVALID_API_KEY")
    assert reply.headers["www-authenticate"] == "Bearer"
    if key:
        assert key not in reply.text and key not in str(reply.headers)
    assert KEYS[0] not in reply.text and KEYS[1] not in reply.text
    assert "Bearer" in detail or "Invalid" in detail
    assert KEYS[0] not in served.log.read_text(errors="replace")


def test_both_keys_work_and_the_client_raises_authentication_error(served: Served) -> None:
    for key in KEYS:
        assert post(served, {"input": ["hello"]}, key=key).status_code == 200
    emb = Embedder(served.folder, backend="api", base_url=served.base_url, api_key="nope", max_retries=0)
    with emb, pytest.raises(AuthenticationError) as info:
        emb.embed(["hello"])
    assert info.value.status_code == 401 and info.value.request_id
    basic = httpx.post(
        f"{served.base_url}/embeddings", json={"input": ["a"]}, headers={"Authorization": f"Basic {KEYS[0]}"}
    )
    jina_error(basic, 401, "AUTH_INVALID_API_KEY")
    metrics = httpx.get(f"{served.root}/metrics")
    assert metrics.status_code == 401  # metrics are behind the keys too


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        (b"{not json", 400, "INPUT_INVALID_JSON", "not valid JSON"),
        ([1, 2], 422, "VALIDATION_ERROR", "JSON object"),
        ({"inputs": ["a"]}, 422, "VALIDATION_ERROR", "inputs: unknown field"),
        ({"task": "retrieval.query"}, 422, "VALIDATION_ERROR", "input: field required"),
        ({"input": []}, 422, "VALIDATION_ERROR", "empty"),
        ({"input": ["a", 3]}, 422, "VALIDATION_ERROR", "input[1]"),
        ({"input": [{"image": "x.png"}]}, 422, "VALIDATION_ERROR", "input[0]"),
        ({"input": ["a", "  "]}, 400, "INPUT_INVALID", "index 1"),
        ({"input": ["a"], "task": "retrieval"}, 422, "VALIDATION_ERROR", "retrieval.query"),
        ({"input": ["a"], "dimensions": 7}, 422, "VALIDATION_ERROR", "32, 64"),
        ({"input": ["a"], "dimensions": "64"}, 422, "VALIDATION_ERROR", "dimensions"),
        ({"input": ["a"], "normalized": "yes"}, 422, "VALIDATION_ERROR", "normalized"),
        ({"input": ["a"], "embedding_type": "int4"}, 422, "VALIDATION_ERROR", "embedding_type"),
        (
            {"input": ["a"], "encoding_format": "base64", "task": "text-matching"},
            422,
            "VALIDATION_ERROR",
            "mix",
        ),
        ({"input": ["a"], "model": "jina-embeddings-v3"}, 404, "NOT_FOUND", "not served here"),
        ({"input": ["a"], "model": "x:retrieval.query"}, 404, "NOT_FOUND", "not served here"),
        (
            {"input": ["a"], "input_type": "query", "task": "retrieval.passage"},
            422,
            "VALIDATION_ERROR",
            "contradicts",
        ),
    ],
)
def test_bad_bodies(served: Served, body: object, status: int, code: str, words: str) -> None:
    assert words in jina_error(post(served, body), status, code)


def test_bad_rerank_bodies_and_routes(served: Served) -> None:
    assert "documents" in jina_error(post(served, {"query": "q"}, path="/rerank"), 422, "VALIDATION_ERROR")
    assert "top_n" in jina_error(
        post(served, {"query": "q", "documents": ["a"], "top_n": 0}, path="/rerank"), 422, "VALIDATION_ERROR"
    )
    nope = httpx.get(f"{served.base_url}/nope")
    assert nope.status_code == 404 and nope.json()["code"] == "NOT_FOUND"
    wrong_method = httpx.get(f"{served.base_url}/embeddings")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "METHOD_NOT_ALLOWED"


def test_oversized_inputs_and_bodies_are_413(served: Served) -> None:
    too_many = post(served, {"input": ["a"] * (MAX_INPUTS + 1)})
    assert f"limit of {MAX_INPUTS}" in jina_error(too_many, 413, "PAYLOAD_TOO_LARGE")
    assert post(served, {"input": ["a"] * MAX_INPUTS}).status_code == 200
    big = post(served, {"input": ["x" * (MAX_BODY + 10)]})
    assert f"limit of {MAX_BODY} bytes" in jina_error(big, 413, "PAYLOAD_TOO_LARGE")
    # The same limit without a Content-Length header (chunked upload).
    chunks = iter([b'{"input": ["', b"y" * MAX_BODY, b'"]}'])
    chunked = httpx.post(
        f"{served.base_url}/embeddings", content=chunks, headers={"Authorization": f"Bearer {KEYS[0]}"}
    )
    jina_error(chunked, 413, "PAYLOAD_TOO_LARGE")


def test_client_gets_typed_errors(served: Served) -> None:
    emb = Embedder(served.folder, backend="api", base_url=served.base_url, api_key=KEYS[0], dimensions=48)
    with emb, pytest.raises(UnprocessableEntityError, match="Matryoshka"):
        emb.embed(["hello"])
    emb = Embedder(served.folder, backend="api", base_url=served.base_url, api_key=KEYS[0], batch_size=64)
    with emb, pytest.raises(RequestTooLargeError):
        emb.embed(["hello"] * 40)
