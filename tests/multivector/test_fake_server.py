"""The fake server's multi-vector mode validates like the API (the client tests lean on it)."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from jina_testkit.fake_api import FakeJinaServer
from jina_testkit.fake_multivector import QUERY_TOKENS, expected_token_vectors

from .conftest import COLBERT, KEY


def post(server: FakeJinaServer, body: dict) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/embeddings", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=10
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": COLBERT, "input": ["a"], "truncate": True}, "truncate"),
        ({"model": COLBERT, "input": ["a"], "task": "retrieval.query"}, "task"),
        ({"model": COLBERT, "input": ["a"], "input_type": "passage"}, "input_type"),
        ({"model": COLBERT, "input": ["a"], "dimensions": 100}, "dimensions"),
        (
            {"model": "jina-embeddings-v4", "input": ["a"], "return_multivector": True, "dimensions": 128},
            "dimensions",
        ),
    ],
)
def test_refuses_what_the_api_refuses(server: FakeJinaServer, body: dict, field: str) -> None:
    reply = post(server, body)
    assert reply.status_code == 422 and reply.json()["errors"][0]["field"] == field


def test_token_vectors_per_role(server: FakeJinaServer) -> None:
    data = post(server, {"model": COLBERT, "input": ["one two", "x"], "input_type": "query"}).json()["data"]
    assert [len(d["embeddings"]) for d in data] == [QUERY_TOKENS, QUERY_TOKENS]
    docs = post(server, {"model": COLBERT, "input": ["one two", "x"], "dimensions": 64}).json()["data"]
    assert [len(d["embeddings"]) for d in docs] == [4, 3]  # words + 2, input_type defaults to document
    np.testing.assert_allclose(
        docs[0]["embeddings"], expected_token_vectors(COLBERT, "document", "one two", 64)
    )
