"""The ``jina-embeddings`` command line (issue 13, item 7), on the fake backend: no model, no network."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest

import jina_embeddings
from jina_embeddings import Embedder, InvalidInputError, Reranker, cli, list_models
from jina_embeddings._reranker import DEFAULT_RERANKER


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        # newline="" keeps "\r\n" as it arrives from a Windows file or pipe
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode()), newline=""))
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Records what the CLI passes to Embedder / Reranker."""
    record: dict[str, Any] = {}

    class SpyEmbedder(Embedder):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            record["embedder"] = kwargs
            super().__init__(*args, **kwargs)

        def embed(self, texts: Any, *, role: Any = "document") -> Any:
            record["texts"] = list(texts)
            return super().embed(texts, role=role)

    class SpyReranker(Reranker):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            record["reranker"] = kwargs
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(cli, "Embedder", SpyEmbedder)
    monkeypatch.setattr(cli, "Reranker", SpyReranker)
    return record


def test_stdin_blank_line_refused_with_its_line_number(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, monkeypatch, "embed", "--backend", "fake", "-", stdin="first\n\nthird\n")
    assert code == 2 and out == ""
    assert "line 2 of stdin is blank" in err
    code, _, err = run(capsys, monkeypatch, "embed", "--backend", "fake", "-", stdin="a\nb\n   \t\n")
    assert code == 2 and "line 3 of stdin is blank" in err


def test_stdin_crlf_stripped_and_indices_are_line_numbers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, seen: dict[str, Any]
) -> None:
    code, out, _ = run(
        capsys, monkeypatch, "embed", "--backend", "fake", "-", stdin="first\r\nsecond\r\nthird"
    )
    assert code == 0
    assert seen["texts"] == ["first", "second", "third"]
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["index"] for r in rows] == [0, 1, 2]
    expected = Embedder(backend="fake").embed(["first", "second", "third"]).vectors
    np.testing.assert_allclose(np.array([r["embedding"] for r in rows]), expected, rtol=1e-6)


def test_read_lines_error_carries_the_index() -> None:
    with pytest.raises(InvalidInputError) as info:
        cli.read_lines(io.StringIO("one\r\n\r\nthree\r\n"))
    assert info.value.index == 1 and "line 2" in str(info.value)
    assert cli.read_lines(io.StringIO("one\r\ntwo\n")) == ["one", "two"]


def test_rerank_documents_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, seen: dict[str, Any]
) -> None:
    code, out, _ = run(
        capsys, monkeypatch, "rerank", "--backend", "fake", "fox", "-", stdin="a fox\r\nthe dog\r\n"
    )
    assert code == 0
    assert sorted(json.loads(line)["document"] for line in out.splitlines()) == ["a fox", "the dog"]
    code, _, err = run(capsys, monkeypatch, "rerank", "--backend", "fake", "fox", "-", stdin="a fox\n\n")
    assert code == 2 and "line 2 of stdin is blank" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"jina-embeddings {jina_embeddings.__version__}"


def test_help_shows_defaults_and_new_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["embed", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for expected in (
        "--batch-size",
        "--show-progress",
        "(default: float32)",
        "(default: document)",
        "(default: jina-embeddings-v5-text-small)",
        "(default: cuda > mps > cpu)",
    ):
        assert expected in text, expected
    with pytest.raises(SystemExit):
        cli.main(["rerank", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default: {DEFAULT_RERANKER})" in text
    assert "--batch-size" in text and "--show-progress" in text


def test_batch_size_and_show_progress_reach_the_objects(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, seen: dict[str, Any]
) -> None:
    code, _, _ = run(
        capsys, monkeypatch, "embed", "--backend", "fake", "--batch-size", "7", "--show-progress", "a", "b"
    )
    assert code == 0
    assert seen["embedder"]["batch_size"] == 7 and seen["embedder"]["show_progress"] is True
    code, _, _ = run(capsys, monkeypatch, "rerank", "--backend", "fake", "--batch-size", "3", "q", "a", "b")
    assert code == 0 and seen["reranker"]["batch_size"] == 3 and "show_progress" not in seen["reranker"]
    code, _, err = run(capsys, monkeypatch, "embed", "--backend", "fake", "--batch-size", "0", "a")
    assert code == 2 and "batch_size" in err


def test_models_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, monkeypatch, "models", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["name"] for r in rows] == [s.name for s in list_models()]
    small = rows[0]
    assert small["native_dim"] == 1024 and small["matryoshka_dims"][-1] == 1024
    assert small["tasks"] == ["retrieval", "text-matching", "clustering", "classification"]
    code, out, _ = run(capsys, monkeypatch, "models")
    assert code == 0 and out.splitlines()[0].startswith("jina-embeddings-v5-text-small")
