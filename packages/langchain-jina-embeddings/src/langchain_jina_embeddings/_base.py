"""What ``JinaEmbeddings`` and ``JinaRerank`` share: pydantic config, options, key handling.

Both are frozen pydantic models holding one core client (``Embedder`` / ``Reranker``) that
is built from the fields when the object is created. Every field has the name of the core
keyword it feeds, so the translation is ``{name: getattr(self, name)}`` and all validation
happens once, in the core. Building the client is cheap (no model load, no request), so a
bad option fails at construction with the core's ``InvalidInputError``.

Why frozen: the core client is built from the fields; a field changed afterwards would
leave it stale. ``model_copy(update=...)`` builds a new, validated object instead.

The options are not restated here: :func:`option_fields` generates the pydantic fields
(name, type, default, description) from the core's option table, so LangChain shows exactly
the core's options under the core's names.

The API key (``SecretStr``) never leaves the process: ``repr`` masks it, ``dumpd`` writes
a secret reference (``JINA_API_KEY``) in its place, and pickles never hold it. Pickling
follows the core's one rule (:class:`jina_embeddings.integration.KeyRef`, carried by the core
object, which pickles itself with its backend and learned calibration): a key that came from
the environment is read from it again on unpickling; a key passed as an argument stays behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

from langchain_core.load.serializable import Serializable
from langchain_core.utils import secret_from_env
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, ValidationError, create_model, model_validator
from typing_extensions import Self

from jina_embeddings import JinaError
from jina_embeddings.integration import API_KEY_ENV_VARS, Kind, adapter_options, held_key, pydantic_fields

__all__ = ["JinaModel", "option_fields"]

_key_from_env = secret_from_env(list(API_KEY_ENV_VARS), default=None)


def _core_error(exc: ValidationError) -> JinaError | None:
    """The core's own error, when it is the only reason pydantic rejected the input."""
    errors = exc.errors()
    if len(errors) == 1:
        cause = errors[0].get("ctx", {}).get("error")
        if isinstance(cause, JinaError):
            return cause
    return None


@contextmanager
def _raise_core_errors() -> Iterator[None]:
    try:
        yield
    except ValidationError as exc:
        cause = _core_error(exc)
        if cause is None:
            raise
        raise cause from None


class JinaModel(Serializable):
    """Base of the LangChain classes: shared fields, key handling, copying and pickling.

    Subclasses set ``_core_class`` (the core client type) and declare the remaining core
    options as fields of the same name.
    """

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        protected_namespaces=(),
        frozen=True,
        hide_input_in_errors=True,  # a rejected input could hold the API key
        use_attribute_docstrings=True,
    )

    _core_class: ClassVar[type]
    _core: Any = PrivateAttr(default=None)

    model: str
    """The model (each subclass sets its default); declared here so it comes first."""
    backend: str | None = None
    """``"local"``, ``"api"`` (Jina API or a Jina-compatible server), ``"openai"``
    (OpenAI-compatible server at ``base_url``) or ``"fake"`` (deterministic, offline, for
    tests). ``None``: ``"api"`` if ``base_url`` or an API key is given, else ``"local"``."""

    api_key: SecretStr | None = Field(default_factory=_key_from_env, alias="jina_api_key")
    """Remote: the Jina API key; default ``JINA_API_KEY``, else ``JINAAI_API_KEY``. Also
    accepted as ``jina_api_key`` (the langchain-community name). Never shown or serialized."""

    @property
    def model_name(self) -> str:
        """``model`` under the langchain-community name (read-only, like the field it mirrors)."""
        return self.model

    def __init__(self, **kwargs: Any) -> None:
        """Validate the options and build the core client (nothing is loaded or sent).

        Raises:
            InvalidInputError: a bad option value, from the core, naming the option.
            pydantic.ValidationError: a value of the wrong type or an unknown keyword.
        """
        with _raise_core_errors():
            super().__init__(**kwargs)

    @model_validator(mode="after")
    def _build_core(self) -> Self:
        kwargs = {name: getattr(self, name) for name in type(self).model_fields}
        if "api_key" not in self.model_fields_set:
            kwargs["api_key"] = None  # from the environment, or none: the core reads it itself
        self._core = self._core_class(**kwargs)
        return self

    # -- lifecycle: the core object's --------------------------------------------------------
    def close(self) -> None:
        """Release HTTP connections (remote backends); also done when the object is collected."""
        self._core.close()

    async def aclose(self) -> None:
        """Async :meth:`close` (closes the async connection pool too)."""
        await self._core.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- LangChain serialization (dumpd / load) ---------------------------------------------
    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Yes: ``dumpd`` gives the options, with a ``JINA_API_KEY`` reference for the key."""
        return True

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "JINA_API_KEY"}

    # -- copies share the core client; changed options build a new one ---------------------
    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Copy; with ``update``, a new object validated like one made by the constructor."""
        if not update:
            return super().model_copy(deep=deep)
        values = {name: getattr(self, name) for name in self.model_fields_set}
        return type(self)(**{**values, **update})

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        memo = {} if memo is None else memo
        memo[id(self._core)] = self._core  # immutable settings: the copy shares the client
        return super().__deepcopy__(memo)

    # -- pickling: the key follows the core object's KeyRef rule --------------------------
    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["__dict__"] = {**state["__dict__"], "api_key": None}
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        key = held_key(self._core)  # what the unpickled core object holds: env key re-read, or none
        self.__dict__["api_key"] = SecretStr(key.get_secret_value()) if key is not None else None


def option_fields(
    name: str,
    kind: Kind,
    *,
    base: type,
    exclude: tuple[str, ...] = (),
    defaults: dict[str, Any] | None = None,
) -> Any:
    """A pydantic model class ``name`` on ``base`` with one field per core option of ``kind``."""
    options = adapter_options(kind, exclude=exclude, defaults=defaults)
    return create_model(name, __base__=base, **pydantic_fields(options, field=Field))
