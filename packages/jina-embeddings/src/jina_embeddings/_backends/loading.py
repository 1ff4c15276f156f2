"""Device and dtype choice, the process-wide cache of loaded local models, and load hygiene.

Models are cached by everything that changes what gets loaded (source, device, dtype,
revision, remote-code permission, merged task ...), so two objects with the same settings
(a Haystack text embedder and document embedder, say) share one copy of the weights. The
cache holds weak references: a model is freed once no backend uses it.

Devices are checked in two steps. The spelling (``"gpu"``, ``"tpu:9"``, ``"cuda:x"``) is
checked when the options are built, without importing torch. Whether the device exists is
checked when the backend is built if torch is already imported, from facts that cost nothing
and touch no driver (a CPU-only torch build has no ``cuda`` or ``mps`` at all); everything
else (no visible GPU, ``cuda:3`` on a one-GPU machine) is checked at first use, before any
weights load. Both raise :class:`~jina_embeddings.errors.InvalidInputError` naming ``device``.
Asking the CUDA driver at construction would make building an ``Embedder`` import torch
(seconds) and initialize CUDA in a process that may fork workers afterwards.

Every bar that loading causes (transformers' "Loading weights", per adapter too) follows the
caller's ``show_progress``; Hugging Face Hub download bars are left to the Hub's own switch
(``HF_HUB_DISABLE_PROGRESS_BARS``): a silent multi-gigabyte first download looks like a hang.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, TypeVar

from .._models import ModelSpec
from .._optional import require
from .._options import LocalOptions
from ..errors import InvalidInputError, JinaError, ModelNotFoundError

__all__ = [
    "DEVICE_TYPES",
    "cache_key",
    "check_device",
    "check_device_early",
    "load_cached",
    "load_error",
    "loaded_models",
    "captured_warnings",
    "quiet_progress",
    "resolve_device",
    "resolve_dtype",
    "st_load_kwargs",
    "trust_remote_code",
]

logger = logging.getLogger("jina_embeddings")
T = TypeVar("T")
_CACHE: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_CACHE_LOCK = threading.Lock()
_KEY_LOCKS: dict[str, threading.Lock] = {}

# -- devices ----------------------------------------------------------------------------------
#: torch device types a model can run on (``torch.device`` knows a few more: meta, lazy, ...).
DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "npu", "hpu", "xla", "mlu", "musa", "mtia")
_DEVICE = re.compile(r"(?P<kind>[a-z]+)(?::(?P<index>[0-9]+))?")
_DEVICE_HINTS = {
    "gpu": " For an NVIDIA (or ROCm) GPU use 'cuda' or 'cuda:0'.",
    "tpu": " TPUs are 'xla' in torch (torch_xla).",
    "metal": " Apple GPUs are 'mps'.",
    "auto": " For automatic choice pass device=None.",
}


def check_device(device: object) -> None:
    """Check the spelling of ``device`` (``None`` = auto); never imports torch.

    Raises:
        InvalidInputError: not one of :data:`DEVICE_TYPES`, optionally ``:<index>``.
    """
    if device is None:
        return
    if not isinstance(device, str) or not device.strip():
        raise InvalidInputError(
            f"device must be a string such as 'cpu' or 'cuda:0', got {device!r}.", field="device"
        )
    found = _DEVICE.fullmatch(device)
    if found is None or found["kind"] not in DEVICE_TYPES:
        kind = device.split(":")[0].strip().lower()
        hint = _DEVICE_HINTS.get(kind, "")
        if not hint and kind in DEVICE_TYPES:
            hint = f" Write it as {kind!r} or '{kind}:<index>' (lowercase, index a number)."
        raise InvalidInputError(
            f"device={device!r} is not a torch device: use one of {', '.join(DEVICE_TYPES)}, "
            f"optionally with ':<index>' ('cuda:1'), or None for auto (cuda > mps > cpu).{hint}",
            field="device",
        )


def _imported_torch() -> ModuleType | None:
    """torch if this process already imported it (then device facts are free), else None."""
    return sys.modules.get("torch")


def _no_device(device: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"device={device!r} is not available: {why}. Pass device='cpu', or None to pick the best "
        "device present (cuda > mps > cpu).",
        field="device",
    )


def check_device_early(device: str | None) -> None:
    """At construction: refuse a device this torch build cannot have, if torch is imported.

    Uses only build facts (``torch.version.cuda``, ``torch.backends.mps.is_built()``): no import
    of torch, no driver call, nothing that stops the process from forking CUDA workers later.
    """
    torch = _imported_torch()
    if device is not None and torch is not None:
        _check_device_built(torch, device)


def _check_device_built(torch: Any, device: str) -> None:
    kind = device.split(":")[0]
    version = getattr(torch, "__version__", "?")
    if (
        kind == "cuda"
        and getattr(torch.version, "cuda", None) is None
        and not getattr(torch.version, "hip", None)
    ):
        raise _no_device(device, f"the installed torch {version} is a CPU-only build (no CUDA)")
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    if kind == "mps" and (mps is None or not mps.is_built()):
        raise _no_device(device, f"the installed torch {version} is built without MPS (Apple GPUs)")


def _check_device_present(device: str) -> None:
    """At first use (torch is needed anyway): the device exists and the index is in range."""
    torch = _imported_torch() or require("torch")
    _check_device_built(torch, device)
    found = _DEVICE.fullmatch(device)
    kind, index = (found["kind"], found["index"]) if found else (device, None)
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise _no_device(device, "torch sees no CUDA device (driver, CUDA_VISIBLE_DEVICES?)")
        count = torch.cuda.device_count()
        if index is not None and int(index) >= count:
            raise _no_device(device, f"torch sees {count} CUDA device(s): cuda:0..cuda:{count - 1}")
    elif kind == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise _no_device(device, "this machine has no usable MPS device")
    elif kind == "xpu":
        xpu = getattr(torch, "xpu", None)
        if xpu is None or not xpu.is_available():
            raise _no_device(device, "torch sees no XPU (Intel GPU)")
        if index is not None and int(index) >= xpu.device_count():
            raise _no_device(device, f"torch sees {xpu.device_count()} XPU device(s)")


def resolve_device(device: str | None) -> str:
    """``None`` -> cuda if available, else mps, else cpu; a given device is checked to exist.

    Raises:
        InvalidInputError: the device is not present (see the module docstring).
    """
    if device:
        _check_device_present(device)
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


# -- progress bars and load reports ------------------------------------------------------------
_QUIET_LOCK = threading.Lock()
_quiet_depth = 0
_quiet_saved: bool | None = None


@contextmanager
def quiet_progress(show_progress: bool) -> Iterator[None]:
    """Hide transformers' progress bars ("Loading weights") while we load, unless ``show_progress``.

    transformers has one process-wide switch, so nested or concurrent quiet loads share one
    save/restore (the first saves it, the last restores it). Hub download bars are not touched.
    Only used around loads, which import transformers anyway.
    """
    global _quiet_depth, _quiet_saved
    try:
        tf_logging: Any = importlib.import_module("transformers.utils.logging")
    except ImportError:  # the loader will say what is missing
        tf_logging = None
    if show_progress or not hasattr(tf_logging, "_tqdm_active"):  # the switch behind its tqdm
        yield
        return
    with _QUIET_LOCK:
        if _quiet_depth == 0:
            _quiet_saved = bool(tf_logging._tqdm_active)
            tf_logging._tqdm_active = False
        _quiet_depth += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                tf_logging._tqdm_active = _quiet_saved


class _Capture(logging.Filter):
    """Keeps a logger's warnings off the console and hands them to the caller."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            self.records.append(record)
            return False
        return True


