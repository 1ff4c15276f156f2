"""``backend="local"``: sentence-transformers (+ peft) on this machine, GPU or CPU.

How a task reaches the model depends on the spec's adapter layout:

* ``peft`` (Jina v5-style folders, ``adapters/<task>/``): the LoRA adapters are attached
  to one copy of the weights and switched with ``set_adapter``.
* ``merge_adapters=True``: one copy of the weights per task with the LoRA merged in (no LoRA
  overhead at inference, no switching); registry v5 models load Jina's published merged
  per-task repos (``...-retrieval`` etc.) instead.
* ``task-kwarg`` (v3, v4, v5 through its own code): the model's ``task=`` encode argument.
* otherwise (merged repos, code models, generic models): prompts only.

Every call runs under one lock per loaded model. ``set_adapter`` is model-global state, and
so is the fast tokenizer's padding/truncation setting, which every tokenizer call rewrites:
two threads sharing a model unlocked get each other's adapter or a broken batch. On CPU the
lock costs nothing (torch already uses every core); on GPU, batch more per call instead.

Nothing is loaded in the constructor: the first ``embed`` (or ``warm_up``) loads, and the
loaded model is shared with every other backend that uses the same settings. The constructor
only checks the device (see :mod:`.loading`).

An adapter that fails to load (missing, truncated or damaged file, tensors of the wrong rank,
an incomplete file) raises :class:`~jina_embeddings.errors.ModelNotFoundError` and leaves the
shared model as it was: the half-loaded adapter is deleted and the previously active one set
again, so other tasks keep their exact vectors and a retry fails the same way.

Cancelling an ``aembed`` (a timeout, a cancelled task) stops the worker thread before its next
batch: a forward pre-hook on the first module checks the call's cancel event, so the model
lock is free for the next call after at most one batch.
"""

from __future__ import annotations

import inspect
import logging
import threading
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal, cast

import anyio.to_thread
import numpy as np

from .. import _constants as C
from .._models import ModelSpec, get_spec
from .._optional import peft_compatibility, require
from .._options import LocalOptions
from .._results import Usage
from .._validation import certain_tokens
from ..errors import InvalidInputError, ModelNotFoundError
from .base import BackendOutput, EmbedRequest
from .coalescing import CancelFlag, PassCancelled, coalesced_encode
from .loading import (
    cache_key,
    captured_warnings,
    check_device_early,
    load_cached,
    load_error,
    loaded_models,
    quiet_progress,
    resolve_device,
    st_load_kwargs,
)
from .local_dtype import dtype_name, settle_dtype
from .local_images import embed_with_images
from .table import BackendConfig

__all__ = ["DEFAULT_BATCH_SIZE", "LocalBackend", "LocalModel", "loaded_models"]

DEFAULT_BATCH_SIZE = C.DEFAULT_LOCAL_BATCH_SIZE
Mode = Literal["peft", "task-kwarg", "plain"]
logger = logging.getLogger("jina_embeddings")
_PEFT_LOGGER = "transformers.integrations.peft"  # logs the LOAD REPORT of load_adapter
# anyio >= 4.1 spells it abandon_on_cancel; 4.0 spelled it cancellable.
_ABANDON = (
    "abandon_on_cancel"
    if "abandon_on_cancel" in inspect.signature(anyio.to_thread.run_sync).parameters
    else "cancellable"
)


class _Cancelled(Exception):
    """The async caller went away: raised before the next batch so the worker thread stops."""


