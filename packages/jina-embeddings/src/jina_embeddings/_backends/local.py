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
loaded model is shared with every other backend that uses the same settings.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import anyio.to_thread
import numpy as np

from .. import _constants as C
from .._models import ModelSpec, get_spec
from .._optional import peft_compatibility, require
from .._options import LocalOptions
from .._results import Usage
from ..errors import InvalidInputError
from .base import BackendOutput, EmbedRequest
from .loading import cache_key, load_cached, loaded_models, resolve_device, st_load_kwargs
from .table import BackendConfig

__all__ = ["DEFAULT_BATCH_SIZE", "LocalBackend", "LocalModel", "loaded_models"]

DEFAULT_BATCH_SIZE = C.DEFAULT_LOCAL_BATCH_SIZE
Mode = Literal["peft", "task-kwarg", "plain"]


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
        SentencePiece), so ``bytes + specials <= limit`` fits; every whitespace-separated word
        yields at least one token, so ``words + specials > limit`` does not. Only texts between
        the bounds are tokenized.
        """
        if self._specials is None:
            self._specials = len(self.st.tokenizer("", add_special_tokens=True)["input_ids"])
        limit = self.max_seq_length
        fits = limit - self._specials - len(prompt.encode("utf-8"))
        floor = self._specials + len(prompt.split())
        over, unsure = [], []
        for i, text in enumerate(texts):
            if 4 * len(text) <= fits or len(text.encode("utf-8")) <= fits:  # <= 4 bytes per char
                continue
            if len(text.split()) + floor > limit:
                over.append(i)
            else:
                unsure.append(i)
        if unsure:
            lengths = self.token_lengths([texts[i] for i in unsure], prompt)
            over += [i for i, n in zip(unsure, lengths, strict=True) if n > limit]
        return sorted(over)

    def encode(
        self, texts: Sequence[str], *, adapter: str | None, prompt: str, batch_size: int, show_progress: bool
    ) -> np.ndarray:
        """Encode with ``adapter`` active; the caller holds :attr:`lock`."""
        kwargs: dict[str, Any] = {
            "prompt": prompt or None,
            "batch_size": batch_size,
            "show_progress_bar": show_progress,
            "convert_to_numpy": True,
            "normalize_embeddings": False,
        }
        if adapter is not None and self.mode == "peft":
            self._activate(adapter)
        elif adapter is not None and self.mode == "task-kwarg":
            kwargs["task"] = adapter
        return self.st.encode(list(texts), **kwargs)

    def attach(self, adapter: str) -> None:
        """Load a LoRA adapter from ``adapters/<name>/`` once (caller holds the lock)."""
        if adapter not in self._attached:
            with warnings.catch_warnings():  # several adapters on one model is the point here
                warnings.filterwarnings("ignore", message="Already found a `peft_config`")
                with peft_compatibility():
                    self.st.load_adapter(f"{self.spec.path}/adapters/{adapter}", adapter_name=adapter)
            self._attached.add(adapter)

    def _activate(self, adapter: str) -> None:
        self.attach(adapter)
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
        self.spec = spec
        self.options = options
        self._models: dict[str | None, LocalModel] = {}  # strong refs keep the cache entries alive
        self._lock = threading.Lock()

    def model_for(self, task: str | None) -> LocalModel:
        """The loaded model serving ``task`` (loading it on first use)."""
        merged_task = task if self.options.merge_adapters else None
        with self._lock:
            model = self._models.get(merged_task)
        if model is None:
            device = resolve_device(self.options.device)
            key = cache_key("embedding", self.spec.source, self.options, device, merged_task=merged_task)
            model = load_cached(key, lambda: _load(self.spec, self.options, device, merged_task))
            with self._lock:
                self._models[merged_task] = model
        return model

    def embed(self, request: EmbedRequest) -> BackendOutput:
        binding = request.binding
        model = self.model_for(binding.task)
        limit = model.max_seq_length
        with model.lock:
            over = model.too_long(request.texts, binding.prompt)
            if over and not request.truncate:
                i = over[0]
                tokens = model.token_lengths([request.texts[i]], binding.prompt)[0]
                raise InvalidInputError(
                    f"text at index {i} has {tokens} tokens (prompt included), over "
                    f"{self.spec.name}'s limit of {limit}; shorten it or pass truncate=True "
                    f"({len(over)} text(s) are too long).",
                    index=i,
                )
            vectors = model.encode(
                request.texts,
                adapter=None if self.options.merge_adapters else binding.adapter,
                prompt=binding.prompt,
                batch_size=request.batch_size or DEFAULT_BATCH_SIZE,
                show_progress=request.show_progress,
            )
        # Token usage is not counted locally (a second tokenizer pass would cost 1.5-2 %).
        return BackendOutput(
            vectors=np.asarray(vectors, dtype=np.float32),
            model=self.spec.name,
            usage=Usage(None, None),
            truncated=len(over),
        )

    async def aembed(self, request: EmbedRequest) -> BackendOutput:
        """Runs :meth:`embed` in a worker thread so the event loop never blocks."""
        return await anyio.to_thread.run_sync(self.embed, request)

    def warm_up(self, task: str | None = None) -> None:
        """Load the model for ``task`` (default: the model's default task) and its adapter."""
        task = task or self.spec.default_task
        model = self.model_for(task)
        if model.mode == "peft" and task:
            with model.lock:
                model.attach(task)

    def close(self) -> None:
        """Nothing to release: the weights stay cached while any backend still uses them."""

    async def aclose(self) -> None:
        """See :meth:`close`."""
