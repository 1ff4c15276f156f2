"""``JinaEmbedding``: a LlamaIndex ``BaseEmbedding`` over the ``jina_embeddings`` core.

It only translates LlamaIndex calls into core calls: query methods embed with the query role,
text methods with the document role, and the core does the rest (task mapping per model,
batching, retries, bounded concurrency, Matryoshka cut, quantization). Batch calls, sync and
async, hand all texts to the core at once (see :mod:`._events` for why and what is kept).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import llama_index.core.instrumentation as instrument
from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr

from jina_embeddings import DEFAULT_BATCH_SIZES, DEFAULT_MODEL, Embedder, InvalidInputError
from jina_embeddings.integration import KeyRef, learned_ranges, resolve_api_key

from ._client_cache import ClientCache, ClosesClients
from ._events import ChunkEvents
from ._options import core_kwargs, core_option_fields

__all__ = ["DEFAULT_EMBED_BATCH_SIZES", "JinaEmbedding"]

dispatcher = instrument.get_dispatcher(__name__)

#: ``embed_batch_size`` when none is given, by resolved backend (the core's own defaults):
#: local, what one forward pass holds comfortably on a CPU or small GPU; Jina API, a request
#: size that keeps a corpus to few round trips, far below the API's 2048-input cap;
#: OpenAI-compatible servers, TEI's default per-request limit (``max_client_batch_size``).
DEFAULT_EMBED_BATCH_SIZES = DEFAULT_BATCH_SIZES  # the core's per-backend defaults, one source


# batch_size is LlamaIndex's embed_batch_size (BaseEmbedding's own field, default by backend).
_EXCLUDE = ("batch_size",)
_EmbeddingFields = core_option_fields("_EmbeddingFields", "embedding", base=BaseEmbedding, exclude=_EXCLUDE)


class JinaEmbedding(_EmbeddingFields, ClosesClients):  # type: ignore[misc,valid-type]
    """Jina embeddings for LlamaIndex, locally or through the Jina API, right task per role.

    A drop-in for ``llama_index.embeddings.jinaai.JinaEmbedding`` (change the import): queries
    are embedded as queries (``retrieval.query``) and nodes as documents
    (``retrieval.passage``) by one object; the key is read from ``api_key=``, ``JINA_API_KEY``
    or ``JINAAI_API_KEY`` and never appears in ``to_dict()``, ``to_json()``, ``to_payload()``,
    ``repr`` or pickles; async batches keep to ``max_concurrency`` requests in flight.

    Args:
        model: registry name, Hugging Face repo id or local model folder (``model_name`` is
            accepted as an alias and always mirrors it).
        api_key: Jina API key; default ``JINA_API_KEY``, then ``JINAAI_API_KEY``. Not stored
            in any serialized form: after ``from_dict`` or unpickling it is read from the
            environment again.
        **kwargs: any field below, plus LlamaIndex's ``callback_manager``,
            ``embeddings_cache`` and ``rate_limiter``.

    Example::

        from llama_index.core import Settings, VectorStoreIndex
        from llama_index_jina_embeddings import JinaEmbedding

        Settings.embed_model = JinaEmbedding(task="retrieval", dimensions=256)  # API if a key is set
        index = VectorStoreIndex.from_documents(documents)
        nodes = index.as_retriever(similarity_top_k=5).retrieve("capital of Germany?")

    Changing a field after construction is honoured: the next call builds a new core client.
    """

    model_config = ConfigDict(extra="forbid", protected_namespaces=("pydantic_model_",))

    model: str = Field(default=DEFAULT_MODEL, description="Model name, repo id or local folder.")
    embed_batch_size: int = Field(
        default=DEFAULT_EMBED_BATCH_SIZES["local"],
        description="Texts per forward pass / HTTP request (the core's batch_size); also the "
        "size of the chunks LlamaIndex reports in its embedding events. Default by backend: "
        "32 local, 128 API.",
    )
    num_workers: int | None = Field(
        default=None,
        description="Accepted for compatibility and ignored: async batches are bounded by "
        "max_concurrency in the core, not by LlamaIndex workers.",
    )
    _secret: KeyRef = PrivateAttr(default_factory=KeyRef)
    _clients: ClientCache[Embedder] = PrivateAttr(default_factory=ClientCache)  # by show_progress

    def __init__(
        self, model: str | os.PathLike[str] | None = None, *, api_key: Any = None, **kwargs: Any
    ) -> None:
        _migrate_encodings(kwargs)
        chosen = _choose_model(model, kwargs.pop("model_name", None))
        default_batch = "embed_batch_size" not in kwargs
        super().__init__(model=chosen, model_name=chosen, **kwargs)
        self._secret = KeyRef(resolve_api_key(api_key) if api_key is not None else None)
        try:
            client = self._client()  # validates every option now, loads and sends nothing
        except InvalidInputError as err:
            if err.field != "batch_size":
                raise
            # the core's batch_size is LlamaIndex's embed_batch_size: name what the user passed
            raise InvalidInputError(
                str(err).replace("batch_size", "embed_batch_size"), index=err.index, field="embed_batch_size"
            ) from err
        if default_batch:  # depends on the backend the core chose; the client follows on next use
            self.embed_batch_size = DEFAULT_EMBED_BATCH_SIZES[client.backend_name]

    @classmethod
    def class_name(cls) -> str:
        """``"JinaEmbedding"``, not the old integration's ``"JinaAIEmbedding"``.

        ``class_name`` keys serialized configs; a different key keeps a dict written by one
        implementation from being loaded as the other (their fields differ).
        """
        return "JinaEmbedding"

    # -- the core client ----------------------------------------------------------------------
    def _core_options(self, show_progress: bool) -> dict[str, Any]:
        return {
            **core_kwargs(self, "embedding", exclude=_EXCLUDE),
            "model": self.model,
            "batch_size": self.embed_batch_size,
            "show_progress": self.show_progress or show_progress,
        }

    def _client(self, show_progress: bool = False) -> Embedder:
        """The core ``Embedder`` for the current fields (rebuilt if a field changed).

        A call asking for a progress bar gets a second client that shares the loaded weights
        (the core caches them by settings), so switching bars on and off reloads nothing.
        """
        options = self._core_options(show_progress)
        return self._clients.get(
            options["show_progress"], options, lambda: Embedder(**options, api_key=self._secret.key)
        )

    @property
    def client(self) -> Embedder:
        """The core :class:`jina_embeddings.Embedder` behind this object (for ``warm_up`` etc.)."""
        return self._client()

    def to_dict(self, **kwargs: Any) -> dict[str, Any]:
        """LlamaIndex's dict, plus int8/uint8 ranges learned from the documents (none were given),
        so ``from_dict`` gives an object that embeds queries with the same ranges."""
        data = super().to_dict(**kwargs)
        ranges = learned_ranges(self._client())
        if ranges is not None:
            data["quantization_ranges"] = ranges
        return data

    def to_payload(self) -> dict[str, Any]:
        """Observability dict (never credentials): LlamaIndex's plus backend, task and shape."""
        client = self._client()
        return {
            **super().to_payload(),
            "backend": client.backend_name,
            "task": client.task,
            "dimensions": client.dimensions,
            "precision": self.precision,
        }

    # -- LlamaIndex hooks: queries as queries, everything else as documents -------------------
    def _get_query_embedding(self, query: str) -> Embedding:
        return self._client().embed_query(query).to_float_lists()[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._client().aembed_query(query)).to_float_lists()[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._get_text_embeddings([text])[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aget_text_embeddings([text]))[0]

    def _get_text_embeddings(self, texts: list[str], show_progress: bool = False) -> list[Embedding]:
        return self._client(show_progress).embed_documents(texts).to_float_lists()

    async def _aget_text_embeddings(self, texts: list[str], show_progress: bool = False) -> list[Embedding]:
        return (await self._client(show_progress).aembed_documents(texts)).to_float_lists()

    # -- batches: one core call, LlamaIndex's per-chunk events kept ---------------------------
    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Embed ``texts`` (document role) in one core call; events per ``embed_batch_size`` chunk."""
        texts = list(texts)
        with ChunkEvents(self, texts, dispatcher) as events:
            if self.rate_limiter is not None:
                for _ in events.chunks:
                    self.rate_limiter.acquire()
            if self.embeddings_cache:
                events.done(self._get_text_embeddings_cached(texts))
            else:
                events.done(self._get_text_embeddings(texts, show_progress))
        return events.embeddings

    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Async :meth:`get_text_embedding_batch`: at most ``max_concurrency`` requests in flight.

        LlamaIndex's own version gathers one coroutine per chunk with no bound unless
        ``num_workers`` is set; here the core receives all texts and bounds the fan-out.
        """
        texts = list(texts)
        with ChunkEvents(self, texts, dispatcher) as events:
            if self.rate_limiter is not None:
                for _ in events.chunks:
                    await self.rate_limiter.async_acquire()
            if self.embeddings_cache:
                events.done(await self._aget_text_embeddings_cached(texts))
            else:
                events.done(await self._aget_text_embeddings(texts, show_progress))
        return events.embeddings


_ENCODINGS = {"float": "float32", "binary": "binary", "ubinary": "ubinary"}


def _migrate_encodings(kwargs: dict[str, Any]) -> None:
    """``encoding_queries`` / ``encoding_documents`` (llama-index-embeddings-jinaai) -> ``precision``.

    One precision serves both sides (query and document vectors must be compared in the same
    space), so the two must agree; ``float`` means ``float32``.
    """
    given = {k: kwargs.pop(k) for k in ("encoding_queries", "encoding_documents") if k in kwargs}
    if not given:
        return
    warnings.warn(
        f"{' and '.join(given)} are the old llama-index-embeddings-jinaai names; use precision= "
        "(float32, float16, int8, uint8, binary, ubinary), which applies to queries and documents alike.",
        DeprecationWarning,
        stacklevel=3,
    )
    unknown = {k: v for k, v in given.items() if v not in _ENCODINGS}
    if unknown:
        name, value = next(iter(unknown.items()))
        raise InvalidInputError(f"{name} must be one of {', '.join(_ENCODINGS)}, got {value!r}.", field=name)
    wanted = {_ENCODINGS[v] for v in given.values()}
    if "precision" in kwargs:
        wanted.add(kwargs["precision"])
    if len(wanted) > 1:
        raise InvalidInputError(
            f"{', '.join(f'{k}={v!r}' for k, v in given.items())} disagree"
            + (f" with precision={kwargs['precision']!r}" if "precision" in kwargs else "")
            + ": queries and documents must be embedded in one precision to be compared.",
            field=next(iter(given)),
        )
    kwargs["precision"] = wanted.pop()


def _choose_model(model: str | os.PathLike[str] | None, model_name: str | None) -> str:
    """``model`` wins; ``model_name`` (LlamaIndex's usual word, and what to_dict writes) is an alias."""
    if model is not None and model_name is not None and os.fspath(model) != model_name:
        raise InvalidInputError(
            f"model={os.fspath(model)!r} and model_name={model_name!r} disagree; pass one of them.",
            field="model",
        )
    chosen = model if model is not None else model_name
    return os.fspath(chosen) if chosen is not None else DEFAULT_MODEL
