"""The Starlette app of ``serve``: routes, keys, limits, the admission queue, error shapes.

Per request, in this order: bearer key (when keys are configured; compared in constant time
with :func:`hmac.compare_digest`, never logged or echoed), body size (413), JSON (400),
fields (422, see :mod:`._protocol`), input count (413), admission (429 with ``Retry-After``
and ``retry-after-ms`` when the queue of admitted inputs is full), then the model. Every
error is ``{"detail", "code", "request_id"}`` with the id also in ``x-request-id``.

Large JSON bodies are parsed and written in a worker thread, and the model runs in worker
threads (the local backend's ``aembed``): the event loop only routes.
"""

from __future__ import annotations

import collections
import contextlib
import hmac
import json
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio.to_thread

from .._optional import require
from ._config import ServeConfig
from ._engine import EmbeddingModel, RerankModel
from ._metrics import Metrics
from ._protocol import ServeError, parse_embed, parse_rerank

__all__ = ["create_app"]

logger = logging.getLogger("jina_embeddings.server")
_THREAD_JSON_BYTES = 256 * 1024  # parse / write bodies larger than this off the event loop
_THREAD_ROWS = 256  # write responses with more rows than this off the event loop
_RATE_WINDOW = 2.0  # seconds of completions used to estimate Retry-After


