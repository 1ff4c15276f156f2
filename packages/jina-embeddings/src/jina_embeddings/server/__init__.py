"""``jina-embeddings serve``: one model with all its task adapters behind the Jina and OpenAI APIs.

One process loads one embedding model (and optionally a reranker) once, with every LoRA
adapter attached, and serves each request with the adapter and prompt its ``task`` calls
for, so every app that uses ``backend="api", base_url=...`` (the core, LangChain, LlamaIndex,
Haystack) points at it unchanged. Concurrent requests share forward passes (the local
backend's request coalescing); a bounded queue answers 429 with ``Retry-After`` when full.

Needs the ``serve`` extra (starlette, uvicorn), imported on first use only::

    pip install "jina-embeddings[serve]"
    jina-embeddings serve ./jina-embeddings-v5-text-small --port 8080

Example::

    from jina_embeddings.server import ServeConfig, serve

    serve(ServeConfig(model="./jina-embeddings-v5-text-small", port=8080, max_batch_size=64))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import API_KEYS_ENV, ServeConfig, keys_from_env

if TYPE_CHECKING:
    from ._run import serve as serve

__all__ = ["API_KEYS_ENV", "ServeConfig", "create_app", "keys_from_env", "serve"]


def create_app(config: ServeConfig) -> Any:
    """The ASGI app for ``config`` (e.g. to run under your own ASGI server or in tests).

    Models are resolved now and loaded at the app's startup (ASGI lifespan).
    """
    from ._app import create_app as _create
    from ._engine import load_models

    embedding, reranking = load_models(config)
    return _create(config, embedding, reranking)


def __getattr__(name: str) -> Any:
    if name == "serve":  # keeps ``import jina_embeddings.server`` free of uvicorn
        from ._run import serve

        return serve
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
