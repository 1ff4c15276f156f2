"""Where a Haystack document's image is: ``meta[file_path_meta_field]`` (under ``root_path``),
a PDF page (``meta["page_number"]``), or ``Document.blob``.

Shared by :class:`JinaDocumentImageEmbedder` and :class:`JinaRanker` (image documents for
``jina-reranker-m0``). Images become :class:`jina_embeddings.Image` objects: files and blobs
keep their original bytes (remote backends send them as they are), PDF pages are rendered
with pypdfium2 (``pdf`` extra) to PIL images.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from haystack import Document

from jina_embeddings import Image, InvalidInputError, MissingDependencyError

__all__ = ["PDF_RENDER_SCALE", "document_image", "document_images", "texts_or_images"]

#: pypdfium2 render scale for PDF pages (1.0 = 72 dpi; 2.0 = 144 dpi, legible for scans and slides).
PDF_RENDER_SCALE = 2.0


def _refuse(doc: Document, index: int, message: str) -> InvalidInputError:
    return InvalidInputError(
        f"Document {doc.id!r} (index {index}): {message}", index=index, field="documents"
    )


def _resolve(doc: Document, index: int, file_path: Any, root_path: str | None) -> Path:
    """The file's path; with ``root_path``, refused if it escapes the root (path traversal)."""
    path = Path(root_path or "", str(file_path))
    if root_path:
        resolved, root = path.resolve(), Path(root_path).resolve()
        if not resolved.is_relative_to(root):
            raise _refuse(doc, index, f"the file path {str(file_path)!r} escapes root_path {root_path!r}.")
        return resolved
    return path


def _is_pdf(doc: Document, path: Path | None, data: bytes | None) -> bool:
    mime = doc.meta.get("mime_type") or (doc.blob.mime_type if doc.blob is not None else None)
    if mime is None and path is not None:
        mime = mimetypes.guess_type(path.name)[0]
    if mime == "application/pdf":
        return True
    return data is not None and data[:5] == b"%PDF-"


def _pdf_page(doc: Document, index: int, data: bytes) -> Image:
    page_number = doc.meta.get("page_number")
    if not isinstance(page_number, int) or isinstance(page_number, bool):
        raise _refuse(
            doc, index, "is a PDF, so its meta needs an int 'page_number' (1-based) naming the page."
        )
    try:
        import pypdfium2  # type: ignore[import-untyped]
    except ImportError as exc:
        raise MissingDependencyError(
            "pypdfium2",
            extra="pdf",
            purpose="Embedding PDF pages",
            install_line='pip install "jina-embeddings-haystack[pdf]"',
        ) from exc
    try:
        pdf = pypdfium2.PdfDocument(data)
    except Exception as exc:  # pypdfium2 raises PdfiumError for unreadable files
        raise _refuse(doc, index, f"the PDF cannot be read ({exc}).") from None
    try:
        if not 1 <= page_number <= len(pdf):
            raise _refuse(
                doc, index, f"page_number {page_number} is out of range (the PDF has {len(pdf)} pages)."
            )
        page = pdf[page_number - 1]
        image = page.render(scale=PDF_RENDER_SCALE).to_pil().convert("RGB")
        page.close()
    finally:
        pdf.close()
    return Image.from_pil(image)


def document_image(
    doc: Document, index: int, *, file_path_meta_field: str, root_path: str | None
) -> Image | None:
    """The image of ``doc``: its meta file path if set, else its blob, else ``None``."""
    file_path = doc.meta.get(file_path_meta_field)
    if file_path is not None:
        path = _resolve(doc, index, file_path, root_path)
        if _is_pdf(doc, path, None):
            if not path.is_file():
                raise _refuse(doc, index, f"file {str(path)!r} does not exist.")
            return _pdf_page(doc, index, path.read_bytes())
        return Image.from_path(path)  # existence, format and size are checked by the core
    if doc.blob is not None:
        data = doc.blob.data
        if _is_pdf(doc, None, data):
            return _pdf_page(doc, index, data)
        return Image.from_bytes(data)
    return None


def document_images(
    documents: Any, *, component: str, file_path_meta_field: str, root_path: str | None
) -> list[Image]:
    """One image per document (see :func:`document_image`); a document without one is refused by id."""
    if not isinstance(documents, list) or not all(isinstance(d, Document) for d in documents):
        raise TypeError(f"{component} expects a list of Documents as input.")
    images = []
    for i, doc in enumerate(documents):
        image = document_image(doc, i, file_path_meta_field=file_path_meta_field, root_path=root_path)
        if image is None:
            raise _refuse(
                doc,
                i,
                f"has no image: set meta[{file_path_meta_field!r}] to an image or PDF file, or Document.blob.",
            )
        images.append(image)
    return images


def texts_or_images(
    documents: Any, texts: Callable[[list[Document]], list[str]], *, file_path_meta_field: str = "file_path"
) -> list[Any]:
    """For rerankers: a text per document with content, an image for those without content but
    with an image (blob or meta file path); ``texts`` builds the texts (and refuses the rest)."""
    if not isinstance(documents, list) or not all(isinstance(d, Document) for d in documents):
        return texts(documents)  # its TypeError
    items: list[Any] = [None] * len(documents)
    text_docs: list[int] = []
    for i, doc in enumerate(documents):
        image = None
        if doc.content is None:
            image = document_image(doc, i, file_path_meta_field=file_path_meta_field, root_path=None)
        if image is None:
            text_docs.append(i)
        items[i] = image
    if text_docs:
        try:
            made = texts([documents[i] for i in text_docs])
        except InvalidInputError as err:  # name the caller's index, not the sub-list's
            index = text_docs[err.index] if err.index is not None else None
            raise InvalidInputError(
                str(err).replace(f"index {err.index}", f"index {index}"), index=index, field=err.field
            ) from err
        for i, text in zip(text_docs, made, strict=True):
            items[i] = text
    return items
