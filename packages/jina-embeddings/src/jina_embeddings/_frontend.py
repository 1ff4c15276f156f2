"""What ``Embedder`` and ``Reranker`` share: options, backend choice, key, lifecycle, repr, pickling.

Backend choice (``backend=None``) is predictable and shown in ``repr`` and one INFO line:

1. ``base_url`` given -> ``"api"`` (a Jina-API-compatible server; use ``backend="openai"``
   for an OpenAI-compatible ``/v1/embeddings`` server);
2. an API key given or found in ``JINA_API_KEY`` / ``JINAAI_API_KEY`` -> ``"api"``;
3. otherwise -> ``"local"``.

Everything that depends on the backend reads its row in :mod:`jina_embeddings._backends.table`.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import threading
import warnings
import weakref
from collections.abc import Mapping
from typing import Any, ClassVar

from ._apikey import APIKey, KeyRef, resolve_api_key
from ._backends.table import BackendConfig, BackendRow, backend_row
from ._models import ModelSpec, get_spec, remote_spec
from ._options import Kind, LocalOptions, RemoteOptions, option_specs, split_options
from .errors import InvalidInputError, ModelNotFoundError

__all__ = ["Frontend", "RemoteBackendWarning", "choose_backend", "logger", "signature_with_options"]

logger = logging.getLogger("jina_embeddings")


def choose_backend(backend: str | None, *, api_key: APIKey | None, remote: RemoteOptions) -> tuple[str, str]:
    """Return (backend name, why) following the rule in the module docstring."""
    if backend is not None:
        return backend_row(backend).name, "explicit"
    if remote.base_url is not None:
        return "api", "auto: base_url given"
    if api_key is not None:
        if api_key.source.startswith("env:"):
            _warn_env_key_once(api_key.source[4:])
        return "api", f"auto: API key from {api_key.source}"
    return "local", "auto: no API key and no base_url"


class RemoteBackendWarning(UserWarning):
    """``backend=None`` chose the Jina API because an API key is set in the environment."""


_env_key_warned = False


def _warn_env_key_once(variable: str) -> None:
    """Say once per process that texts will leave the machine because of an environment variable."""
    global _env_key_warned
    if _env_key_warned:
        return
    _env_key_warned = True
    warnings.warn(
        f"backend=None chose 'api' because {variable} is set: texts are sent to the Jina API (or "
        "base_url). Pass backend='local' to keep them on this machine, or backend='api' to say "
        "that this is what you want (and silence this warning). Shown once per process.",
        RemoteBackendWarning,
        stacklevel=5,
    )


def signature_with_options(init: Any, kind: Kind) -> inspect.Signature:
    """``init``'s signature with ``**options`` spelled out from the option table.

    ``help(Embedder)``, IDEs and ``inspect.signature`` then show every keyword with its
    default, although the option list is declared only once (in :mod:`._options`).
    """
    sig = inspect.signature(init)
    params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params += [
        inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=o.default, annotation=o.annotation)
        for o in option_specs(kind)
    ]
    return sig.replace(parameters=params)


def _changed(options: Any) -> list[str]:
    defaults = type(options)()
    return [name for name, value in vars(options).items() if getattr(defaults, name) != value]


class Frontend:
    """Common machinery of the public objects.

    Subclasses set ``_kind`` (which options they take and which backend class serves them)
    and ``_options_class`` (their own option object, stored as ``self.options``).
    """

    _kind: ClassVar[Kind]
    _options_class: ClassVar[type]

    def __init__(
        self,
        model: Any,
        *,
        backend: str | None,
        api_key: Any,
        options: Mapping[str, Any],
        transport: Any = None,
        async_transport: Any = None,
    ) -> None:
        groups = split_options(self._kind, options)
        own = self._options_class(**groups.get("embed", groups.get("rerank", {})))
        self.local_options = LocalOptions(**groups["local"])
        self.remote_options = RemoteOptions(**groups["remote"])
        self._api_key = KeyRef(resolve_api_key(api_key))
        self.backend_name, self._backend_reason = choose_backend(
            backend, api_key=self._api_key.key, remote=self.remote_options
        )
        self._row: BackendRow = backend_row(self.backend_name)
        self.spec: ModelSpec = self._resolve_spec(model)
        self._check_backend_options()
        self.options: Any = self._check_own_options(own)
        self._transports = (transport, async_transport)
        self._lock = threading.Lock()
        self._backend: Any = self._make_backend()

    # -- construction -------------------------------------------------------------------
    def _resolve_spec(self, model: Any) -> ModelSpec:
        """The registry's spec; on a remote backend an unknown name is sent as given (warned once)."""
        try:
            return get_spec(model, kind=self._kind)
        except ModelNotFoundError:
            if self._row.options != "remote" or not isinstance(model, str) or "/" in model:
                raise
            return remote_spec(model, kind=self._kind)

    def _check_own_options(self, options: Any) -> Any:
        """Check this object's own options against the model and backend (subclasses)."""
        return options

    def _check_backend_options(self) -> None:
        row, name = self._row, self.backend_name
        if row.options == "local" and not self.spec.local_supported:
            raise InvalidInputError(
                f"Model {self.spec.name!r} cannot run locally yet; use backend='api'.", field="backend"
            )
        for family, options in (("remote", self.remote_options), ("local", self.local_options)):
            changed = _changed(options) if row.options != family else []
            if changed:
                where = "remote backends ('api', 'openai')" if family == "remote" else "backend='local'"
                verb = "applies" if len(changed) == 1 else "apply"
                raise InvalidInputError(
                    f"{', '.join(changed)} only {verb} to {where}, not backend={name!r}.", field=changed[0]
                )
        if row.needs_base_url and self.remote_options.base_url is None:
            raise InvalidInputError(
                f"backend={name!r} needs base_url= (e.g. 'http://localhost:8000/v1').", field="base_url"
            )

    def _make_backend(self) -> Any:
        backend = self._new_backend()
        # Dropping the object without close() releases its connections (no "unclosed socket"
        # ResourceWarning); close() runs the same finalizer once, explicitly.
        self._finalizer = weakref.finalize(self, _close_quietly, backend)
        return backend

    def _new_backend(self, kind: str | None = None) -> Any:
        """The backend serving ``kind`` (default: this object's kind) for this object's settings."""
        cls = self._row.backend_class(kind or self._kind)
        transport, async_transport = self._transports
        return cls(
            BackendConfig(
                spec=self.spec,
                local=self.local_options,
                remote=self.remote_options,
                api_key=self._api_key.key,
                protocol=self.backend_name,
                rerank=self.options if self._kind == "reranker" else None,
                transport=transport,
                async_transport=async_transport,
            )
        )

    def _describe(self) -> dict[str, Any]:
        described = getattr(type(self._backend), "describe", None)  # local: runtime and dtype
        extra = described(self._backend) if described else {}
        return {"model": self.spec.name, "backend": self.backend_name, **extra}

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
        """Release HTTP connections (remote). Local models stay cached for other users.

        Also done when the object is garbage-collected; ``with Embedder(...) as emb:`` closes
        at the end of the block."""
        self._finalizer.detach()
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

    # -- pickling: settings travel; live resources are rebuilt; the key follows KeyRef's rule --
    _TRANSIENT = ("_backend", "_lock", "_transports", "_finalizer")

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in self._TRANSIENT}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._transports = (None, None)
        try:
            self._backend = self._make_backend()
        except InvalidInputError as exc:  # e.g. the hosted API, its key given as an argument
            self._backend = _UnusableBackend(type(self).__name__, exc)
            self._finalizer = weakref.finalize(self, _close_quietly, self._backend)


def _close_quietly(backend: Any) -> None:
    """Finalizer: close ``backend``'s sync connections; nothing to report at garbage collection."""
    with contextlib.suppress(Exception):  # a finalizer must not raise (interpreter shutdown)
        backend.close()


class _UnusableBackend:
    """Stands in for a backend that could not be rebuilt after unpickling; using it says why.

    Unpickling itself succeeds (a framework may pickle objects it never calls); the first call
    raises, naming the cause, e.g. an API key that was passed as an argument and, by design,
    never travels in a pickle.
    """

    name = "unavailable"

    def __init__(self, owner: str, error: InvalidInputError) -> None:
        self._message = (
            f"This {owner} was unpickled but its backend could not be rebuilt: {error} "
            "(API keys given as api_key= are never pickled; set JINA_API_KEY or "
            "build a new object.)"
        )
        self._field = error.field

    def close(self) -> None:
        """Nothing was opened."""

    async def aclose(self) -> None:
        """Nothing was opened."""

    def __getattr__(self, name: str) -> Any:
        def unusable(*args: Any, **kwargs: Any) -> Any:
            raise InvalidInputError(self._message, field=self._field)

        return unusable
