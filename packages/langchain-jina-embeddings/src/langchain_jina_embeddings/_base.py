"""What ``JinaEmbeddings`` and ``JinaRerank`` share: pydantic config, options, key handling.

Both are frozen pydantic models holding one core client (``Embedder`` / ``Reranker``) that
is built from the fields when the object is created. Every field has the name of the core
keyword it feeds, so the translation is ``{name: getattr(self, name)}`` and all validation
happens once, in the core. Building the client is cheap (no model load, no request), so a
bad option fails at construction with the core's ``InvalidInputError``.

Why frozen: the core client is built from the fields; a field changed afterwards would
leave it stale. ``model_copy(update=...)`` builds a new, validated object instead.

The API key (``SecretStr``) never leaves the process: ``repr`` masks it, ``dumpd`` writes
a secret reference (``JINA_API_KEY``) in its place, and pickles never hold it. Pickling
follows the core client's rule (the client pickles itself, keeping its backend and learned
calibration): a key that came from the environment is read from it again on unpickling; a
key passed as an argument stays behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

from langchain_core.load.serializable import Serializable
from langchain_core.utils import secret_from_env
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, ValidationError, model_validator
from typing_extensions import Self

from jina_embeddings import JinaError
from jina_embeddings._apikey import ENV_VARS
from jina_embeddings._options import LocalOptions, RemoteOptions

__all__ = ["LOCAL_DEFAULTS", "REMOTE_DEFAULTS", "JinaModel"]

# Field defaults come from the core's option objects: one source of truth for every adapter.
LOCAL_DEFAULTS = LocalOptions()
REMOTE_DEFAULTS = RemoteOptions()
_key_from_env = secret_from_env(list(ENV_VARS), default=None)


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

    # -- local backend ---------------------------------------------------------------------
    device: str | None = LOCAL_DEFAULTS.device
    """Local: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``; ``None`` = cuda > mps > cpu."""
    dtype: str | None = LOCAL_DEFAULTS.dtype
    """Local: ``"float32"``, ``"float16"``, ``"bfloat16"``; ``None`` = bfloat16 on GPU, float32 on CPU."""
    trust_remote_code: bool | None = LOCAL_DEFAULTS.trust_remote_code
    """Local: run the model repo's own code; ``None`` = the registry's answer for Jina models."""
    cache_folder: str | None = LOCAL_DEFAULTS.cache_folder
    """Local: Hugging Face cache folder; ``None`` = the HF default."""
    revision: str | None = LOCAL_DEFAULTS.revision
    """Local: model revision (branch, tag or commit) of a Hugging Face repo."""
    local_files_only: bool = LOCAL_DEFAULTS.local_files_only
    """Local: never reach the Hugging Face Hub."""

    # -- remote backends -------------------------------------------------------------------
    api_key: SecretStr | None = Field(
        default_factory=_key_from_env, alias="jina_api_key")
    """Remote: the Jina API key; default ``JINA_API_KEY``, else ``JINAAI_API_KEY``. Also
    accepted as ``jina_api_key`` (the langchain-community name). Never shown or serialized."""
    base_url: str | None = REMOTE_DEFAULTS.base_url
    """Remote: server root, e.g. ``http://localhost:8080/v1``; ``None`` = ``https://api.jina.ai/v1``."""
    timeout: float = REMOTE_DEFAULTS.timeout
    """Remote: read/write timeout per request, in seconds."""
    connect_timeout: float = REMOTE_DEFAULTS.connect_timeout
    """Remote: seconds to open a connection."""
    max_retries: int = REMOTE_DEFAULTS.max_retries
    """Remote: retries per request on 408/409/429/5xx and connection errors."""
    max_concurrency: int = REMOTE_DEFAULTS.max_concurrency
    """Remote: requests in flight at once for one call."""
    allow_insecure: bool = REMOTE_DEFAULTS.allow_insecure
    """Remote: allow sending the key over plain ``http://`` to a non-loopback host."""
    served_model_name: str | None = REMOTE_DEFAULTS.served_model_name
    """Remote: the model name the server expects, if not the registry name."""

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

    # -- pickling: like the core client, which pickles itself without the key ---------------
    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["__dict__"] = {**state["__dict__"], "api_key": None}
        state["jina_key_from_env"] = self.api_key is not None and "api_key" not in self.model_fields_set
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        if state.get("jina_key_from_env"):  # read it again, as the core client does
            self.__dict__["api_key"] = _key_from_env()
