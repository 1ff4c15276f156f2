"""The startup canary: two tasks must give different vectors for one text.

Against ``serve`` it passes (four adapters); against a fake that serves the base model for
every task and every model name (what a server that ignores LoRA does, with HTTP 200) it
fails, through the function and through ``jina-embeddings check-server`` (exit code 1).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from jina_embeddings.cli import main
from jina_embeddings.server.canary import CanaryError, check_server
from jina_testkit.fake_api import FakeJinaServer

from .conftest import KEYS, Served


class _BaseModelHandler(BaseHTTPRequestHandler):
    """Answers every /v1/embeddings with a vector of the text alone: task and model ignored."""

    seen: list[dict] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = []
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
            data.append(
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": np.random.default_rng(seed).standard_normal(16).tolist(),
                }
            )
        out = json.dumps({"object": "list", "model": body.get("model"), "data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def base_model_server() -> Iterator[str]:
    _BaseModelHandler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _BaseModelHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.mark.local
def test_serve_passes_the_canary(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    report = check_server(served.base_url, api_key=KEYS[0])
    assert report.cosine < 0.999
    assert [t for _, t in report.targets] == ["text-matching", "clustering"]
    # the model field picks the adapter too (OpenAI protocol, vLLM multi-LoRA style)
    check_server(
        served.base_url, protocol="openai", models=("text-matching", "classification"), api_key=KEYS[0]
    )
    assert (
        main(["check-server", served.base_url, "--tasks", "retrieval.passage,classification"]) == 1
    )  # no key
    capsys.readouterr()


@pytest.mark.local
def test_cli_with_key_from_env(
    served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JINA_SERVE_API_KEYS", KEYS[1])
    assert main(["check-server", served.base_url]) == 0
    assert "give different vectors" in capsys.readouterr().out


def test_a_server_serving_the_base_model_for_every_task_fails(
    base_model_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(CanaryError, match="same vector"):
        check_server(base_model_server)
    assert [b["task"] for b in _BaseModelHandler.seen] == ["text-matching", "clustering"]
    with pytest.raises(CanaryError, match="same vector"):
        check_server(base_model_server, protocol="openai", models=("retrieval", "text-matching"))
    with pytest.raises(CanaryError, match="same vector"):  # two merged per-task servers that are the same
        check_server(
            [base_model_server, base_model_server], protocol="openai", models=("m-retrieval", "m-clustering")
        )
    assert main(["check-server", base_model_server, "--protocol", "openai", "--models", "a,b"]) == 1
    assert "same vector" in capsys.readouterr().err


def test_two_merged_servers_with_different_weights_pass() -> None:
    """Recipe 1: one merged per-task model per server; the fake's vectors differ per model name."""
    with FakeJinaServer(api_key=None) as a, FakeJinaServer(api_key=None) as b:
        report = check_server(
            [a.base_url, b.base_url],
            protocol="openai",
            models=("jina-embeddings-v5-text-small-retrieval", "jina-embeddings-v5-text-small-clustering"),
        )
    assert report.cosine < 0.5


def test_bad_arguments_are_canary_errors() -> None:
    with pytest.raises(CanaryError):
        check_server("http://127.0.0.1:1/v1", tasks=("a", "a"))
    with pytest.raises(CanaryError):
        check_server("http://127.0.0.1:1/v1", protocol="openai")
    with pytest.raises(CanaryError, match="could not reach"):
        check_server("http://127.0.0.1:1/v1", timeout=2)
