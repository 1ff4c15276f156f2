"""Deterministic vectors, scores, wire encodings and request validation of the fake Jina server.

Everything here is pure (no I/O): tests compute the values the server must have sent with the same
functions, so every vector and score can be checked exactly (not just by shape).
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import zlib
from functools import lru_cache
from typing import Any

import numpy as np

from .fake_images import IMAGE_MODELS, image_key

__all__ = [
    "DEFAULT_NATIVE_DIMS",
    "EMBEDDING_TYPES",
    "RERANK_MODELS",
    "ApiError",
    "count_words",
    "embeddings_response",
    "encode_embedding",
    "expected_rerank_score",
    "expected_late_vectors",
    "expected_vector",
    "gzip_bomb",
    "rerank_response",
]

EMBEDDING_TYPES = ("float", "base64", "binary", "ubinary")

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=8192)
def _vector_bytes(model: str, task: str, text: str, dimensions: int, native_dim: int) -> bytes:
    digest = hashlib.sha256(f"{model}\x00{task}\x00{text}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest, "big"))
    v = rng.standard_normal(native_dim)
    v /= np.linalg.norm(v)
    if dimensions:
        v = v[:dimensions]
        v = v / np.linalg.norm(v)
    return v.astype(np.float32).tobytes()


def expected_vector(
    model: str,
    task: str | None,
    text: str,
    dimensions: int | None = None,
    native_dim: int = 1024,
) -> np.ndarray:
    """The float32, unit-L2-norm vector the fake server returns for ``text``.

    seed = int(sha256(f"{model}\\x00{task or ''}\\x00{text}")); v = default_rng(seed).standard_normal(native_dim);
    normalize; if ``dimensions``: keep the first ``dimensions`` values and renormalize.
    """
    if dimensions is not None and not 1 <= dimensions <= native_dim:
        raise ValueError(f"dimensions must be in 1..{native_dim}, got {dimensions}")
    raw = _vector_bytes(model, task or "", text, dimensions or 0, native_dim)
    return np.frombuffer(raw, dtype=np.float32).copy()


LATE_CHUNKING_MODELS = ("jina-embeddings-v3", "jina-embeddings-v4")
LATE_CHUNKING_MAX_TOKENS = 8192  # per request, counted as usage counts tokens (whitespace words)


def expected_late_vectors(
    model: str, task: str | None, texts: list[str], dimensions: int | None = None, native_dim: int = 1024
) -> np.ndarray:
    """The vectors of one ``late_chunking: true`` request: each input's own vector plus one
    vector of the whole request (seeded by all inputs, in order), normalized, then cut to
    ``dimensions`` and renormalized. So a chunk's vector changes with its request's other chunks."""
    context = expected_vector(model, f"{task or ''}\x00late", "\x00".join(texts), None, native_dim)
    rows = []
    for t in texts:
        v = expected_vector(model, task, t, None, native_dim) + context
        v = v / np.linalg.norm(v)
        if dimensions:
            v = v[:dimensions] / np.linalg.norm(v[:dimensions])
        rows.append(v.astype(np.float32))
    return np.stack(rows)


def _check_late_chunking(model: str, texts: list[str]) -> None:
    if model not in LATE_CHUNKING_MODELS:
        raise v422("late_chunking", f"late_chunking is not supported for {model}", "extra_forbidden")
    tokens = sum(count_words(t) for t in texts)
    if tokens > LATE_CHUNKING_MAX_TOKENS:
        raise ApiError(
            400,
            f"late_chunking: the inputs have {tokens} tokens, over {LATE_CHUNKING_MAX_TOKENS} per request",
        )


@lru_cache(maxsize=4)
def gzip_bomb(mib: int) -> bytes:
    """A valid single-member gzip stream that inflates to ``mib`` MiB of zero bytes (~1 KB per MiB).

    Built in ~0.3 s for 1 GiB without compressing 1 GiB: after a full flush the deflate state is
    reset, so the compressed block of one MiB of zeros is the same every time and can be repeated.
    """
    zeros = b"\0" * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    final = c.flush()[:-8]  # the final empty block; the trailer is computed for the whole stream
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return first + block * (mib - 1) + final + struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)


def count_words(text: str) -> int:
    """Token count used in ``usage``: number of whitespace-separated words."""
    return len(text.split())


def expected_rerank_score(query: str, doc: str) -> float:
    """Deterministic relevance in (0, 1): Jaccard overlap of lower-cased word sets (``\\w+``),
    squeezed into [1e-6, 1 - 1e-6], plus a tie-breaker < 1e-7 derived from sha256(doc)."""
    q = set(_WORD.findall(query.lower()))
    d = set(_WORD.findall(doc.lower()))
    union = q | d
    jaccard = len(q & d) / len(union) if union else 0.0
    tie = int.from_bytes(hashlib.sha256(doc.encode()).digest()[:8], "big") / 2.0**64 * 1e-7
    return 1e-6 + jaccard * (1.0 - 2e-6) + tie


def encode_embedding(v: np.ndarray, embedding_type: str, drop_last: bool = False) -> Any:
    """Encode one vector as the Jina API does for ``embedding_type``.

    float: list of floats (exact float32 values); base64: standard base64 of little-endian float32;
    ubinary: np.packbits(v > 0) as ints 0..255 (MSB first); binary: those bytes - 128.
    ``drop_last`` removes the last value (float/base64) or the last packed byte (binary/ubinary).
    """
    v = np.asarray(v, dtype=np.float32)
    if embedding_type in ("float", "base64"):
        if drop_last:
            v = v[:-1]
        if embedding_type == "float":
            return v.tolist()
        return base64.b64encode(v.astype("<f4").tobytes()).decode("ascii")
    if embedding_type not in ("binary", "ubinary"):
        raise ValueError(f"unknown embedding_type {embedding_type!r}")
    packed = np.packbits(v > 0)
    if drop_last:
        packed = packed[:-1]
    if embedding_type == "ubinary":
        return packed.tolist()
    return (packed.astype(np.int16) - 128).tolist()


# ----------------------------------------------------------------- request validation and response bodies
_V5_TASKS = ("retrieval", "text-matching", "clustering", "classification")
DEFAULT_NATIVE_DIMS: dict[str, int] = {
    "jina-embeddings-v5-text-small": 1024,
    "jina-embeddings-v5-text-nano": 768,
    "jina-embeddings-v3": 1024,
    "jina-embeddings-v4": 2048,
    "jina-code-embeddings-0.5b": 896,
    "jina-code-embeddings-1.5b": 1536,
    "jina-clip-v2": 1024,
    **{f"jina-embeddings-v2-base-{s}": 768 for s in ("en", "de", "es", "zh", "code")},
    **{f"jina-embeddings-v5-text-small-{t}": 1024 for t in _V5_TASKS},
    # newer than the client's registry (Elastic's 9.4 catalogue): the client must send them as given
    "jina-embeddings-v5-omni-small": 1024,
    "jina-embeddings-v5-omni-nano": 768,
    **{f"jina-embeddings-v5-text-nano-{t}": 768 for t in _V5_TASKS},
}
RERANK_MODELS = (
    "jina-reranker-v3",
    "jina-reranker-m0",
    "jina-reranker-v2-base-multilingual",
    "jina-reranker-v3.5",
)
MAX_INPUTS = 2048
JINA_FIELDS = {
    "model",
    "input",
    "task",
    "dimensions",
    "normalized",
    "embedding_type",
    "encoding_type",
    "truncate",
    "late_chunking",
}
OPENAI_FIELDS = {"model", "input", "encoding_format", "dimensions", "user"}
_JINA_ONLY = JINA_FIELDS - OPENAI_FIELDS
RERANK_FIELDS = {"model", "query", "documents", "top_n", "return_documents", "truncation", "max_doc_length"}
ERROR_CODES = {
    400: "INPUT_INVALID",
    401: "AUTH_INVALID_API_KEY",
    402: "AUTHZ_INSUFFICIENT_BALANCE",
    403: "AUTHZ_INSUFFICIENT_BALANCE",
    404: "NOT_FOUND",
    408: "REQUEST_TIMEOUT",
    409: "CONFLICT_RESOURCE_BUSY",
    413: "PAYLOAD_TOO_LARGE",
    422: "VALIDATION_ERROR",
    429: "RATE_REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "SERVICE_TIMEOUT",
    529: "OVERLOADED",
}


class ApiError(Exception):
    """An HTTP error response of the API: Jina shape {detail, code}, or {detail, errors} for 422."""

    def __init__(
        self,
        status: int,
        detail: str,
        code: str | None = None,
        field: str | None = None,
        etype: str = "value_error",
    ):
        super().__init__(detail)
        self.status, self.detail, self.code, self.field, self.etype = status, detail, code, field, etype

    def payload(self) -> dict:
        if self.status == 422:
            return {
                "detail": self.detail,
                "errors": [{"field": self.field, "input": None, "message": self.detail, "type": self.etype}],
            }
        return {"detail": self.detail, "code": self.code or ERROR_CODES.get(self.status, "ERROR")}


def v422(field: str, msg: str, etype: str = "value_error") -> ApiError:
    return ApiError(422, msg, field=field, etype=etype)


def _texts(value: Any, field: str, images: bool = False) -> list[str]:
    """str | {"text": str} | {"image": b64 or URL} | non-empty list of those -> list of str
    (422 otherwise); an image becomes its key (see :mod:`.fake_images`)."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise v422(field, "List should have at least 1 item after validation, not 0", "too_short")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and set(item) == {"text"}:
            item = item["text"]
        elif isinstance(item, dict) and set(item) == {"image"}:
            where = f"{field}[{i}]" if isinstance(value, list) else field
            item = image_key(item["image"], where, allowed=images, error=v422)
        if not isinstance(item, str):
            raise v422(
                f"{field}[{i}]" if isinstance(value, list) else field,
                "Input should be a valid string",
                "string_type",
            )
        out.append(item)
    return out


