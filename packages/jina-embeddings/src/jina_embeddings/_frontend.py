"""What ``Embedder`` and ``Reranker`` share: backend choice, key, lifecycle, repr, pickling.

Backend choice (``backend=None``) is predictable and shown in ``repr`` and one INFO line:

1. ``base_url`` given -> ``"api"`` (a Jina-API-compatible server; use ``backend="openai"``
   for an OpenAI-compatible ``/v1/embeddings`` server);
2. an API key given or found in ``JINA_API_KEY`` / ``JINAAI_API_KEY`` -> ``"api"``;
3. otherwise -> ``"local"``.
"""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Any, ClassVar

from ._apikey import APIKey, resolve_api_key
from .errors import InvalidInputError
from ._models import ModelSpec, get_spec
from ._options import BACKENDS, LocalOptions, RemoteOptions

__all__ = ["BaseClient", "logger"]

logger = logging.getLogger("jina_embeddings")

# (kind, backend) -> "module:Class"; modules are imported only when that backend is used.
_BACKEND_CLASSES = {
    ("embedding", "local"): "jina_embeddings._backends.local:LocalBackend",
    ("embedding", "fake"): "jina_embeddings._backends.fake:FakeBackend",
    ("embedding", "api"): "jina_embeddings._backends.jina_api:JinaAPIBackend",
    ("embedding", "openai"): "jina_embeddings._backends.openai_compat:OpenAICompatBackend",
    ("reranker", "local"): "jina_embeddings._backends.local_rerank:LocalRerankBackend",
    ("reranker", "fake"): "jina_embeddings._backends.fake:FakeRerankBackend",
    ("reranker", "api"): "jina_embeddings._backends.jina_api:JinaAPIRerankBackend",
    # vLLM, TEI and Infinity serve a Jina-compatible /rerank next to /v1/embeddings.
    ("reranker", "openai"): "jina_embeddings._backends.jina_api:JinaAPIRerankBackend",
}


def choose_backend(backend: str | None, *, api_key: APIKey | None, remote: RemoteOptions) -> tuple[str, str]:
    """Return (backend name, why) following the rule in the module docstring."""
    if backend is not None:
        if backend not in BACKENDS:
            raise InvalidInputError(f"Unknown backend {backend!r}; use one of {', '.join(BACKENDS)}.",
                                    field="backend")
        return backend, "explicit"
    if remote.base_url is not None:
        return "api", "auto: base_url given"
    if api_key is not None:
        return "api", f"auto: API key from {api_key.source}"
    return "local", "auto: no API key and no base_url"


class BaseClient:
    """Common machinery; subclasses set ``_kind`` and build their own option objects."""

    _kind: ClassVar[str]

    def __init__(self, model: Any, *, backend: str | None, local: LocalOptions,
                 remote: RemoteOptions, api_key: Any) -> None:
        self.spec: ModelSpec = get_spec(model, kind=self._kind)  # type: ignore[arg-type]
        self._api_key = resolve_api_key(api_key)
        self.backend_name, self._backend_reason = choose_backend(backend, api_key=self._api_key,
                                                                 remote=remote)
        self.local_options = local
        self.remote_options = remote
        self._check_backend_options()
        self._backend: Any = self._make_backend()

    # -- construction -------------------------------------------------------------------
    def _check_backend_options(self) -> None:
        name = self.backend_name
        if name == "local" and not self.spec.local_supported:
            raise InvalidInputError(
                f"Model {self.spec.name!r} cannot run locally yet; use backend='api'.", field="backend")
        if name in ("local", "fake") and self.remote_options != RemoteOptions():
            changed = [k for k, v in vars(self.remote_options).items() if getattr(RemoteOptions(), k) != v]
            raise InvalidInputError(f"{', '.join(changed)} only apply to remote backends "
                                    f"('api', 'openai'), not backend={name!r}.", field=changed[0])
        if name in ("api", "openai", "fake") and self.local_options != LocalOptions():
            changed = [k for k, v in vars(self.local_options).items() if getattr(LocalOptions(), k) != v]
            raise InvalidInputError(f"{', '.join(changed)} only apply to backend='local', "
                                    f"not backend={name!r}.", field=changed[0])
        if name == "openai" and self.remote_options.base_url is None:
            raise InvalidInputError("backend='openai' needs base_url= (e.g. 'http://localhost:8000/v1').",
                                    field="base_url")

    def _make_backend(self) -> Any:
        module_name, _, cls_name = _BACKEND_CLASSES[(self._kind, self.backend_name)].partition(":")
        cls = getattr(importlib.import_module(module_name), cls_name)
        if self.backend_name == "local":
            return cls(self.spec, self.local_options, **self._local_backend_kwargs())
        if self.backend_name == "fake":
            return cls(self.spec)
        # Rerank backends split long document lists into requests of RerankOptions.batch_size.
        extra = {"batch_size": self.options.batch_size} if self._kind == "reranker" else {}
        return cls(self.spec, self.remote_options, self._api_key, protocol=self.backend_name, **extra)

    def _local_backend_kwargs(self) -> dict[str, Any]:
        """Extra constructor arguments for the local backend (subclasses add theirs)."""
        return {}

    def _describe(self) -> dict[str, Any]:
        return {"model": self.spec.name, "backend": self.backend_name}

    def _log_created(self) -> None:
        fields = " ".join(f"{k}={v}" for k, v in self._describe().items() if v is not None)
        logger.info("%s created: %s (%s)", type(self).__name__, fields, self._backend_reason)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._describe().items())
        return f"{type(self).__name__}({fields})"

    # -- lifecycle ----------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the model (local) or open the connection pool (remote) now, not on first use."""
        self._backend.warm_up()

    def close(self) -> None:
        """Release HTTP connections (remote). Local models stay cached for other users."""
        self._backend.close()

    async def aclose(self) -> None:
        await self._backend.aclose()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- pickling: settings travel, the key and live resources do not -------------------
    _TRANSIENT = ("_backend", "_api_key", "_lock")  # rebuilt on unpickling

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in self._TRANSIENT}
        state["_api_key_source"] = self._api_key.source if self._api_key else None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        source = state.pop("_api_key_source", None)
        self.__dict__.update(state)
        self._lock = threading.Lock()
        # A key from the environment is read again; a key passed as an argument stays behind.
        self._api_key = resolve_api_key(None) if source and source.startswith("env:") else None
        try:
            self._backend = self._make_backend()
        except InvalidInputError as exc:  # e.g. the hosted API, its key given as an argument
            self._backend = _UnusableBackend(type(self).__name__, exc)


class _UnusableBackend:
    """Stands in for a backend that could not be rebuilt after unpickling; using it says why.

    Unpickling itself succeeds (a framework may pickle objects it never calls); the first call
    raises, naming the cause, e.g. an API key that was passed as an argument and, by design,
    never travels in a pickle.
    """

    name = "unavailable"

    def __init__(self, owner: str, error: InvalidInputError) -> None:
        self._message = (f"This {owner} was unpickled but its backend could not be rebuilt: {error} "
                         "(API keys given as api_key= are never pickled; set JINA_API_KEY or "
                         "build a new object.)")
        self._field = error.field

    def close(self) -> None:
        """Nothing was opened."""

    async def aclose(self) -> None:
        """Nothing was opened."""

    def __getattr__(self, name: str) -> Any:
        def unusable(*args: Any, **kwargs: Any) -> Any:
            raise InvalidInputError(self._message, field=self._field)

        return unusable
