"""The sans-I/O half of the HTTP layer: Retry-After, backoff, what is retried, error mapping.

Pure functions, so the clock and the jitter source are injected and every row is exact.
"""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest

from jina_embeddings import _constants as C
from jina_embeddings._http import RetryPolicy, Scrubber, parse_error_body, parse_retry_after, status_error
from jina_embeddings.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InsufficientBalanceError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    UnprocessableEntityError,
)

NOW = 1696004797.0  # Fri, 29 Sep 2023 16:26:37 GMT (openai-python's frozen clock)


@pytest.fixture(autouse=True)
def real_backoff(fast_backoff: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check the production numbers, not the fast ones of the other modules."""
    monkeypatch.setattr(C, "INITIAL_RETRY_DELAY", 0.5)
    monkeypatch.setattr(C, "MAX_RETRY_DELAY", 8.0)


def policy(jitter: float = 0.0) -> RetryPolicy:
    return RetryPolicy(2, now=lambda: NOW, random=lambda: jitter)


# headers -> delay before the next attempt (None: give up at once); retries_taken=0, no jitter.
RETRY_AFTER_TABLE = [
    ({"retry-after": "20"}, 20.0),
    ({"retry-after": "0"}, 0.5),  # 0 is no hint: computed backoff (Stainless)
    ({"retry-after": "-10"}, 0.5),
    ({"retry-after": "60"}, 60.0),
    ({"retry-after": "61"}, None),  # above 60 s: fail fast, RateLimitError.retry_after says 61
    ({"retry-after": "1.5"}, 1.5),
    ({"retry-after": " 20 "}, 20.0),
    ({"retry-after": "Fri, 29 Sep 2023 16:26:57 GMT"}, 20.0),
    ({"retry-after": "Fri, 29 Sep 2023 16:26:57 +0000"}, 20.0),
    ({"retry-after": "Fri, 29 Sep 2023 16:26:57"}, 20.0),  # no zone: GMT, not local time
    ({"retry-after": "Fri, 29 Sep 2023 16:26:37 GMT"}, 0.5),  # now
    ({"retry-after": "Fri, 29 Sep 2023 16:26:27 GMT"}, 0.5),  # past
    ({"retry-after": "Fri, 29 Sep 2023 16:27:37 GMT"}, 60.0),
    ({"retry-after": "Fri, 29 Sep 2023 16:27:38 GMT"}, None),
    ({"retry-after": "Zun, 29 Sep 2023 16:26:27 GMT"}, 0.5),
    ({"retry-after": "Fri, 29 Sep 100000 16:26:37 GMT"}, 0.5),  # year overflow: ignored
    ({"retry-after": "99999999999999999999999999999999999"}, None),
    ({"retry-after": "inf"}, None),
    ({"retry-after": "-inf"}, 0.5),
    ({"retry-after": "nan"}, 0.5),
    ({"retry-after": "garbage"}, 0.5),
    ({"retry-after": ""}, 0.5),
    ({}, 0.5),
    ({"retry-after-ms": "1500"}, 1.5),
    ({"retry-after-ms": "1500", "retry-after": "30"}, 1.5),  # ms wins
    ({"retry-after-ms": "abc", "retry-after": "30"}, 30.0),  # bad ms: fall back
    ({"retry-after-ms": "61000"}, None),
    ({"retry-after-ms": "0"}, 0.5),
    ({"retry-after-ms": "nan", "retry-after": "2"}, 2.0),
]


@pytest.mark.parametrize(("headers", "expected"), RETRY_AFTER_TABLE)
def test_retry_after_table_with_frozen_clock(headers: dict[str, str], expected: float | None) -> None:
    delay = policy().delay(0, headers)
    if expected is None:
        assert delay is None
    else:
        assert delay == pytest.approx(expected, abs=1e-9)


def test_parse_retry_after_returns_raw_seconds() -> None:
    assert parse_retry_after({"retry-after": "120"}, NOW) == 120.0
    assert parse_retry_after({"retry-after": "-3"}, NOW) == -3.0
    assert parse_retry_after({"retry-after": "soon"}, NOW) is None
    assert parse_retry_after({}, NOW) is None


@pytest.mark.parametrize(
    ("retries", "expected"),
    [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (60, 8.0), (10**6, 8.0)],
)
def test_backoff_doubles_to_cap_without_overflow(retries: int, expected: float) -> None:
    assert policy(0.0).backoff(retries) == expected
    # the largest jitter draw (random() -> 1-) takes off just under 25 %
    assert policy(0.9999999).backoff(retries) == pytest.approx(expected * 0.75, rel=1e-6)


def test_backoff_jitter_stays_in_three_quarters_to_one() -> None:
    real = RetryPolicy(2)
    draws = [real.backoff(1) for _ in range(2000)]
    assert all(0.75 < d <= 1.0 for d in draws)
    assert max(draws) - min(draws) > 0.2  # the jitter is real, not a constant


# (status, headers, code, detail) -> retried?
STATUS_TABLE = [
    (408, {}, None, "", True),
    (409, {}, "CONFLICT_RESOURCE_BUSY", "", True),
    (429, {}, "RATE_REQUEST_LIMIT_EXCEEDED", "", True),
    (429, {}, "RATE_TOKEN_LIMIT_EXCEEDED", "", True),
    (429, {}, "insufficient_quota", "You exceeded your current quota", False),
    (429, {}, None, "Insufficient balance", False),
    (500, {}, None, "boom", True),
    (502, {}, None, "", True),
    (503, {}, None, "", True),
    (504, {}, None, "", True),
    (529, {}, None, "", True),
    (500, {}, None, "input is too large to process. increase the physical batch size", False),
    (400, {}, None, "", False),
    (401, {}, None, "", False),
    (402, {}, None, "", False),
    (403, {}, None, "", False),
    (404, {}, None, "", False),
    (413, {}, None, "", False),
    (422, {}, None, "", False),
    (400, {"x-should-retry": "true"}, None, "", True),
    (503, {"x-should-retry": "false"}, None, "", False),
    (429, {"x-should-retry": "true"}, "insufficient_quota", "quota", True),
    (503, {"x-should-retry": "maybe"}, None, "", True),
]


@pytest.mark.parametrize(("status", "headers", "code", "detail", "retried"), STATUS_TABLE)
def test_which_statuses_are_retried(
    status: int, headers: dict[str, str], code: str | None, detail: str, retried: bool
) -> None:
    assert RetryPolicy.status_is_retryable(status, headers, code, detail) is retried


# Error bodies as the servers send them -> class (jina-facts.md 2.5, reliability.md 3).
ERROR_BODIES = [
    (
        "jina",
        401,
        {"detail": "Invalid API key", "code": "AUTH_INVALID_API_KEY", "request_id": "r1"},
        AuthenticationError,
    ),
    (
        "jina",
        402,
        {"detail": "Key out of quota", "code": "AUTHZ_INSUFFICIENT_BALANCE"},
        InsufficientBalanceError,
    ),
    (
        "jina",
        403,
        {"detail": "Insufficient balance", "code": "AUTHZ_INSUFFICIENT_BALANCE"},
        InsufficientBalanceError,
    ),
    ("jina", 403, {"detail": "Forbidden", "code": "AUTHZ_FORBIDDEN"}, PermissionDeniedError),
    ("jina", 400, {"detail": "Model 'x' not found", "code": "INPUT_MODEL_NOT_FOUND"}, BadRequestError),
    ("jina", 404, {"detail": "Not Found", "code": "NOT_FOUND"}, NotFoundError),
    ("jina", 409, {"detail": "busy", "code": "CONFLICT_RESOURCE_BUSY"}, ConflictError),
    (
        "jina",
        422,
        {"detail": "bad", "errors": [{"field": "dimensions", "message": "too big"}]},
        UnprocessableEntityError,
    ),
    ("jina", 429, {"detail": "Too many", "code": "RATE_CONCURRENCY_LIMIT_EXCEEDED"}, RateLimitError),
    ("jina", 500, {"detail": "oops", "code": "INTERNAL_ERROR"}, InternalServerError),
    ("jina", 503, {"detail": "down", "code": "SERVICE_UNAVAILABLE"}, InternalServerError),
    ("jina", 504, {"detail": "slow", "code": "SERVICE_TIMEOUT"}, InternalServerError),
    ("tei", 400, {"error": "`inputs` cannot be empty", "error_type": "empty"}, BadRequestError),
    ("tei", 413, {"error": "Payload too large", "error_type": "payload_too_large"}, RequestTooLargeError),
    (
        "tei",
        422,
        {
            "error": "Input validation error: `inputs` must have less than 512 tokens",
            "error_type": "Validation",
        },
        UnprocessableEntityError,
    ),
    ("tei", 424, {"error": "backend error", "error_type": "backend"}, APIStatusError),
    ("tei", 429, {"error": "Model is overloaded", "error_type": "overloaded"}, RateLimitError),
    ("tei", 503, {"error": "unhealthy", "error_type": "unhealthy"}, InternalServerError),
    (
        "infinity",
        400,
        {"error": {"message": "model not found", "type": "BadRequest", "code": 400}},
        BadRequestError,
    ),
    (
        "infinity",
        422,
        {"error": {"message": "input too long", "type": "Unprocessable", "code": 422}},
        UnprocessableEntityError,
    ),
    (
        "infinity",
        500,
        {"error": {"message": "InternalServerError: CUDA", "type": "InternalServerError", "code": 500}},
        InternalServerError,
    ),
    (
        "vllm",
        400,
        {
            "object": "error",
            "message": "This model does not support matryoshka representation",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        },
        BadRequestError,
    ),
    (
        "vllm",
        400,
        {"error": {"message": "maximum context length is 8192", "type": "BadRequestError", "code": 400}},
        BadRequestError,
    ),
    (
        "llama.cpp",
        500,
        {
            "error": {
                "code": 500,
                "message": "input is too large to process. increase the physical batch size",
                "type": "server_error",
            }
        },
        InternalServerError,
    ),
    (
        "openai",
        429,
        {
            "error": {
                "message": "You exceeded your current quota",
                "type": "insufficient_quota",
                "code": "insufficient_quota",
            }
        },
        InsufficientBalanceError,
    ),
    ("nginx", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", InternalServerError),
]


@pytest.mark.parametrize(
    ("server", "status", "body", "cls"),
    ERROR_BODIES,
    ids=[f"{s}-{c}-{i}" for i, (s, c, _, _) in enumerate(ERROR_BODIES)],
)
def test_error_bodies_map_to_classes(server: str, status: int, body: object, cls: type) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    err = status_error(
        status,
        method="POST",
        path="/v1/embeddings",
        headers={"x-request-id": "hdr-id"},
        body=text,
        scrub=Scrubber(None),
        retries_taken=2,
    )
    assert type(err) is cls
    assert err.status_code == status and err.retries_taken == 2
    assert err.request_id == ("r1" if isinstance(body, dict) and "request_id" in body else "hdr-id")
    assert f"HTTP {status}" in str(err)
    detail, _, _ = parse_error_body(text)
    assert detail[:40] in str(err)  # the server's own words are in the message


def test_error_hints_name_the_fix() -> None:
    def err(status: int, body: object) -> APIStatusError:
        return status_error(
            status,
            method="POST",
            path="/v1/embeddings",
            headers={},
            body=json.dumps(body),
            scrub=Scrubber(None),
        )

    assert "JINA_API_KEY" in str(err(401, {"detail": "bad key"}))
    assert "batch_size" in str(err(413, {"detail": "too big"}))
    assert "batch_size" in str(err(500, {"error": {"message": "input is too large to process"}}))
    limited = status_error(
        429, method="POST", path="/p", headers={}, body="{}", scrub=Scrubber(None), retry_after=61.0
    )
    assert isinstance(limited, RateLimitError) and limited.retry_after == 61.0


def test_error_body_is_scrubbed_and_cut_to_1kb() -> None:
    key = "jina_0123456789abcdefSECRETSECRET"
    echoed = {
        "detail": f"bad header Authorization: Bearer {key}",
        "b64": base64.b64encode(key.encode()).decode(),
        "pct": urllib.parse.quote(f"Bearer {key}", safe=""),
        "other_key": "jina_ffffffffffffffffffffffff",
        "pad": "x" * 5000,
    }
    err = status_error(
        401, method="POST", path="/v1/embeddings", headers={}, body=json.dumps(echoed), scrub=Scrubber(key)
    )
    assert err.body is not None and len(err.body) <= C.MAX_ERROR_BODY
    for text in (err.body, str(err), repr(err)):
        assert key not in text and key[:12] not in text
        assert base64.b64encode(key.encode()).decode() not in text
        assert "ffffffffffffffff" not in text  # anything shaped like a key goes too
    assert "***" in err.body


def test_scrubber_without_secret_still_removes_bearer_tokens() -> None:
    assert Scrubber(None)("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    assert "SECRET" not in repr(Scrubber("SECRET"))
