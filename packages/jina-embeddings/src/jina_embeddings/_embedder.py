"""``Embedder``: the public object every adapter calls.

It validates input, maps the caller's role to the model's task mechanism, hands a request
to a backend (local model, Jina API, OpenAI-compatible server or the deterministic fake),
and post-processes the vectors the same way for all of them: Matryoshka cut, renormalize,
quantize. Sync and async share everything but the one backend call.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from typing_extensions import Unpack

from . import _calibration
from ._backends.base import BackendOutput, BackendPartialFailure, EmbedRequest
from ._frontend import Frontend, logger, signature_with_options
from ._late_chunking import LateChunkingMixin, flat_late_chunking_error
from .errors import InvalidInputError, PartialBatchError

if TYPE_CHECKING:
    import httpx
from ._images import Image, ImageLike, as_images, check_inputs
from ._options import EmbedderOptions, EmbedOptions
from ._quantize import BIT_PRECISIONS, SCALAR_PRECISIONS, learn_ranges, quantize, truncate_and_normalize
from ._results import Embeddings, Usage
from ._tasks import Role, TaskAliasWarning, TaskBinding, api_task_alias, resolve
from ._validation import certain_tokens, check_text

__all__ = ["DEFAULT_MODEL", "Embedder", "TruncationWarning"]

DEFAULT_MODEL = "jina-embeddings-v5-text-small"


class TruncationWarning(UserWarning):
    """Some inputs were longer than the model's context and were cut (shown once per Embedder)."""


