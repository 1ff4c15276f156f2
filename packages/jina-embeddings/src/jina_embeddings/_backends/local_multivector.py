"""``backend="local"`` for multi-vector models: token vectors on this machine.

* ColBERT checkpoints (jina-colbert-v2, any PyLate / Stanford ColBERT folder):
  sentence-transformers 6's ``MultiVectorEncoder`` (``encode_query`` / ``encode_document``),
  which reads the markers (``[QueryMarker]`` / ``[DocumentMarker]``), query expansion (to 32
  tokens), the punctuation skiplist and the document length from the checkpoint's own config
  and matches PyLate's token vectors exactly. PyLate itself is not needed (it pins an older
  sentence-transformers).
* jina-embeddings-v4: the model's own ``encode_text(..., return_multivector=True)`` with the
  task's adapter and the ``query`` / ``passage`` prompt.

Vectors come back raw (the core cuts, renormalizes and converts them). Texts over the query or
document length are counted (``truncated``) or, with ``truncate=False``, refused by index
before the forward pass. Loading goes through :mod:`.loading` (one cached copy per settings,
typed errors, no download in the constructor).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
import numpy as np

from .. import _constants as C
from .._models import ModelSpec
from .._optional import require
from .._options import LocalOptions
from .._results import Usage
from .._tasks import Role
from ..errors import InvalidInputError
from .base import BackendOutput, EmbedRequest
from .loading import (
    cache_key,
    captured_warnings,
    check_device_early,
    load_cached,
    quiet_progress,
    resolve_device,
    resolve_dtype,
    st_load_kwargs,
    trust_remote_code,
)
from .table import BackendConfig

__all__ = ["LocalMultiVectorBackend"]

# MultiVectorEncoder warns on every query batch that fills the expansion width; we count instead.
_ST_TRANSFORMER_LOGGER = "sentence_transformers.base.modules.transformer"


class _Loaded:
    """A loaded multi-vector model, its kind and its lock (tokenizer state is model-global)."""

    def __init__(self, model: Any, kind: str) -> None:
        self.model = model
        self.kind = kind  # "mve" (MultiVectorEncoder) or "v4" (the model's own encode_text)
        self.lock = threading.Lock()

    # -- lengths ------------------------------------------------------------------------------
    def limit(self, role: Role) -> int | None:
        """Tokens a query / document may have (special tokens and marker included)."""
        if self.kind != "mve":
            return None
        first = self.model[0]
        if role is Role.QUERY:
            expansion = getattr(first, "query_expansion", None)
            if expansion:
                return int(expansion["length"])
            return getattr(first, "query_length", None) or self.model.max_seq_length
        return getattr(first, "document_length", None) or self.model.max_seq_length

    def prompt(self, role: Role) -> str:
        prompts = getattr(self.model, "prompts", None) or {}
        if role is Role.QUERY:
            return str(prompts.get("query") or "")
        return next((str(prompts[k]) for k in ("document", "passage", "corpus") if prompts.get(k)), "")

    def token_counts(self, texts: Sequence[str], role: Role) -> list[int]:
        """Exact token counts before any cut (caller holds :attr:`lock`)."""
        prompt = self.prompt(role)
        encoded = self.model.tokenizer(
            [prompt + t for t in texts], add_special_tokens=True, truncation=False, verbose=False
        )
        return [len(ids) for ids in encoded["input_ids"]]

    # -- encoding -------------------------------------------------------------------------------
    def encode(self, request: EmbedRequest) -> list[np.ndarray]:
        binding = request.binding
        batch_size = request.batch_size or C.DEFAULT_LOCAL_BATCH_SIZE
        texts = list(request.texts)
        if self.kind == "v4":
            out = self.model.encode_text(
                texts=texts,
                task=binding.adapter or binding.task,
                # v4's prompts: "Query: " / "Passage: " (text-matching uses the query one on both sides)
                prompt_name="passage" if binding.prompt.strip().lower().startswith("passage") else "query",
                return_multivector=True,
                return_numpy=True,
                batch_size=batch_size,
            )
        else:
            encode = self.model.encode_query if binding.role is Role.QUERY else self.model.encode_document
            with captured_warnings(_ST_TRANSFORMER_LOGGER):
                out = encode(
                    texts,
                    batch_size=batch_size,
                    show_progress_bar=request.show_progress,
                    convert_to_numpy=True,
                )
        return [_as_float32(row) for row in out]


def _as_float32(row: Any) -> np.ndarray:
    if hasattr(row, "detach"):  # a torch tensor (bf16 has no numpy view)
        row = row.detach().float().cpu().numpy()
    return np.asarray(row, dtype=np.float32)


def _load(spec: ModelSpec, options: LocalOptions, device: str) -> _Loaded:
    require("torch")
    if spec.family == "v4":
        transformers = require("transformers")
        model = transformers.AutoModel.from_pretrained(
            spec.source,
            dtype=resolve_dtype(options.dtype, device),
            trust_remote_code=trust_remote_code(spec, options),
            revision=options.revision,
            cache_dir=options.cache_folder,
            local_files_only=options.local_files_only,
        )
        if not callable(getattr(model, "encode_text", None)):
            raise InvalidInputError(
                f"{spec.name!r} loaded without its own encode_text (multi-vector needs the model's "
                "code): pass trust_remote_code=True.",
                field="trust_remote_code",
            )
        return _Loaded(model.to(device).eval(), "v4")
    st = require("sentence_transformers")
    return _Loaded(st.MultiVectorEncoder(spec.source, **st_load_kwargs(spec, options, device)), "mve")


class LocalMultiVectorBackend:
    """Multi-vector backend on this machine; see the module docstring."""

    name = "local"

    def __init__(self, config: BackendConfig) -> None:
        self.spec: ModelSpec = config.spec
        self.options: LocalOptions = config.local
        check_device_early(self.options.device)
        self._loaded: _Loaded | None = None  # a strong ref keeps the cache entry alive
        self._lock = threading.Lock()

    def loaded(self, *, show_progress: bool = False) -> _Loaded:
        with self._lock:
            if self._loaded is None:
                device = resolve_device(self.options.device)
                key = cache_key("multivector", self.spec.source, self.options, device)
                with quiet_progress(show_progress):
                    self._loaded = load_cached(key, lambda: _load(self.spec, self.options, device))
            return self._loaded

    def embed(self, request: EmbedRequest) -> BackendOutput:
        loaded = self.loaded(show_progress=request.show_progress)
        role = request.binding.role
        with loaded.lock:
            over: list[int] = []
            limit = loaded.limit(role)
            if limit is not None:
                counts = loaded.token_counts([str(t) for t in request.texts], role)
                over = [i for i, n in enumerate(counts) if n > limit]
                if over and not request.truncate:
                    i = over[0]
                    raise InvalidInputError(
                        f"{role.value} at index {i} has {counts[i]} tokens (marker and special tokens "
                        f"included), over {self.spec.name}'s {role.value} length of {limit}; shorten it "
                        f"or pass truncate=True ({len(over)} text(s) are too long).",
                        index=i,
                        field="truncate",
                    )
            vectors = loaded.encode(request)
        return BackendOutput(
            vectors=vectors,
            model=self.spec.name,
            usage=Usage(None, None),
            truncated=len(over),
            truncated_indices=tuple(over),
        )

    async def aembed(self, request: EmbedRequest) -> BackendOutput:
        """Runs :meth:`embed` in a worker thread so the event loop never blocks."""
        return await anyio.to_thread.run_sync(lambda: self.embed(request))

    def warm_up(self, task: str | None = None) -> None:
        self.loaded()

    def close(self) -> None:
        """Nothing to release: the weights stay cached while any backend still uses them."""

    async def aclose(self) -> None:
        """See :meth:`close`."""
