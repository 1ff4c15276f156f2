"""Batch embedding on Ray Data: one model per actor, every core option, rows in order.

:func:`embed_dataset` adds a vector column to any Ray Dataset that has a text column::

    import ray
    from jina_embeddings.ray import embed_dataset

    ds = ray.data.read_parquet("s3://corpus/")
    out = embed_dataset(ds, column="text", model="jina-embeddings-v5-text-small",
                        task="retrieval", dimensions=256, num_actors=8, num_gpus_per_actor=1)
    out.write_parquet("s3://corpus-embedded/")

How it works, and why:

* **Checked on the driver first.** The options are those of :class:`~jina_embeddings.Embedder`
  (same names, same checks): one ``Embedder`` is built on the driver, which loads nothing
  and sends nothing, so a bad option, task, model or key fails there with the core's typed
  error before any actor starts. Options that cannot work across actors are refused too:
  ``int8``/``uint8`` without ``quantization_ranges`` (each actor would learn its own ranges
  from its own first batch, and the vectors of one corpus would not be comparable) and
  ``late_chunking`` (Ray batches group unrelated rows, which must not share a context).
* **One model per actor, loaded in the actor's constructor.** :class:`BatchEmbedder` is the
  callable class Ray Data runs in an actor pool (``ActorPoolStrategy(size=num_actors)``). The
  project rule "no downloads in constructors" is about ``Embedder`` objects, which users build
  in many places; an actor is built once per worker and Ray users expect the model load there
  (Ray's own examples do it), so :class:`BatchEmbedder` builds its ``Embedder`` and calls
  ``warm_up()`` in ``__init__``: a missing model or dependency fails when the pool starts, and
  the first batch is not slower than the others.
* **Row order kept** by running the returned dataset with ``preserve_order=True`` on a private
  copy of its ``DataContext`` (the input dataset's and the global context are not touched).
  This streams: rows come back in the input's order without an id column and a sort, which is
  an all-to-all shuffle of every vector through the object store (measured by
  ``benchmarks/ray_scaling.py``; figures in the README).
* **Failures name their rows.** Without ``id_column=``, a ``monotonically_increasing_id()``
  column is added before the actors (and not kept in the output); a batch that fails raises
  :class:`EmbedRowsError` naming the ids of the failing rows (``id_column``'s values when
  given, which is what you want for a corpus with document ids), the batch's size, the first
  texts and the core's message. The run stops there; nothing is dropped.
* **Remote backends keep their bound.** Each actor holds one ``Embedder``; its
  ``max_concurrency`` bounds that actor's requests in flight, so the whole job has at most
  ``num_actors * max_concurrency`` (an actor runs one batch at a time).
* **The key never travels in clear in a task.** The key resolved on the driver (``api_key=``
  or ``JINA_API_KEY``) is put in Ray's object store once; the actors' constructor argument
  holds only that object's reference (:class:`SealedKey`), so the key is not in the actor
  creation task, Ray's logs or the dashboard. It is in the object store of your cluster,
  where any code you run on the cluster could read it, as it could read an environment variable.
* **Vectors** are what ``Embedder.embed`` returns, through the one post-processing path (cut,
  renormalize, quantize): a ``fixed_size_list`` column of ``float32`` (``float16``, ``int8``,
  ``uint8`` for those precisions; the packed bits, ``ceil(dimensions / 8)`` bytes per row, for
  ``binary`` (``int8``) and ``ubinary`` (``uint8``), as ``Embeddings.vectors``). Parquet and
  Arrow readers see a list of numbers per row; ``vector_type="tensor"`` gives Ray's tensor
  column instead (``iter_batches(batch_format="numpy")`` then yields one 2-D array).

Importing this module needs the ``ray`` extra (``pip install "jina-embeddings[ray]"``);
``import jina_embeddings`` never imports Ray, and this module imports it on first use.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from typing_extensions import Unpack

from ._apikey import resolve_api_key
from ._embedder import DEFAULT_MODEL, Embedder
from ._options import EmbedderOptions, check_positive_int
from ._quantize import SCALAR_PRECISIONS
from ._tasks import Role
from ._validation import check_text
from .errors import InvalidInputError, JinaError, MissingDependencyError, PartialBatchError

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]
    from ray.data import Dataset

__all__ = ["BatchEmbedder", "EmbedRowsError", "RayEmbedConfig", "SealedKey", "embed_config", "embed_dataset"]

for _module in ("ray", "pyarrow"):
    if importlib.util.find_spec(_module) is None:
        raise MissingDependencyError(
            "ray[data]", extra="ray", purpose="Batch embedding on Ray Data (jina_embeddings.ray)"
        )

ROW_ID_COLUMN = "__jina_row_id"
"""The row-id column added (and consumed) when ``id_column`` is not given."""

_SHOWN_IDS = 10
_SHOWN_TEXTS = 3
_PREVIEW = 60
_RAY_ARGS_OWNED = frozenset(
    {"batch_size", "compute", "concurrency", "num_cpus", "num_gpus", "batch_format", "fn_constructor_args",
     "fn_constructor_kwargs", "fn_args", "fn_kwargs", "zero_copy_batch"}
)  # fmt: skip


class EmbedRowsError(JinaError):
    """A batch of an :func:`embed_dataset` job failed; ``row_ids`` says which rows.

    Attributes:
        row_ids: the failing rows' ids (values of ``id_column``, else the row-id column's).
        id_column: where the ids come from (``id_column`` or ``"__jina_row_id"``).
        batch_rows: how many rows the failing batch had.
        cause_type: the class name of the core's error (``InvalidInputError``, ``APIError`` ...).

    On the driver, Ray raises it as ``RayTaskError(EmbedRowsError)``, which is an instance of
    this class: ``except EmbedRowsError as e: e.row_ids``.
    """

    def __init__(
        self,
        message: str,
        *,
        row_ids: Sequence[Any] = (),
        id_column: str = ROW_ID_COLUMN,
        batch_rows: int = 0,
        cause_type: str = "",
    ) -> None:
        super().__init__(message)
        self.row_ids = list(row_ids)
        self.id_column = id_column
        self.batch_rows = batch_rows
        self.cause_type = cause_type

    def __reduce__(self) -> tuple[Any, ...]:  # crosses processes with its attributes
        return (
            _rebuild_rows_error,
            (
                str(self.args[0]) if self.args else "",
                self.row_ids,
                self.id_column,
                self.batch_rows,
                self.cause_type,
            ),
        )


def _rebuild_rows_error(
    message: str, row_ids: list[Any], id_column: str, batch_rows: int, cause_type: str
) -> EmbedRowsError:
    return EmbedRowsError(
        message, row_ids=row_ids, id_column=id_column, batch_rows=batch_rows, cause_type=cause_type
    )


class SealedKey:
    """An API key kept in Ray's object store; pickles as the object's reference only.

    Built on the driver by :func:`embed_config`; an actor calls :meth:`open` to get the key.
    ``repr`` shows no key, and neither does the pickle of anything that holds one.
    """

    __slots__ = ("_ref",)

    def __init__(self, ref: Any) -> None:  # a ray.ObjectRef[str]
        self._ref = ref

    def open(self) -> str:
        """The key (a ``ray.get`` from the object store)."""
        import ray

        value = ray.get(self._ref)
        if not isinstance(value, str):
            raise InvalidInputError("the sealed API key is not a string.", field="api_key")
        return value

    def __repr__(self) -> str:
        return "SealedKey('**********')"

    def __reduce__(self) -> tuple[Any, ...]:
        return (SealedKey, (self._ref,))


@dataclass(frozen=True)
class RayEmbedConfig:
    """What every actor needs, checked on the driver (build it with :func:`embed_config`).

    Attributes:
        model: the model name or folder (a folder must exist at that path on every node).
        backend: the backend the driver's ``Embedder`` chose (actors use it explicitly).
        options: the ``Embedder`` keyword options, as given.
        column: the text column; ``output_column``: the vector column to add.
        role: ``"document"`` (a corpus) or ``"query"``.
        id_column: the column naming rows in errors.
        api_key: the driver's key, sealed in the object store, or ``None``.
        rows_per_batch: the default rows per actor call: ``batch_size * max_concurrency`` on
            remote backends (every request slot of the actor busy), ``4 * batch_size`` locally.
        vector_type: ``"fixed_size_list"`` or ``"tensor"`` (see :func:`embed_dataset`).
    """

    model: str
    backend: str
    options: Mapping[str, Any] = field(default_factory=dict)
    column: str = "text"
    output_column: str = "embedding"
    role: str = Role.DOCUMENT.value
    id_column: str = ROW_ID_COLUMN
    api_key: SealedKey | None = None
    rows_per_batch: int = 128
    vector_type: str = "fixed_size_list"

    def __repr__(self) -> str:
        return (
            f"RayEmbedConfig(model={self.model!r}, backend={self.backend!r}, column={self.column!r}, "
            f"output_column={self.output_column!r}, role={self.role!r}, options={dict(self.options)!r}, "
            f"api_key={'set' if self.api_key is not None else None})"
        )

    def embedder(self) -> Embedder:
        """A new ``Embedder`` with these settings (nothing loaded yet)."""
        key = self.api_key.open() if self.api_key is not None else None
        return Embedder(self.model, backend=self.backend, api_key=key, **self.options)


def embed_config(
    *,
    model: str | Path = DEFAULT_MODEL,
    column: str = "text",
    output_column: str = "embedding",
    role: Role | str = Role.DOCUMENT,
    id_column: str | None = None,
    vector_type: str = "fixed_size_list",
    backend: str | None = None,
    api_key: Any = None,
    **options: Unpack[EmbedderOptions],
) -> RayEmbedConfig:
    """Check everything on the driver and return the config for :class:`BatchEmbedder`.

    Builds one ``Embedder`` (nothing is loaded or sent) so every option fails here with the
    core's typed error; seals the key in Ray's object store (starting Ray if it is not).

    Raises:
        InvalidInputError: a bad option, task, model, role or column name; ``int8``/``uint8``
            without ``quantization_ranges``; ``late_chunking``.
        TypeError: an option ``Embedder`` does not take.
    """
    for name, value in (("column", column), ("output_column", output_column)):
        _check_name(name, value)
    if id_column is not None:
        _check_name("id_column", id_column)
    if output_column in (column, id_column):
        raise InvalidInputError(
            f"output_column={output_column!r} would overwrite the input column of that name.",
            field="output_column",
        )
    if vector_type not in ("fixed_size_list", "tensor"):
        raise InvalidInputError(
            f"vector_type must be 'fixed_size_list' or 'tensor', got {vector_type!r}.", field="vector_type"
        )
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInputError(f"role must be 'document' or 'query', got {role!r}.", field="role") from None
    if "transport" in options or "async_transport" in options:
        raise InvalidInputError(
            "transport= cannot be sent to Ray actors; configure the network on the nodes.", field="transport"
        )
    key = resolve_api_key(api_key)
    with Embedder(model, backend=backend, api_key=key, **options) as probe:
        opts = probe.options
        if opts.precision in SCALAR_PRECISIONS and opts.quantization_ranges is None:
            raise InvalidInputError(
                f"precision={opts.precision!r} on Ray needs quantization_ranges=: each actor would "
                "learn its own ranges from its own first batch, so vectors of one corpus would not "
                "be comparable. Learn them once from a sample (Embedder(...).calibrate(texts)) "
                "and pass them.",
                field="quantization_ranges",
            )
        if opts.late_chunking:
            raise InvalidInputError(
                "late_chunking cannot run on Ray Data: a Ray batch groups unrelated rows, which "
                "must not share one context. Embed each document's chunks in one Embedder call.",
                field="late_chunking",
            )
        chosen = probe.backend_name
        remote = probe._row.options == "remote"
        per_call = opts.batch_size or probe._row.default_batch_size
        rows = per_call * (probe.remote_options.max_concurrency if remote else 4)
    sealed = None
    if key is not None and remote:
        import ray

        sealed = SealedKey(ray.put(key.get_secret_value()))
    return RayEmbedConfig(
        model=str(Path(model).resolve()) if Path(model).exists() else str(model),  # actors' cwd differs
        backend=chosen,
        options=dict(options),
        column=column,
        output_column=output_column,
        role=role.value,
        id_column=id_column or ROW_ID_COLUMN,
        api_key=sealed,
        rows_per_batch=rows,
        vector_type=vector_type,
    )


class BatchEmbedder:
    """The callable class for ``Dataset.map_batches``: one ``Embedder`` per actor.

    Takes and returns ``pyarrow`` tables (``batch_format="pyarrow"``): every input column is
    passed through untouched, ``config.output_column`` is added, and the row-id column that
    :func:`embed_dataset` adds is dropped.

    Example (what :func:`embed_dataset` does, for your own pipeline)::

        cfg = embed_config(model="jina-embeddings-v5-text-small", id_column="doc_id", dimensions=256)
        out = ds.map_batches(BatchEmbedder, fn_constructor_args=(cfg,), batch_format="pyarrow",
                             compute=ray.data.ActorPoolStrategy(size=4), batch_size=128, num_gpus=1)
    """

    def __init__(self, config: RayEmbedConfig) -> None:
        self.config = config
        self.embedder = config.embedder()
        self.embedder.warm_up()  # once per actor: see the module docstring

    def __call__(self, batch: pa.Table) -> pa.Table:
        cfg = self.config
        for name in (cfg.column, cfg.id_column):
            if name not in batch.column_names:
                raise InvalidInputError(
                    f"column {name!r} is not in the dataset (columns: {', '.join(batch.column_names)}).",
                    field="id_column" if name == cfg.id_column else "column",
                )
        texts = batch.column(cfg.column).to_pylist()
        bad = _bad_texts(texts)
        try:
            if bad:  # every bad row of the batch, not only the first
                raise bad[0][1]
            vectors = self.embedder.embed(texts, role=cfg.role).vectors
        except Exception as exc:
            raise self._rows_error(batch, texts, exc, [i for i, _ in bad]) from exc
        if cfg.id_column == ROW_ID_COLUMN:
            batch = batch.drop_columns([ROW_ID_COLUMN])
        return batch.append_column(cfg.output_column, _vector_column(vectors, cfg.vector_type))

    def _rows_error(
        self, batch: pa.Table, texts: list[Any], exc: Exception, bad: list[int]
    ) -> EmbedRowsError:
        """Name the failing rows: the bad texts' rows, a partial failure's rows, else the batch."""
        ids = batch.column(self.config.id_column).to_pylist()
        if bad:
            positions = bad
        elif isinstance(exc, PartialBatchError):
            positions = list(exc.failed_indices)
        elif isinstance(exc, InvalidInputError) and exc.index is not None and 0 <= exc.index < len(ids):
            positions = [exc.index]
        else:
            positions = list(range(len(ids)))
        failed = [ids[i] for i in positions]
        name = _show_id if self.config.id_column == ROW_ID_COLUMN else repr
        shown = ", ".join(map(name, failed[:_SHOWN_IDS])) + (", ..." if len(failed) > _SHOWN_IDS else "")
        previews = "; ".join(f"{name(ids[i])}: {_preview(texts[i])}" for i in positions[:_SHOWN_TEXTS])
        where = "" if self.config.id_column == ROW_ID_COLUMN else f"{self.config.id_column} "
        return EmbedRowsError(
            f"embed_dataset: {len(failed)} of {len(ids)} rows of a batch failed ({where}{shown}); "
            f"texts: {previews}. {type(exc).__name__} (indices count within the batch): {exc}",
            row_ids=failed,
            id_column=self.config.id_column,
            batch_rows=len(ids),
            cause_type=type(exc).__name__,
        )

    def __repr__(self) -> str:
        return f"BatchEmbedder({self.embedder!r})"


def embed_dataset(
    ds: Dataset,
    *,
    column: str = "text",
    model: str | Path = DEFAULT_MODEL,
    output_column: str = "embedding",
    role: Role | str = Role.DOCUMENT,
    id_column: str | None = None,
    vector_type: str = "fixed_size_list",
    num_actors: int | tuple[int, int] = 1,
    num_cpus_per_actor: float = 1,
    num_gpus_per_actor: float = 0,
    rows_per_batch: int | None = None,
    ray_remote_args: Mapping[str, Any] | None = None,
    backend: str | None = None,
    api_key: Any = None,
    **options: Unpack[EmbedderOptions],
) -> Dataset:
    """``ds`` with a vector column ``output_column`` for the texts in ``column``, in ``ds``'s order.

    Args:
        ds: any Ray Dataset with a string column ``column``.
        column: the text column. ``output_column``: the vector column added (must be new).
        model: registry name, Hugging Face repo id, or a model folder that exists at the same
            path on the driver and on every node.
        role: ``"document"`` (default: a corpus) or ``"query"``.
        id_column: a column of ``ds`` that identifies rows (e.g. ``"doc_id"``); errors name
            its values. ``None``: a row-id column is added for that and dropped at the end.
        vector_type: ``"fixed_size_list"`` (default: plain Arrow ``fixed_size_list<float>[d]``,
            which Parquet, DuckDB, Lance and vector stores read) or ``"tensor"`` (Ray's tensor
            type: ``iter_batches(batch_format="numpy")`` yields one 2-D array, and
            ``iter_torch_batches`` one tensor).
        num_actors: actors in the pool (``ActorPoolStrategy(size=...)``), or ``(min, max)``
            for an autoscaling pool. Each loads the model once.
        num_cpus_per_actor, num_gpus_per_actor: Ray resources of each actor (``num_gpus``:
            the actor sees that GPU and the model runs on it; fractions share one GPU).
        rows_per_batch: rows per actor call (Ray's ``map_batches(batch_size=...)``).
            ``None``: ``batch_size * max_concurrency`` on remote backends (every request slot
            of the actor busy), ``4 * batch_size`` locally (long batches sort by length).
        ray_remote_args: more ``map_batches`` keywords (``memory``, ``accelerator_type``,
            ``runtime_env``, ``max_restarts`` ...).
        backend, api_key, **options: exactly as :class:`~jina_embeddings.Embedder` (``task``,
            ``dimensions``, ``precision``, ``batch_size`` = texts per forward pass or request,
            ``device``, ``dtype``, ``base_url``, ``max_concurrency`` ...).

    Returns:
        A lazy Dataset (nothing runs until you consume or write it) with every input column
        and ``output_column``. It runs on its own copy of ``ds``'s ``DataContext`` with
        ``preserve_order=True`` and ``raise_original_map_exception=True`` (a failing map
        function of this pipeline raises its own exception type, e.g. :class:`EmbedRowsError`,
        rather than Ray's ``UserCodeException``); later operations on it inherit both.

    Raises:
        InvalidInputError / TypeError: at this call, before any actor starts (see
            :func:`embed_config`). While it runs: :class:`EmbedRowsError` naming the rows.
    """
    import ray.data

    strategy = _strategy(num_actors)
    _check_resource("num_cpus_per_actor", num_cpus_per_actor, positive=True)
    _check_resource("num_gpus_per_actor", num_gpus_per_actor, positive=False)
    check_positive_int("rows_per_batch", rows_per_batch)
    extra = dict(ray_remote_args or {})
    clash = sorted(_RAY_ARGS_OWNED & set(extra))
    if clash:
        raise InvalidInputError(
            f"ray_remote_args cannot set {', '.join(clash)}: embed_dataset sets them "
            "(use num_actors, num_cpus_per_actor, num_gpus_per_actor, rows_per_batch).",
            field="ray_remote_args",
        )
    known = ds.columns(fetch_if_missing=False)
    if known is not None:
        _check_columns(known, column=column, output_column=output_column, id_column=id_column)
    cfg = embed_config(
        model=model,
        column=column,
        output_column=output_column,
        role=role,
        id_column=id_column,
        vector_type=vector_type,
        backend=backend,
        api_key=api_key,
        **options,
    )
    if id_column is None:
        from ray.data.expressions import monotonically_increasing_id

        ds = ds.with_column(ROW_ID_COLUMN, monotonically_increasing_id())
    mapped = ds.map_batches(
        BatchEmbedder,
        fn_constructor_args=(cfg,),
        batch_format="pyarrow",
        batch_size=rows_per_batch or cfg.rows_per_batch,
        compute=strategy,
        num_cpus=num_cpus_per_actor,
        num_gpus=num_gpus_per_actor or None,
        **extra,
    )
    with warnings.catch_warnings():  # deepcopy sets Ray's deprecated fields: its warnings, not ours
        warnings.simplefilter("ignore", DeprecationWarning)
        out = ray.data.Dataset.copy(mapped, _deep_copy=True)  # its own DataContext, copied
    out.context.execution_options.preserve_order = True
    out.context.raise_original_map_exception = True  # EmbedRowsError, not UserCodeException
    return out


# -- helpers --------------------------------------------------------------------------------------
def _check_name(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{name} must be a non-empty column name, got {value!r}.", field=name)


def _check_columns(known: Sequence[str], *, column: str, output_column: str, id_column: str | None) -> None:
    for name, value in (("column", column), ("id_column", id_column)):
        if value is not None and value not in known:
            raise InvalidInputError(
                f"{name}={value!r} is not a column of the dataset (columns: {', '.join(known)}).", field=name
            )
    if output_column in known:
        raise InvalidInputError(
            f"output_column={output_column!r} is already a column of the dataset; choose another name.",
            field="output_column",
        )


def _strategy(num_actors: Any) -> Any:
    from ray.data import ActorPoolStrategy

    if isinstance(num_actors, tuple) and len(num_actors) == 2:
        low, high = num_actors
        check_positive_int("num_actors", low, optional=False)
        check_positive_int("num_actors", high, optional=False)
        if low > high:
            raise InvalidInputError(
                f"num_actors=(min, max) needs min <= max, got {num_actors}.", field="num_actors"
            )
        return ActorPoolStrategy(min_size=low, max_size=high)
    if isinstance(num_actors, tuple):
        raise InvalidInputError(
            f"num_actors must be an int or (min, max), got {num_actors!r}.", field="num_actors"
        )
    check_positive_int("num_actors", num_actors, optional=False)
    return ActorPoolStrategy(size=num_actors)


def _check_resource(name: str, value: object, *, positive: bool) -> None:
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > 0 if positive else value >= 0)
    )
    if not ok:
        bound = "> 0" if positive else ">= 0"
        raise InvalidInputError(f"{name} must be a finite number {bound}, got {value!r}.", field=name)


def _vector_column(vectors: np.ndarray, vector_type: str) -> pa.Array:
    """``fixed_size_list<dtype>[width]`` (plain Arrow: Parquet, DuckDB, Lance read it), or Ray's
    tensor type (``iter_batches(batch_format="numpy")`` then yields one 2-D array)."""
    import pyarrow as pa

    rows = np.ascontiguousarray(vectors)
    if vector_type == "tensor":
        from ray.data.extensions import ArrowTensorArray

        return ArrowTensorArray.from_numpy(rows)
    width = rows.shape[1] if rows.ndim == 2 else 0
    return pa.FixedSizeListArray.from_arrays(pa.array(rows.reshape(-1)), width)


def _bad_texts(texts: list[Any]) -> list[tuple[int, InvalidInputError]]:
    """Every text the core would refuse, with its error (positions within the batch)."""
    bad = []
    for i, text in enumerate(texts):
        try:
            check_text(text, index=i)
        except InvalidInputError as exc:
            bad.append((i, exc))
    return bad


def _show_id(row_id: object) -> str:
    """``monotonically_increasing_id()`` puts Ray's task index in the upper bits and the row's
    position among that task's rows in the lower 33: spell both out."""
    if isinstance(row_id, int):
        return f"row {row_id & ((1 << 33) - 1)} of input task {row_id >> 33}"
    return repr(row_id)


def _preview(text: object) -> str:
    shown = repr(text)
    return shown if len(shown) <= _PREVIEW else shown[: _PREVIEW - 3] + "..."
