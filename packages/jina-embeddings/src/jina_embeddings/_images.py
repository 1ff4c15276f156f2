"""Images as inputs: the :class:`Image` item, its checks, its cost and its wire form.

Multimodal models (``jina-embeddings-v4``, ``jina-clip-v2``, ``jina-reranker-m0``, any
sentence-transformers CLIP-style folder) take images next to texts. One request item is a
``str`` (always text) or an :class:`Image`; :func:`as_image` turns what users hold (paths,
URLs, ``data:`` URIs, bytes, file-like objects, PIL images) into one.

Everything is checked before any model load or request (:func:`check_inputs`): a model
without the ``image`` modality, a backend without the ``images`` capability, a missing file,
an unsupported format, corrupt bytes, an image over the size limit (8 MB per item for remote
backends, the model's pixel limit everywhere), or a URL given to a backend that does not
fetch. Every error names the item's index.

How an image travels: remote backends send ``{"image": ...}`` with the base64 of the
ORIGINAL bytes of a file or a byte string (no re-encoding, no quality loss), an ``http(s)``
URL as given, a PIL image as PNG. The local backend decodes with Pillow and gives the model
PIL images; it never fetches URLs (a network call from a "local" backend would be a
surprise, and a server-side request forgery risk in a service): download the image and pass
the bytes, or use ``backend="api"``.

Example::

    from jina_embeddings import Embedder, Image

    emb = Embedder("jina-clip-v2", backend="api")
    pages = emb.embed_images(["scan.png", "https://example.com/slide.png"])
    mixed = emb.embed([Image.from_path("chart.png"), "a caption"], role="document")
"""

from __future__ import annotations

import base64
import binascii
import io
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import InvalidInputError, MissingDependencyError

if TYPE_CHECKING:
    from ._backends.table import BackendRow
    from ._models import ModelSpec

__all__ = [
    "IMAGE_FORMATS",
    "MAX_IMAGE_BYTES",
    "Image",
    "ImageLike",
    "as_image",
    "as_images",
    "check_inputs",
    "folder_modalities",
    "image_cost",
    "wire_inputs",
]

#: The Jina API's limit per image item (bytes of the original file).
MAX_IMAGE_BYTES = 8 * 1024 * 1024
#: Pillow format name -> MIME type of the formats accepted.
IMAGE_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"WEBP", 8, "WEBP"),
    (b"BM", 0, "BMP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
)
_NOT_IMAGES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF (render its pages to images first, e.g. with pypdfium2)"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"<svg", "an SVG drawing (vector graphics are not supported; rasterize it first)"),
    (b"<?xml", "an XML/SVG document (rasterize it first)"),
)

Kind = Literal["path", "bytes", "url", "data", "pil"]
ImageLike = Any  # str | os.PathLike | bytes | bytearray | memoryview | BinaryIO | PIL.Image.Image | Image


def _pil() -> Any:
    """``PIL.Image``, or :class:`MissingDependencyError` naming the ``images`` extra."""
    try:
        from PIL import Image as PILImage
    except ImportError as exc:
        raise MissingDependencyError("pillow", extra="images", purpose="Decoding images") from exc
    return PILImage


def _is_pil(obj: Any) -> bool:
    return any(c.__module__.startswith("PIL.") and c.__name__ == "Image" for c in type(obj).__mro__)


def sniff_format(head: bytes) -> str | None:
    """The format of an image from its first bytes (``None``: not one of :data:`IMAGE_FORMATS`)."""
    for magic, offset, name in _MAGIC:
        if head[offset : offset + len(magic)] == magic and (name != "WEBP" or head[:4] == b"RIFF"):
            return name
    return None


