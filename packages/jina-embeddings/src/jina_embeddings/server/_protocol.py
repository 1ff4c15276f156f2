"""Request bodies in, response bodies out: the wire formats of ``serve``, as pure functions.

``POST /v1/embeddings`` takes the Jina API's body (``input``, ``task``, ``dimensions``,
``normalized``, ``embedding_type``, ``truncate``; what ``backend="api"`` sends) and the
OpenAI body (``input``, ``model``, ``encoding_format``, ``dimensions``, ``user``); they
differ only in how the task is chosen and how vectors are written. The OpenAI schema has
no task field, so there the ``model`` carries it: ``"<served name>:<task>"`` (e.g.
``"jina-embeddings-v5-text-small:retrieval.query"``) or the bare API task
(``"retrieval.query"``, the ``model=<task>`` convention of vLLM's multi-LoRA). Without one,
the model's default task is used, document side.

Errors are :class:`ServeError` (status, detail, code); the app writes them in the Jina API's
shape ``{"detail", "code", "request_id"}``. Nothing here imports starlette.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._quantize import BIT_PRECISIONS

__all__ = [
    "EMBEDDING_TYPES",
    "EmbedCall",
    "RerankCall",
    "ServeError",
    "embeddings_body",
    "encode_vector",
    "parse_embed",
    "parse_rerank",
    "rerank_body",
]

EMBEDDING_TYPES = ("float", "base64", "binary", "ubinary")
_JINA_FIELDS = frozenset(
    {"model", "input", "task", "dimensions", "normalized", "embedding_type", "encoding_type", "truncate"}
)
_OPENAI_FIELDS = frozenset({"model", "input", "encoding_format", "dimensions", "user"})
_JINA_ONLY = _JINA_FIELDS - _OPENAI_FIELDS
_EMBED_FIELDS = _JINA_FIELDS | _OPENAI_FIELDS | {"input_type"}
_RERANK_FIELDS = frozenset({"model", "query", "documents", "top_n", "return_documents"})


class ServeError(Exception):
    """An HTTP error answer: ``status``, a ``detail`` for humans, a Jina-style ``code``."""

    def __init__(self, status: int, detail: str, code: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = headers or {}


def invalid(field: str, message: str) -> ServeError:
    """422: a field has the wrong type or value (the message names the field)."""
    return ServeError(422, f"{field}: {message}", "VALIDATION_ERROR")


@dataclass(frozen=True)
class EmbedCall:
    """One validated ``/v1/embeddings`` request.

    ``api_task`` is the Jina API task string (``None``: the model's default task);
    ``role`` is ``"query"``/``"document"`` where the body said so (``input_type``);
    ``embedding_types`` lists what to return per vector (one item unless the body asked for
    several: then each vector is ``{type: value}``).
    """

    texts: list[str]
    model: str | None
    api_task: str | None
    role: str | None
    dimensions: int | None
    normalized: bool
    truncate: bool
    embedding_types: tuple[str, ...]
    several_types: bool
    openai: bool


@dataclass(frozen=True)
class RerankCall:
    """One validated ``/v1/rerank`` request."""

    model: str | None
    query: str
    documents: list[str]
    top_n: int | None
    return_documents: bool


def _texts(value: Any, field: str, *, max_items: int) -> list[str]:
    """``str`` | ``{"text": str}`` | a non-empty list of those -> strings (blank ones are the core's to refuse)."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise invalid(field, "the list is empty; send at least one text.")
    if len(items) > max_items:
        raise ServeError(
            413,
            f"{field} has {len(items)} items, more than this server's limit of {max_items} per "
            "request; split it into smaller requests (the client does: lower batch_size=).",
            "PAYLOAD_TOO_LARGE",
        )
    out: list[str] = []
    for i, item in enumerate(items):
        where = f"{field}[{i}]" if isinstance(value, list) else field
        if isinstance(item, dict):
            if set(item) != {"text"}:
                raise invalid(where, 'an object item must be {"text": "..."} (this model embeds text).')
            item = item["text"]
        if not isinstance(item, str):
            raise invalid(where, f"expected a string, got {type(item).__name__}.")
        out.append(item)
    return out


def _optional(body: dict[str, Any], field: str, kind: type, name: str) -> Any:
    value = body.get(field)
    if value is not None and (not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))):
        raise invalid(field, f"expected {name}, got {type(value).__name__}.")
    return value


