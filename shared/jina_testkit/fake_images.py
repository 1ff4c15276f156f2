"""Image items of the fake Jina server: ``{"image": <base64 | http(s) URL>}`` (pure, no I/O).

Models that take images (:data:`IMAGE_MODELS`: v4, clip-v2 embeddings; m0 reranking) accept
them in ``input`` / ``documents``; other models answer 422, as the real API does. An image
item is reduced to a stable text key, and the vector (or score) is computed from that key
exactly like a text's, so a test computes what the server must have returned:

* base64: decoded strictly (invalid base64 -> 422), must start like a PNG, JPEG, GIF, WebP,
  BMP or TIFF file (else 422); key ``image:<sha256 of the decoded bytes>``. The key is of the
  bytes, so a test also proves the client sent the original bytes.
* URL: ``http(s)://`` only (else 422), never fetched; key ``image-url:<url>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import numpy as np

__all__ = ["IMAGE_MODELS", "expected_image_vector", "image_key", "image_key_of_bytes", "image_key_of_url"]

IMAGE_MODELS = frozenset({"jina-embeddings-v4", "jina-clip-v2", "jina-reranker-m0"})
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def image_key_of_bytes(data: bytes) -> str:
    """The key of an image sent as base64 of ``data``."""
    return "image:" + hashlib.sha256(data).hexdigest()


def image_key_of_url(url: str) -> str:
    """The key of an image sent as a URL."""
    return "image-url:" + url


def image_key(value: Any, field: str, *, allowed: bool, error: Any) -> str:
    """Validate one ``{"image": value}`` item and return its key; ``error(field, msg, type)``
    builds the 422 (the server's ``v422``)."""
    if not allowed:
        raise error(field, "This model does not accept image inputs", "extra_forbidden")
    if not isinstance(value, str) or not value:
        raise error(field, "Input should be a valid string (base64 or URL)", "string_type")
    if value.startswith(("http://", "https://")):
        return image_key_of_url(value)
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise error(field, "Image is neither a URL nor valid base64", "value_error") from None
    is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if not (is_webp or data.startswith(_MAGIC)):
        raise error(field, "Image data is not a supported image format", "value_error")
    return image_key_of_bytes(data)


def expected_image_vector(
    model: str,
    task: str | None,
    *,
    data: bytes | None = None,
    url: str | None = None,
    dimensions: int | None = None,
    native_dim: int = 1024,
) -> np.ndarray:
    """The vector the fake server returns for an image sent as base64 of ``data`` or as ``url``."""
    from .fake_vectors import expected_vector

    key = image_key_of_bytes(data) if data is not None else image_key_of_url(url or "")
    return expected_vector(model, task, key, dimensions, native_dim)