class _CancelSlot:
    """Forward pre-hook: the cancel event of the call holding the model lock (no ref to the model)."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event: CancelFlag | None = None

    def __call__(self, module: Any, args: Any) -> None:
        event = self.event
        if event is not None and event.is_set():
            raise _Cancelled


def _peft_host(st: Any) -> Any:
    """The transformers model that ``st.load_adapter`` loads into (ST >= 5.4: ``st[0].model``)."""
    found = getattr(st, "transformers_model", None)
    if found is None:
        first = st[0]
        found = getattr(first, "model", None) or getattr(first, "auto_model", None)
    return found


def _adapter_state(host: Any) -> tuple[frozenset[str], tuple[str, ...]]:
    """(loaded adapter names, active adapter names) of a transformers model."""
    if host is None or not getattr(host, "_hf_peft_config_loaded", False):
        return frozenset(), ()
    names = frozenset(getattr(host, "peft_config", None) or ())
    try:
        active = tuple(host.active_adapters())
    except (ValueError, AttributeError):
        active = ()
    return names, active


class LocalModel:
    """One loaded ``SentenceTransformer`` and the way its tasks are selected."""

    def __init__(self, st: Any, mode: Mode, spec: ModelSpec) -> None:
        self.st = st
        self.mode = mode
        self.spec = spec
        self.lock = threading.Lock()  # guards tokenizer state, adapter switch and encode
        self._attached: set[str] = set()
        self._active: str | None = None
        self._specials: int | None = None  # special tokens added to every text
        self._broken: str | None = None  # set if a failed adapter load could not be rolled back
        self._cancel = _CancelSlot()
        first: Any = st[0] if hasattr(st, "__getitem__") else None
        if hasattr(first, "register_forward_pre_hook"):  # every batch goes through it
            first.register_forward_pre_hook(self._cancel)

    @property
    def dtype(self) -> str:
        """The weights' dtype as loaded or chosen by ``dtype=None`` (see :mod:`.local_dtype`)."""
        return dtype_name(self.st)

    @property
    def max_seq_length(self) -> int:
        return int(self.st.max_seq_length or self.spec.max_tokens)

    def token_lengths(self, texts: Sequence[str], prompt: str) -> list[int]:
        """Exact token counts (prompt and special tokens included, before truncation).

        The caller holds :attr:`lock`: every tokenizer call rewrites its truncation state.
        """
        encoded = self.st.tokenizer(
            [prompt + t for t in texts], add_special_tokens=True, truncation=False, verbose=False
        )
        return [len(ids) for ids in encoded["input_ids"]]

    def too_long(self, texts: Sequence[str], prompt: str) -> list[int]:
        """Indices of the texts over :attr:`max_seq_length` tokens (caller holds :attr:`lock`).

        Tokenizing everything would cost 1.5-2 % of the encode time, so cheap bounds decide
        most texts: every token covers at least one UTF-8 byte (byte-level BPE, WordPiece,
        SentencePiece), so ``bytes + specials <= limit`` fits; every word with a visible character
        yields at least one token, so ``words + specials > limit`` does not. Only texts between
        the bounds are tokenized.
        """
        if self._specials is None:
            self._specials = self.token_lengths([""], "")[0]
        limit = self.max_seq_length
        fits = limit - self._specials - len(prompt.encode("utf-8"))
        floor = self._specials + len(prompt.split())
        over, unsure = [], []
        for i, text in enumerate(texts):
            if 4 * len(text) <= fits or len(text.encode("utf-8")) <= fits:  # <= 4 bytes per char
                continue
            if certain_tokens(text) + floor > limit:  # words that are certainly a token each
                over.append(i)
            else:
                unsure.append(i)
        if unsure:
            lengths = self.token_lengths([texts[i] for i in unsure], prompt)
            over += [i for i, n in zip(unsure, lengths, strict=True) if n > limit]
        return sorted(over)

    def encode(
        self,
        texts: Sequence[str],
        *,
        adapter: str | None,
        prompt: str,
        batch_size: int,
        show_progress: bool,
        cancel: CancelFlag | None = None,
    ) -> np.ndarray:
        """Encode with ``adapter`` active; the caller holds :attr:`lock`.

        Raises ``_Cancelled`` before the next batch once ``cancel`` is set.
        """
        kwargs: dict[str, Any] = {
            "prompt": prompt or None,
            "batch_size": batch_size,
            "show_progress_bar": show_progress,
            "convert_to_numpy": True,
            "normalize_embeddings": False,
        }
        return self.run_pass(
            lambda st, task_kwargs: st.encode(list(texts), **kwargs, **task_kwargs),
            adapter=adapter,
            show_progress=show_progress,
            cancel=cancel,
        )

    def run_pass(
        self, fn: Any, *, adapter: str | None, show_progress: bool = False, cancel: CancelFlag | None = None
    ) -> Any:
        """``fn(st, task_kwargs)`` with ``adapter`` active (a peft adapter, or ``task=`` for models
        that pick it in their own code): :meth:`encode` and late chunking's token passes. The
        caller holds :attr:`lock`; ``cancel`` raises ``_Cancelled`` before the next batch."""
        kwargs: dict[str, Any] = {}
        if adapter is not None and self.mode == "peft":
            self._activate(adapter, show_progress=show_progress)
        elif adapter is not None and self.mode == "task-kwarg":
            kwargs["task"] = adapter
        self._check_usable()
        self._cancel.event = cancel
        try:
            return fn(self.st, kwargs)
        finally:
            self._cancel.event = None

    def _check_usable(self) -> None:
        if self._broken is not None:
            raise ModelNotFoundError(self._broken, field="model")

    def attach(self, adapter: str, *, show_progress: bool = False) -> None:
        """Load a LoRA adapter from ``adapters/<name>/`` once (caller holds the lock).

        On any failure the model is put back as it was (see the module docstring).

        Raises:
            ModelNotFoundError: the adapter's files are missing, damaged or do not fit the model.
        """
        if adapter in self._attached:
            return
        self._check_usable()
        path = f"{self.spec.path}/adapters/{adapter}"
        host = _peft_host(self.st)
        before = _adapter_state(host)
        reports: list[logging.LogRecord] = []
        try:
            with (
                captured_warnings(_PEFT_LOGGER) as reports,
                quiet_progress(show_progress),
                warnings.catch_warnings(),  # several adapters on one model is the point here
            ):
                warnings.filterwarnings("ignore", message="Already found a `peft_config`")
                with peft_compatibility():
                    info = self.st.load_adapter(path, adapter_name=adapter)
            self._check_complete(adapter, info)
        except BaseException as exc:
            self._roll_back(host, before, adapter)
            error = self._adapter_error(exc, adapter, path, reports)
            if error is None:
                raise
            raise error from exc
        self._attached.add(adapter)
        for record in reports:
            # transformers lists every OTHER adapter's tensors as "MISSING" here: noise, not news.
            logger.debug("load_adapter(%r) report: %s", adapter, record.getMessage())

    @staticmethod
    def _check_complete(adapter: str, info: Any) -> None:
        """Refuse an adapter file that lacks some of the adapter's own tensors (left random)."""
        missing = sorted(k for k in getattr(info, "missing_keys", None) or () if f".{adapter}." in k)
        if missing:
            raise KeyError(
                f"{len(missing)} of the adapter's tensors are missing from its file, e.g. {missing[0]}"
            )

    def _adapter_error(
        self, exc: BaseException, adapter: str, path: str, reports: list[logging.LogRecord]
    ) -> ModelNotFoundError | None:
        hint = f"Fix or remove adapters/{adapter}/; the model's other tasks are unaffected."
        mismatched = [
            line.strip()
            for record in reports
            for line in record.getMessage().splitlines()
            if "MISMATCH" in line and "|" in line
        ]
        if mismatched:
            hint = (
                f"Its tensors do not fit the base model (a different LoRA rank than its "
                f"adapter_config.json, or an adapter for another model), e.g. {mismatched[0]}. {hint}"
            )
        cause = str(exc).replace("For details look at the above report!", "") if mismatched else None
        return load_error(exc, path, folder=True, what=f"the {adapter!r} adapter", hint=hint, cause=cause)

    def _roll_back(self, host: Any, before: tuple[frozenset[str], tuple[str, ...]], adapter: str) -> None:
        """Delete what a failed ``load_adapter`` left and activate the previous adapter(s) again."""
        names, active = before
        try:
            with warnings.catch_warnings():  # "Adapter x was active which is now deleted": we know
                warnings.simplefilter("ignore")
                extra = sorted(_adapter_state(host)[0] - names)
                if extra:
                    host.delete_adapter(extra)
                if active:
                    host.set_adapter(list(active) if len(active) > 1 else active[0])
            restored = _adapter_state(host) == before
        except Exception:  # any failure here leaves the state unknown
            restored = False
        if not restored:
            self._broken = (
                f"Loading the {adapter!r} adapter of {self.spec.name!r} failed and the model could "
                "not be put back as it was; rather than return wrong vectors it refuses further "
                "calls. Build a new Embedder once every object using this model is gone."
            )
            logger.error("%s", self._broken)

    def _activate(self, adapter: str, *, show_progress: bool = False) -> None:
        self.attach(adapter, show_progress=show_progress)
        if self._active != adapter:
            with peft_compatibility():
                self.st.set_adapter(adapter)
            self._active = adapter