@dataclass(frozen=True, eq=False, repr=False)
class Image:
    """One image input. Build it with a ``from_*`` constructor (no I/O happens there).

    Checks run when it is embedded or reranked, before any request; the checked copy knows
    its ``format``, ``width``, ``height`` and ``nbytes``.

    Example::

        Image.from_path("chart.png")
        Image.from_url("https://example.com/slide.png")
        Image.from_bytes(open("scan.jpg", "rb").read())
        Image.from_pil(pil_image)
    """

    kind: Kind
    path: Path | None = None
    data: bytes | None = None
    url: str | None = None
    pil: Any = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    nbytes: int | None = None

    # -- constructors ----------------------------------------------------------------------
    @classmethod
    def from_path(cls, path: str | Path) -> Image:
        """A local file (read when it is used; ``~`` is expanded)."""
        if not isinstance(path, str | Path):
            raise InvalidInputError(f"Image.from_path takes a str or Path, got {type(path).__name__}.")
        return cls("path", path=Path(path).expanduser())

    @classmethod
    def from_url(cls, url: str) -> Image:
        """An ``http(s)://`` URL (sent as given by remote backends) or a ``data:`` URI."""
        if not isinstance(url, str):
            raise InvalidInputError(f"Image.from_url takes a str, got {type(url).__name__}.")
        return cls("data" if url[:5].lower() == "data:" else "url", url=url)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview | Any) -> Image:
        """The bytes of an image file, or a binary file-like object (read from its position)."""
        if hasattr(data, "read") and not isinstance(data, bytes | bytearray | memoryview):
            data = data.read()
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInputError(
                f"Image.from_bytes takes bytes or a binary file object, got {type(data).__name__}."
            )
        return cls("bytes", data=bytes(data))

    @classmethod
    def from_pil(cls, image: Any) -> Image:
        """A ``PIL.Image.Image`` (sent as PNG by remote backends; given as is to local models)."""
        if not _is_pil(image):
            raise InvalidInputError(f"Image.from_pil takes a PIL image, got {type(image).__name__}.")
        return cls("pil", pil=image)

    # -- use -------------------------------------------------------------------------------
    def read_bytes(self) -> bytes:
        """The image file's bytes: the original ones for files and bytes, PNG for PIL images."""
        if self.kind == "path" and self.path is not None:
            return self.path.read_bytes()
        if self.data is not None:
            return self.data
        if self.kind == "pil":
            buffer = io.BytesIO()
            self.pil.save(buffer, format="PNG")
            return buffer.getvalue()
        raise InvalidInputError("A URL image has no local bytes; the local backend does not fetch URLs.")

    def to_pil(self) -> Any:
        """A decoded ``PIL.Image.Image`` (RGB unless the source is a PIL image, kept as given)."""
        if self.kind == "pil":
            return self.pil
        image = _pil().open(io.BytesIO(self.read_bytes()))
        image.load()
        return image if image.mode == "RGB" else image.convert("RGB")

    def wire_value(self) -> str:
        """What ``{"image": ...}`` carries: the URL as given, else base64 of :meth:`read_bytes`."""
        if self.kind == "url" and self.url is not None:
            return self.url
        return base64.b64encode(self.read_bytes()).decode("ascii")

    def __repr__(self) -> str:
        where = {
            "path": f"path={str(self.path)!r}",
            "url": f"url={(self.url or '')[:80]!r}",
            "data": "data URI",
            "bytes": f"{len(self.data or b'')} bytes",
            "pil": f"PIL {getattr(self.pil, 'size', '?')}",
        }[self.kind]
        size = f", {self.width}x{self.height} {self.format}" if self.width else ""
        return f"Image({where}{size})"


def as_image(item: ImageLike, *, index: int | None = None) -> Image:
    """Turn what a user holds into an :class:`Image`.

    ``str``: ``http(s)://`` URL, ``data:`` URI, else a path. ``os.PathLike``: a path. bytes,
    bytearray, memoryview or a binary file object: image bytes. A PIL image. An ``Image``.

    Raises:
        InvalidInputError: anything else (naming ``index``).
    """
    if isinstance(item, Image):
        return item
    if isinstance(item, str):
        low = item[:8].lower()
        if low.startswith(("http://", "https://", "data:")):
            return Image.from_url(item)
        return Image.from_path(item)
    if isinstance(item, Path) or hasattr(item, "__fspath__"):
        return Image.from_path(Path(item))
    if isinstance(item, bytes | bytearray | memoryview) or hasattr(item, "read"):
        try:
            return Image.from_bytes(item)
        except InvalidInputError as exc:
            raise InvalidInputError(f"image at index {index}: {exc}", index=index) from None
    if _is_pil(item):
        return Image.from_pil(item)
    raise InvalidInputError(
        f"image at index {index} must be a path, URL, data: URI, bytes, a binary file, a PIL image "
        f"or an Image, got {type(item).__name__}.",
        index=index,
    )


