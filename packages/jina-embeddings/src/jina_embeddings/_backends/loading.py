"""Device and dtype choice, and the process-wide cache of loaded local models.

Models are cached by everything that changes what gets loaded (source, device, dtype,
revision, remote-code permission, merged task ...), so two objects with the same settings
(a Haystack text embedder and document embedder, say) share one copy of the weights. The
cache holds weak references: a model is freed once no backend uses it.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from .._models import ModelSpec
from .._optional import require
from .._options import LocalOptions
from ..errors import ModelNotFoundError

__all__ = ["load_cached", "loaded_models", "resolve_device", "resolve_dtype", "st_load_kwargs"]

T = TypeVar("T")
_CACHE: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_CACHE_LOCK = threading.Lock()
_KEY_LOCKS: dict[str, threading.Lock] = {}


def resolve_device(device: str | None) -> str:
    """``None`` -> cuda if available, else mps, else cpu."""
    if device:
        return device
    torch = require("torch")
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(dtype: str | None, device: str) -> Any:
    """``None`` -> bfloat16 on CUDA (what the Jina cards recommend), float32 elsewhere."""
    torch = require("torch")
    if dtype:
        return getattr(torch, dtype)
    return torch.bfloat16 if device.startswith("cuda") else torch.float32


def trust_remote_code(spec: ModelSpec, options: LocalOptions) -> bool:
    return spec.trust_remote_code if options.trust_remote_code is None else options.trust_remote_code


def st_load_kwargs(spec: ModelSpec, options: LocalOptions, device: str) -> dict[str, Any]:
    """Keyword arguments for ``SentenceTransformer(...)`` / ``CrossEncoder(...)``."""
    kwargs: dict[str, Any] = {
        "device": device,
        "trust_remote_code": trust_remote_code(spec, options),
        "model_kwargs": {"dtype": resolve_dtype(options.dtype, device)},
    }
    if options.cache_folder:
        kwargs["cache_folder"] = options.cache_folder
    if options.revision:
        kwargs["revision"] = options.revision
    if options.local_files_only:
        kwargs["local_files_only"] = True
    return kwargs


def cache_key(kind: str, source: str, options: LocalOptions, device: str, **extra: Any) -> str:
    fields = {
        "kind": kind,
        "source": source,
        "device": device,
        "dtype": options.dtype,
        "trust_remote_code": options.trust_remote_code,
        "revision": options.revision,
        "cache_folder": options.cache_folder,
        "local_files_only": options.local_files_only,
        **extra,
    }
    return json.dumps(fields, sort_keys=True)


def load_cached(key: str, loader: Callable[[], T]) -> T:
    """Return the cached object for ``key``, or build it once (concurrent callers wait).

    Raises:
        ModelNotFoundError: the loader could not find or read the model (not in the cache
            while offline, a wrong repo id, a folder with missing files).
    """
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            return found
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        with _CACHE_LOCK:
            found = _CACHE.get(key)
        if found is not None:
            return found
        try:
            value = loader()
        except OSError as exc:  # huggingface_hub / transformers report "not found" as OSError
            source = json.loads(key).get("source")
            raise ModelNotFoundError(
                f"Could not load model {source!r}: {exc}. Check the name or folder; offline "
                "(HF_HUB_OFFLINE=1 or local_files_only=True) it must already be in the Hugging "
                "Face cache.",
                field="model",
            ) from exc
        with _CACHE_LOCK:
            _CACHE[key] = value
        return value


def loaded_models() -> list[dict[str, Any]]:
    """The settings of every local model currently loaded in this process (for inspection)."""
    with _CACHE_LOCK:
        return [json.loads(k) for k in list(_CACHE.keys())]
