"""``backend="api"``: the Jina Embeddings and Rerank API (or a server that speaks it).

Request bodies are built by pure functions (:func:`build_embed_body`,
:func:`build_rerank_body`) from the model spec and the request, and only carry fields the
model accepts: the API forbids extra fields, v2 takes no ``task`` or ``dimensions``, v4 and
the code models take no ``normalized``. Floats travel as base64; ``binary``/``ubinary`` are
computed by the server (``embedding_type``), which cuts the bandwidth by 32x.

Example::

    from jina_embeddings import Embedder, Reranker

    emb = Embedder("jina-embeddings-v5-text-small", backend="api", task="retrieval",
                   dimensions=512, precision="ubinary")      # key: api_key= or JINA_API_KEY
    rr = Reranker("jina-reranker-v3", backend="api")
    rr.rerank("capital of Germany", ["Paris ...", "Berlin ..."], top_n=1)
"""

from __future__ import annotations

import math
from functools import reduce
from typing import Any

from .. import _constants as C
from .._http import Reply
from .._images import wire_inputs
from .._models import ModelSpec
from .._quantize import BIT_PRECISIONS, packed_width
from .._results import Usage
from ..errors import APIResponseValidationError
from .base import EmbedRequest, InputItem, RerankOutput, RerankRequest, text_cost
from .remote import (
    RemoteBase,
    RemoteEmbeddingBackend,
    Wire,
    _short,
    parse_usage,
    plan_batches,
    request_chars,
    response_cap,
)
from .table import BackendConfig

__all__ = [
    "JinaAPIBackend",
    "JinaAPIRerankBackend",
    "build_embed_body",
    "build_rerank_body",
    "parse_rerank",
    "wire_for",
]


def _sends_normalized(spec: ModelSpec) -> bool:
    return spec.api_normalized


def _sends_dimensions(spec: ModelSpec, request: EmbedRequest) -> bool:
    return request.dimensions is not None and spec.api_dimensions


def build_embed_body(
    spec: ModelSpec, request: EmbedRequest, texts: list[InputItem], *, model: str | None = None
) -> dict[str, Any]:
    """The ``/v1/embeddings`` body for ``texts`` (pure).

    >>> from jina_embeddings._models import get_spec
    >>> from jina_embeddings._tasks import resolve
    >>> spec = get_spec("jina-embeddings-v5-text-small")
    >>> req = EmbedRequest(texts=["hi"], binding=resolve(spec, "retrieval", "query"), dimensions=256,
    ...                    precision="float32", normalize=True, truncate=True, batch_size=None,
    ...                    show_progress=False)
    >>> build_embed_body(spec, req, ["hi"])["task"]
    'retrieval.query'
    """
    body: dict[str, Any] = {
        "model": model or spec.api_name or spec.name,
        "input": wire_inputs(texts),
        "embedding_type": wire_for(spec, request).embedding_type,
    }
    binding = request.binding
    if binding.api_task is not None:
        body["task"] = binding.api_task
    if binding.api_input_type is not None:
        body["input_type"] = binding.api_input_type
    if _sends_dimensions(spec, request):
        body["dimensions"] = request.dimensions
    if _sends_normalized(spec):
        body["normalized"] = request.normalize
    body["truncate"] = request.truncate
    if request.late_chunking:
        body["late_chunking"] = True
    return body


def wire_for(spec: ModelSpec, request: EmbedRequest) -> Wire:
    """What the server sends back for ``request``: bits for bit precisions, else base64 floats."""
    size = request.dimensions or spec.native_dim
    if request.precision in BIT_PRECISIONS:
        return Wire(request.precision, packed_width(size) if size else None, request.precision, True)
    cut = request.dimensions is None or _sends_dimensions(spec, request)
    normalized = _sends_normalized(spec) or not request.normalize
    return Wire("base64", size, "float32", cut and normalized)


class JinaAPIBackend(RemoteEmbeddingBackend):
    """Embeddings through the Jina API; see the module docstring.

    Args:
        spec: the model; its ``api_name`` is sent as ``model``.
        remote: base URL, timeouts, retries, concurrency, batch size cap in characters.
        api_key: required for the hosted API; optional for a self-hosted ``base_url``.
        protocol: ``"api"``.
    """

    name = "api"
    default_batch_size = C.DEFAULT_API_BATCH_SIZE

    def build_body(self, request: EmbedRequest, texts: list[InputItem]) -> dict[str, Any]:
        return build_embed_body(self.spec, request, texts, model=self.model_name)

    def wire(self, request: EmbedRequest) -> Wire:
        return wire_for(self.spec, request)


# -- rerank -----------------------------------------------------------------------------------
def build_rerank_body(
    model: str, query: str, documents: list[InputItem], top_n: int | None, *, protocol: str
) -> dict[str, Any]:
    """The ``/v1/rerank`` body (pure). OpenAI-compatible servers (vLLM, Infinity) get only the
    common fields; the Jina API is also told not to echo the documents back."""
    body: dict[str, Any] = {"model": model, "query": query, "documents": wire_inputs(documents)}
    if top_n is not None:
        body["top_n"] = min(top_n, len(documents))
    if protocol == "api":
        body["return_documents"] = False
    return body