_CAPTURE_LOCK = threading.Lock()
_capture_depth: dict[str, tuple[int, int]] = {}  # logger name -> (depth, level to restore)


@contextmanager
def captured_warnings(logger_name: str) -> Iterator[list[logging.LogRecord]]:
    """Collect the warnings ``logger_name`` logs meanwhile, instead of printing them.

    They are collected even when the logger is set quieter than WARNING (transformers'
    ``set_verbosity_error()``), so an error message can quote them; nothing extra is shown.
    """
    capture = _Capture()
    target = logging.getLogger(logger_name)
    with _CAPTURE_LOCK:
        depth, level = _capture_depth.get(logger_name, (0, target.level))
        if depth == 0 and target.getEffectiveLevel() > logging.WARNING:
            target.setLevel(logging.WARNING)
        _capture_depth[logger_name] = (depth + 1, level)
        target.addFilter(capture)
    try:
        yield capture.records
    finally:
        with _CAPTURE_LOCK:
            target.removeFilter(capture)
            depth, level = _capture_depth.pop(logger_name)
            if depth > 1:
                _capture_depth[logger_name] = (depth - 1, level)
            else:
                target.setLevel(level)


# -- load errors ----------------------------------------------------------------------------------
_READ_ERRORS = ("SafetensorError", "HFValidationError", "JSONDecodeError", "UnicodeDecodeError")


