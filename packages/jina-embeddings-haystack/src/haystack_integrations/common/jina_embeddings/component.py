"""What the three components share: settings, the core object's lifecycle, serialization, pickling.

Every component keeps its ``__init__`` arguments as attributes of the same names (Haystack's
``to_dict`` convention). The options are not restated here: each component spells out only
its Haystack-specific parameters (and the positional ones jina-haystack users pass), and takes
every other core option through ``**options``; its signature, shown by ``help()`` and
``inspect.signature``, is generated from the core's option table
(:func:`jina_embeddings.integration.option_specs`).

``__init__`` validates every setting by building the core object (cheap: nothing is loaded or
sent), so a bad option fails when the pipeline is built, not when it first runs.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from haystack import Document, default_from_dict, default_to_dict
from haystack.utils import ComponentDevice, Secret, deserialize_secrets_inplace
from haystack.utils.auth import SecretType

from jina_embeddings import InvalidInputError, Usage
from jina_embeddings.integration import API_KEY_ENV_VARS, Kind, OptionSpec, adapter_options, learned_ranges

__all__ = [
    "API_KEY_ENV_VARS",
    "DocumentTextsMixin",
    "JinaComponent",
    "document_texts",
    "naming_documents",
    "result_meta",
]

#: Haystack's words for core options (jina-haystack and Haystack's own components use them).
_HAYSTACK_NAMES = {"show_progress": "progress_bar", "top_n": "top_k"}


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
            raise InvalidInputError(
                "device maps are not supported; pass a single device such as "
                "ComponentDevice.from_str('cuda:0').",
                field="device",
            )
        return device.to_torch_str()
    raise InvalidInputError(
        f"device must be a ComponentDevice, a string or None, got {type(device).__name__}.", field="device"
    )


def _json_ranges(ranges: Any) -> list[list[float]] | None:
    """int8/uint8 calibration ranges as nested lists (numpy arrays are not JSON)."""
    if ranges is None:
        return None
    return [[float(x) for x in row] for row in (ranges.tolist() if hasattr(ranges, "tolist") else ranges)]


def result_meta(model: str, usage: Usage) -> dict[str, Any]:
    """``meta`` output, shaped like the Jina API's (and jina-haystack's): model and token usage."""
    return {
        "model": model,
        "usage": {"prompt_tokens": usage.prompt_tokens, "total_tokens": usage.total_tokens},
    }


def document_texts(
    documents: Any,
    *,
    component: str,
    meta_fields: Sequence[str] = (),
    separator: str = "\n",
    prefix: str = "",
    suffix: str = "",
) -> list[str]:
    """The text the model sees for each document: ``prefix`` + meta values + content + ``suffix``.

    Meta values come first, joined by ``separator`` with the content (Haystack's convention);
    missing and ``None`` values are skipped.

    Raises:
        TypeError: ``documents`` is not a list of :class:`~haystack.Document`.
        InvalidInputError: a document has no text (``content is None``, e.g. an image-only
            document): refused and named, rather than embedded as an empty string.
    """
    if not isinstance(documents, list) or not all(isinstance(d, Document) for d in documents):
        raise TypeError(
            f"{component} expects a list of Documents as input. To embed a single string, "
            "use JinaTextEmbedder."
        )
    texts = []
    for i, doc in enumerate(documents):
        if doc.content is None:
            raise InvalidInputError(
                f"Document {doc.id!r} (index {i}) has no text content (content is None); "
                f"{component} needs text. Remove it or give it content.",
                index=i,
                field="documents",
            )
        values = [str(doc.meta[key]) for key in meta_fields if doc.meta.get(key) is not None]
        texts.append(prefix + separator.join([*values, doc.content]) + suffix)
    return texts


def in_haystack_words(err: InvalidInputError) -> InvalidInputError:
    """The core's error about ``top_n`` / ``show_progress`` as the component's ``top_k`` /
    ``progress_bar``, so the message names the parameter the user actually passed."""
    name = _HAYSTACK_NAMES.get(err.field or "")
    if name is None:
        return err
    message = re.sub(rf"\b{err.field}\b", name, str(err))
    translated = InvalidInputError(message, index=err.index, field=name)
    translated.__cause__ = err
    return translated


@contextmanager
def haystack_errors() -> Iterator[None]:
    """Re-raise core input errors in Haystack's words (see :func:`in_haystack_words`)."""
    try:
        yield
    except InvalidInputError as err:
        translated = in_haystack_words(err)
        if translated is err:
            raise
        raise translated from err


@contextmanager
def naming_documents(documents: Sequence[Document]) -> Iterator[None]:
    """Re-raise the core's per-item input errors naming the Haystack document, not just an index
    (and option errors in Haystack's words)."""
    try:
        with haystack_errors():
            yield
    except InvalidInputError as err:
        if err.index is None or not 0 <= err.index < len(documents):
            raise
        raise InvalidInputError(
            f"Document {documents[err.index].id!r}: {err}", index=err.index, field=err.field
        ) from err


class DocumentTextsMixin:
    """``_texts(documents)`` for document embedders, from their Haystack-style settings
    (``meta_fields_to_embed``, ``embedding_separator``, ``prefix``, ``suffix``)."""

    meta_fields_to_embed: list[str]
    embedding_separator: str
    prefix: str
    suffix: str

    def _texts(self, documents: list[Document]) -> list[str]:
        return document_texts(
            documents,
            component=type(self).__name__,
            meta_fields=self.meta_fields_to_embed,
            separator=self.embedding_separator,
            prefix=self.prefix,
            suffix=self.suffix,
        )


class JinaComponent:
    """Base of the three components: options from the core's table, the core object, (de)serialization.

    Subclasses set ``_core_class``, ``_kind`` (``"embedding"`` / ``"reranker"``), optionally
    ``_exclude`` (core options that make no sense for them) and ``_haystack_defaults`` (core
    name -> Haystack default, where Haystack's convention differs), declare their
    Haystack-specific parameters explicitly followed by ``**options``, and call
    :meth:`_remember` with ``locals()``.
    """

    _core_class: ClassVar[type]
    _kind: ClassVar[Kind]
    _exclude: ClassVar[tuple[str, ...]] = ()
    _haystack_defaults: ClassVar[dict[str, Any]] = {}
    #: this component's parameter name -> the core's (only the options taken from the table)
    _core_names: ClassVar[dict[str, str]]

    # Set by _remember from __init__'s arguments (the other options are read by name).
    model: str
    backend: str | None
    api_key: Secret | None
    device: str | None
    quantization_ranges: list[list[float]] | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        explicit = inspect.signature(cls.__init__)
        params = [p for p in explicit.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        options = adapter_options(cls._kind, exclude=cls._exclude, defaults=cls._haystack_defaults)
        cls._core_names = {}
        for option in options:
            name = _HAYSTACK_NAMES.get(option.name, option.name)
            cls._core_names[name] = option.name
            if name not in explicit.parameters:
                params.append(_parameter(name, option))
        cls.__init__.__signature__ = explicit.replace(parameters=params)  # type: ignore[attr-defined]

    def _remember(self, arguments: dict[str, Any]) -> None:
        """Keep each ``__init__`` argument as an attribute (JSON-serializable), then validate."""
        signature = inspect.signature(type(self).__init__)
        options = arguments.pop("options", {})
        unknown = sorted(set(options) - set(signature.parameters))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected keyword argument(s): {', '.join(unknown)}"
            )
        for name, param in signature.parameters.items():
            if name != "self":
                setattr(
                    self, name, arguments[name] if name in arguments else options.get(name, param.default)
                )
        self.model = str(self.model)
        self.device = device_to_str(getattr(self, "device", None))
        if hasattr(self, "quantization_ranges"):
            self.quantization_ranges = _json_ranges(self.quantization_ranges)
        self._core: Any = None
        self._core_lock = threading.Lock()
        self._validate()

    def _validate(self) -> None:
        """Check every setting now by building a core object (cheap: it loads and sends nothing)
        and dropping it: the key is read when the pipeline warms up (Haystack's way), so a strict
        env-var key that is not set yet stands in as a placeholder here."""
        kwargs = self._core_kwargs(resolve_key=False)
        with haystack_errors():
            self._core_class(**kwargs)

    # -- the core object ------------------------------------------------------------------
    def _core_kwargs(self, *, resolve_key: bool = True) -> dict[str, Any]:
        kwargs = {core: getattr(self, name) for name, core in self._core_names.items()}
        kwargs.update(model=self.model, backend=self.backend, api_key=self._key(resolve_key))
        return kwargs

    def _key(self, resolve: bool) -> str | None:
        if self.api_key is None:
            return None
        try:
            return self.api_key.resolve_value()
        except ValueError:  # a strict env var that is not set
            if resolve:
                raise
            return "unresolved-until-warm-up"

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
        params = {name: getattr(self, name) for name in _init_names(type(self))}
        if "quantization_ranges" in params and params["quantization_ranges"] is None:
            # int8/uint8 ranges learned from the documents travel with the pipeline YAML
            params["quantization_ranges"] = learned_ranges(self._core)
        return default_to_dict(self, **params)

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


def _parameter(name: str, option: OptionSpec) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=option.default, annotation=option.annotation
    )


def _init_names(cls: type) -> tuple[str, ...]:
    """The ``__init__`` parameter names (generated signature: explicit ones, then the options)."""
    return tuple(n for n in inspect.signature(cls.__init__).parameters if n != "self")  # type: ignore[misc]