def _merge_adapter(st: Any, adapter_dir: str) -> None:
    """Fold a LoRA adapter into the weights of ``st``'s transformer, in place."""
    peft = require("peft")
    module = st[0]
    with peft_compatibility("Merging LoRA adapters"):
        module.model = peft.PeftModel.from_pretrained(module.model, adapter_dir).merge_and_unload()


def _load(spec: ModelSpec, options: LocalOptions, device: str, merged_task: str | None) -> LocalModel:
    require("torch")
    st_module = require("sentence_transformers")
    if merged_task and spec.adapter_layout == "task-kwarg":  # registry v5: Jina's merged repo
        merged = get_spec(f"{spec.name}-{merged_task}")
        st = st_module.SentenceTransformer(merged.source, **st_load_kwargs(merged, options, device))
        return LocalModel(st, "plain", merged)
    st = st_module.SentenceTransformer(spec.source, **st_load_kwargs(spec, options, device))
    if spec.adapter_layout == "peft":
        if merged_task:
            _merge_adapter(st, f"{spec.path}/adapters/{merged_task}")
            return LocalModel(st, "plain", spec)
        return LocalModel(st, "peft", spec)
    if spec.adapter_layout == "task-kwarg":
        if "task" not in st.get_model_kwargs():
            raise InvalidInputError(
                f"{spec.name!r} loaded without its task switch (no 'task' encode argument); it "
                "needs its own code: pass trust_remote_code=True.",
                field="trust_remote_code",
            )
        return LocalModel(st, "task-kwarg", spec)
    return LocalModel(st, "plain", spec)