def _is_read_error(exc: BaseException, *, folder: bool) -> bool:
    """Whether ``exc`` means "the files could not be read as this model" (not a bug, not OOM)."""
    if isinstance(exc, JinaError) or not isinstance(exc, Exception):
        return False
    if isinstance(exc, OSError) or any(c.__name__ in _READ_ERRORS for c in type(exc).__mro__):
        return True
    if "out of memory" in str(exc).lower():
        return False
    # A local folder that transformers / sentence-transformers / peft cannot make sense of
    # (bad config, missing module files, tensors of the wrong shape) fails with one of these.
    return folder and isinstance(exc, ValueError | KeyError | TypeError | RuntimeError)


def load_error(
    exc: BaseException,
    source: str,
    *,
    folder: bool,
    what: str = "model",
    hint: str | None = None,
    cause: str | None = None,
) -> ModelNotFoundError | None:
    """The :class:`ModelNotFoundError` for a failed load, or ``None`` if ``exc`` is something else.

    ``cause`` replaces ``str(exc)`` in the message (e.g. without a pointer to a hidden report).
    """
    if not _is_read_error(exc, folder=folder):
        return None
    cause = " ".join((str(exc) if cause is None else cause).split()) or repr(exc)
    if hint is None and folder:
        hint = "The folder is incomplete or damaged: copy or download it again."
    elif hint is None:
        hint = (
            "Check the name or folder; offline (HF_HUB_OFFLINE=1 or local_files_only=True) it must "
            "already be in the Hugging Face cache."
        )
    return ModelNotFoundError(
        f"Could not load {what} {source!r}: {type(exc).__name__}: {cause.rstrip('.')}. {hint}", field="model"
    )


def load_cached(key: str, loader: Callable[[], T]) -> T:
    """Return the cached object for ``key``, or build it once (concurrent callers wait).

    Raises:
        ModelNotFoundError: the loader could not find or read the model (not in the cache
            while offline, a wrong repo id, a local folder with missing or damaged files).
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
        except Exception as exc:
            source = str(json.loads(key).get("source"))  # a folder's source is its absolute path
            error = load_error(exc, source, folder=os.path.isabs(source) or os.path.isdir(source))
            if error is None:
                raise
            raise error from exc
        with _CACHE_LOCK:
            _CACHE[key] = value
        return value


def loaded_models() -> list[dict[str, Any]]:
    """The settings of every local model currently loaded in this process (for inspection)."""
    with _CACHE_LOCK:
        return [json.loads(k) for k in list(_CACHE.keys())]
