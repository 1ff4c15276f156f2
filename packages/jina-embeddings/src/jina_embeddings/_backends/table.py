"""The backend table: one row per ``backend=`` name, read by everything that depends on it.

Adding a backend is adding a row (and its module): option checks, the constructor call,
default batch sizes, the CLI's choices and the adapters' documentation all read this table
instead of comparing backend names.

Example::

    >>> BACKENDS["openai"].needs_base_url
    True
    >>> sorted(name for name, row in BACKENDS.items() if "late_chunking" in row.capabilities)
    ['api', 'fake', 'local']
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .. import _constants as C
from ..errors import InvalidInputError

__all__ = ["BACKENDS", "BackendConfig", "BackendRow", "Capability", "backend_row", "default_batch_sizes"]

ServedKind = Literal["embedding", "reranker", "multivector"]
Capability = Literal[
    "images",  # embeds Image inputs
    "image_urls",  # takes image URLs as given (the server fetches them)
    "image_documents",  # reranks Image documents
    "multivector",
    "late_chunking",
    "server_quantization",
    "any_dimensions",
]


@dataclass(frozen=True)
class BackendConfig:
    """Everything a backend's constructor gets (one shape for every backend).

    Attributes:
        spec: the model.
        local: :class:`~jina_embeddings._options.LocalOptions` (used by local backends).
        remote: :class:`~jina_embeddings._options.RemoteOptions` (used by remote backends).
        api_key: the resolved key or ``None``.
        protocol: the backend name the caller chose (``"api"``, ``"openai"`` ...).
        rerank: :class:`~jina_embeddings._options.RerankOptions` for rerank backends, else ``None``.
        transport: an ``httpx`` transport (sync or async) replacing the network, for tests.
    """

    spec: Any
    local: Any
    remote: Any
    api_key: Any
    protocol: str
    rerank: Any = None
    transport: Any = None
    async_transport: Any = None


@dataclass(frozen=True)
class BackendRow:
    """One backend.

    Attributes:
        name: the ``backend=`` value.
        classes: ``"module:Class"`` per kind of model it serves (imported on first use).
        options: which option family applies (``"local"``, ``"remote"`` or ``None``); the
            other family must be left at its defaults.
        default_batch_size: texts per forward pass / per request when ``batch_size=None``.
        default_rerank_batch_size: (query, document) pairs per pass / documents per request.
        needs_base_url: ``base_url=`` is required.
        capabilities: what it can do beyond text in, one vector out, and how dimensions are
            checked (``any_dimensions``: 1..native for Matryoshka models, else the model's
            Matryoshka sizes).
    """

    name: str
    classes: Mapping[ServedKind, str]
    options: Literal["local", "remote"] | None
    default_batch_size: int
    default_rerank_batch_size: int
    needs_base_url: bool = False
    capabilities: frozenset[Capability] = frozenset()

    def backend_class(self, kind: str) -> type:
        """The class serving ``kind`` (imported now), or ``InvalidInputError`` if none does."""
        target = self.classes.get(kind)  # type: ignore[call-overload]
        if target is None:
            raise InvalidInputError(f"backend={self.name!r} does not serve {kind} models.", field="backend")
        module_name, _, cls_name = target.partition(":")
        return getattr(importlib.import_module(module_name), cls_name)


_PKG = "jina_embeddings._backends"
BACKENDS: Mapping[str, BackendRow] = {
    row.name: row
    for row in (
        BackendRow(
            "local",
            {
                "embedding": f"{_PKG}.local:LocalBackend",
                "reranker": f"{_PKG}.local_rerank:LocalRerankBackend",
                "multivector": f"{_PKG}.local_multivector:LocalMultiVectorBackend",
            },
            options="local",
            default_batch_size=C.DEFAULT_LOCAL_BATCH_SIZE,
            default_rerank_batch_size=C.DEFAULT_LOCAL_BATCH_SIZE,
            capabilities=frozenset({"images", "multivector", "late_chunking"}),
        ),
        BackendRow(
            "api",
            {
                "embedding": f"{_PKG}.jina_api:JinaAPIBackend",
                "reranker": f"{_PKG}.jina_api:JinaAPIRerankBackend",
                "multivector": f"{_PKG}.jina_api_multivector:JinaAPIMultiVectorBackend",
            },
            options="remote",
            default_batch_size=C.DEFAULT_API_BATCH_SIZE,
            default_rerank_batch_size=C.DEFAULT_RERANK_BATCH_SIZE,
            capabilities=frozenset(
                {
                    "late_chunking",
                    "server_quantization",
                    "any_dimensions",
                    "images",
                    "image_urls",
                    "image_documents",
                    "multivector",
                }
            ),
        ),
        # vLLM, TEI and Infinity serve a Jina-compatible /rerank next to /v1/embeddings.
        BackendRow(
            "openai",
            {
                "embedding": f"{_PKG}.openai_compat:OpenAICompatBackend",
                "reranker": f"{_PKG}.jina_api:JinaAPIRerankBackend",
            },
            options="remote",
            default_batch_size=C.DEFAULT_OPENAI_BATCH_SIZE,
            default_rerank_batch_size=C.DEFAULT_RERANK_BATCH_SIZE,
            needs_base_url=True,
        ),
        # fake does not batch; its batch size counts as local's.
        BackendRow(
            "fake",
            {"embedding": f"{_PKG}.fake:FakeBackend", "reranker": f"{_PKG}.fake:FakeRerankBackend"},
            options=None,
            default_batch_size=C.DEFAULT_LOCAL_BATCH_SIZE,
            default_rerank_batch_size=C.DEFAULT_LOCAL_BATCH_SIZE,
            # images hashed by their bytes; late chunking mixes in a document vector
            capabilities=frozenset({"images", "image_documents", "late_chunking"}),
        ),
    )
}


def backend_row(name: str) -> BackendRow:
    """The row for ``backend=name``, or ``InvalidInputError`` listing the valid names."""
    row = BACKENDS.get(name) if isinstance(name, str) else None
    if row is None:
        raise InvalidInputError(
            f"Unknown backend {name!r}; use one of {', '.join(BACKENDS)}.", field="backend"
        )
    return row


def default_batch_sizes() -> dict[str, int]:
    """``batch_size=None`` means this, per backend."""
    return {name: row.default_batch_size for name, row in BACKENDS.items()}
