"""The ``Image`` item: constructors, coercion of what users hold, repr, wire form."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest

from jina_embeddings import Image, InvalidInputError
from jina_embeddings._backends.base import text_cost
from jina_embeddings._images import as_image, as_images, image_cost, wire_inputs


def test_coercion_by_type(tmp_path: Path, png_bytes: list[bytes], pil_images: list[Any]) -> None:
    assert as_image("https://a.org/x.png").kind == "url"
    assert as_image("HTTP://a.org/x.png").kind == "url"
    assert as_image("data:image/png;base64,AAAA").kind == "data"
    assert as_image("scan.png").kind == "path" and as_image(tmp_path).kind == "path"
    assert as_image(png_bytes[0]).data == png_bytes[0]
    assert as_image(bytearray(png_bytes[0])).data == png_bytes[0]
    assert as_image(memoryview(png_bytes[0])).data == png_bytes[0]
    assert as_image(io.BytesIO(png_bytes[0])).data == png_bytes[0]
    assert as_image(pil_images[0]).pil is pil_images[0]
    img = Image.from_bytes(png_bytes[0])
    assert as_image(img) is img


def test_constructors_refuse_wrong_types(pil_images: list[Any]) -> None:
    with pytest.raises(InvalidInputError, match="takes a str or Path"):
        Image.from_path(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="takes bytes"):
        Image.from_bytes(io.StringIO("text mode"))
    with pytest.raises(InvalidInputError, match="PIL image"):
        Image.from_pil("x")
    with pytest.raises(InvalidInputError, match="index 1"):
        as_images(["a.png", object()])


def test_repr_never_dumps_bytes(png_bytes: list[bytes]) -> None:
    text = repr(Image.from_bytes(png_bytes[0] * 100))
    assert "bytes" in text and len(text) < 80


def test_wire_form_and_cost(png_bytes: list[bytes]) -> None:
    img = Image.from_bytes(png_bytes[0])
    assert wire_inputs(["a", "b"]) == ["a", "b"]
    assert wire_inputs(["a", img]) == [{"text": "a"}, {"image": base64.b64encode(png_bytes[0]).decode()}]
    assert image_cost(img) == len(base64.b64encode(png_bytes[0]))
    assert text_cost(img) == image_cost(img) and text_cost("abc") == 3
    url = Image.from_url("https://a.org/x.png")
    assert image_cost(url) == len("https://a.org/x.png") and url.wire_value() == "https://a.org/x.png"