def as_images(images: Sequence[ImageLike] | Any) -> list[Image]:
    """:func:`as_image` over a list (a bare str, bytes or single image is refused: wrap it)."""
    if isinstance(images, str | bytes | Image) or _is_pil(images) or not isinstance(images, Sequence):
        raise InvalidInputError(
            f"Expected a list of images, got a single {type(images).__name__}; wrap it in a list.",
            field="images",
        )
    return [as_image(item, index=i) for i, item in enumerate(images)]


# -- checks -------------------------------------------------------------------------------------
def _refuse(index: int, message: str) -> InvalidInputError:
    return InvalidInputError(f"image at index {index}: {message}", index=index)


def _decode_data_uri(image: Image, index: int) -> Image:
    uri = image.url or ""
    header, comma, payload = uri.partition(",")
    if not comma:
        raise _refuse(index, "malformed data: URI (no ',' before the data).")
    if not header.lower().endswith(";base64"):
        data = urllib.parse.unquote_to_bytes(payload)
    else:
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise _refuse(index, "the data: URI's base64 is not valid.") from None
    return Image("bytes", data=data)


def _check_url(image: Image, index: int, *, fetches: bool, backend: str) -> Image:
    url = image.url or ""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse(index, f"{url[:60]!r} is not an http(s) URL.")
    if not fetches:
        raise _refuse(
            index,
            f"URLs are not fetched by backend={backend!r} (no network calls from a local model); "
            "download the image and pass its bytes (Image.from_bytes), or use backend='api', "
            "which sends the URL as given.",
        )
    return image


def _inspect(image: Image, data: bytes, index: int, *, max_pixels: int | None, decode: bool) -> Image:
    """Format from the magic bytes; with Pillow (needed locally), size and a full decode."""
    name = sniff_format(data[:16])
    if name is None:
        what = next((w for magic, w in _NOT_IMAGES if data.lstrip()[: len(magic)] == magic), None)
        supported = ", ".join(f.lower() for f in IMAGE_FORMATS)
        raise _refuse(
            index,
            f"unsupported format ({what or 'not a recognised image file'}); supported: {supported}.",
        )
    try:
        pil = _pil()
    except MissingDependencyError:
        if decode:
            raise
        return replace(image, format=name, nbytes=len(data))  # remote without Pillow: the server decodes
    try:
        opened = pil.open(io.BytesIO(data))
        width, height = opened.size
        if max_pixels is not None and width * height > max_pixels:
            raise _refuse(
                index,
                f"{width}x{height} = {width * height:,} pixels is over the model's limit of "
                f"{max_pixels:,} pixels; downscale it first.",
            )
        opened.load()
    except InvalidInputError:
        raise
    except pil.DecompressionBombError as exc:
        raise _refuse(index, f"refused as a decompression bomb by Pillow ({exc}).") from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError ... for bad bytes
        why = "Pillow cannot decode it" if type(exc).__name__ == "UnidentifiedImageError" else str(exc)
        raise _refuse(index, f"the {name} data is corrupt or truncated ({why}).") from None
    return replace(image, format=name, width=width, height=height, nbytes=len(data))