def _check_type(body: dict, field: str, types: tuple, name: str) -> None:
    val = body.get(field)
    if val is not None and (not isinstance(val, types) or (bool not in types and isinstance(val, bool))):
        raise v422(field, f"Input should be a valid {name}", f"{name}_type")


def embeddings_response(body: dict, native_dims: dict[str, int], kind: str | None = None) -> dict:
    """Validate an /v1/embeddings body like the real API (raise ApiError) and build the 200 payload."""
    from .fake_multivector import is_multivector_request, multivector_response

    if is_multivector_request(body):  # jina-colbert-v2, v4 return_multivector
        return multivector_response(body, kind)
    model = _model(body, native_dims)
    openai = "encoding_format" in body or not (body.keys() & _JINA_ONLY)
    allowed = OPENAI_FIELDS if openai else JINA_FIELDS
    for field in body:
        if field not in allowed:
            raise v422(field, "Extra inputs are not permitted", "extra_forbidden")
    if model.startswith("jina-embeddings-v2-base-"):
        for field in ("task", "dimensions"):
            if field in body:
                raise v422(field, "Extra inputs are not permitted", "extra_forbidden")
    if "input" not in body:
        raise v422("input", "Field required", "missing")
    texts = _texts(body["input"], "input", images=model in IMAGE_MODELS)
    if len(texts) > MAX_INPUTS:
        raise ApiError(400, f"input length is larger than the largest allowed size {MAX_INPUTS}")
    for i, t in enumerate(texts):
        if not t.strip():
            raise ApiError(400, f"input[{i}] is empty or contains only whitespace")
    native = native_dims[model]
    dims = body.get("dimensions")
    if dims is not None and (not isinstance(dims, int) or isinstance(dims, bool) or not 1 <= dims <= native):
        raise v422("dimensions", f"dimensions must be an integer between 1 and {native}", "value_error")
    for field, name in (
        ("task", "string"),
        ("normalized", "boolean"),
        ("truncate", "boolean"),
        ("late_chunking", "boolean"),
    ):
        _check_type(body, field, (str,) if name == "string" else (bool,), name)
    if openai:
        etype = body.get("encoding_format") or "float"
        if etype not in ("float", "base64"):
            raise v422("encoding_format", "Input should be 'float' or 'base64'", "literal_error")
    else:
        etype = body.get("embedding_type", body.get("encoding_type"))
        etype = "float" if etype is None else etype
        types = etype if isinstance(etype, list) else [etype]
        if not types or any(t not in EMBEDDING_TYPES for t in types):
            raise v422(
                "embedding_type", "Input should be 'float', 'base64', 'binary' or 'ubinary'", "literal_error"
            )
    task = None if openai else body.get("task")
    if body.get("late_chunking") is True:  # one sequence per request: vectors depend on the others
        _check_late_chunking(model, texts)
        vecs = expected_late_vectors(model, task, texts, dims, native)
    else:
        vecs = np.stack([expected_vector(model, task, t, dims, native) for t in texts])
    if kind == "nan":
        vecs[0, 0] = np.nan
    drop = kind == "bad_dim"

    def enc(v: np.ndarray) -> Any:
        if isinstance(etype, list):
            return {t: encode_embedding(v, t, drop) for t in etype}
        return encode_embedding(v, etype, drop)

    data = [{"object": "embedding", "index": i, "embedding": enc(v)} for i, v in enumerate(vecs)]
    n = sum(count_words(t) for t in texts)
    return {"model": model, "object": "list", "usage": {"total_tokens": n, "prompt_tokens": n}, "data": data}


