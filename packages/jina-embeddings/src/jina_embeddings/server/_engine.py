"""The models behind ``serve``: one loaded embedding model with all its tasks, and a reranker.

Nothing here batches, maps tasks or post-processes on its own: a request's Jina API
``task`` goes back to (task, role) through the registry's table
(:func:`~jina_embeddings._tasks.from_api_task`), and is embedded by the core's own
:class:`~jina_embeddings.Embedder` with ``backend="local"``. There is one ``Embedder`` per
(task, dimensions, normalized, precision, truncate) seen, and they all share ONE loaded
copy of the weights with all its LoRA adapters and one lock (the local backend caches models
per process), so requests for different tasks are different adapters of the same model.
Concurrent requests are gathered into shared forward passes by the local backend itself
(its request coalescing: ``batch_size`` texts at most, waiting ``coalesce_wait_ms``), in
worker threads: the event loop never runs the model.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from .._embedder import Embedder
from .._models import ModelSpec, get_spec
from .._options import option_specs
from .._quantize import BIT_PRECISIONS, quantize
from .._reranker import Reranker
from .._tasks import Role, from_api_task, resolve
from ..errors import InvalidInputError, ModelNotFoundError
from ._config import ServeConfig
from ._protocol import EmbedCall, RerankCall, ServeError, embeddings_body, rerank_body

__all__ = ["EmbeddingModel", "RerankModel", "core_error", "load_models"]

logger = logging.getLogger("jina_embeddings.server")
_MAX_EMBEDDERS = 512  # distinct (task, dimensions, normalized, precision, truncate) combinations


def core_error(exc: InvalidInputError) -> ServeError:
    """The core's validation error as an HTTP answer: 400 for a bad input item, 422 for a field.

    A model file that fails to load at request time (a damaged adapter) is the server's
    fault, not the caller's: 500.
    """
    if isinstance(exc, ModelNotFoundError):
        return ServeError(500, f"the server could not load its model: {exc}", "INTERNAL_ERROR")
    if exc.index is not None:
        return ServeError(400, str(exc), "INPUT_INVALID")
    return ServeError(422, f"{exc.field}: {exc}" if exc.field else str(exc), "VALIDATION_ERROR")


def _short(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:80] + "...")


def _local_options(config: ServeConfig, kind: str) -> dict[str, Any]:
    """Local-backend options shared by every object of this server (device, dtype, batching)."""
    names = {o.name for o in option_specs("embedding" if kind == "embedding" else "reranker")}
    options: dict[str, Any] = {"batch_size": config.max_batch_size}
    if config.device is not None:
        options["device"] = config.device
    if config.dtype is not None:
        options["dtype"] = config.dtype
    if "coalesce" in names:  # the local backend's request coalescing (dynamic batching)
        options["coalesce"] = config.batching
    if "coalesce_wait_ms" in names and config.batching:
        options["coalesce_wait_ms"] = float(config.max_wait_ms)
    return options


class EmbeddingModel:
    """One embedding model served under ``name`` with every task it has."""

    def __init__(self, config: ServeConfig, spec: ModelSpec) -> None:
        self.config = config
        self.spec = spec
        self.name = config.served_model_name or spec.name
        self.names = frozenset({self.name, spec.name})
        self._options = _local_options(config, "embedding")
        self._embedders: dict[tuple[Any, ...], Embedder] = {}
        self._lock = threading.Lock()
        self._calls = 0
        self.coalescing = bool(self._options.get("coalesce"))
        self.api_tasks = self._api_tasks()

    def forward_passes(self) -> int:
        """Forward passes so far: the local backend's coalesced passes (one per request without)."""
        if not self.coalescing:
            return self._calls
        with self._lock:
            backends = [e._backend for e in self._embedders.values()]
        models = {id(m): m for b in backends for m in getattr(b, "_models", {}).values()}
        return sum(getattr(getattr(m, "_coalescer", None), "passes", 0) for m in models.values())

    def _api_tasks(self) -> tuple[str, ...]:
        found: list[str] = []
        for task in self.spec.tasks or (None,):
            for role in (Role.DOCUMENT, Role.QUERY):
                api = resolve(self.spec, task, role).api_task
                if api is not None and api not in found:
                    found.append(api)
        return tuple(found)

    # -- which (task, role) --------------------------------------------------------------
    def _task_in_model(self, model: str | None) -> str | None:
        """The API task carried by ``model`` (``name:task`` or a bare task), else ``None``."""
        if model is None or model in self.names:
            return None
        base, sep, task = model.rpartition(":")
        if sep and base in self.names and task:
            return task
        if model in self.api_tasks:
            return model
        raise ServeError(
            404,
            f"model {_short(model)} is not served here; send {self.name!r}, "
            f"'{self.name}:<task>' or a task ({', '.join(self.api_tasks) or 'none'}).",
            "NOT_FOUND",
        )

    def select(self, call: EmbedCall) -> tuple[str | None, Role]:
        """(task, role) for ``call`` from its ``task`` field, its ``model`` or ``input_type``.

        Raises:
            ServeError: an unknown model or task, or two fields that disagree.
        """
        in_model = self._task_in_model(call.model)
        if in_model is not None and call.api_task is not None and in_model != call.api_task:
            raise ServeError(
                422,
                f"task: the body says {_short(call.api_task)} but the model names {_short(in_model)}.",
                "VALIDATION_ERROR",
            )
        api_task = call.api_task or in_model
        try:
            task, role = from_api_task(self.spec, api_task)
        except InvalidInputError as exc:
            raise core_error(exc) from None
        if call.role is not None:
            wanted = Role(call.role)
            if (
                api_task is not None
                and wanted is not role
                and api_task != resolve(self.spec, task, wanted).api_task
            ):
                raise ServeError(
                    422,
                    f"input_type: {call.role!r} contradicts task {_short(api_task)}.",
                    "VALIDATION_ERROR",
                )
            role = wanted
        return task, role

    # -- the core's objects ----------------------------------------------------------------
    def embedder(
        self, task: str | None, *, dimensions: int | None, normalize: bool, precision: str, truncate: bool
    ) -> Embedder:
        """The (cached) local ``Embedder`` for these settings; all share one loaded model.

        Raises:
            InvalidInputError: settings the model refuses (e.g. a size that is not one of its
                Matryoshka sizes).
        """
        key = (task, dimensions, normalize, precision, truncate)
        with self._lock:
            found = self._embedders.get(key)
        if found is not None:
            return found
        emb = Embedder(
            self.spec.path or self.spec.name,
            backend="local",
            task=task,
            dimensions=dimensions,
            normalize=normalize,
            precision=precision,  # type: ignore[arg-type]
            truncate=truncate,
            **self._options,
        )
        with self._lock:
            if len(self._embedders) >= _MAX_EMBEDDERS:
                self._embedders.pop(next(iter(self._embedders)))
            return self._embedders.setdefault(key, emb)

    def warm_up(self) -> None:
        """Load the weights and attach every task's adapter now (at startup, in a thread)."""
        for task in self.spec.tasks or (None,):
            self.embedder(task, dimensions=None, normalize=True, precision="float32", truncate=True).warm_up()

    async def embed(self, call: EmbedCall) -> dict[str, Any]:
        """Embed ``call`` and build its response body (see :mod:`._protocol`).

        Raises:
            ServeError: anything the caller sent wrong (the core's message).
        """
        task, role = self.select(call)
        bits = [t for t in call.embedding_types if t in BIT_PRECISIONS]
        single_bits = len(call.embedding_types) == 1 and bits
        precision = bits[0] if single_bits else "float32"
        try:
            emb = self.embedder(
                task,
                dimensions=call.dimensions,
                normalize=call.normalized,
                precision=precision,
                truncate=call.truncate,
            )
            self._calls += 1
            result = await emb.aembed(call.texts, role=role)
        except InvalidInputError as exc:
            raise core_error(exc) from None
        rows: dict[str, np.ndarray] = {}
        for etype in call.embedding_types:
            if single_bits or etype not in BIT_PRECISIONS:
                rows[etype] = result.vectors
            else:  # several types asked at once: the core's quantizer on the finished floats
                rows[etype] = quantize(result.vectors, etype)
        return embeddings_body(
            self.name, rows, several_types=call.several_types, tokens=result.usage.total_tokens
        )


