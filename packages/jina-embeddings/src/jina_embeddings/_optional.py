"""Import optional heavy dependencies on first use, with an exact install hint when missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError

__all__ = ["require"]

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
