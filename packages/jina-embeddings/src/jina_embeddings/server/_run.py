"""Run the app on uvicorn: bind first (``port=0`` picks a free port), load, then listen.

The socket is bound before the model loads, so the address (and a port chosen by the OS) is
known and printed at once; connections are accepted only once every adapter is loaded, so a
load balancer never routes to a half-ready replica. SIGINT/SIGTERM stop it gracefully.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Callable

from .._optional import require
from ._app import create_app
from ._config import ServeConfig
from ._engine import load_models

__all__ = ["bind", "serve"]

logger = logging.getLogger("jina_embeddings.server")


def bind(host: str, port: int) -> socket.socket:
    """A bound (not yet listening) TCP socket; IPv6 when ``host`` is an IPv6 address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve(
    config: ServeConfig, *, access_log: bool = False, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serve ``config`` until interrupted (blocking).

    ``on_ready(url)`` is called once the models are loaded and the server accepts requests
    (default: one line ``jina-embeddings serve: ready on URL ...`` on stderr).

    Raises:
        InvalidInputError: a model that is not found or bad settings, before anything loads.
        MissingDependencyError: the ``serve`` extra is not installed.
    """
    uvicorn = require("uvicorn", extra="serve", purpose="jina-embeddings serve")
    embedding, reranking = load_models(config)
    sock = bind(config.host, config.port)
    host, port = sock.getsockname()[:2]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def ready() -> None:
        if on_ready is not None:
            on_ready(url)
            return
        served = [m.name for m in (embedding, reranking) if m is not None]
        tasks = ", ".join(embedding.api_tasks) if embedding is not None else "-"
        print(
            f"jina-embeddings serve: ready on {url} (models: {', '.join(served)}; tasks: {tasks})",
            file=sys.stderr,
            flush=True,
        )

    app = create_app(config, embedding, reranking, on_ready=ready)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level=config.log_level,
            access_log=access_log,
            lifespan="on",
            timeout_graceful_shutdown=10,
            backlog=2048,
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