class RerankModel:
    """One reranker served under ``name`` (the core's local ``Reranker``)."""

    def __init__(self, config: ServeConfig, spec: ModelSpec, served_name: str | None) -> None:
        self.spec = spec
        self.name = served_name or spec.name
        self.names = frozenset({self.name, spec.name})
        options = _local_options(config, "reranker")
        options = {k: v for k, v in options.items() if not k.startswith("coalesce")}
        self.reranker = Reranker(spec.path or spec.name, backend="local", **options)

    def warm_up(self) -> None:
        self.reranker.warm_up()

    async def rerank(self, call: RerankCall) -> dict[str, Any]:
        if call.model is not None and call.model not in self.names:
            raise ServeError(
                404, f"reranker {_short(call.model)} is not served here; send {self.name!r}.", "NOT_FOUND"
            )
        try:
            result = await self.reranker.arerank(call.query, call.documents, top_n=call.top_n)
        except InvalidInputError as exc:
            raise core_error(exc) from None
        return rerank_body(
            self.name,
            result.results,
            return_documents=call.return_documents,
            tokens=result.usage.total_tokens,
        )


def load_models(config: ServeConfig) -> tuple[EmbeddingModel | None, RerankModel | None]:
    """Resolve what ``config`` serves (no weights are loaded here; see ``warm_up``).

    Raises:
        InvalidInputError: a model that is not found, or two rerankers.
    """
    spec = get_spec(config.model)
    if spec.kind == "multivector":
        raise InvalidInputError(
            f"serve does not serve multi-vector models ({spec.name!r}) yet.", field="model"
        )
    rerank_spec = get_spec(config.reranker, kind="reranker") if config.reranker else None
    if spec.kind == "reranker":
        if rerank_spec is not None:
            raise InvalidInputError(
                "model is already a reranker; pass an embedding model with reranker=.", field="reranker"
            )
        return None, RerankModel(config, spec, config.served_model_name)
    embedding = EmbeddingModel(config, spec)
    reranking = RerankModel(config, rerank_spec, config.served_reranker_name) if rerank_spec else None
    return embedding, reranking
