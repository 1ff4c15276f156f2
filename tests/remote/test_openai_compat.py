"""``backend="openai"``: prompts client-side, dimensions cut here or by the server, base64."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import numpy as np
import pytest

from jina_embeddings import APIResponseValidationError, Embedder, InvalidInputError
from jina_testkit.fake_api import expected_vector

MERGED = "jina-embeddings-v5-text-small-retrieval"


@pytest.fixture
def make_openai(make: Any) -> Any:
    def factory(model: str = MERGED, **kwargs: Any) -> Embedder:
        return make(model, backend="openai", **kwargs)

    return factory


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@pytest.mark.parametrize(
    ("model", "role", "prefix"),
    [
        (MERGED, "query", "Query: "),
        (MERGED, "document", "Document: "),
        ("jina-embeddings-v5-text-small-text-matching", "query", "Document: "),
        ("jina-embeddings-v5-text-nano-retrieval", "query", "Query: "),
    ],
)
def test_prompt_is_prepended_client_side(
    srv: Any, make_openai: Any, model: str, role: str, prefix: str
) -> None:
    out = make_openai(model).embed(["what is Berlin?", "second"], role=role)
    body = srv.requests[0].body
    assert set(body) == {"model", "input", "encoding_format"}
    assert body["input"] == [prefix + "what is Berlin?", prefix + "second"]
    assert body["encoding_format"] == "base64" and body["model"] == model
    native = 768 if "nano" in model else 1024
    want = expected_vector(model, None, prefix + "what is Berlin?", native_dim=native)
    np.testing.assert_allclose(out.vectors[0], want, atol=1e-6)


def test_dimensions_cut_and_renormalized_client_side(srv: Any, make_openai: Any) -> None:
    out = make_openai(dimensions=256).embed_query("capital of Germany")
    assert "dimensions" not in srv.requests[0].body
    full = expected_vector(MERGED, None, "Query: capital of Germany")
    np.testing.assert_allclose(out.vectors[0], unit(full[:256]), atol=1e-6)
    assert out.vectors.shape == (1, 256) and abs(float(np.linalg.norm(out.vectors[0])) - 1) < 1e-5


def test_dimensions_sent_when_the_server_supports_them(srv: Any, make_openai: Any) -> None:
    out = make_openai(dimensions=128, server_dimensions=True).embed_query("capital of Germany")
    assert srv.requests[0].body["dimensions"] == 128
    want = expected_vector(MERGED, None, "Query: capital of Germany", 128)
    np.testing.assert_allclose(out.vectors[0], want, atol=1e-6)


@pytest.mark.parametrize("precision", ["binary", "ubinary"])
def test_bits_are_computed_client_side_from_cut_floats(srv: Any, make_openai: Any, precision: str) -> None:
    out = make_openai(dimensions=64, precision=precision).embed(["a document"])
    cut = unit(expected_vector(MERGED, None, "Document: a document")[:64])
    packed = np.packbits(cut > 0)
    want = (packed.astype(np.int16) - 128).astype(np.int8) if precision == "binary" else packed
    assert np.array_equal(out.vectors[0], want)


def test_default_batch_is_tei_safe(srv: Any, make_openai: Any, helpers: Any) -> None:
    make_openai().embed([f"t{i}" for i in range(100)])
    assert sorted(len(r.body["input"]) for r in helpers.embed_requests(srv)) == [4, 32, 32, 32]


def test_served_model_name_is_sent(srv: Any, make_openai: Any) -> None:
    out = make_openai(served_model_name="jina-embeddings-v5-text-small").embed_query("x")
    assert srv.requests[0].body["model"] == "jina-embeddings-v5-text-small"
    assert out.model == "jina-embeddings-v5-text-small"


def test_server_serving_another_model_is_caught_by_the_width_check(srv: Any, make_openai: Any) -> None:
    emb = make_openai(served_model_name="jina-embeddings-v5-text-nano-retrieval")  # 768-d, spec says 1024
    with pytest.raises(APIResponseValidationError, match=r"widths \[768\], expected 1024"):
        emb.embed_query("x")


def test_openai_backend_needs_base_url() -> None:
    with pytest.raises(InvalidInputError) as info:
        Embedder(MERGED, backend="openai")
    assert info.value.field == "base_url"


def test_vectors_narrower_than_dimensions_are_refused(make_openai: Any, helpers: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        vec = base64.b64encode(np.ones(16, "<f4").tobytes()).decode()
        return httpx.Response(200, json={"data": [{"index": 0, "embedding": vec}]})

    emb = make_openai("my-org/custom-model", dimensions=32, transport=helpers.mock_transports(handler)[0])
    with pytest.raises(APIResponseValidationError, match="fewer than dimensions=32"):
        emb.embed(["x"])


def test_float_list_responses_are_accepted(make_openai: Any, helpers: Any) -> None:
    """llama.cpp and older servers ignore encoding_format and send floats."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"data": [{"index": 1, "embedding": [0.0, 2.0]}, {"index": 0, "embedding": [3.0, 4.0]}]}
        )

    emb = make_openai("my-org/custom-model", transport=helpers.mock_transports(handler)[0])
    out = emb.embed(["a", "b"])
    np.testing.assert_allclose(out.vectors, [[0.6, 0.8], [0.0, 1.0]], atol=1e-7)
