"""``backend="api"`` for multi-vector models: token vectors from ``/v1/embeddings``.

* jina-colbert-v2: ``{"model", "input", "input_type": "query" | "document", "dimensions"?}``;
  the API takes no ``task``, ``normalized`` or ``truncate`` for it.
* jina-embeddings-v4: ``{"model", "input", "task", "return_multivector": true, "truncate"}``;
  ``dimensions`` is refused with ``return_multivector`` (checked at construction).

Token vectors come back as ``data[i].embeddings`` (a list of vectors; ``embedding`` is read
too), as float lists or base64 float32 per token. Every response is checked like a
single-vector one: ``data`` count, ``index`` permutation, one width for every token of every
input (``dimensions`` or 128), finite values, at least one token per input. A batch that
fails after retries fails the call: a result that silently lacks some inputs would look
complete.

Example::

    from jina_embeddings import MultiVectorEmbedder

    mv = MultiVectorEmbedder("jina-colbert-v2", backend="api", dimensions=96)
    q = mv.embed_query("capital of Germany?")          # input_type="query"
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np

from .. import _constants as C
from .._http import Reply
from .._models import ModelSpec
from .._results import Usage
from .base import BackendOutput, EmbedRequest
from .remote import (
    RemoteBase,
    _invalid,
    decode_vector,
    indexed_items,
    parse_usage,
    plan_batches,
    request_chars,
    response_cap,
)

__all__ = ["JinaAPIMultiVectorBackend", "build_multivector_body", "parse_multivector"]

#: Tokens per input assumed for the response-size budget (jina-colbert-v2 reads up to 8192).
_ASSUMED_TOKENS = 8192


def build_multivector_body(
    spec: ModelSpec, request: EmbedRequest, texts: list[str], *, model: str | None = None
) -> dict[str, Any]:
    """The ``/v1/embeddings`` body for token vectors of ``texts`` (pure)."""
    body: dict[str, Any] = {
        "model": model or spec.api_name or spec.name,
        "input": texts,
        "embedding_type": "float",
    }
    binding = request.binding
    if spec.kind == "multivector":
        body["input_type"] = binding.api_input_type or binding.role.value
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
    else:  # v4-style: a task, and the multi-vector switch
        if binding.api_task is not None:
            body["task"] = binding.api_task
        body["return_multivector"] = True
        body["truncate"] = request.truncate
    return body


def parse_multivector(
    reply: Reply, *, count: int, width: int | None
) -> tuple[list[np.ndarray], Usage, str | None]:
    """Check one response and return (token matrices in input order, usage, model).

    Raises:
        APIResponseValidationError: any check of the module docstring fails.
    """
    data = reply.data
    rows: list[np.ndarray | None] = [None] * count
    for index, item in indexed_items(reply, count):
        tokens = item.get("embeddings", item.get("embedding"))
        if not isinstance(tokens, list) or not tokens:
            raise _invalid(reply, f"item {index}: no token vectors ('embeddings' list)")
        try:
            decoded = [decode_vector(t, "float") for t in tokens]
        except ValueError as exc:
            raise _invalid(reply, f"item {index}: {exc}") from None
        widths = {len(t) for t in decoded}
        if len(widths) != 1 or (width is not None and widths != {width}):
            want = width if width is not None else "one width"
            raise _invalid(reply, f"item {index}: token vector widths {sorted(widths)}, expected {want}")
        matrix = np.stack(decoded)
        if not np.isfinite(matrix).all():
            raise _invalid(reply, f"item {index}: non-finite values (NaN or inf) in the token vectors")
        rows[index] = matrix
    model = data.get("model")
    return rows, parse_usage(data.get("usage")), model if isinstance(model, str) else None  # type: ignore[return-value]


class JinaAPIMultiVectorBackend(RemoteBase):
    """Token vectors through the Jina API; see the module docstring."""

    name = "api"
    path = "/embeddings"

    def _plan(self, request: EmbedRequest) -> list[range]:
        max_items = min(request.batch_size or C.DEFAULT_API_BATCH_SIZE, C.MAX_INPUTS_PER_REQUEST)
        return plan_batches(request.texts, max_items=max_items, max_cost=self.remote.max_batch_chars)

    def _width(self, request: EmbedRequest) -> int | None:
        return request.dimensions or self.spec.multivector_dim

    def _body(self, request: EmbedRequest, batch: range) -> dict[str, Any]:
        return build_multivector_body(
            self.spec,
            request,
            [str(request.texts[i]) for i in batch],  # texts only: checked by the core
            model=self.model_name,
        )

    def _limits(self, request: EmbedRequest, batch: range, body: dict[str, Any]) -> dict[str, int]:
        width = self._width(request) or C.ASSUMED_MAX_WIDTH
        return {
            "chars": request_chars(body["input"]),
            "max_bytes": response_cap(len(batch) * _ASSUMED_TOKENS, width),
        }

    def embed(self, request: EmbedRequest) -> BackendOutput:
        batches = self._plan(request)

        def run(batch: range) -> tuple[list[np.ndarray], Usage, str | None]:
            body = self._body(request, batch)
            reply = self.http.post(self.path, body, **self._limits(request, batch, body))
            return parse_multivector(reply, count=len(batch), width=self._width(request))

        return self._merge(self.http.map(batches, run))

    async def aembed(self, request: EmbedRequest) -> BackendOutput:
        batches = self._plan(request)

        async def run(batch: range) -> tuple[list[np.ndarray], Usage, str | None]:
            body = self._body(request, batch)
            reply = await self.http.apost(self.path, body, **self._limits(request, batch, body))
            return parse_multivector(reply, count=len(batch), width=self._width(request))

        return self._merge(await self.http.amap(batches, run))

    def _merge(self, results: list[Any]) -> BackendOutput:
        for result in results:
            if isinstance(result, BaseException):
                raise result
        rows = [row for r in results for row in r[0]]
        usage = reduce(lambda a, b: a + b, (r[1] for r in results), Usage())
        model = next((r[2] for r in results if r[2]), None) or self.spec.name
        return BackendOutput(vectors=rows, model=model, usage=usage)