def parse_rerank(
    reply: Reply, *, count: int, top_n: int | None
) -> tuple[list[tuple[int, float]], Usage, str | None]:
    """Check one ``/rerank`` response: (index, score) pairs within the batch, usage, model.

    ``results`` (or a bare list, as TEI answers) of ``{index, relevance_score | score}``:
    indices unique and in range, scores finite, one per document (or ``top_n`` of them).

    Raises:
        APIResponseValidationError: any check fails.
    """
    data = reply.data
    items = data if isinstance(data, list) else data.get("results") if isinstance(data, dict) else None

    def invalid(message: str) -> APIResponseValidationError:
        return APIResponseValidationError(
            f"Invalid rerank response: {message}",
            request_id=reply.request_id,
            retries_taken=reply.retries_taken,
        )

    if not isinstance(items, list):
        raise invalid("no 'results' list")
    expected = {count} if top_n is None else {min(top_n, count), count}
    if len(items) not in expected:
        raise invalid(f"{len(items)} results for {count} documents (top_n={top_n})")
    scored: list[tuple[int, float]] = []
    seen: set[int] = set()
    for item in items:
        index = item.get("index") if isinstance(item, dict) else None
        score = item.get("relevance_score", item.get("score")) if isinstance(item, dict) else None
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count or index in seen:
            raise invalid(f"index {_short(index)} is out of range or repeated")
        if not isinstance(score, int | float) or isinstance(score, bool) or not math.isfinite(score):
            raise invalid(f"score {_short(score)} of index {index} is not a finite number")
        seen.add(index)
        scored.append((index, float(score)))
    meta = data if isinstance(data, dict) else {}
    model = meta.get("model")
    return scored, parse_usage(meta.get("usage")), model if isinstance(model, str) else None


class JinaAPIRerankBackend(RemoteBase):
    """Reranking through ``{base_url}/rerank`` (Jina API, vLLM, Infinity).

    Documents are sent in batches of ``batch_size`` (default 1024) and ``max_batch_chars``;
    with ``top_n`` each batch returns its own top ``n``, which always contains the overall
    top ``n``, so the core's merge is exact.
    """

    name = "api"
    path = "/rerank"

    def __init__(self, config: BackendConfig) -> None:
        super().__init__(config)
        self.name = config.protocol

    def _plan(self, request: RerankRequest) -> list[range]:
        # query and documents were validated by the core
        max_items = min(request.batch_size or C.DEFAULT_RERANK_BATCH_SIZE, C.MAX_INPUTS_PER_REQUEST)
        budget = max(1, self.remote.max_batch_chars - text_cost(request.query))
        return plan_batches(request.documents, max_items=max_items, max_cost=budget)

    def _body(self, request: RerankRequest, batch: range) -> dict[str, Any]:
        return build_rerank_body(
            self.model_name,
            request.query,
            [request.documents[i] for i in batch],
            request.top_n,
            protocol=self.protocol,
        )

    @staticmethod
    def _limits(batch: range, body: dict[str, Any]) -> dict[str, int]:
        """Size for token estimates (the query is read with every document) and the response's
        byte budget (a server may echo the documents, escaped: up to 12 bytes per character)."""
        docs = request_chars(body["documents"])
        return {
            "chars": len(body["query"]) * len(batch) + docs,
            "max_bytes": response_cap(len(batch), 0, extra=12 * docs),
        }

    def rerank(self, request: RerankRequest) -> RerankOutput:
        batches = self._plan(request)

        def run(batch: range) -> tuple[list[tuple[int, float]], Usage, str | None]:
            body = self._body(request, batch)
            reply = self.http.post(self.path, body, **self._limits(batch, body))
            return parse_rerank(reply, count=len(batch), top_n=request.top_n)

        return self._merge(batches, self.http.map(batches, run))

    async def arerank(self, request: RerankRequest) -> RerankOutput:
        batches = self._plan(request)

        async def run(batch: range) -> tuple[list[tuple[int, float]], Usage, str | None]:
            body = self._body(request, batch)
            reply = await self.http.apost(self.path, body, **self._limits(batch, body))
            return parse_rerank(reply, count=len(batch), top_n=request.top_n)

        return self._merge(batches, await self.http.amap(batches, run))

    def _merge(self, batches: list[range], results: list[Any]) -> RerankOutput:
        """Batch-local indices -> document indices. A failed batch fails the call: a ranking
        that silently misses documents would look complete."""
        for result in results:
            if isinstance(result, BaseException):
                raise result
        scored = [(batch.start + i, s) for batch, r in zip(batches, results, strict=True) for i, s in r[0]]
        usage = reduce(lambda a, b: a + b, (r[1] for r in results), Usage())
        model = next((r[2] for r in results if r[2]), None) or self.spec.name
        return RerankOutput(scored=scored, model=model, usage=usage)
