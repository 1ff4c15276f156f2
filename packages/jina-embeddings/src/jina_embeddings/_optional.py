"""Import optional heavy dependencies on first use, with an exact install hint when missing."""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from .errors import MissingDependencyError

__all__ = ["peft_compatibility", "require"]

# module -> PyPI distribution name (where they differ)
_DISTRIBUTIONS = {"sentence_transformers": "sentence-transformers"}


def require(module: str, *, extra: str = "local", purpose: str = "The local backend") -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        root = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != root:
            raise  # the package exists but one of *its* imports failed: show the real error
        raise MissingDependencyError(_DISTRIBUTIONS.get(root, root), extra=extra, purpose=purpose) from exc


_PEFT_TOO_OLD = re.compile(
    r"version of PEFT you are using is not compatible, please use a version >= ([\w.]+)"
)


def _installed(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@contextmanager
def peft_compatibility(purpose: str = "Loading LoRA adapters") -> Iterator[None]:
    """Turn transformers' refusal of the installed peft into :class:`MissingDependencyError`.

    transformers 5.24 refuses every peft that exists today (it wants >= 0.22) with a bare
    ``ValueError`` from deep inside ``load_adapter``; an environment that upgraded transformers
    past our range gets this message instead, naming both versions and the fix.
    """
    try:
        yield
    except ValueError as exc:
        found = _PEFT_TOO_OLD.search(str(exc))
        if found is None:
            raise
        transformers, peft = _installed("transformers"), _installed("peft")
        raise MissingDependencyError(
            "peft",
            extra="local",
            purpose=purpose,
            problem=(
                f"a peft that transformers {transformers} accepts (>= {found.group(1)}); "
                f"peft {peft} is installed. jina-embeddings[local] declares transformers<5.24 "
                "for this reason"
            ),
            install_line='pip install "transformers<5.24" (or a peft release that transformers accepts)',
        ) from exc
