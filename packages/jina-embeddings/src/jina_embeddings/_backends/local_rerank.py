"""``backend="local"`` for rerankers.

* Cross-encoders (``jina-reranker-v2-base-multilingual``, any sequence-classification
  folder): sentence-transformers ``CrossEncoder.predict`` on (query, document) pairs, which
  sorts by length and batches; a one-label model's score goes through its activation
  (sigmoid by default), so scores are in (0, 1) and ordered like the raw logits.
* ``jina-reranker-v3``: listwise, through the model's own ``rerank(query, documents)``.
* ``jina-reranker-m0``: the model's own ``compute_score(pairs, doc_type="text")``.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio.to_thread

from .. import _constants as C
from .._models import ModelSpec
from .._optional import require
from .._options import LocalOptions, RerankOptions
from .._results import Usage
from .base import RerankOutput, RerankRequest
from .loading import (
    cache_key,
    check_device_early,
    load_cached,
    quiet_progress,
    resolve_device,
    resolve_dtype,
    st_load_kwargs,
    trust_remote_code,
)
from .table import BackendConfig

__all__ = ["LocalRerankBackend"]

DEFAULT_BATCH_SIZE = C.DEFAULT_LOCAL_BATCH_SIZE


class _Loaded:
    """A loaded reranker (weak-referenceable holder for the cache)."""

    def __init__(self, model: Any) -> None:
        self.model = model


def _load(spec: ModelSpec, options: LocalOptions, device: str, max_length: int | None) -> _Loaded:
    require("torch")
    if spec.family == "cross-encoder":
        st = require("sentence_transformers")
        kwargs = st_load_kwargs(spec, options, device)
        if max_length:
            kwargs["max_length"] = max_length
        return _Loaded(st.CrossEncoder(spec.source, **kwargs))
    transformers = require("transformers")
    model = transformers.AutoModel.from_pretrained(
        spec.source,
        dtype=resolve_dtype(options.dtype, device),
        trust_remote_code=trust_remote_code(spec, options),
        revision=options.revision,
        cache_dir=options.cache_folder,
        local_files_only=options.local_files_only,
    )
    return _Loaded(model.to(device).eval())


class LocalRerankBackend:
    """Reranker backend on this machine; see the module docstring."""

    name = "local"

    def __init__(self, config: BackendConfig) -> None:
        self.spec: ModelSpec = config.spec
        self.options: LocalOptions = config.local
        self.rerank_options: RerankOptions = config.rerank or RerankOptions()
        check_device_early(self.options.device)
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    def _model(self) -> Any:
        with self._lock:
            if self._loaded is None:
                device = resolve_device(self.options.device)
                max_length = self.rerank_options.max_length
                key = cache_key("reranker", self.spec.source, self.options, device, max_length=max_length)
                with quiet_progress(self.rerank_options.show_progress):  # "Loading weights" bars
                    self._loaded = load_cached(
                        key, lambda: _load(self.spec, self.options, device, max_length)
                    )
            return self._loaded.model

    def rerank(self, request: RerankRequest) -> RerankOutput:
        model = self._model()
        query, documents = request.query, request.documents
        batch_size = request.batch_size or DEFAULT_BATCH_SIZE
        if self.spec.family == "reranker-v3":
            kwargs = {"max_doc_length": request.max_length} if request.max_length else {}
            results = model.rerank(query, list(documents), **kwargs)
            scored = [(int(r["index"]), float(r["relevance_score"])) for r in results]
        elif self.spec.family == "reranker-m0":
            scores = model.compute_score(
                [[query, d] for d in documents],
                doc_type="text",
                batch_size=batch_size,
                max_length=request.max_length or 10240,
            )
            scored = list(enumerate(map(float, _as_list(scores))))
        else:
            scores = model.predict(
                [(query, d) for d in documents],
                batch_size=batch_size,
                show_progress_bar=request.show_progress,
                convert_to_numpy=True,
            )
            scored = list(enumerate(map(float, _as_list(scores))))
        return RerankOutput(scored=scored, model=self.spec.name, usage=Usage(None, None))

    async def arerank(self, request: RerankRequest) -> RerankOutput:
        """Runs :meth:`rerank` in a worker thread so the event loop never blocks."""
        return await anyio.to_thread.run_sync(lambda: self.rerank(request))

    def warm_up(self, task: str | None = None) -> None:
        self._model()

    def close(self) -> None:
        """Nothing to release: the weights stay cached while any backend still uses them."""

    async def aclose(self) -> None:
        """See :meth:`close`."""


def _as_list(scores: Any) -> list[Any]:
    if hasattr(scores, "tolist"):
        scores = scores.tolist()
    return scores if isinstance(scores, list) else [scores]