class _Service:
    """State shared by the routes (one per app)."""

    def __init__(
        self, config: ServeConfig, embedding: EmbeddingModel | None, reranking: RerankModel | None
    ) -> None:
        self.config = config
        self.embedding = embedding
        self.reranking = reranking
        self.metrics = Metrics(config.max_queue)
        self.started = int(time.time())
        self._keys = tuple(k.encode() for k in config.api_keys)
        self._done: collections.deque[tuple[float, int]] = collections.deque()

    # -- checks ------------------------------------------------------------------------------
    def authorize(self, headers: Any) -> None:
        if not self._keys:
            return
        scheme, _, token = str(headers.get("authorization", "")).partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ServeError(
                401,
                "Missing API key: send the header 'Authorization: Bearer <key>'.",
                "AUTH_INVALID_API_KEY",
                headers={"WWW-Authenticate": "Bearer"},
            )
        given = token.strip().encode()
        ok = False
        for key in self._keys:  # every key is compared: the time does not say which one matched
            ok |= hmac.compare_digest(given, key)
        if not ok:
            raise ServeError(
                401, "Invalid API key.", "AUTH_INVALID_API_KEY", headers={"WWW-Authenticate": "Bearer"}
            )

    async def read_json(self, request: Any) -> Any:
        limit = self.config.max_body_bytes
        too_large = ServeError(
            413,
            f"request body is larger than this server's limit of {limit} bytes; send fewer or "
            "shorter inputs per request.",
            "PAYLOAD_TOO_LARGE",
        )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        raw = b"".join(chunks)
        try:
            if len(raw) > _THREAD_JSON_BYTES:
                return await anyio.to_thread.run_sync(json.loads, raw)
            return json.loads(raw)
        except ValueError:
            raise ServeError(400, "request body is not valid JSON.", "INPUT_INVALID_JSON") from None

    def _retry_ms(self, excess: int) -> int:
        """How long until ``excess`` inputs have likely been served, from the recent pace."""
        now = time.monotonic()
        while self._done and self._done[0][0] < now - _RATE_WINDOW:
            self._done.popleft()
        served = sum(n for _, n in self._done)
        if served == 0:
            return 100
        return max(10, min(5000, math.ceil(1000 * excess * _RATE_WINDOW / served)))

    @contextlib.asynccontextmanager
    async def admit(self, route: str, count: int) -> AsyncIterator[None]:
        """Hold ``count`` places in the queue of admitted inputs, or answer 429."""
        m = self.metrics
        if m.queue_depth + count > self.config.max_queue:
            wait = self._retry_ms(m.queue_depth + count - self.config.max_queue)
            raise ServeError(
                429,
                f"server busy: {m.queue_depth} inputs in progress, room for {self.config.max_queue}; "
                f"retry in {wait} ms (Retry-After).",
                "SERVER_BUSY",
                headers={"Retry-After": str(max(1, math.ceil(wait / 1000))), "retry-after-ms": str(wait)},
            )
        m.queue_depth += count
        m.admitted(route, count)
        try:
            yield
        finally:
            m.queue_depth -= count
            self._done.append((time.monotonic(), count))

    # -- one request -----------------------------------------------------------------------------
    async def handle(
        self,
        request: Any,
        route: str,
        work: Callable[[Any], Awaitable[tuple[int, dict[str, Any]]]],
        *,
        body: bool = True,
    ) -> Any:
        responses = require("starlette.responses", extra="serve", purpose="jina-embeddings serve")
        rid = uuid.uuid4().hex
        started = time.monotonic()
        self.metrics.in_flight += 1
        headers = {"x-request-id": rid}
        try:
            self.authorize(request.headers)
            status, payload = await work(await self.read_json(request) if body else None)
        except ServeError as err:
            status, payload = err.status, {"detail": err.detail, "code": err.code, "request_id": rid}
            headers.update(err.headers)
        except Exception:
            logger.exception("request %s on %s failed", rid, route)
            status = 500
            payload = {
                "detail": f"internal server error; the server log has the details (request_id {rid}).",
                "code": "INTERNAL_ERROR",
                "request_id": rid,
            }
        finally:
            self.metrics.in_flight -= 1
        try:
            content = await self.dump(payload)
        except ValueError:  # a non-finite value: never sent as invalid JSON
            logger.error("request %s on %s: the model returned non-finite values", rid, route)
            status = 500
            content = _dumps(
                {
                    "detail": f"the model returned non-finite values (request_id {rid}).",
                    "code": "INTERNAL_ERROR",
                    "request_id": rid,
                }
            )
        self.metrics.answered(route, status, time.monotonic() - started)
        return responses.Response(content, status_code=status, media_type="application/json", headers=headers)

    @staticmethod
    async def dump(payload: dict[str, Any]) -> bytes:
        data = payload.get("data") or payload.get("results") or ()
        if len(data) > _THREAD_ROWS:  # many rows: encode off the loop
            return await anyio.to_thread.run_sync(_dumps, payload)
        return _dumps(payload)

    # -- routes ----------------------------------------------------------------------------------
    async def embeddings(self, request: Any) -> Any:
        async def work(body: Any) -> tuple[int, dict[str, Any]]:
            if self.embedding is None:
                raise ServeError(404, "this server serves a reranker only: use /v1/rerank.", "NOT_FOUND")
            call = parse_embed(body, max_items=self.config.max_inputs_per_request)
            self.embedding.select(call)  # an unknown model or task is refused before queueing
            async with self.admit("embeddings", len(call.texts)):
                return 200, await self.embedding.embed(call)

        return await self.handle(request, "embeddings", work)

    async def rerank(self, request: Any) -> Any:
        async def work(body: Any) -> tuple[int, dict[str, Any]]:
            if self.reranking is None:
                raise ServeError(
                    404, "this server serves no reranker (start it with --reranker).", "NOT_FOUND"
                )
            call = parse_rerank(body, max_items=self.config.max_inputs_per_request)
            async with self.admit("rerank", len(call.documents)):
                return 200, await self.reranking.rerank(call)

        return await self.handle(request, "rerank", work)

    async def models(self, request: Any) -> Any:
        async def work(_: Any) -> tuple[int, dict[str, Any]]:
            return 200, {"object": "list", "data": self.model_cards()}

        return await self.handle(request, "models", work, body=False)

    def model_cards(self) -> list[dict[str, Any]]:
        cards = []
        if self.embedding is not None:
            spec = self.embedding.spec
            cards.append(
                {
                    "id": self.embedding.name,
                    "object": "model",
                    "created": self.started,
                    "owned_by": "jina-embeddings",
                    "kind": "embedding",
                    "tasks": list(self.embedding.api_tasks),
                    "dimensions": spec.native_dim,
                    "matryoshka_dims": list(spec.matryoshka_dims or ()),
                    "max_tokens": spec.max_tokens,
                }
            )
        if self.reranking is not None:
            cards.append(
                {
                    "id": self.reranking.name,
                    "object": "model",
                    "created": self.started,
                    "owned_by": "jina-embeddings",
                    "kind": "reranker",
                }
            )
        return cards

    async def health(self, request: Any) -> Any:
        responses = require("starlette.responses", extra="serve", purpose="jina-embeddings serve")
        body = {
            "status": "ok",
            "models": [c["id"] for c in self.model_cards()],
            "queue_depth": self.metrics.queue_depth,
            "queue_capacity": self.config.max_queue,
        }
        return responses.JSONResponse(body)

    async def metrics_text(self, request: Any) -> Any:
        responses = require("starlette.responses", extra="serve", purpose="jina-embeddings serve")
        try:
            self.authorize(request.headers)
        except ServeError as err:
            body = {"detail": err.detail, "code": err.code, "request_id": uuid.uuid4().hex}
            return responses.JSONResponse(body, status_code=err.status, headers=err.headers)
        return responses.PlainTextResponse(
            self.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    async def not_found(self, request: Any, exc: Exception) -> Any:
        responses = require("starlette.responses", extra="serve", purpose="jina-embeddings serve")
        status = getattr(exc, "status_code", 404)
        detail = "no such route; see GET /v1/models" if status == 404 else str(getattr(exc, "detail", exc))
        code = "NOT_FOUND" if status == 404 else "METHOD_NOT_ALLOWED" if status == 405 else "ERROR"
        return responses.JSONResponse(
            {"detail": detail, "code": code, "request_id": uuid.uuid4().hex}, status_code=status
        )


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def create_app(
    config: ServeConfig,
    embedding: EmbeddingModel | None,
    reranking: RerankModel | None,
    *,
    on_ready: Callable[[], None] | None = None,
) -> Any:
    """The ASGI app (Starlette) serving ``embedding`` and/or ``reranking``.

    At startup (the ASGI lifespan) every task's adapter is loaded in a worker thread, then
    ``on_ready`` is called; a model that cannot load stops the server before it listens.
    """
    require("starlette", extra="serve", purpose="jina-embeddings serve")
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.routing import Route

    service = _Service(config, embedding, reranking)
    if embedding is not None:
        service.metrics.passes = embedding.forward_passes

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        # Requests wait for the model in worker threads (the local backend's aembed): allow
        # enough of them that a full batch can gather.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, 2 * config.max_batch_size)
        for model in (embedding, reranking):
            if model is not None:
                await anyio.to_thread.run_sync(model.warm_up)
        if on_ready is not None:
            on_ready()
        yield

    routes = [
        Route("/v1/embeddings", service.embeddings, methods=["POST"]),
        Route("/v1/rerank", service.rerank, methods=["POST"]),
        Route("/v1/models", service.models, methods=["GET"]),
        Route("/health", service.health, methods=["GET"]),
        Route("/metrics", service.metrics_text, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: service.not_found})
    app.state.service = service
    return app
