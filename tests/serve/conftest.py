"""A real ``jina-embeddings serve`` process on 127.0.0.1, serving a tiny v5-style folder.

One server for the session (the model loads once): the CLI in a subprocess, on a port the
OS picks (``--port 0``; the ready line says which), with two bearer keys, a tiny
cross-encoder on ``/v1/rerank`` and small limits so the 413 and 429 paths are reachable:
32 inputs per request, 48 inputs admitted at once, 64 KiB bodies. Stopped by PID at the end.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

KEYS = ("serve-key-one", "serve-key-two")
MAX_INPUTS = 32
MAX_QUEUE = 48
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Served:
    """The running server: its URL, keys, the folders it serves, and its stderr log."""

    root: str  # http://127.0.0.1:PORT
    folder: str
    reranker: str
    log: Path
    pid: int

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    @property
    def key(self) -> str:
        return KEYS[0]

    def metrics(self) -> str:
        reply = httpx.get(f"{self.root}/metrics", headers={"Authorization": f"Bearer {KEYS[1]}"})
        reply.raise_for_status()
        return reply.text

    def counter(self, series: str) -> float:
        """The value of one exact series line of ``/metrics`` (0 if absent)."""
        for line in self.metrics().splitlines():
            name, _, value = line.rpartition(" ")
            if name == series:
                return float(value)
        return 0.0


def start_server(args: list[str], log: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``jina-embeddings serve ARGS --port 0``; return (process, root URL) once it is ready."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **env}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jina_embeddings.cli",
                "serve",
                *args,
                "--port",
                "0",
                "--log-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=full_env,
        )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        found = re.search(r"ready on (http://127\.0\.0\.1:\d+)", log.read_text(errors="replace"))
        if found:
            return proc, found.group(1)
        if proc.poll() is not None:
            raise RuntimeError(
                f"serve exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError(f"serve did not get ready:\n{log.read_text(errors='replace')[-3000:]}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (graceful), then SIGKILL after 15 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def served(
    tiny_models: dict[str, Path], tiny_reranker_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = str(tiny_models["qwen3"])
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    proc, root = start_server(
        [
            folder,
            "--reranker",
            tiny_reranker_path,
            "--dtype",
            "float32",
            "--max-inputs-per-request",
            str(MAX_INPUTS),
            "--max-queue",
            str(MAX_QUEUE),
            "--max-body-bytes",
            str(MAX_BODY),
        ],
        log,
        {"JINA_SERVE_API_KEYS": ",".join(KEYS)},
    )
    try:
        yield Served(root=root, folder=folder, reranker=tiny_reranker_path, log=log, pid=proc.pid)
    finally:
        stop_server(proc)