def _check_fields(body: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("body", f"expected a JSON object, got {type(body).__name__}.")
    extra = sorted(str(k) for k in body if k not in allowed)
    if extra:
        raise invalid(extra[0], f"unknown field (allowed: {', '.join(sorted(allowed))}).")
    return body


def parse_embed(body: Any, *, max_items: int) -> EmbedCall:
    """Validate an ``/v1/embeddings`` body (Jina or OpenAI schema; see the module docstring).

    Raises:
        ServeError: 422 for a bad field, 413 for too many inputs.
    """
    body = _check_fields(body, _EMBED_FIELDS)
    openai = "encoding_format" in body or not body.keys() & (_JINA_ONLY | {"input_type"})
    if "encoding_format" in body and body.keys() & {"embedding_type", "encoding_type", "task"}:
        raise invalid("encoding_format", "is OpenAI's field; do not mix it with embedding_type or task.")
    if "input" not in body:
        raise invalid("input", "field required.")
    texts = _texts(body["input"], "input", max_items=max_items)
    model = _optional(body, "model", str, "a string")
    task = _optional(body, "task", str, "a string")
    dims = _optional(body, "dimensions", int, "an integer")
    if dims is not None and dims < 1:
        raise invalid("dimensions", f"must be >= 1, got {dims}.")
    role = _optional(body, "input_type", str, "a string")
    if role is not None and role not in ("query", "document", "passage"):
        raise invalid("input_type", f"must be 'query' or 'document', got {role!r}.")
    normalized = _optional(body, "normalized", bool, "true or false")
    truncate = _optional(body, "truncate", bool, "true or false")
    _optional(body, "user", str, "a string")
    if openai:
        etype: Any = body.get("encoding_format") or "float"
        if etype not in ("float", "base64"):
            raise invalid("encoding_format", f"must be 'float' or 'base64', got {etype!r}.")
        types: list[str] = [etype]
    else:
        etype = body.get("embedding_type", body.get("encoding_type"))
        etype = "float" if etype is None else etype
        types = etype if isinstance(etype, list) else [etype]
        if not types or any(not isinstance(t, str) or t not in EMBEDDING_TYPES for t in types):
            raise invalid(
                "embedding_type", f"must be one of {', '.join(EMBEDDING_TYPES)} (or a list of them)."
            )
    return EmbedCall(
        texts=texts,
        model=model,
        api_task=task,
        role=None if role is None else ("query" if role == "query" else "document"),
        dimensions=dims,
        normalized=True if normalized is None else normalized,
        truncate=False if truncate is None else truncate,
        embedding_types=tuple(dict.fromkeys(types)),
        several_types=isinstance(etype, list),
        openai=openai,
    )


def parse_rerank(body: Any, *, max_items: int) -> RerankCall:
    """Validate a ``/v1/rerank`` body (``query``, ``documents``, ``top_n``, ``return_documents``).

    Raises:
        ServeError: 422 for a bad field, 413 for too many documents.
    """
    body = _check_fields(body, _RERANK_FIELDS)
    for name in ("query", "documents"):
        if name not in body:
            raise invalid(name, "field required.")
    query = body["query"]
    if isinstance(query, dict) and set(query) == {"text"}:
        query = query["text"]
    if not isinstance(query, str):
        raise invalid("query", f"expected a string, got {type(query).__name__}.")
    if not isinstance(body["documents"], list):
        raise invalid("documents", "expected a list of strings.")
    documents = _texts(body["documents"], "documents", max_items=max_items)
    top_n = _optional(body, "top_n", int, "an integer")
    if top_n is not None and top_n < 1:
        raise invalid("top_n", f"must be >= 1, got {top_n}.")
    ret = _optional(body, "return_documents", bool, "true or false")
    return RerankCall(
        model=_optional(body, "model", str, "a string"),
        query=query,
        documents=documents,
        top_n=top_n,
        return_documents=True if ret is None else ret,
    )


# -- responses ----------------------------------------------------------------------------------
def encode_vector(row: np.ndarray, embedding_type: str) -> Any:
    """One finished row on the wire: float list, base64 of little-endian float32, or the packed
    bytes as ints (``binary``: int8, ``ubinary``: uint8), as the Jina API writes them."""
    if embedding_type == "base64":
        return base64.b64encode(np.asarray(row, dtype="<f4").tobytes()).decode("ascii")
    if embedding_type in BIT_PRECISIONS:
        return np.asarray(row).astype(np.int16).tolist()
    return np.asarray(row, dtype=np.float32).tolist()


def _usage(tokens: int | None) -> dict[str, int | None]:
    """Token counts where the backend knows them; local inference does not count (``null``)."""
    return {"total_tokens": tokens, "prompt_tokens": tokens}


def embeddings_body(
    model: str, rows_by_type: dict[str, np.ndarray], *, several_types: bool, tokens: int | None
) -> dict[str, Any]:
    """The 200 body: ``{model, object, usage, data: [{object, index, embedding}]}`` in input order."""
    types = list(rows_by_type)
    count = len(next(iter(rows_by_type.values())))
    data = []
    for i in range(count):
        if several_types:
            value: Any = {t: encode_vector(rows_by_type[t][i], t) for t in types}
        else:
            value = encode_vector(rows_by_type[types[0]][i], types[0])
        data.append({"object": "embedding", "index": i, "embedding": value})
    return {"model": model, "object": "list", "usage": _usage(tokens), "data": data}


def rerank_body(
    model: str, results: Sequence[Any], *, return_documents: bool, tokens: int | None
) -> dict[str, Any]:
    """The 200 body: ``{model, usage, results: [{index, relevance_score[, document]}]}``, best first."""
    out = []
    for r in results:
        item: dict[str, Any] = {"index": r.index, "relevance_score": r.relevance_score}
        if return_documents:
            item["document"] = {"text": r.document}
        out.append(item)
    return {"model": model, "usage": {"total_tokens": tokens}, "results": out}
