"""Every bad image input is refused before any request or model load, naming the item."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from jina_embeddings import Embedder, Image, InvalidInputError, Reranker
from jina_embeddings._backends.loading import loaded_models
from jina_embeddings._images import MAX_IMAGE_BYTES

V4 = "jina-embeddings-v4"


def _refused(call: Any, *args: Any, index: int, match: str) -> InvalidInputError:
    with pytest.raises(InvalidInputError, match=match) as info:
        call(*args)
    assert info.value.index == index
    return info.value


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt or truncated"),
        (b"GIF89a garbage", "corrupt or truncated"),
        (b"just some text bytes", "unsupported format"),
        (b"%PDF-1.7 ...", "a PDF"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
        (b"", "no bytes"),
    ],
)
def test_bad_bytes_refused_with_zero_requests(
    srv: Any, api_embedder: Any, png_bytes: list[bytes], bad: bytes, match: str
) -> None:
    emb = api_embedder(V4)
    _refused(emb.embed_images, [png_bytes[0], bad], index=1, match=match)
    assert srv.requests == []


def test_truncated_png_refused(srv: Any, api_embedder: Any, png_bytes: list[bytes]) -> None:
    _refused(
        api_embedder(V4).embed_images, [png_bytes[0][: len(png_bytes[0]) // 2]], index=0, match="corrupt"
    )
    assert srv.requests == []


def test_missing_file_and_directory(
    srv: Any, api_embedder: Any, tmp_path: Path, png_bytes: list[bytes]
) -> None:
    emb = api_embedder(V4)
    _refused(emb.embed_images, [png_bytes[0], tmp_path / "nope.png"], index=1, match="does not exist")
    _refused(emb.embed_images, [tmp_path], index=0, match="is not a file")
    assert srv.requests == []


def test_over_the_byte_limit_says_the_limit(
    srv: Any, api_embedder: Any, tmp_path: Path, png_bytes: list[bytes]
) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(png_bytes[0] + b"\x00" * MAX_IMAGE_BYTES)
    err = _refused(api_embedder(V4).embed_images, [big], index=0, match="8 MB")
    assert f"{MAX_IMAGE_BYTES:,}" in str(err)
    _refused(api_embedder(V4).embed_images, [big.read_bytes()], index=0, match="limit of 8,388,608")
    assert srv.requests == []


def test_over_v4_pixel_limit(srv: Any, api_embedder: Any) -> None:
    from PIL import Image as PILImage

    huge = PILImage.new("RGB", (5000, 4001))  # 20,005,000 pixels > 20 MP
    _refused(api_embedder(V4).embed_images, [huge], index=0, match="20,000,000 pixels")
    assert srv.requests == []


def test_text_only_model_refuses_images(srv: Any, api_embedder: Any, png_bytes: list[bytes]) -> None:
    emb = api_embedder("jina-embeddings-v5-text-small")
    err = _refused(emb.embed_images, [png_bytes[0]], index=0, match="takes text only")
    assert err.field == "model"
    _refused(emb.embed, ["text", Image.from_bytes(png_bytes[0])], index=1, match="takes text only")
    rr = Reranker("jina-reranker-v3", backend="api", api_key="jina_test", base_url=srv.base_url)
    _refused(rr.rerank, "q", ["a", Image.from_bytes(png_bytes[0])], index=1, match="takes text only")
    assert srv.requests == []


def test_openai_backend_refuses_images(srv: Any, png_bytes: list[bytes]) -> None:
    emb = Embedder(V4, backend="openai", base_url=srv.base_url)
    err = _refused(emb.embed_images, [png_bytes[0]], index=0, match="backend='openai' does not embed images")
    assert "'api'" in str(err) and err.field == "backend"
    assert srv.requests == []


def test_non_image_objects_in_embed(srv: Any, api_embedder: Any, png_bytes: list[bytes]) -> None:
    emb = api_embedder(V4)
    _refused(emb.embed, ["text", png_bytes[0]], index=1, match="must be a str or an Image")
    _refused(emb.embed_images, [png_bytes[0], 42], index=1, match="must be a path, URL")
    with pytest.raises(InvalidInputError, match="a single"):
        emb.embed_images(png_bytes[0])  # type: ignore[arg-type]
    assert srv.requests == []


def test_bad_data_uri_and_url(srv: Any, api_embedder: Any) -> None:
    emb = api_embedder(V4)
    _refused(emb.embed_images, ["data:image/png;base64,%%%"], index=0, match="base64 is not valid")
    _refused(emb.embed_images, ["data:image/png;base64"], index=0, match="malformed data: URI")
    _refused(emb.embed, [Image.from_url("ftp://x.org/a.png")], index=0, match="not an http")
    assert srv.requests == []


def test_local_backend_refuses_urls_and_loads_nothing(tiny_clip_path: str, png_bytes: list[bytes]) -> None:
    before = len(loaded_models())
    emb = Embedder(tiny_clip_path, backend="local", device="cpu", dtype="float32")
    err = _refused(
        emb.embed_images, [png_bytes[0], "https://example.com/a.png"], index=1, match="not fetched"
    )
    assert "backend='api'" in str(err)
    data = base64.b64encode(b"not an image").decode()
    _refused(emb.embed_images, [f"data:image/png;base64,{data}"], index=0, match="unsupported format")
    assert len(loaded_models()) == before and emb._backend._models == {}


def test_local_text_only_folder_refuses_images(minilm_path: str, png_bytes: list[bytes]) -> None:
    emb = Embedder(minilm_path, backend="local", device="cpu")
    _refused(emb.embed_images, [png_bytes[0]], index=0, match="takes text only")
    assert emb._backend._models == {}


def test_local_reranker_says_image_documents_are_api_only(png_bytes: list[bytes]) -> None:
    rr = Reranker("jina-reranker-m0", backend="local")
    err = _refused(
        rr.rerank, "q", ["text", Image.from_bytes(png_bytes[0])], index=1, match="does not rerank image"
    )
    assert "'api'" in str(err)