def check_image(
    image: Image,
    *,
    index: int,
    remote: bool,
    fetches_urls: bool,
    max_pixels: int | None,
    backend: str = "local",
) -> Image:
    """Check one image (see the module docstring); returns the checked copy with its metadata.

    File and byte images are read once here (not kept: remote backends read them again per
    batch, so a large corpus is never all in memory at once).
    """
    if image.kind == "url":
        return _check_url(image, index, fetches=fetches_urls, backend=backend)
    if image.kind == "data":
        decoded = _decode_data_uri(image, index)
        return check_image(
            decoded,
            index=index,
            remote=remote,
            fetches_urls=fetches_urls,
            max_pixels=max_pixels,
            backend=backend,
        )
    if image.kind == "pil":
        width, height = image.pil.size
        if max_pixels is not None and width * height > max_pixels:
            raise _refuse(
                index, f"{width}x{height} pixels is over the model's limit of {max_pixels:,} pixels."
            )
        return replace(image, format="PNG", width=width, height=height, nbytes=width * height * 4)
    if image.kind == "path":
        path = image.path or Path()
        if not path.exists():
            raise _refuse(index, f"file {str(path)!r} does not exist.")
        if not path.is_file():
            raise _refuse(index, f"{str(path)!r} is not a file.")
        size = path.stat().st_size
        if remote and size > MAX_IMAGE_BYTES:
            raise _refuse(
                index,
                f"{str(path)!r} has {size:,} bytes, over the API's limit of {MAX_IMAGE_BYTES:,} bytes (8 MB).",
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _refuse(index, f"cannot read {str(path)!r} ({exc.strerror or exc}).") from None
    else:
        data = image.data or b""
        if not data:
            raise _refuse(index, "the image has no bytes.")
        if remote and len(data) > MAX_IMAGE_BYTES:
            raise _refuse(
                index, f"{len(data):,} bytes is over the API's limit of {MAX_IMAGE_BYTES:,} bytes (8 MB)."
            )
    checked = _inspect(image, data, index, max_pixels=max_pixels, decode=not remote)
    return checked


def _capable_rows(capability: str) -> str:
    from ._backends.table import BACKENDS

    return ", ".join(repr(n) for n, row in BACKENDS.items() if capability in row.capabilities) or "none"


def check_inputs(items: object, *, spec: ModelSpec, row: BackendRow, what: str = "text") -> list[Any]:
    """Validate a list of texts and :class:`Image` items for ``spec`` on backend ``row``.

    Texts get the text checks of :mod:`jina_embeddings._validation`; a list without images is
    exactly :func:`~jina_embeddings._validation.check_texts`. Returns the checked list (images
    replaced by their checked copies; the caller's list is not modified).

    Raises:
        InvalidInputError: the first bad item, by index (see the module docstring).
    """
    from ._validation import check_text, check_texts

    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        return check_texts(items, what=what)
    first = next((i for i, item in enumerate(items) if not isinstance(item, str)), None)
    if first is None:
        return check_texts(items, what=what)
    takes_images = "image" in spec.modalities
    if not takes_images and not isinstance(items[first], Image):
        return check_texts(items, what=what)  # the plain "must be a str" error
    capability = "image_documents" if spec.kind == "reranker" else "images"
    label = "item" if what == "text" else what
    out: list[Any] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            out.append(check_text(item, index=i, what=what))
            continue
        if not isinstance(item, Image):
            raise InvalidInputError(
                f"{label} at index {i} must be a str or an Image, got {type(item).__name__}; wrap "
                "images with Image.from_path/from_url/from_bytes/from_pil (or call embed_images), "
                "since a bare str is always text.",
                index=i,
            )
        if not takes_images:
            raise InvalidInputError(
                f"{label} at index {i} is an image, but {spec.name!r} takes text only (modalities: "
                f"{', '.join(spec.modalities)}). Image models: jina-embeddings-v4, jina-clip-v2, "
                "jina-reranker-m0, or a CLIP-style sentence-transformers folder.",
                index=i,
                field="model",
            )
        if capability not in row.capabilities:
            doing = "rerank image documents" if capability == "image_documents" else "embed images"
            raise InvalidInputError(
                f"{label} at index {i} is an image, but backend={row.name!r} does not {doing}; "
                f"backends that do: {_capable_rows(capability)}.",
                index=i,
                field="backend",
            )
        out.append(
            check_image(
                item,
                index=i,
                remote=row.options == "remote",
                fetches_urls="image_urls" in row.capabilities,
                backend=row.name,
                max_pixels=spec.max_image_pixels,
            )
        )
    return out


# -- cost and wire form ---------------------------------------------------------------------------
def image_cost(image: Image) -> int:
    """What one image costs when remote requests are capped (``max_batch_chars``): the
    characters it adds to the request body (its base64, or the URL)."""
    if image.kind == "url":
        return len(image.url or "")
    nbytes = image.nbytes if image.nbytes is not None else len(image.data or b"")
    return 4 * ((nbytes + 2) // 3)


def wire_inputs(items: Sequence[Any]) -> list[Any]:
    """Request items: texts unchanged when there is no image, else ``{"text"}``/``{"image"}``
    objects (the form the API documents for mixed inputs)."""
    if all(isinstance(item, str) for item in items):
        return list(items)
    return [{"text": item} if isinstance(item, str) else {"image": item.wire_value()} for item in items]


def folder_modalities(config: dict[str, Any], modules: list[dict[str, Any]]) -> tuple[str, ...]:
    """What a model folder embeds: text and image for CLIP-style checkpoints (a vision tower
    in ``config.json`` or a sentence-transformers ``CLIPModel`` module), else text."""
    if isinstance(config.get("vision_config"), dict):
        return ("text", "image")
    if any("CLIP" in str(m.get("type", "")) for m in modules):
        return ("text", "image")
    return ("text",)
