"""Hostile servers: every malformed body is a typed ``JinaError``, and memory stays bounded.

Bodies come from the real loopback server (``Fault.raw`` writes exact bytes; ``Fault.bomb`` a
gzip body that inflates to 1 GiB; ``Fault.endless`` a chunked body without end). Each row
names what the client must raise; none may raise ``RecursionError``, ``OverflowError``,
``MemoryError`` or any other untyped exception, and none may be retried (the server would
send it again), except error statuses that are retried by their status.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import tracemalloc
from typing import Any

import pytest

from jina_embeddings import (
    APIResponseValidationError,
    AuthenticationError,
    BadRequestError,
    Embedder,
    InternalServerError,
    InvalidInputError,
    JinaError,
    NotFoundError,
    RateLimitError,
    Reranker,
)
from jina_testkit.fake_api import Fault

JSON = {"Content-Type": "application/json"}
BIG = "9" * 400
DEEP = 5000


def ok_item(embedding: Any, index: Any = 0) -> bytes:
    return json.dumps(
        {"data": [{"index": index, "embedding": embedding}], "usage": {"total_tokens": 1}}
    ).encode()


def raw_item(embedding: str, index: str = "0", usage: str = "1") -> bytes:
    return f'{{"data":[{{"index":{index},"embedding":{embedding}}}],"usage":{{"total_tokens":{usage}}}}}'.encode()


# (id, fault for a one-text embed, expected error class)
EMBED_ROWS: list[tuple[str, Fault, type[JinaError]]] = [
    ("deep-array", Fault.raw(200, "[" * DEEP + "]" * DEEP, JSON), APIResponseValidationError),
    ("deep-object", Fault.raw(200, '{"a":' * DEEP + "1" + "}" * DEEP, JSON), APIResponseValidationError),
    ("deep-unclosed", Fault.raw(200, "[" * DEEP, JSON), APIResponseValidationError),
    (
        "deep-in-embedding",
        Fault.raw(200, raw_item("[" * 100 + "1" + "]" * 100), JSON),
        APIResponseValidationError,
    ),
    ("400-digit-index", Fault.raw(200, raw_item("[0.6,0.8]", index=BIG), JSON), APIResponseValidationError),
    ("400-digit-usage", Fault.raw(200, raw_item("[0.6,0.8]", usage=BIG), JSON), APIResponseValidationError),
    ("400-digit-value", Fault.raw(200, raw_item(f"[{BIG},0.8]"), JSON), APIResponseValidationError),
    ("1e400-value", Fault.raw(200, raw_item("[1e400,0.8]"), JSON), APIResponseValidationError),
    ("400-digit-float", Fault.raw(200, raw_item(f"[{BIG}.5,0.8]"), JSON), APIResponseValidationError),
    ("nan-constant", Fault.raw(200, raw_item("[NaN,0.8]"), JSON), APIResponseValidationError),
    ("body-is-list", Fault.raw(200, "[1,2,3]", JSON), APIResponseValidationError),
    ("body-is-string", Fault.raw(200, '"data"', JSON), APIResponseValidationError),
    ("body-is-null", Fault.raw(200, "null", JSON), APIResponseValidationError),
    ("data-is-object", Fault.raw(200, '{"data":{"0":[1]}}', JSON), APIResponseValidationError),
    ("item-is-number", Fault.raw(200, '{"data":[7]}', JSON), APIResponseValidationError),
    ("embedding-is-object", Fault.raw(200, ok_item({"a": 1})), APIResponseValidationError),
    ("embedding-of-strings", Fault.raw(200, ok_item(["a", "b"])), APIResponseValidationError),
    ("embedding-nested", Fault.raw(200, ok_item([[0.6], [0.8]])), APIResponseValidationError),
    ("embedding-of-nulls", Fault.raw(200, ok_item([None, None])), APIResponseValidationError),
    ("index-is-list", Fault.raw(200, ok_item([0.6, 0.8], index=[0] * 1000)), APIResponseValidationError),
    ("empty-body", Fault.raw(200, b"", JSON), APIResponseValidationError),
    ("invalid-utf8", Fault.raw(200, b"\xff\xfe\x00{", JSON), APIResponseValidationError),
    (
        "bad-gzip",
        Fault.raw(200, b"not gzip at all", {**JSON, "Content-Encoding": "gzip"}),
        APIResponseValidationError,
    ),
    (
        "truncated-gzip",
        Fault.raw(200, gzip.compress(ok_item([0.6, 0.8]))[:-12], {"Content-Encoding": "gzip"}),
        APIResponseValidationError,
    ),
    ("unasked-encoding", Fault.raw(200, b"\x1b\x00", {"Content-Encoding": "br"}), APIResponseValidationError),
    ("gzip-bomb-1GiB", Fault.bomb(1024), APIResponseValidationError),
    ("gzip-bomb-1GiB-chunked", Fault.bomb(1024, chunked=True), APIResponseValidationError),
    (
        "no-content-length-5MB",
        Fault.raw(200, b" " * 5_000_000, JSON, chunked=True),
        APIResponseValidationError,
    ),
    ("endless-chunked", Fault.endless(10.0), APIResponseValidationError),
    ("content-length-too-big", Fault.raw(200, b"x" * 3_000_000, JSON), APIResponseValidationError),
    # error statuses keep their class, whatever the body
    ("400-deep-json", Fault.raw(400, "[" * DEEP + "]" * DEEP, JSON), BadRequestError),
    ("401-400-digit-code", Fault.raw(401, f'{{"detail":"no","code":{BIG}}}', JSON), AuthenticationError),
    ("404-5MB-chunked-body", Fault.raw(404, b"x" * 5_000_000, JSON, chunked=True), NotFoundError),
    (
        "500-gzip-bomb-body",
        Fault.raw(500, gzip.compress(b"{" * 2_000_000), {"Content-Encoding": "gzip"}),
        InternalServerError,
    ),
    (
        "500-deep-detail",
        Fault.raw(500, '{"detail":' + "[" * DEEP + "]" * DEEP + "}", JSON),
        InternalServerError,
    ),
    ("429-deep-code", Fault.raw(429, '{"code":' + "[" * DEEP + "]" * DEEP + "}", JSON), RateLimitError),
    ("404-utf16-garbage", Fault.raw(404, "детали".encode("utf-16"), JSON), NotFoundError),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("fault", "error"), [r[1:] for r in EMBED_ROWS], ids=[r[0] for r in EMBED_ROWS])
def test_hostile_bodies_are_typed_errors(
    srv: Any, make: Any, helpers: Any, fault: Fault, error: type[JinaError], mode: str
) -> None:
    srv.script(fault, *[fault] * 3)
    emb = make(max_retries=0, max_rate_limit_wait=0.0)
    start = time.perf_counter()
    with pytest.raises(JinaError) as info:
        emb.embed(["x y"]) if mode == "sync" else asyncio.run(emb.aembed(["x y"]))
    assert type(info.value) is error, repr(info.value)
    assert time.perf_counter() - start < 3.0
    assert len(str(info.value)) < 2000
    assert len(helpers.embed_requests(srv)) == 1


def test_a_gzip_bomb_costs_the_client_no_memory(srv: Any, make: Any) -> None:
    """1 MB on the wire that inflates to 1 GiB: the client stops at the response's byte budget
    (about 100 KB for one 1024-wide vector) having allocated about as much."""
    srv.script(Fault.bomb(1024, chunked=True))  # no Content-Length: the client must inflate to find out
    emb = make(max_retries=0)
    tracemalloc.start()
    try:
        with pytest.raises(APIResponseValidationError, match="inflated body is over"):
            emb.embed(["x y"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, peak


def test_response_budget_follows_the_batch(srv: Any, make: Any) -> None:
    """The same 3 MB body is too large for one 32-wide vector but fine as 2048 float vectors."""
    from jina_embeddings._backends.remote import response_cap

    assert response_cap(1, 32) < 3_000_000 < response_cap(2048, 1024)
    assert response_cap(10**6, 10**6) == 160 * 1024 * 1024  # the absolute ceiling


RERANK_ROWS: list[tuple[str, Fault]] = [
    ("deep", Fault.raw(200, '{"results":' + "[" * DEEP + "]" * DEEP + "}", JSON)),
    ("400-digit-index", Fault.raw(200, f'{{"results":[{{"index":{BIG},"relevance_score":0.5}}]}}', JSON)),
    ("400-digit-score", Fault.raw(200, f'{{"results":[{{"index":0,"relevance_score":{BIG}}}]}}', JSON)),
    ("results-object", Fault.raw(200, '{"results":{"index":0}}', JSON)),
    ("gzip-bomb", Fault.bomb(256)),
]


@pytest.mark.parametrize("fault", [r[1] for r in RERANK_ROWS], ids=[r[0] for r in RERANK_ROWS])
def test_hostile_rerank_bodies_are_typed_errors(srv: Any, make_reranker: Any, fault: Fault) -> None:
    srv.script(fault)
    with pytest.raises(APIResponseValidationError):
        make_reranker(max_retries=0).rerank("query", ["one document"])


# -- keys and URLs that must never be echoed ----------------------------------------------------
SECRET = "jina_S3CRETS3CRETS3CRET"
BAD_KEYS = [
    ("nul", SECRET + "\x00x"),
    ("tab", SECRET[:10] + "\t" + SECRET[10:]),
    ("space", SECRET[:10] + " " + SECRET[10:]),
    ("newline", SECRET + "\nX-Evil: 1"),
    ("non-ascii", SECRET + "é"),
    ("zero-width", SECRET[:10] + "\u200b" + SECRET[10:]),
    ("del", SECRET + "\x7f"),
]


@pytest.mark.parametrize("key", [k for _, k in BAD_KEYS], ids=[i for i, _ in BAD_KEYS])
def test_a_key_no_header_can_carry_is_refused_without_showing_it(key: str) -> None:
    for make in (Embedder, Reranker):
        with pytest.raises(InvalidInputError) as info:
            model = "jina-embeddings-v5-text-small" if make is Embedder else "jina-reranker-v3"
            make(model, backend="api", api_key=key)
        assert info.value.field == "api_key"
        text = str(info.value) + repr(info.value)
        assert "S3CRET" not in text and "jina_S" not in text


@pytest.mark.parametrize(
    "base_url",
    [
        "HTTPS://user:s3cretpw@api.example.com/v1",
        "Https://s3cretpw@api.example.com/v1",
        "HTTP://user:s3cretpw@127.0.0.1:8080/v1",
        "ftp://user:s3cretpw@api.example.com/v1",
        "user:s3cretpw@api.example.com/v1",
        "https://api.example.com/v1?token=s3cretpw",
    ],
)
def test_base_url_credentials_are_never_echoed(base_url: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Embedder("jina-embeddings-v5-text-small", backend="api", api_key="jina_test", base_url=base_url)
    assert "s3cretpw" not in str(info.value) and "s3cretpw" not in repr(info.value)
    assert info.value.field == "base_url"