def rerank_response(body: dict, kind: str | None = None) -> dict:
    """Validate an /v1/rerank body like the real API (raise ApiError) and build the 200 payload."""
    model = _model(body, RERANK_MODELS)
    for field in body:
        if field not in RERANK_FIELDS:
            raise v422(field, "Extra inputs are not permitted", "extra_forbidden")
    query = body.get("query")
    if not isinstance(query, str):
        raise v422("query", "Field required" if query is None else "Input should be a valid string")
    if not query.strip():
        raise ApiError(400, "query is empty or contains only whitespace")
    if "documents" not in body:
        raise v422("documents", "Field required", "missing")
    docs = _texts(body["documents"], "documents", images=model in IMAGE_MODELS)
    top_n = body.get("top_n")
    if top_n is not None and (not isinstance(top_n, int) or isinstance(top_n, bool) or top_n < 1):
        raise v422("top_n", "top_n must be an integer >= 1", "greater_than_equal")
    _check_type(body, "return_documents", (bool,), "boolean")
    _check_type(body, "truncation", (bool,), "boolean")
    mdl = body.get("max_doc_length")
    if mdl is not None and (not isinstance(mdl, int) or isinstance(mdl, bool) or not 1 <= mdl <= 8192):
        raise v422("max_doc_length", "max_doc_length must be an integer between 1 and 8192")
    ret_docs = body.get("return_documents", True) is not False
    scored = sorted(
        ((expected_rerank_score(query, d), i) for i, d in enumerate(docs)), key=lambda s: (-s[0], s[1])
    )
    results = []
    for score, i in scored[:top_n]:
        item: dict[str, Any] = {"index": i, "relevance_score": score}
        if ret_docs:
            item["document"] = {"text": docs[i]}
        results.append(item)
    if kind == "nan" and results:
        results[0]["relevance_score"] = float("nan")
    total = count_words(query) + sum(count_words(d) for d in docs)
    return {"model": model, "object": "list", "usage": {"total_tokens": total}, "results": results}


def _model(body: dict, known: Any) -> str:
    model = body.get("model")
    if model is None:
        raise v422("model", "Field required", "missing")
    if not isinstance(model, str):
        raise v422("model", "Input should be a valid string", "string_type")
    if model not in known:
        raise ApiError(400, f"Model '{model}' not found", "INPUT_MODEL_NOT_FOUND")
    return model
