"""Fixtures of the image tests: small PNG/JPEG files and bytes, a loopback fake Jina server."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jina_embeddings import Embedder, Reranker
from jina_testkit.fake_api import FakeJinaServer

KEY = "jina_test"


@pytest.fixture(scope="session")
def pil_images() -> list[Any]:
    """Five distinct 40x40 RGB PIL images."""
    pytest.importorskip("PIL")
    from jina_testkit.tiny_clip import sample_images

    return sample_images(5)


def encode(image: Any, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def png_bytes(pil_images: list[Any]) -> list[bytes]:
    return [encode(im) for im in pil_images]


@pytest.fixture
def png_files(tmp_path: Path, pil_images: list[Any]) -> list[Path]:
    """The images as files: PNG, JPEG (quality 70: re-encoding would change its bytes), PNG ..."""
    paths = []
    for i, im in enumerate(pil_images):
        fmt = "JPEG" if i == 1 else "PNG"
        path = tmp_path / f"img{i}.{fmt.lower()}"
        im.save(path, format=fmt, **({"quality": 70} if fmt == "JPEG" else {}))
        paths.append(path)
    return paths


@pytest.fixture
def api_embedder(srv: FakeJinaServer) -> Iterator[Callable[..., Embedder]]:
    made: list[Embedder] = []

    def make(model: str = "jina-embeddings-v4", **options: Any) -> Embedder:
        emb = Embedder(model, backend="api", api_key=KEY, base_url=srv.base_url, **options)
        made.append(emb)
        return emb

    yield make
    for emb in made:
        emb.close()


@pytest.fixture
def api_reranker(srv: FakeJinaServer) -> Iterator[Callable[..., Reranker]]:
    made: list[Reranker] = []

    def make(model: str = "jina-reranker-m0", **options: Any) -> Reranker:
        rr = Reranker(model, backend="api", api_key=KEY, base_url=srv.base_url, **options)
        made.append(rr)
        return rr

    yield make
    for rr in made:
        rr.close()
