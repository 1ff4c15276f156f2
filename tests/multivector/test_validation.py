"""Bad input is refused with a typed error before any model load or request (0 requests)."""

from __future__ import annotations

import numpy as np
import pytest

from jina_embeddings import (
    Embedder,
    Image,
    InvalidInputError,
    ModelNotFoundError,
    MultiVectorEmbedder,
    Reranker,
    maxsim,
)
from jina_testkit.fake_api import FakeJinaServer

from .conftest import COLBERT, KEY

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def api(server: FakeJinaServer, model: str = COLBERT, **kw):
    return MultiVectorEmbedder(model, backend="api", api_key=KEY, base_url=server.base_url, **kw)


@pytest.mark.parametrize("dims", [32, 100, 127, 256, 1])
@pytest.mark.parametrize("backend", ["api", "local"])
def test_colbert_dimensions_outside_64_96_128(server: FakeJinaServer, dims: int, backend: str) -> None:
    kw = {"api_key": KEY, "base_url": server.base_url} if backend == "api" else {}
    with pytest.raises(InvalidInputError, match="64, 96, 128") as err:
        MultiVectorEmbedder(COLBERT, backend=backend, dimensions=dims, **kw)
    assert err.value.field == "dimensions"
    assert server.requests == []


@pytest.mark.parametrize("dims", [128, 64])
def test_dimensions_with_v4_multivector(server: FakeJinaServer, dims: int) -> None:
    with pytest.raises(InvalidInputError, match="return_multivector") as err:
        api(server, "jina-embeddings-v4", dimensions=dims)
    assert err.value.field == "dimensions"
    with pytest.raises(InvalidInputError, match="return_multivector"):
        MultiVectorEmbedder("jina-embeddings-v4", backend="local", dimensions=dims)
    assert server.requests == []


def test_images_to_colbert(server: FakeJinaServer) -> None:
    mv = api(server)
    with pytest.raises(InvalidInputError, match="index 1 is an image") as err:
        mv.embed_documents(["text", Image.from_bytes(PNG)])
    assert err.value.index == 1
    rr = Reranker(COLBERT, backend="api", api_key=KEY, base_url=server.base_url)
    with pytest.raises(InvalidInputError, match="index 0 is an image"):
        rr.rerank("q", [Image.from_bytes(PNG)])
    assert server.requests == []


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_bad_texts_named_by_index(server: FakeJinaServer, bad: object) -> None:
    with pytest.raises(InvalidInputError) as err:
        api(server).embed_documents(["ok", bad])  # type: ignore[list-item]
    assert err.value.index == 1
    with pytest.raises(InvalidInputError):
        api(server).embed_query(bad)  # type: ignore[arg-type]
    assert server.requests == []


@pytest.mark.parametrize("precision", ["int8", "uint8", "binary", "ubinary"])
def test_precision_other_than_float(precision: str) -> None:
    with pytest.raises(InvalidInputError, match="float32' or 'float16") as err:
        MultiVectorEmbedder(COLBERT, backend="local", precision=precision)  # type: ignore[arg-type]
    assert err.value.field == "precision"


def test_not_multivector_models_and_backends() -> None:
    with pytest.raises(ModelNotFoundError, match="MultiVectorEmbedder"):
        Embedder(COLBERT, backend="local")
    with pytest.raises(ModelNotFoundError, match="no multi-vector mode"):
        MultiVectorEmbedder("jina-embeddings-v5-text-small", backend="local")
    for backend in ("openai", "fake"):
        with pytest.raises(InvalidInputError) as err:
            MultiVectorEmbedder(COLBERT, backend=backend, base_url="http://127.0.0.1:9/v1")
        assert err.value.field in ("backend", "base_url")
    with pytest.raises(TypeError, match="late_chunking"):
        MultiVectorEmbedder(COLBERT, late_chunking=True)  # type: ignore[call-arg]


def test_document_vectors_checks(server: FakeJinaServer) -> None:
    rr = Reranker(COLBERT, backend="api", api_key=KEY, base_url=server.base_url)
    good = np.ones((3, 128), np.float32) / np.sqrt(128)
    with pytest.raises(InvalidInputError, match="one entry per document"):
        rr.rerank("q", ["a", "b"], document_vectors=[good])
    with pytest.raises(InvalidInputError, match="mix widths"):
        rr.rerank("q", ["a", "b"], document_vectors=[good, good[:, :64]])
    with pytest.raises(InvalidInputError, match="100 wide"):
        rr.rerank("q", ["a"], document_vectors=[good[:, :100]])
    with pytest.raises(InvalidInputError, match=r"document_vectors\[1\]") as err:
        rr.rerank("q", ["a", "b"], document_vectors=[good, np.zeros(5)])
    assert err.value.index == 1
    with pytest.raises(InvalidInputError, match="NaN"):
        rr.rerank("q", ["a"], document_vectors=[np.full((2, 128), np.nan)])
    with pytest.raises(InvalidInputError, match="token vector blob"):
        rr.rerank("q", ["a"], document_vectors=["bm90IGEgYmxvYg=="])
    with pytest.raises(InvalidInputError, match="max_length"):
        Reranker(COLBERT, backend="api", api_key=KEY, base_url=server.base_url, max_length=64)
    cross = Reranker("jina-reranker-v3", backend="api", api_key=KEY, base_url=server.base_url)
    with pytest.raises(InvalidInputError, match="multi-vector rerankers"):
        cross.rerank("q", ["a"], document_vectors=[good])
    assert server.requests == []


def test_maxsim_checks() -> None:
    with pytest.raises(InvalidInputError, match="64 dimensions, the query's have 128"):
        maxsim(np.ones((2, 128)), np.ones((3, 64)))
    with pytest.raises(InvalidInputError, match="non-empty"):
        maxsim(np.ones((0, 128)), np.ones((3, 128)))


@pytest.mark.local
def test_colbert_folder_is_a_multivector_model(tiny_colbert_path: str) -> None:
    with pytest.raises(ModelNotFoundError, match="multivector model.*MultiVectorEmbedder"):
        Embedder(tiny_colbert_path, backend="local")
    with pytest.raises(InvalidInputError, match="exceeds") as err:
        MultiVectorEmbedder(tiny_colbert_path, backend="local", dimensions=200)
    assert err.value.field == "dimensions"
    assert MultiVectorEmbedder(tiny_colbert_path, backend="local", dimensions=48).dimensions == 48
