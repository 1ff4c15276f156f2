"""Startup canary: does the server really apply a different adapter per task?

A server that silently serves the base model for every task answers HTTP 200 with plausible
vectors (a known failure: pooling workers that accept ``--enable-lora`` and ignore it). The
check: embed ONE text under two tasks that share their prompt (``text-matching`` and
``clustering`` on v5 both read ``Document: ``), so only the adapter can make the vectors
differ, and fail if they are equal (cosine >= ``threshold``).

Three ways to point it at a server:

* ``protocol="api"`` (``jina-embeddings serve``, the Jina API): one URL, the tasks go in the
  body's ``task`` field.
* ``protocol="openai"`` with one URL: vLLM multi-LoRA, the ``model`` field picks the adapter
  (``models=("text-matching", "clustering")``, the names given to ``--lora-modules``).
* ``protocol="openai"`` with two URLs: one merged per-task server each (vLLM's one task per
  server), ``models`` the name each one serves.

Only ``httpx`` (a core dependency) is used.

Example::

    from jina_embeddings.server.canary import check_server

    report = check_server("http://127.0.0.1:8080/v1")          # raises CanaryError if equal
    print(report.cosine)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import JinaError

__all__ = ["DEFAULT_TASKS", "CanaryError", "CanaryReport", "check_server"]

DEFAULT_TASKS = ("text-matching", "clustering")
DEFAULT_TEXT = "The quick brown fox jumps over the lazy dog."


class CanaryError(JinaError):
    """The server gave the same vector for two tasks (or could not be asked)."""


@dataclass(frozen=True)
class CanaryReport:
    """What was compared: the two targets (URL, task or model) and the cosine of their vectors."""

    targets: tuple[tuple[str, str], tuple[str, str]]
    cosine: float


def _ask(client: Any, url: str, body: dict[str, Any], headers: dict[str, str]) -> np.ndarray:
    from .._backends.remote import decode_vector

    reply = client.post(f"{url.rstrip('/')}/embeddings", json=body, headers=headers)
    if reply.status_code != 200:
        raise CanaryError(f"{url}/embeddings answered HTTP {reply.status_code}: {reply.text[:300]}")
    try:
        item = reply.json()["data"][0]["embedding"]
        return decode_vector(item, "base64" if isinstance(item, str) else "float").astype(np.float64)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise CanaryError(f"{url}/embeddings sent no embedding: {exc}") from None


def check_server(
    url: str | Sequence[str],
    *,
    protocol: str = "api",
    tasks: Sequence[str] = DEFAULT_TASKS,
    models: Sequence[str] | None = None,
    model: str | None = None,
    text: str = DEFAULT_TEXT,
    api_key: str | None = None,
    threshold: float = 0.9999,
    timeout: float = 60.0,
) -> CanaryReport:
    """Embed ``text`` under two tasks and raise :class:`CanaryError` if the vectors are equal.

    Args:
        url: the server root (``http://host:8080/v1``), or two roots (one per task) for
            merged per-task servers (``protocol="openai"``).
        protocol: ``"api"`` (the body's ``task`` field) or ``"openai"`` (the ``model`` field).
        tasks: the two Jina API tasks to compare (``protocol="api"``).
        models: the two model names to compare (``protocol="openai"``).
        model: the ``model`` sent with ``protocol="api"`` (default: none, the server's own).
        api_key: bearer key (default: ``JINA_SERVE_API_KEYS``'s first key, else ``JINA_API_KEY``).
        threshold: cosine at or above which the vectors count as equal.

    Raises:
        CanaryError: equal vectors, an error answer, or a bad argument.
    """
    import httpx

    urls = [url] if isinstance(url, str) else list(url)
    if protocol not in ("api", "openai") or len(urls) not in (1, 2):
        raise CanaryError("check_server needs protocol 'api' or 'openai' and one or two URLs.")
    if protocol == "api":
        if len(urls) != 1 or len(tasks) != 2 or tasks[0] == tasks[1]:
            raise CanaryError("protocol='api' compares two different tasks on one URL.")
        bodies = [{"input": [text], "task": t, "embedding_type": "float"} for t in tasks]
        if model is not None:
            for one in bodies:
                one["model"] = model
        targets = [(urls[0], t) for t in tasks]
    else:
        if models is None or len(models) != 2 or (len(urls) == 1 and models[0] == models[1]):
            raise CanaryError("protocol='openai' needs models=(A, B): two adapters, or one model per URL.")
        bodies = [{"input": [text], "model": m, "encoding_format": "float"} for m in models]
        targets = [(urls[i if len(urls) == 2 else 0], m) for i, m in enumerate(models)]
    key = api_key or next(
        (k.strip() for k in os.environ.get("JINA_SERVE_API_KEYS", "").split(",") if k.strip()),
        os.environ.get("JINA_API_KEY"),
    )
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with httpx.Client(timeout=timeout) as client:
            a, b = (_ask(client, u, body, headers) for (u, _), body in zip(targets, bodies, strict=True))
    except httpx.HTTPError as exc:
        raise CanaryError(f"could not reach the server: {type(exc).__name__}: {exc}") from None
    if a.shape != b.shape:
        raise CanaryError(f"the two vectors differ in size ({a.size} vs {b.size}): not the same model.")
    cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) or 1.0))
    report = CanaryReport((targets[0], targets[1]), cosine)
    if cosine >= threshold:
        raise CanaryError(
            f"{targets[0][1]!r} and {targets[1][1]!r} gave the same vector for one text (cosine "
            f"{cosine:.6f}): the server ignores the task and serves one set of weights (the base "
            "model?) for both. Check the adapters (vLLM: --enable-lora and --lora-modules, or one "
            "merged per-task repo per server)."
        )
    return report
