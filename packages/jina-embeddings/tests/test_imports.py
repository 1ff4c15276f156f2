"""Importing the package is cheap and side-effect free; missing extras give the install line."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import jina_embeddings


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_does_not_pull_heavy_dependencies() -> None:
    proc = _run("""
        import sys, jina_embeddings
        from jina_embeddings import Embedder, Reranker
        Embedder("jina-embeddings-v5-text-small", backend="local", dimensions=256)  # no load
        heavy = [m for m in ("torch", "transformers", "sentence_transformers", "peft") if m in sys.modules]
        print(heavy)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_missing_local_extra_names_the_install_line() -> None:
    proc = _run("""
        import sys
        sys.modules["sentence_transformers"] = None  # simulate: extra not installed
        from jina_embeddings import Embedder, MissingDependencyError
        try:
            Embedder("jina-embeddings-v5-text-small", backend="local").embed_documents(["x"])
        except MissingDependencyError as exc:
            print(type(exc).__name__, "|", exc.install_line, "|", isinstance(exc, ImportError))
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'MissingDependencyError | pip install "jina-embeddings[local]" | True'


def test_public_surface() -> None:
    assert sorted(jina_embeddings.__all__) == sorted(set(jina_embeddings.__all__))
    for name in jina_embeddings.__all__:
        assert hasattr(jina_embeddings, name), name
    assert issubclass(jina_embeddings.InvalidInputError, ValueError)
    assert issubclass(jina_embeddings.APITimeoutError, jina_embeddings.APIConnectionError)
    assert issubclass(jina_embeddings.RateLimitError, jina_embeddings.APIStatusError)