class Embedder(LateChunkingMixin, Frontend):
    """Embed texts with a Jina model, locally or through a server, with the right task per role.

    Args:
        model: registry name (``jina-embeddings-v5-text-small``), Hugging Face repo id, or a
            local folder (a Jina v5-style folder with ``adapters/<task>/``, or any
            sentence-transformers folder).
        backend: ``"local"``, ``"api"`` (Jina API or a Jina-compatible server),
            ``"openai"`` (OpenAI-compatible ``/v1/embeddings``: vLLM, TEI, llama.cpp,
            Infinity) or ``"fake"`` (deterministic, offline, for your own tests).
            ``None``: ``api`` if ``base_url`` or an API key is given, else ``local``.
        task, dimensions, precision, normalize, truncate, batch_size, show_progress,
            quantization_ranges, late_chunking: see :class:`~jina_embeddings.EmbedOptions`.
        device, dtype, trust_remote_code, merge_adapters, cache_folder, revision,
            local_files_only, late_chunking_window, late_chunking_overlap,
            force_late_chunking: local backend, see :class:`~jina_embeddings.LocalOptions`.
        api_key: the key for remote backends: ``api_key=``, else ``JINA_API_KEY``, else
            ``JINAAI_API_KEY``. Never shown, logged or pickled.
        base_url, timeout, connect_timeout, max_retries, max_concurrency, max_batch_chars,
            allow_insecure, served_model_name, server_dimensions: remote backends, see
            :class:`~jina_embeddings.RemoteOptions`.
        transport, async_transport: ``httpx`` transports that replace the network (e.g.
            ``httpx.MockTransport`` in your tests, or a transport with your proxy settings).

    Example::

        from jina_embeddings import Embedder

        emb = Embedder("jina-embeddings-v5-text-small", task="retrieval", dimensions=256)
        docs = emb.embed_documents(["Berlin is the capital of Germany.", "Paris is in France."])
        q = emb.embed_query("capital of Germany?")
        scores = docs.vectors @ q.vectors[0]        # unit vectors: dot product = cosine

    Late chunking (each chunk embedded with its whole document as context) is
    :meth:`embed_chunks` / :meth:`embed_chunked` (see :mod:`jina_embeddings._late_chunking`).

    Nothing is loaded or sent when the object is created: the local model loads on first
    use or on :meth:`warm_up`; remote connections open on the first request.
    """

    _kind = "embedding"
    _options_class = EmbedOptions
    options: EmbedOptions

    def __init__(
        self,
        model: str | Path = DEFAULT_MODEL,
        *,
        backend: str | None = None,
        api_key: Any = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        **options: Unpack[EmbedderOptions],
    ) -> None:
        super().__init__(
            model,
            backend=backend,
            api_key=api_key,
            options=options,
            transport=transport,
            async_transport=async_transport,
        )
        self._learned_ranges: np.ndarray | None = None
        self._warned_truncation = False
        self._alias_warned = False
        self._log_created()

    def _check_own_options(self, options: Any) -> EmbedOptions:
        alias = api_task_alias(self.spec, options.task) if isinstance(options.task, str) else None
        self._alias = (options.task, alias[1]) if alias is not None and alias[1] is not None else None
        return options.for_model(
            self.spec, self._row, force_late_chunking=self.local_options.force_late_chunking
        )

    # -- public API ---------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.spec.name

    @property
    def task(self) -> str | None:
        return self.options.task

    @property
    def dimensions(self) -> int | None:
        """Output size (``dimensions`` if set, else the model's native size, if known)."""
        return self.options.dimensions or self.spec.native_dim

    @property
    def quantization_ranges(self) -> np.ndarray | None:
        """int8/uint8 calibration in use: given; else learned from this object's first document
        batch (or :meth:`calibrate`); else learned by another object of this process with the
        same model, backend, task, dimensions and normalization (e.g. the indexing side of a
        pipeline, for the query side)."""
        given = self.options.quantization_ranges
        if given is not None:
            return given
        return (
            self._learned_ranges
            if self._learned_ranges is not None
            else _calibration.lookup(self._ranges_key)
        )

    @property
    def _ranges_key(self) -> _calibration.RangesKey:
        o = self.options
        return (self.spec.name, self.spec.path, self.backend_name, o.task, o.dimensions, o.normalize)

    def warm_up(self) -> None:
        """Load the model for this Embedder's task now (local), or open the connection pool."""
        self._backend.warm_up(task=self.task)

    def embed(self, texts: Sequence[str | Image], *, role: Role | str = Role.DOCUMENT) -> Embeddings:
        """Embed ``texts`` for ``role`` (``"document"`` or ``"query"``), in input order.

        Items are texts or :class:`~jina_embeddings.Image` objects (multimodal models); a
        bare ``str`` is always text.

        Raises:
            InvalidInputError: a bad text (named by index) or option, before any model call.
            APIError: a remote failure after retries (see :mod:`jina_embeddings.errors`).
        """
        request = self._request(texts, role)
        if not request.texts:
            return self._empty(request)
        with self._finishing_partial(request):
            return self._finish(request, self._backend.embed(request))

    async def aembed(self, texts: Sequence[str | Image], *, role: Role | str = Role.DOCUMENT) -> Embeddings:
        """Async :meth:`embed`: remote backends use async HTTP; local runs in a worker thread."""
        request = self._request(texts, role)
        if not request.texts:
            return self._empty(request)
        with self._finishing_partial(request):
            return self._finish(request, await self._backend.aembed(request))

    def embed_images(self, images: Sequence[ImageLike], *, role: Role | str = Role.DOCUMENT) -> Embeddings:
        """Embed images (documents by default): paths (``str``/``Path``), ``http(s)`` URLs,
        ``data:`` URIs, bytes, binary files, PIL images or :class:`~jina_embeddings.Image`.

        The role picks the task as for text (v4 documents: ``retrieval.passage``). Every image
        is checked before any model call or request (see :mod:`jina_embeddings._images`).
        """
        return self.embed(as_images(images), role=role)

    async def aembed_images(
        self, images: Sequence[ImageLike], *, role: Role | str = Role.DOCUMENT
    ) -> Embeddings:
        """Async :meth:`embed_images`."""
        return await self.aembed(as_images(images), role=role)

    def embed_documents(self, texts: Sequence[str]) -> Embeddings:
        """Embed a corpus (document role)."""
        return self.embed(texts, role=Role.DOCUMENT)

    def embed_query(self, text: str) -> Embeddings:
        """Embed one query (query role); ``result.vectors[0]`` is the vector."""
        return self.embed([check_text(text, what="query")], role=Role.QUERY)

    def embed_queries(self, texts: Sequence[str]) -> Embeddings:
        """Embed several queries (query role)."""
        return self.embed(texts, role=Role.QUERY)

    async def aembed_documents(self, texts: Sequence[str]) -> Embeddings:
        return await self.aembed(texts, role=Role.DOCUMENT)

    async def aembed_query(self, text: str) -> Embeddings:
        return await self.aembed([check_text(text, what="query")], role=Role.QUERY)

    async def aembed_queries(self, texts: Sequence[str]) -> Embeddings:
        return await self.aembed(texts, role=Role.QUERY)

    def calibrate(self, texts: Sequence[str]) -> np.ndarray:
        """Learn int8/uint8 ranges from a sample of documents and keep them for all later calls.

        Returns the (2, dimensions) ranges; save them and pass ``quantization_ranges=`` to
        reuse them in another process.
        """
        request = self._request(texts, Role.DOCUMENT, calibrating=True)
        vectors = self._float_vectors(request, self._backend.embed(request))
        ranges = learn_ranges(vectors)
        with self._lock:
            self._learned_ranges = ranges
        _calibration.keep(self._ranges_key, ranges)
        return ranges

    # -- shared by sync and async ---------------------------------------------------------
    def _request(
        self,
        texts: Sequence[str | Image],
        role: Role | str,
        *,
        calibrating: bool = False,
        chunk_counts: tuple[int, ...] | None = None,
    ) -> EmbedRequest:
        items = check_inputs(texts, spec=self.spec, row=self._row)
        binding = resolve(self.spec, self.options.task, role)
        if self._alias is not None and self._alias[1] is not binding.role:
            self._warn_alias_side(binding)
        opts = self.options
        if (
            opts.late_chunking
            and items
            and chunk_counts is None
            and binding.role is Role.DOCUMENT
            and not calibrating
        ):
            raise flat_late_chunking_error()  # no document boundaries: see embed_chunks
        precision = "float32" if calibrating else opts.precision
        if precision in SCALAR_PRECISIONS and items and self.quantization_ranges is None:
            if binding.role is Role.QUERY:
                raise InvalidInputError(
                    f"precision={precision!r} needs calibration ranges for queries: embed "
                    "documents first, call calibrate(texts), or pass quantization_ranges=. "
                    "Ranges from a single query would be meaningless.",
                    field="quantization_ranges",
                )
            if len(items) < 2:
                raise InvalidInputError(
                    f"precision={precision!r} learns its calibration ranges from the first "
                    "document batch, which needs at least 2 texts; call calibrate(texts) or pass "
                    "quantization_ranges=.",
                    field="quantization_ranges",
                )
        if not opts.truncate and chunk_counts is None:  # late chunking windows long documents
            self._refuse_certainly_too_long(items)
        return EmbedRequest(
            texts=items,
            binding=binding,
            dimensions=opts.dimensions,
            precision=precision,
            normalize=opts.normalize,
            truncate=opts.truncate,
            batch_size=opts.batch_size,
            show_progress=opts.show_progress,
            late_chunking=chunk_counts is not None,
            chunk_counts=chunk_counts,
        )

    def _refuse_certainly_too_long(self, texts: list[Any]) -> None:
        """With ``truncate=False``, refuse on every backend alike a text that cannot fit.

        Each whitespace-separated word holding a letter, number, punctuation mark or symbol is
        at least one token (:func:`certain_tokens`), so more such words than the model's context
        is over the limit for sure; this needs no tokenizer, so local and remote
        backends raise the same error before any model call or request. Texts near the limit
        are left to the exact check (local) or the server (remote).
        """
        limit = self.spec.max_tokens
        for i, text in enumerate(texts):
            if isinstance(text, str) and len(text) > limit and (words := certain_tokens(text)) > limit:
                raise InvalidInputError(
                    f"text at index {i} has at least {words} tokens ({words} words), over "
                    f"{self.spec.name}'s limit of {limit} tokens; shorten it or pass truncate=True.",
                    index=i,
                    field="truncate",
                )

    def _empty(self, request: EmbedRequest) -> Embeddings:
        dims = self.dimensions or 0
        width = (dims + 7) // 8 if request.precision in BIT_PRECISIONS else dims
        empty = quantize(
            np.zeros((0, dims), np.float32), request.precision, np.zeros((2, dims), np.float32)
        ).reshape(0, width)
        return Embeddings(
            vectors=empty,
            model=self.spec.name,
            usage=Usage(0, 0),
            precision=request.precision,
            dimensions=dims,
            task=request.binding.task,
            role=request.binding.role.value,
            binding=request.binding,
        )

    def _float_vectors(self, request: EmbedRequest, out: BackendOutput) -> np.ndarray:
        vectors = np.asarray(out.vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(request.texts):
            raise RuntimeError(
                f"backend {self.backend_name!r} returned {vectors.shape} for {len(request.texts)} texts"
            )  # a backend bug, never user input
        if out.dimensions_applied:
            return vectors
        return truncate_and_normalize(vectors, request.dimensions, request.normalize)

    def _finish(self, request: EmbedRequest, out: BackendOutput) -> Embeddings:
        if out.precision == request.precision and out.precision in BIT_PRECISIONS:
            vectors = np.asarray(out.vectors)  # quantized by the server, already cut
            dims = request.dimensions or vectors.shape[1] * 8
        else:
            floats = self._float_vectors(request, out)
            dims = floats.shape[1]
            vectors = quantize(floats, request.precision, self._ranges_for(request, floats))
        if out.truncated:
            self._warn_truncation(out.truncated, len(request.texts))
        b = request.binding
        logger.debug(
            "embedded %d texts: model=%s backend=%s role=%s task=%s adapter=%s prompt=%r api_task=%s "
            "dimensions=%s precision=%s truncated=%d",
            len(request.texts),
            out.model,
            self.backend_name,
            b.role.value,
            b.task,
            b.adapter,
            b.prompt,
            b.api_task,
            dims,
            request.precision,
            out.truncated,
        )
        return Embeddings(
            vectors=vectors,
            model=out.model,
            usage=out.usage,
            precision=request.precision,
            dimensions=dims,
            task=b.task,
            role=b.role.value,
            truncated=out.truncated,
            truncated_indices=out.truncated_indices,
            binding=b,
            runtime=out.runtime,
            compute_dtype=out.compute_dtype,
        )

    @contextmanager
    def _finishing_partial(self, request: EmbedRequest) -> Iterator[None]:
        """Turn a backend's partial failure into :class:`PartialBatchError` with FINISHED rows.

        The surviving rows go through :meth:`_finish`, the same path as a full success, so
        they have the requested width and precision (a recovery recipe that stores them next
        to the retried ones never mixes raw floats into a binary or int8 index).
        """
        try:
            yield
        except BackendPartialFailure as failure:
            survivors = [i for i in range(len(request.texts)) if i not in set(failure.failed_indices)]
            finished = self._finish(
                replace(request, texts=[request.texts[i] for i in survivors]), failure.output
            )
            vectors: list[np.ndarray | None] = [None] * len(request.texts)
            for i, row in zip(survivors, finished.vectors, strict=True):
                vectors[i] = row
            raise PartialBatchError(
                f"{failure.message} The other vectors are in .vectors (None where failed, the rest "
                f"{finished.precision}, {finished.dimensions} dimensions); retry the texts in .failed_indices.",
                vectors=vectors,
                failed_indices=failure.failed_indices,
                errors=failure.errors,
            ) from failure.cause

    def _ranges_for(self, request: EmbedRequest, floats: np.ndarray) -> np.ndarray | None:
        if request.precision not in SCALAR_PRECISIONS:
            return None
        with self._lock:
            ranges = self.quantization_ranges
            if ranges is None:  # first document batch (checked in _request): learn and keep
                ranges = self._learned_ranges = _calibration.keep(self._ranges_key, learn_ranges(floats))
        return ranges

    def _warn_alias_side(self, binding: TaskBinding) -> None:
        """``task="retrieval.passage"`` on a query call (or the reverse): say which side is used."""
        given, _ = self._alias  # type: ignore[misc]
        with self._lock:
            if self._alias_warned:
                return
            self._alias_warned = True
        warnings.warn(
            f"task={given!r} names the other side, but this call embeds {binding.role.value}s: it uses "
            f"the {binding.role.value} side ({binding.api_task or binding.prompt!r}). Pass "
            f"task={binding.task!r} and let each call's role pick the side.",
            TaskAliasWarning,
            stacklevel=4,
        )

    def _warn_truncation(self, count: int, total: int) -> None:
        with self._lock:
            if self._warned_truncation:
                return
            self._warned_truncation = True
        warnings.warn(
            f"{count} of {total} texts were longer than {self.spec.name}'s context "
            f"({self.spec.max_tokens} tokens) and were truncated; results count them in "
            "Embeddings.truncated. Pass truncate=False to get an error instead. "
            "(Shown once per Embedder.)",
            TruncationWarning,
            stacklevel=3,
        )

    def _describe(self) -> dict[str, Any]:
        opts = self.options
        return {
            **super()._describe(),
            "task": opts.task,
            "dimensions": opts.dimensions,
            "precision": opts.precision,
        }


Embedder.__init__.__signature__ = signature_with_options(Embedder.__init__, "embedding")  # type: ignore[attr-defined]
