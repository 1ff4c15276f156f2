"""``ServeConfig``: every setting of ``jina-embeddings serve``, validated when it is built.

A bad value fails here with :class:`~jina_embeddings.errors.InvalidInputError` naming the
setting, before any model is loaded or any socket is opened. The CLI flags are these fields
spelled with dashes (``--max-batch-size`` is ``max_batch_size``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from .._options import MAX_BATCH_SIZE, check_positive_int, check_positive_number
from ..errors import InvalidInputError

__all__ = ["API_KEYS_ENV", "ServeConfig", "keys_from_env"]

#: Comma-separated bearer keys the server accepts; unset or empty: no authentication.
API_KEYS_ENV = "JINA_SERVE_API_KEYS"


def keys_from_env(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The keys in ``JINA_SERVE_API_KEYS`` (comma-separated, blanks ignored)."""
    raw = (os.environ if environ is None else environ).get(API_KEYS_ENV, "")
    return tuple(k.strip() for k in raw.split(",") if k.strip())


@dataclass(frozen=True, kw_only=True)
class ServeConfig:
    """What one ``serve`` process serves and how.

    Attributes:
        model: the embedding model (registry name, Hugging Face repo id or folder), loaded
            once with all its task adapters; or a reranker, then only ``/v1/rerank`` is served.
        reranker: an optional reranker served next to ``model`` on ``/v1/rerank``.
        served_model_name: the name clients send as ``model`` (default: the model's name);
            ``served_reranker_name`` the same for the reranker.
        host, port: where to listen (``port=0``: any free port, printed at startup).
        device, dtype: local backend settings (default: cuda > mps > cpu; the core's dtype).
        max_batch_size: texts per forward pass (the core's ``batch_size``).
        max_wait_ms: how long a forward pass that is not full waits for concurrent requests
            to join it (the core's ``coalesce_wait_ms``, 0..1000). ``0``: natural batching, an
            idle model starts at once and requests arriving meanwhile join the next pass.
        batching: ``False`` turns request coalescing off (one forward pass per request).
        max_queue: inputs admitted at once (queued or computing); a request that would go
            over it gets 429 with ``Retry-After``.
        max_inputs_per_request: inputs (texts, or rerank documents) in one request.
        max_body_bytes: size of one request body (413 above it).
        api_keys: bearer keys accepted (default: ``JINA_SERVE_API_KEYS``); empty: no auth.
            Never shown in ``repr``.
        log_level: uvicorn's log level.
    """

    model: str
    reranker: str | None = None
    served_model_name: str | None = None
    served_reranker_name: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    device: str | None = None
    dtype: Literal["float32", "float16", "bfloat16"] | None = None
    max_batch_size: int = 32
    max_wait_ms: float = 0.0
    batching: bool = True
    max_queue: int = 4096
    max_inputs_per_request: int = 2048
    max_body_bytes: int = 16 * 1024 * 1024
    api_keys: tuple[str, ...] = field(default_factory=keys_from_env, repr=False)
    log_level: str = "info"

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise InvalidInputError("model must be a registry name, repo id or folder.", field="model")
        for name in ("served_model_name", "served_reranker_name"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip() or ":" in value):
                raise InvalidInputError(
                    f"{name} must be a non-empty name without ':' (':' separates the task in "
                    "OpenAI-style requests).",
                    field=name,
                )
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise InvalidInputError(f"port must be an integer in 0..65535, got {self.port!r}.", field="port")
        check_positive_int("max_batch_size", self.max_batch_size, maximum=MAX_BATCH_SIZE, optional=False)
        if (
            isinstance(self.max_wait_ms, bool)
            or not isinstance(self.max_wait_ms, int | float)
            or not 0 <= self.max_wait_ms <= 1000
        ):
            raise InvalidInputError(
                f"max_wait_ms must be a number in 0..1000, got {self.max_wait_ms!r}.", field="max_wait_ms"
            )
        check_positive_int(
            "max_inputs_per_request", self.max_inputs_per_request, maximum=MAX_BATCH_SIZE, optional=False
        )
        check_positive_int("max_queue", self.max_queue, optional=False)
        if self.max_queue < self.max_inputs_per_request:
            raise InvalidInputError(
                f"max_queue ({self.max_queue}) must be at least max_inputs_per_request "
                f"({self.max_inputs_per_request}), or the largest request could never be admitted.",
                field="max_queue",
            )
        check_positive_number("max_body_bytes", self.max_body_bytes, optional=False)
        if not isinstance(self.api_keys, tuple) or not all(isinstance(k, str) and k for k in self.api_keys):
            raise InvalidInputError("api_keys must be a tuple of non-empty strings.", field="api_keys")
        if any(c.isspace() or c == "," for k in self.api_keys for c in k):
            raise InvalidInputError("an API key may not contain spaces or commas.", field="api_keys")
