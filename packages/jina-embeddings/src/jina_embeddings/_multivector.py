"""``MultiVectorEmbedder``: token vectors (late interaction) from jina-colbert-v2 and v4.

A multi-vector model gives one unit vector per token instead of one per text; a query and a
document are compared by MaxSim (:func:`~jina_embeddings.maxsim`), which is how ColBERT
reranks and retrieves. This object has the shape of :class:`~jina_embeddings.Embedder`
(the same options, backends, key handling and lifecycle, from the shared
:class:`~jina_embeddings._frontend.Frontend`) and returns :class:`MultiVectorEmbeddings`.

* jina-colbert-v2: locally through sentence-transformers' ``MultiVectorEncoder`` (the
  checkpoint's own markers, query expansion to 32 tokens, punctuation skiplist and document
  length); remotely ``/v1/embeddings`` with ``input_type`` query|document. ``dimensions`` is
  64, 96 or 128 (each token vector cut, then renormalized, on every backend alike).
* jina-embeddings-v4: ``return_multivector`` (128-d token vectors; ``dimensions`` is refused,
  as the API does), locally through the model's own ``encode_text``.

Every check runs before any model load or request: dimensions per model, precision
(``float32`` or ``float16``), text only (images are refused, naming the item).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from typing_extensions import Unpack

from ._backends.base import BackendOutput, EmbedRequest
from ._frontend import Frontend, logger, signature_with_options
from ._images import check_inputs
from ._maxsim import maxsim_scores
from ._models import ModelSpec, get_spec, remote_spec
from ._multivector_results import MultiVectorEmbeddings
from ._options import EmbedOptions, _LocalKwargs, _RemoteKwargs
from ._quantize import quantize, truncate_and_normalize
from ._results import Usage
from ._tasks import Role, resolve
from ._validation import check_text
from .errors import APIResponseValidationError, InvalidInputError, ModelNotFoundError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_MULTIVECTOR_MODEL",
    "MultiVectorEmbedder",
    "MultiVectorEmbedderOptions",
    "MultiVectorEmbeddings",
    "finish_token_vectors",
    "multivector_spec",
]

DEFAULT_MULTIVECTOR_MODEL = "jina-colbert-v2"
MULTIVECTOR_PRECISIONS = ("float32", "float16")


class MultiVectorEmbedderOptions(_LocalKwargs, _RemoteKwargs, total=False):
    """The keyword options of :class:`MultiVectorEmbedder`, for static type checkers."""

    task: str | None
    dimensions: int | None
    precision: str
    normalize: bool
    truncate: bool
    batch_size: int | None
    show_progress: bool


# -- the model side ----------------------------------------------------------------------------
def is_multivector_folder(path: str | Path) -> bool:
    """Whether a model folder is a ColBERT-style checkpoint (PyLate, Stanford, ST 6 MultiVectorEncoder)."""
    import json

    folder = Path(path)
    try:
        config = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    if isinstance(config, dict) and (
        config.get("model_type") in ("ColBERT", "MultiVectorEncoder") or "query_prefix" in config
    ):
        return True
    try:
        modules = (folder / "modules.json").read_text(encoding="utf-8")
    except OSError:
        return (folder / "artifact.metadata").is_file()  # Stanford ColBERT
    return "pylate." in modules or "MultiVectorMask" in modules


def multivector_spec(model: Any, *, remote: bool) -> ModelSpec:
    """The spec of a model that has a multi-vector mode (registry, folder or, remotely, a name).

    A local folder (a PyLate / ColBERT checkpoint) becomes a ``colbert``-family spec whose
    token width is the folder's output size.

    Raises:
        ModelNotFoundError: unknown, or a model without a multi-vector mode.
    """
    try:
        spec = get_spec(model)
    except ModelNotFoundError:
        if not remote or not isinstance(model, str) or "/" in model:
            raise
        spec = remote_spec(model)
    if spec.multivector_dim is None and spec.family not in ("generic", "passthrough"):
        raise ModelNotFoundError(
            f"Model {spec.name!r} has no multi-vector mode; use Embedder for one vector per text. "
            "Multi-vector models: jina-colbert-v2, jina-embeddings-v4 (or a ColBERT folder).",
            field="model",
        )
    return spec


def finish_token_vectors(
    out: BackendOutput, request: EmbedRequest, *, spec: ModelSpec, backend: str
) -> list[np.ndarray]:
    """Check a backend's ragged rows and post-process them: cut, renormalize per token, quantize.

    The one path for every backend (and the MaxSim reranker): ``_quantize``'s cut and
    renormalization, then float16 if asked.

    Raises:
        APIResponseValidationError: a row count, shape, width or value that cannot be right.
    """
    rows = out.vectors
    if isinstance(rows, np.ndarray) and rows.ndim == 3:
        rows = list(rows)
    if not isinstance(rows, list) or len(rows) != len(request.texts):
        count = len(rows) if isinstance(rows, list) else getattr(rows, "shape", "?")
        raise APIResponseValidationError(
            f"backend {backend!r} returned {count} token matrices for {len(request.texts)} texts"
        )
    width = spec.multivector_dim
    finished = []
    for i, row in enumerate(rows):
        arr = np.asarray(row, dtype=np.float32)
        if (
            arr.ndim != 2
            or arr.shape[0] == 0
            or (width is not None and arr.shape[1] not in (width, request.dimensions))
        ):
            raise APIResponseValidationError(
                f"backend {backend!r} returned token vectors of shape {arr.shape} for text {i} "
                f"(expected (tokens, {request.dimensions or width}))"
            )
        if not np.isfinite(arr).all():
            raise APIResponseValidationError(
                f"backend {backend!r} returned non-finite token vectors for text {i}"
            )
        cut = truncate_and_normalize(arr, request.dimensions, request.normalize)
        finished.append(quantize(cut, request.precision))
    return finished


class MultiVectorEmbedder(Frontend):
    """Token vectors for late interaction (ColBERT, MaxSim), locally or through the Jina API.

    Args:
        model: ``jina-colbert-v2`` (default), ``jina-embeddings-v4`` (multi-vector mode), or a
            local ColBERT / PyLate checkpoint folder.
        backend: ``"local"`` or ``"api"``; ``None`` follows :class:`~jina_embeddings.Embedder`'s rule.
        task: v4 only (``retrieval``, ``text-matching``, ``code``); colbert has ``retrieval``.
        dimensions: jina-colbert-v2: 64, 96 or 128 (each token vector cut, then renormalized);
            refused for v4 (its multi-vector head is 128-d, as the API says).
        precision: ``float32`` (default) or ``float16``.
        normalize, truncate, batch_size, show_progress: as for ``Embedder`` (``truncate=False``
            refuses a query over the query length or a document over the document length).
        local and remote options, api_key, transport, async_transport: as for ``Embedder``.

    Example::

        from jina_embeddings import MultiVectorEmbedder, maxsim

        mv = MultiVectorEmbedder("jina-colbert-v2", dimensions=128)
        docs = mv.embed_documents(["Berlin is the capital of Germany.", "Paris is in France."])
        q = mv.embed_query("capital of Germany?")            # (32, 128): query expansion
        scores = [maxsim(q.vectors[0], d) for d in docs.vectors]
        mv.score("capital of Germany?", ["Berlin ...", "Paris ..."])   # same, one batched pass
    """

    _kind = "multivector"
    _options_class = EmbedOptions
    options: EmbedOptions

    def __init__(
        self,
        model: str | Path = DEFAULT_MULTIVECTOR_MODEL,
        *,
        backend: str | None = None,
        api_key: Any = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        **options: Unpack[MultiVectorEmbedderOptions],
    ) -> None:
        super().__init__(
            model,
            backend=backend,
            api_key=api_key,
            options=options,
            transport=transport,
            async_transport=async_transport,
        )
        self._log_created()

    # -- construction checks --------------------------------------------------------------
    def _resolve_spec(self, model: Any) -> ModelSpec:
        return multivector_spec(model, remote=self._row.options == "remote")

    def _check_own_options(self, options: Any) -> EmbedOptions:
        return check_multivector_options(options, self.spec, self._row)

    # -- public API -------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.spec.name

    @property
    def dimensions(self) -> int | None:
        """Width of each token vector."""
        return self.options.dimensions or self.spec.multivector_dim

    def warm_up(self) -> None:
        self._backend.warm_up(task=self.options.task)

    def embed(self, texts: Sequence[str], *, role: Role | str = Role.DOCUMENT) -> MultiVectorEmbeddings:
        """Token vectors of ``texts`` for ``role`` (``"document"`` or ``"query"``), in input order.

        Raises:
            InvalidInputError: a bad text (named by index), before any model call or request.
            APIError: a remote failure after retries.
        """
        request = self._request(texts, role)
        if not request.texts:
            return self._empty(request)
        return self._finish(request, self._backend.embed(request))

    async def aembed(
        self, texts: Sequence[str], *, role: Role | str = Role.DOCUMENT
    ) -> MultiVectorEmbeddings:
        """Async :meth:`embed`: remote backends use async HTTP; local runs in a worker thread."""
        request = self._request(texts, role)
        if not request.texts:
            return self._empty(request)
        return self._finish(request, await self._backend.aembed(request))

    def embed_documents(self, texts: Sequence[str]) -> MultiVectorEmbeddings:
        return self.embed(texts, role=Role.DOCUMENT)

    def embed_query(self, text: str) -> MultiVectorEmbeddings:
        """One query; ``result.vectors[0]`` is its (query length, d) matrix."""
        return self.embed([check_text(text, what="query")], role=Role.QUERY)

    def embed_queries(self, texts: Sequence[str]) -> MultiVectorEmbeddings:
        return self.embed(texts, role=Role.QUERY)

    async def aembed_documents(self, texts: Sequence[str]) -> MultiVectorEmbeddings:
        return await self.aembed(texts, role=Role.DOCUMENT)

    async def aembed_query(self, text: str) -> MultiVectorEmbeddings:
        return await self.aembed([check_text(text, what="query")], role=Role.QUERY)

    async def aembed_queries(self, texts: Sequence[str]) -> MultiVectorEmbeddings:
        return await self.aembed(texts, role=Role.QUERY)

    def score(self, query: str, documents: Sequence[str]) -> np.ndarray:
        """MaxSim of ``query`` against each document (documents encoded in one call, scored in
        one batched pass); float32 array in document order."""
        q, docs = self._score_inputs(query, documents)
        if not docs:
            return np.zeros(0, np.float32)
        return maxsim_scores(self.embed([q], role=Role.QUERY).vectors[0], self.embed_documents(docs).vectors)

    async def ascore(self, query: str, documents: Sequence[str]) -> np.ndarray:
        """Async :meth:`score`."""
        q, docs = self._score_inputs(query, documents)
        if not docs:
            return np.zeros(0, np.float32)
        qv = (await self.aembed([q], role=Role.QUERY)).vectors[0]
        return maxsim_scores(qv, (await self.aembed_documents(docs)).vectors)

    # -- shared by sync and async ---------------------------------------------------------------
    def _score_inputs(self, query: str, documents: Sequence[str]) -> tuple[str, list[str]]:
        q = check_text(query, what="query")
        docs = check_multivector_texts(documents, self.spec, self._row, what="document")
        return q, docs

    def _request(self, texts: Sequence[str], role: Role | str) -> EmbedRequest:
        return multivector_request(self.spec, self._row, self.options, texts, role)

    def _empty(self, request: EmbedRequest) -> MultiVectorEmbeddings:
        b = request.binding
        return MultiVectorEmbeddings(
            vectors=[],
            model=self.spec.name,
            usage=Usage(0, 0),
            precision=request.precision,
            dimensions=self.dimensions or 0,
            task=b.task,
            role=b.role.value,
            binding=b,
        )

    def _finish(self, request: EmbedRequest, out: BackendOutput) -> MultiVectorEmbeddings:
        vectors = finish_token_vectors(out, request, spec=self.spec, backend=self.backend_name)
        b = request.binding
        logger.debug(
            "multi-vector embedded %d texts: model=%s backend=%s role=%s tokens=%d truncated=%d",
            len(vectors),
            out.model,
            self.backend_name,
            b.role.value,
            sum(v.shape[0] for v in vectors),
            out.truncated,
        )
        return MultiVectorEmbeddings(
            vectors=vectors,
            model=out.model,
            usage=out.usage,
            precision=request.precision,
            dimensions=int(vectors[0].shape[1]),
            task=b.task,
            role=b.role.value,
            truncated=out.truncated,
            truncated_indices=out.truncated_indices,
            binding=b,
        )

    def _describe(self) -> dict[str, Any]:
        return {
            **super()._describe(),
            "dimensions": self.options.dimensions,
            "precision": self.options.precision,
        }


# -- checks shared with the MaxSim reranker ---------------------------------------------------------
def check_multivector_options(options: EmbedOptions, spec: ModelSpec, row: Any) -> EmbedOptions:
    """Options valid for ``spec``'s multi-vector mode on backend ``row`` (before any load or request).

    Raises:
        InvalidInputError: a backend without multi-vector support, a precision other than
            float32/float16, ``dimensions`` outside the model's sizes, ``dimensions`` with v4.
    """
    if "multivector" not in row.capabilities:
        raise InvalidInputError(
            f"backend={row.name!r} does not serve multi-vector models; use backend='local' or 'api'.",
            field="backend",
        )
    if options.precision not in MULTIVECTOR_PRECISIONS:
        raise InvalidInputError(
            f"Multi-vector precision must be 'float32' or 'float16', got {options.precision!r} "
            "(store float16 with MultiVectorEmbeddings.to_bytes for compact storage).",
            field="precision",
        )
    if spec.kind != "multivector" and options.dimensions is not None:
        raise InvalidInputError(
            f"{spec.name} in multi-vector mode has {spec.multivector_dim}-d token vectors and takes no "
            "dimensions= (the API refuses dimensions with return_multivector); omit dimensions=.",
            field="dimensions",
        )
    if spec.kind == "multivector" and options.dimensions is not None and spec.matryoshka_dims is None:
        width = spec.multivector_dim
        if width is not None and options.dimensions > width:
            raise InvalidInputError(
                f"dimensions={options.dimensions} exceeds {spec.name}'s token width {width}.",
                field="dimensions",
            )
    return options.for_model(spec, row)


def check_multivector_texts(
    texts: Sequence[str], spec: ModelSpec, row: Any, *, what: str = "text"
) -> list[str]:
    """Texts only: images are refused by index (jina-colbert-v2 is text-only; v4's multi-vector
    mode takes text here)."""
    items = check_inputs(texts, spec=spec, row=row, what=what)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidInputError(
                f"{what} at index {i} is an image; multi-vector embedding takes text only ({spec.name}).",
                index=i,
                field="model",
            )
    return items


def multivector_request(
    spec: ModelSpec, row: Any, options: EmbedOptions, texts: Sequence[str], role: Role | str
) -> EmbedRequest:
    items = check_multivector_texts(texts, spec, row)
    return EmbedRequest(
        texts=items,
        binding=resolve(spec, options.task, role),
        dimensions=options.dimensions,
        precision=options.precision,
        normalize=options.normalize,
        truncate=options.truncate,
        batch_size=options.batch_size,
        show_progress=options.show_progress,
    )


MultiVectorEmbedder.__init__.__signature__ = signature_with_options(  # type: ignore[attr-defined]
    MultiVectorEmbedder.__init__, "multivector"
)
