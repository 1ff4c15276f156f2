"""Multi-vector responses of the fake Jina server: jina-colbert-v2 and v4 ``return_multivector``.

Pure functions, like :mod:`.fake_vectors`: tests compute the token vectors the server must
have sent with :func:`expected_token_vectors` and compare them exactly.

* jina-colbert-v2: fields ``model, input, input_type (query|document, default document),
  dimensions (64|96|128), embedding_type``; anything else is 422 ``extra_forbidden``.
  A query has exactly 32 token vectors (query expansion); a document one per word plus two.
* jina-embeddings-v4 with ``return_multivector: true``: ``dimensions`` is 422 (as the API);
  one token vector per word plus two, 128 wide.

Token ``k`` of ``text`` is ``expected_vector(model, f"{side}#{k}", text, dimensions, 128)``,
``side`` being the input type (colbert) or the task (v4).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .fake_vectors import ApiError, _texts, count_words, encode_embedding, expected_vector, v422

__all__ = [
    "COLBERT_MODELS",
    "QUERY_TOKENS",
    "expected_token_vectors",
    "is_multivector_request",
    "multivector_response",
]

COLBERT_MODELS = ("jina-colbert-v2",)
QUERY_TOKENS = 32
WIDTH = 128
_COLBERT_FIELDS = {"model", "input", "input_type", "dimensions", "embedding_type"}


def is_multivector_request(body: Any) -> bool:
    return isinstance(body, dict) and (body.get("model") in COLBERT_MODELS or "return_multivector" in body)


def token_count(text: str, side: str) -> int:
    return QUERY_TOKENS if side == "query" else count_words(text) + 2


def expected_token_vectors(model: str, side: str, text: str, dimensions: int | None = None) -> np.ndarray:
    """The (tokens, dimensions or 128) float32 matrix the fake server sends for ``text``."""
    n = token_count(text, side)
    return np.stack([expected_vector(model, f"{side}#{k}", text, dimensions, WIDTH) for k in range(n)])


def multivector_response(body: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
    """Validate a multi-vector ``/v1/embeddings`` body like the API and build the 200 payload."""
    model = body.get("model")
    if model in COLBERT_MODELS:
        for field in body:
            if field not in _COLBERT_FIELDS:
                raise v422(field, "Extra inputs are not permitted", "extra_forbidden")
        side = body.get("input_type", "document")
        if side not in ("query", "document"):
            raise v422("input_type", "Input should be 'query' or 'document'", "literal_error")
        dims = body.get("dimensions")
        if dims is not None and dims not in (64, 96, 128):
            raise v422("dimensions", "dimensions must be one of 64, 96, 128", "literal_error")
    elif model == "jina-embeddings-v4":
        if body.get("return_multivector") is not True:
            raise v422("return_multivector", "Input should be a valid boolean", "bool_type")
        if "dimensions" in body:
            raise v422("dimensions", "dimensions cannot be used with return_multivector", "value_error")
        side, dims = str(body.get("task") or "text-matching"), None
    else:
        raise ApiError(400, f"Model '{model}' does not support multi-vector output", "INPUT_INVALID")
    etype = body.get("embedding_type", "float")
    if etype not in ("float", "base64"):
        raise v422("embedding_type", "multi-vector embeddings are float or base64", "literal_error")
    if "input" not in body:
        raise v422("input", "Field required", "missing")
    texts = _texts(body["input"], "input")
    for i, t in enumerate(texts):
        if not t.strip():
            raise ApiError(400, f"input[{i}] is empty or contains only whitespace")
    data = []
    for i, text in enumerate(texts):
        matrix = expected_token_vectors(str(model), side, text, dims)
        if kind == "nan" and i == 0:
            matrix[0, 0] = np.nan
        drop = kind == "bad_dim" and i == 0
        data.append(
            {
                "object": "embeddings",
                "index": i,
                "embeddings": [encode_embedding(v, etype, drop) for v in matrix],
            }
        )
    n = sum(count_words(t) for t in texts)
    return {"model": model, "object": "list", "usage": {"total_tokens": n, "prompt_tokens": n}, "data": data}
