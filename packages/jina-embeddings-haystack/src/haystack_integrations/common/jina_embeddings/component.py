"""What the three components share: settings, the core object's lifecycle, serialization, pickling.

Every component keeps its ``__init__`` arguments as attributes of the same names (Haystack's
``to_dict`` convention) and builds its core :class:`~jina_embeddings.Embedder` or
:class:`~jina_embeddings.Reranker` only when first needed. That keeps ``__init__`` light and
lets the API key be read when the pipeline warms up (the Haystack way), not when it is built.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from haystack import Document, default_from_dict, default_to_dict
from haystack.utils import ComponentDevice, Secret, deserialize_secrets_inplace
from haystack.utils.auth import SecretType

from jina_embeddings import InvalidInputError, Usage

__all__ = ["API_KEY_ENV_VARS", "JinaComponent", "document_texts", "naming_documents", "result_meta"]

API_KEY_ENV_VARS = ("JINA_API_KEY", "JINAAI_API_KEY")

# Adapter arguments that the core does not take, and those it takes under another name.
_ADAPTER_ONLY = frozenset({"api_key", "prefix", "suffix", "meta_fields_to_embed", "embedding_separator",
                           "score_threshold"})
_CORE_NAMES = {"progress_bar": "show_progress", "top_k": "top_n"}


def default_api_key() -> Secret:
    """The default ``api_key``: read ``JINA_API_KEY`` then ``JINAAI_API_KEY``, absent is fine (local)."""
    return Secret.from_env_var(list(API_KEY_ENV_VARS), strict=False)


def device_to_str(device: ComponentDevice | str | None) -> str | None:
    """A single device as the core spells it (``"cpu"``, ``"cuda:0"``, ``"mps"``); ``None`` = auto.

    A string is kept as given, so ``to_dict`` writes back exactly what the user wrote.
    """
    if device is None or isinstance(device, str):
        return device
    if isinstance(device, ComponentDevice):
        if device.has_multiple_devices:
            raise InvalidInputError("device maps are not supported; pass a single device such as "
                                    "ComponentDevice.from_str('cuda:0').", field="device")
        return device.to_torch_str()
    raise InvalidInputError(f"device must be a ComponentDevice, a string or None, got {type(device).__name__}.",
                            field="device")


def _json_ranges(ranges: Any) -> list[list[float]] | None:
    """int8/uint8 calibration ranges as nested lists (numpy arrays are not JSON)."""
    if ranges is None:
        return None
    return [[float(x) for x in row] for row in (ranges.tolist() if hasattr(ranges, "tolist") else ranges)]


def result_meta(model: str, usage: Usage) -> dict[str, Any]:
    """``meta`` output, shaped like the Jina API's (and jina-haystack's): model and token usage."""
    return {"model": model, "usage": {"prompt_tokens": usage.prompt_tokens, "total_tokens": usage.total_tokens}}


def document_texts(documents: Any, *, component: str, meta_fields: Sequence[str] = (),
                   separator: str = "\n", prefix: str = "", suffix: str = "") -> list[str]:
    """The text the model sees for each document: ``prefix`` + meta values + content + ``suffix``.

    Meta values come first, joined by ``separator`` with the content (Haystack's convention);
    missing and ``None`` values are skipped.

    Raises:
        TypeError: ``documents`` is not a list of :class:`~haystack.Document`.
        InvalidInputError: a document has no text (``content is None``, e.g. an image-only
            document): refused and named, rather than embedded as an empty string.
    """
    if not isinstance(documents, list) or not all(isinstance(d, Document) for d in documents):
        raise TypeError(f"{component} expects a list of Documents as input. To embed a single string, "
                        "use JinaTextEmbedder.")
    texts = []
    for i, doc in enumerate(documents):
        if doc.content is None:
            raise InvalidInputError(
                f"Document {doc.id!r} (index {i}) has no text content (content is None); "
                f"{component} needs text. Remove it or give it content.", index=i, field="documents")
        values = [str(doc.meta[key]) for key in meta_fields if doc.meta.get(key) is not None]
        texts.append(prefix + separator.join([*values, doc.content]) + suffix)
    return texts


@contextmanager
def naming_documents(documents: Sequence[Document]) -> Iterator[None]:
    """Re-raise the core's per-item input errors naming the Haystack document, not just an index."""
    try:
        yield
    except InvalidInputError as err:
        if err.index is None or not 0 <= err.index < len(documents):
            raise
        raise InvalidInputError(f"Document {documents[err.index].id!r}: {err}", index=err.index,
                                field=err.field) from err


class JinaComponent:
    """Base of the three components: the lazily built core object and (de)serialization.

    Subclasses set ``_core_class`` and store every ``__init__`` argument with
    :meth:`_remember`.
    """

    _core_class: ClassVar[type]

    def _remember(self, arguments: dict[str, Any]) -> None:
        """Keep each ``__init__`` argument as an attribute, in a JSON-serializable form."""
        for name in _init_names(type(self)):
            setattr(self, name, arguments[name])
        self.model = str(self.model)
        self.device = device_to_str(getattr(self, "device", None))
        if hasattr(self, "quantization_ranges"):
            self.quantization_ranges = _json_ranges(self.quantization_ranges)
        self._core: Any = None
        self._core_lock = threading.Lock()

    # -- the core object ------------------------------------------------------------------
    def _core_kwargs(self) -> dict[str, Any]:
        kwargs = {_CORE_NAMES.get(name, name): getattr(self, name)
                  for name in _init_names(type(self)) if name not in _ADAPTER_ONLY}
        kwargs["api_key"] = self.api_key.resolve_value() if self.api_key is not None else None
        return kwargs

    def _client(self) -> Any:
        """The core object, built on first use (cheap: no model load, no connection)."""
        core = self._core
        if core is None:
            with self._core_lock:
                if self._core is None:
                    self._core = self._core_class(**self._core_kwargs())
                core = self._core
        return core

    def warm_up(self) -> None:
        """Load the model (local) or open the connection pool (remote). Safe to call repeatedly.

        Components with the same local model settings share one loaded model (the core keeps
        a process-wide cache), so a text and a document embedder cost one model in memory.
        """
        self._client().warm_up()

    async def warm_up_async(self) -> None:
        """:meth:`warm_up` in a worker thread, so loading a local model does not block the loop."""
        await asyncio.to_thread(self.warm_up)

    def close(self) -> None:
        """Release HTTP connections; a later run opens new ones. Loaded models stay cached."""
        core, self._core = self._core, None
        if core is not None:
            core.close()

    async def close_async(self) -> None:
        """Async :meth:`close`."""
        core, self._core = self._core, None
        if core is not None:
            await core.aclose()

    def _get_telemetry_data(self) -> dict[str, Any]:
        return {"model": self.model, "backend": self.backend}

    # -- serialization ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Serialize to a dictionary (pipeline YAML). An env-var key is written as its variable
        names only; a ``Secret.from_token`` key refuses to serialize (``ValueError``)."""
        return default_to_dict(self, **{name: getattr(self, name) for name in _init_names(type(self))})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Build a component from :meth:`to_dict` output (the caller's dict is left unchanged)."""
        data = {**data, "init_parameters": dict(data.get("init_parameters", {}))}
        deserialize_secrets_inplace(data["init_parameters"], keys=["api_key"])
        return default_from_dict(cls, data)

    # -- pickling: settings travel, live resources and a token key do not --------------------
    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_core", "_core_lock")}
        if self.api_key is not None and self.api_key.type is SecretType.TOKEN:
            # Like the core's Embedder: a key passed by value stays in this process; the copy
            # reads JINA_API_KEY / JINAAI_API_KEY. A token always meant the API backend.
            state["api_key"] = default_api_key()
            state["backend"] = self.backend or "api"
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._core = None
        self._core_lock = threading.Lock()


@functools.cache
def _init_names(cls: type) -> tuple[str, ...]:
    return tuple(n for n in inspect.signature(cls.__init__).parameters if n != "self")
