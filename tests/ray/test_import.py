"""``jina_embeddings.ray`` needs the ``ray`` extra and says so; the core never imports Ray."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
sys.modules["ray"] = None  # as if ray were not installed
try:
    import jina_embeddings.ray
except ImportError as exc:
    from jina_embeddings import MissingDependencyError
    print(type(exc).__name__, isinstance(exc, MissingDependencyError), exc.install_line)
"""


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_without_ray_the_error_names_the_extra() -> None:
    assert run(PROBE) == 'MissingDependencyError True pip install "jina-embeddings[ray]"'


def test_the_core_does_not_import_ray() -> None:
    code = "import sys, jina_embeddings, jina_embeddings.integration; print('ray' in sys.modules)"
    assert run(code) == "False"


def test_the_submodule_imports_ray_on_first_use_only() -> None:
    code = "import sys, jina_embeddings.ray; print('ray' in sys.modules, 'ray.data' in sys.modules)"
    assert run(code) == "False False"