class LocalBackend:
    """Embedding backend over sentence-transformers; see the module docstring."""

    name = "local"

    def __init__(self, config: BackendConfig) -> None:
        spec: ModelSpec = config.spec
        options: LocalOptions = config.local
        if options.merge_adapters and not (
            spec.adapter_layout == "peft" or (spec.family == "v5" and spec.adapter_layout == "task-kwarg")
        ):
            raise InvalidInputError(
                f"merge_adapters=True applies to Jina v5 models and v5-style folders with "
                f"adapters/<task>/; {spec.name!r} has adapter layout {spec.adapter_layout!r}.",
                field="merge_adapters",
            )
        check_device_early(options.device)
        self.spec = spec
        self.options = options
        self._models: dict[str | None, LocalModel] = {}  # strong refs keep the cache entries alive
        self._lock = threading.Lock()

    def model_for(self, task: str | None, *, show_progress: bool = False) -> LocalModel:
        """The loaded model serving ``task`` (loading it on first use)."""
        onnx = self.options.runtime == "onnx"  # one graph per task (see .onnx_runtime)
        merged_task = task if self.options.merge_adapters or onnx else None
        with self._lock:
            model = self._models.get(merged_task)
        if model is None:
            device = "cpu" if onnx else resolve_device(self.options.device)
            runtime: dict[str, Any] = {"runtime": "onnx", "onnx_file": self.options.onnx_file} if onnx else {}
            if self.options.fidelity_sample is not None:  # it decides bf16 / int8 at load
                runtime["fidelity_sample"] = list(self.options.fidelity_sample)
            key = cache_key(
                "embedding", self.spec.source, self.options, device, merged_task=merged_task, **runtime
            )
            with quiet_progress(show_progress):
                model = load_cached(key, lambda: self._load(device, merged_task))
            with self._lock:
                self._models[merged_task] = model
        return model

    def _load(self, device: str, merged_task: str | None) -> LocalModel:
        if self.options.runtime == "onnx":
            from .onnx_runtime import load_onnx

            return load_onnx(self.spec, self.options, merged_task)
        model = _load(self.spec, self.options, device, merged_task)
        exact = replace(self.options, dtype="float32")
        return settle_dtype(
            model,
            model.st,
            self.spec.name,
            device,
            self.options.dtype,
            lambda: _load(self.spec, exact, device, merged_task),
            self.options.fidelity_sample,
        )

    def describe(self) -> dict[str, Any]:
        """For the ``Embedder`` repr: the runtime and the dtype (as chosen, once loaded)."""
        with self._lock:
            loaded = sorted({m.dtype for m in self._models.values()})
        return {"runtime": self.options.runtime, "dtype": ",".join(loaded) if loaded else self.options.dtype}

    def embed(self, request: EmbedRequest) -> BackendOutput:
        return self._embed(request, None)

    def _embed(self, request: EmbedRequest, cancel: threading.Event | None) -> BackendOutput:
        if not all(isinstance(t, str) for t in request.texts):  # images: split by modality
            return embed_with_images(self, request, cancel)
        binding = request.binding
        model = self.model_for(binding.task, show_progress=request.show_progress)
        adapter = None if self.options.merge_adapters else binding.adapter
        batch_size = request.batch_size or DEFAULT_BATCH_SIZE
        if request.chunk_counts is not None:  # late chunking: one pass per document (or windows)
            from .late_chunking_local import embed_late

            if self.options.runtime == "onnx":
                model.run_pass(None, adapter=adapter)  # raises: late chunking needs torch
            return embed_late(model, request, self.options, adapter=adapter, cancel=cancel)

        def check(texts: Sequence[str]) -> list[int]:
            return self._check_lengths(model, texts, binding.prompt, request.truncate)

        def encode(texts: Sequence[str], flag: CancelFlag | None) -> np.ndarray:
            return model.encode(
                texts,
                adapter=adapter,
                prompt=binding.prompt,
                batch_size=batch_size,
                show_progress=request.show_progress,
                cancel=flag,
            )

        texts = cast("Sequence[str]", request.texts)  # images went to embed_with_images above
        if self.options.coalesce:  # concurrent callers share passes (see .coalescing)
            try:
                vectors, over = coalesced_encode(
                    model,
                    texts,
                    key=(adapter, binding.prompt, batch_size, request.show_progress),
                    limit=batch_size,
                    wait_s=self.options.coalesce_wait_ms / 1000,
                    cancel=cancel,
                    check=check,
                    encode=encode,
                )
            except PassCancelled:
                raise _Cancelled from None
        else:
            with model.lock:
                if cancel is not None and cancel.is_set():  # abandoned while waiting for the lock
                    raise _Cancelled
                over = check(texts)
                vectors = encode(texts, cancel)
        # Token usage is not counted locally (a second tokenizer pass would cost 1.5-2 %).
        return BackendOutput(
            vectors=np.asarray(vectors, dtype=np.float32),
            model=self.spec.name,
            usage=Usage(None, None),
            truncated=len(over),
            truncated_indices=tuple(over),
            runtime=self.options.runtime,
            compute_dtype=model.dtype,
        )

    def _check_lengths(
        self, model: LocalModel, texts: Sequence[str], prompt: str, truncate: bool
    ) -> list[int]:
        """Indices of the texts over the model's context; raises for them if not ``truncate``.

        The caller holds ``model.lock``.
        """
        over = model.too_long(texts, prompt)
        if over and not truncate:
            i = over[0]
            tokens = model.token_lengths([texts[i]], prompt)[0]
            raise InvalidInputError(
                f"text at index {i} has {tokens} tokens (prompt included), over "
                f"{self.spec.name}'s limit of {model.max_seq_length}; shorten it or pass truncate=True "
                f"({len(over)} text(s) are too long).",
                index=i,
            )
        return over

    def _embed_until_cancelled(self, request: EmbedRequest, cancel: threading.Event) -> BackendOutput | None:
        try:
            return self._embed(request, cancel)
        except _Cancelled:  # nobody awaits this thread any more: end quietly
            return None

    async def aembed(self, request: EmbedRequest) -> BackendOutput:
        """Runs :meth:`embed` in a worker thread so the event loop never blocks.

        Cancelling the awaiting task returns at once and stops the thread before its next batch.
        """
        cancel = threading.Event()
        try:
            run: Any = anyio.to_thread.run_sync
            out = await run(self._embed_until_cancelled, request, cancel, **{_ABANDON: True})
        finally:
            cancel.set()  # a no-op once the thread is done
        if out is None:  # only if cancelled, which raised above
            raise RuntimeError("local embedding was cancelled")
        return out

    def warm_up(self, task: str | None = None, *, show_progress: bool = False) -> None:
        """Load the model for ``task`` (default: the model's default task) and its adapter."""
        task = task or self.spec.default_task
        model = self.model_for(task, show_progress=show_progress)
        if model.mode == "peft" and task:
            with model.lock:
                model.attach(task, show_progress=show_progress)

    def close(self) -> None:
        """Nothing to release: the weights stay cached while any backend still uses them."""

    async def aclose(self) -> None:
        """See :meth:`close`."""
