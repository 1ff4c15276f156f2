"""``runtime="onnx"``: our own onnxruntime loop, no torch needed for a model that ships ONNX.

The loop does what sentence-transformers does around the transformer, in numpy:

1. tokenize with ``tokenizers`` (``tokenizer.json``: the same fast tokenizer transformers
   wraps), the prompt prepended, truncated to the model's context;
2. sort the texts by token count and cut batches of ``batch_size`` (mixed lengths pad little),
   each padded to its longest text on the model's padding side (left for Qwen3 / v5);
3. run the graph (``input_ids``, ``attention_mask``, ``token_type_ids`` / ``position_ids``
   where the graph takes them) and pool its ``last_hidden_state`` as the model's pooling
   config says: mean, CLS, last token (the last real token, left or right padding) or max;
4. L2-normalize if the pipeline ends in ``Normalize``; put the rows back in input order.

Matryoshka cuts, renormalization and quantization stay with the core, as for torch.

Which graph: ``onnx_file=`` inside the model folder, else ``onnx/model.onnx`` if the folder
(or Hub repo) ships one, else a one-time export from torch into the ONNX cache folder (see
:mod:`.onnx_export`). Task adapters get one graph per task: registry v5 models use Jina's
merged per-task repos, v5-style folders have the task's LoRA merged before the export. The
pipeline facts come from ``jina_onnx.json`` (written by the export) or the model folder's
sentence-transformers files (``modules.json``, ``1_Pooling/config.json``,
``sentence_bert_config.json``, ``tokenizer_config.json``).

``dtype="int8"``: the graph is quantized dynamically (int8 weights, onnxruntime's
``quantize_dynamic``; cached beside the export) and accepted only if every text of the
fidelity sample (``fidelity_sample=``, else the built-in one) keeps a cosine of at least
:data:`INT8_MIN_COSINE` (0.99) to the float32 graph; otherwise loading raises
:class:`~jina_embeddings.errors.InvalidInputError` with the measured figure. Published
dynamic-int8 exports have reached 0.445 on out-of-domain text: it must be checked.

Example::

    emb = Embedder("./minilm", backend="local", runtime="onnx")            # exports once
    emb = Embedder("./minilm", backend="local", runtime="onnx", dtype="int8")
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._models import ModelSpec, get_spec
from .._optional import require
from .._options import LocalOptions
from ..errors import InvalidInputError, ModelNotFoundError
from .coalescing import CancelFlag
from .local import LocalModel, _Cancelled
from .local_dtype import FIDELITY_SAMPLE, min_cosine
from .onnx_export import CONFIG_NAME, cache_root, export, export_dir

__all__ = ["INT8_MIN_COSINE", "OnnxModel", "load_onnx", "read_config"]

logger = logging.getLogger("jina_embeddings")
INT8_MIN_COSINE = 0.99
_ONNX = {"extra": "onnx", "purpose": "runtime='onnx'"}
_DEFAULT_FILE = "onnx/model.onnx"
_INT8_RECIPE = "dynamic-qint8-per-channel-matmul-v1"  # part of the int8 cache key


def read_config(folder: Path, spec: ModelSpec) -> dict[str, Any]:
    """Pipeline facts: ``jina_onnx.json`` if present, else the folder's sentence-transformers files.

    Raises:
        InvalidInputError: a module the loop does not reproduce (see :mod:`.onnx_export`).
    """
    written = folder / CONFIG_NAME
    if written.is_file():
        return dict(json.loads(written.read_text(encoding="utf-8")))
    modules = _json(folder / "modules.json", [])
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules] or ["Transformer", "Pooling"]
    unsupported = [k for k in kinds if k not in ("Transformer", "Pooling", "Normalize")]
    pooling_dir = next(
        (m.get("path", "") for m in modules if str(m.get("type", "")).endswith("Pooling")), "1_Pooling"
    )
    pooling = _json(folder / pooling_dir / "config.json", {})
    mode = str(pooling.get("pooling_mode") or "")
    for key, value in pooling.items():
        if key.startswith("pooling_mode_") and value is True:
            mode = key.removeprefix("pooling_mode_").replace("_tokens", "").replace("_token", "")
    mode = {"last": "lasttoken", "lasttoken": "lasttoken"}.get(mode, mode)
    if unsupported or mode not in ("mean", "cls", "lasttoken", "max"):
        raise InvalidInputError(
            f"runtime='onnx' runs Transformer -> Pooling (mean, cls, lasttoken, max) -> Normalize "
            f"pipelines; {spec.name!r} has {' -> '.join(kinds)} (pooling {mode or 'none'!r}). Use runtime='torch'.",
            field="runtime",
        )
    if pooling.get("include_prompt") is False:
        raise InvalidInputError(
            "runtime='onnx' does not reproduce a pooling that leaves out the prompt tokens "
            "(include_prompt=False); use runtime='torch'.",
            field="runtime",
        )
    st_config = _json(folder / "sentence_bert_config.json", {})
    tok_config = _json(folder / "tokenizer_config.json", {})
    limit = st_config.get("max_seq_length") or tok_config.get("model_max_length") or spec.max_tokens
    return {
        "pooling": mode,
        "padding_side": tok_config.get("padding_side") or "right",
        "max_seq_length": int(min(int(limit), 1_000_000)),
        "normalize": "Normalize" in kinds,
        "pad_token": _token_text(tok_config.get("pad_token")),
    }


def _json(path: Path, default: Any) -> Any:
    if not path.is_file():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


def _token_text(token: Any) -> str | None:
    if isinstance(token, dict):
        return str(token.get("content")) if token.get("content") is not None else None
    return str(token) if token is not None else None


class OnnxModel(LocalModel):
    """A loaded ONNX graph, its tokenizer and pooling, behind :class:`LocalModel`'s interface
    (lock, length checks, ``encode``), so coalescing and the core's checks work unchanged."""

    def __init__(
        self, session: Any, tokenizer: Any, config: dict[str, Any], spec: ModelSpec, dtype: str
    ) -> None:
        super().__init__(None, "plain", spec)
        self.session = session
        self.tokenizer = tokenizer
        self.config = config
        self.file = ""
        self._dtype = dtype
        self._inputs = [i.name for i in session.get_inputs()]
        outputs = session.get_outputs()
        names = [o.name for o in outputs]
        self._output = "last_hidden_state" if "last_hidden_state" in names else names[0]
        self._pooled = len(outputs[names.index(self._output)].shape or ()) == 2  # graph pools itself
        pad = config.get("pad_token_id")
        if pad is None and config.get("pad_token"):
            pad = tokenizer.token_to_id(config["pad_token"])
        self._pad = int(pad or 0)
        self._left = config.get("padding_side") == "left"

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def max_seq_length(self) -> int:
        return int(self.config.get("max_seq_length") or self.spec.max_tokens)

    def token_lengths(self, texts: Sequence[str], prompt: str) -> list[int]:
        self.tokenizer.no_truncation()
        return [
            len(e.ids)
            for e in self.tokenizer.encode_batch([prompt + t for t in texts], add_special_tokens=True)
        ]

    def _ids(self, texts: Sequence[str], prompt: str) -> list[list[int]]:
        self.tokenizer.enable_truncation(self.max_seq_length)
        return [
            e.ids for e in self.tokenizer.encode_batch([prompt + t for t in texts], add_special_tokens=True)
        ]

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
        """Embed ``texts`` (caller holds :attr:`lock`); raises ``_Cancelled`` between batches."""
        ids = self._ids(texts, prompt)
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        rows: list[np.ndarray] = [np.empty(0, np.float32)] * len(ids)
        bar = _progress(len(ids), show_progress)
        for start in range(0, len(order), batch_size):
            if cancel is not None and cancel.is_set():
                raise _Cancelled
            chunk = order[start : start + batch_size]
            pooled = self.run_batch([ids[i] for i in chunk])
            for i, row in zip(chunk, pooled, strict=True):
                rows[i] = row
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        if not rows:
            return np.zeros((0, 0), np.float32)
        return np.stack(rows).astype(np.float32, copy=False)

    def run_batch(self, batch: list[list[int]]) -> np.ndarray:
        """One forward pass over token id lists: padded, run, pooled (normalized if the model is)."""
        width = max(len(x) for x in batch)
        input_ids = np.full((len(batch), width), self._pad, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for r, seq in enumerate(batch):
            if self._left:
                input_ids[r, width - len(seq) :] = seq
                mask[r, width - len(seq) :] = 1
            else:
                input_ids[r, : len(seq)] = seq
                mask[r, : len(seq)] = 1
        feed: dict[str, np.ndarray] = {}
        for name in self._inputs:
            if name == "input_ids":
                feed[name] = input_ids
            elif name == "attention_mask":
                feed[name] = mask
            elif name == "token_type_ids":
                feed[name] = np.zeros_like(input_ids)
            elif name == "position_ids":  # what transformers uses when none are passed
                feed[name] = np.broadcast_to(np.arange(width, dtype=np.int64), input_ids.shape).copy()
            else:
                raise InvalidInputError(
                    f"runtime='onnx': the graph wants an input {name!r} this loop does not provide "
                    "(input_ids, attention_mask, token_type_ids, position_ids).",
                    field="onnx_file",
                )
        hidden = np.asarray(self.session.run([self._output], feed)[0], dtype=np.float32)
        pooled = hidden if self._pooled else _pool(hidden, mask, str(self.config.get("pooling", "mean")))
        if self.config.get("normalize"):
            pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled

    def run_pass(self, fn: Any, **kwargs: Any) -> Any:
        raise InvalidInputError(
            "local late chunking needs the token vectors of the torch model: use runtime='torch'.",
            field="runtime",
        )


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    m = mask.astype(np.float32)[:, :, None]
    if mode == "mean":
        return (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    if mode == "max":
        return np.where(m > 0, hidden, -np.inf).max(axis=1)
    rows = np.arange(hidden.shape[0])
    if mode == "cls":
        return hidden[rows, mask.argmax(axis=1)]  # the first real token (position 0 when padded right)
    last = mask.shape[1] - 1 - mask[:, ::-1].argmax(axis=1)  # the last real token, either padding
    return hidden[rows, last]


def _progress(total: int, show: bool) -> Any:
    if not show:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="Batches", unit="text")


# -- finding or making the graph -----------------------------------------------------------------
def _local_folder(spec: ModelSpec, options: LocalOptions, file: str) -> Path | None:
    """The model's folder with ``file`` in it: a local folder, or the Hub snapshot of the repo."""
    if spec.path:
        return Path(spec.path)
    hub: Any = require("huggingface_hub", **_ONNX)
    patterns = [
        file,
        f"{file}_data",
        f"{file}.data",
        "*.json",
        "*/config.json",
        "tokenizer*",
        "vocab*",
        "*.model",
    ]
    try:
        folder = hub.snapshot_download(
            spec.source,
            revision=options.revision,
            cache_dir=options.cache_folder,
            local_files_only=options.local_files_only,
            allow_patterns=patterns,
        )
    except Exception as exc:
        raise ModelNotFoundError(
            f"Could not get {spec.source!r} for runtime='onnx': {type(exc).__name__}: {exc}. Offline "
            "(HF_HUB_OFFLINE=1 or local_files_only=True) it must already be in the Hugging Face cache.",
            field="model",
        ) from exc
    return Path(folder)


def _graph(spec: ModelSpec, options: LocalOptions, task: str | None) -> tuple[Path, Path, ModelSpec]:
    """(folder with tokenizer and config, ONNX file, spec of the weights) for ``task``."""
    if task and spec.adapter_layout == "task-kwarg" and spec.family == "v5":  # Jina's merged repos
        spec = get_spec(f"{spec.name}-{task}")
        task = None
    per_task = bool(task) and spec.adapter_layout == "peft"
    if per_task and options.onnx_file:
        raise InvalidInputError(
            f"{spec.name!r} switches LoRA adapters per task; runtime='onnx' exports one graph per "
            "task with the adapter merged, so onnx_file= does not apply.",
            field="onnx_file",
        )
    if spec.adapter_layout == "task-kwarg":
        raise InvalidInputError(
            f"{spec.name!r} selects its task through its own code (task-kwarg); runtime='onnx' "
            "supports plain models, v5-style folders and Jina v5's merged repos. Use runtime='torch'.",
            field="runtime",
        )
    if not per_task:
        file = options.onnx_file or _DEFAULT_FILE
        folder = _local_folder(spec, options, file)
        if folder is not None and (folder / file).is_file():
            return folder, folder / file, spec
        if options.onnx_file:
            raise ModelNotFoundError(
                f"onnx_file={options.onnx_file!r} is not in {spec.name!r} ({folder}).", field="onnx_file"
            )
    out = export_dir(spec, options.revision, task if per_task else None)
    if not (out / CONFIG_NAME).is_file():
        _export(spec, options, task if per_task else None, out)
    return out, out / "model.onnx", spec


def _export(spec: ModelSpec, options: LocalOptions, task: str | None, out: Path) -> None:
    from dataclasses import replace

    from . import local

    exact = replace(options, dtype="float32", runtime="torch", onnx_file=None)
    model = local._load(spec, exact, "cpu", task)  # a private copy: the export edits attention
    export(model.st, out, source=spec.source, task=task)


def _session(path: Path) -> Any:
    ort: Any = require("onnxruntime", **_ONNX)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    threads = os.environ.get("JINA_EMBEDDINGS_ONNX_THREADS")
    if threads and threads.isdigit():
        opts.intra_op_num_threads = int(threads)
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def _tokenizer(folder: Path) -> Any:
    tokenizers: Any = require("tokenizers", **_ONNX)
    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ModelNotFoundError(
            f"runtime='onnx' needs tokenizer.json (a fast tokenizer) in {folder}.", field="model"
        )
    tok = tokenizers.Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    return tok


def _int8_file(source: Path) -> Path:
    """Where the dynamic int8 version of ``source`` is cached (keyed by its bytes' identity)."""
    stat = source.stat()
    key = hashlib.sha256(
        f"{_INT8_RECIPE}:{source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()
    ).hexdigest()[:16]
    return cache_root() / "int8" / f"{key}.onnx"


def _quantize(source: Path) -> Path:
    target = _int8_file(source)
    if target.is_file():
        return target
    quantization: Any = require("onnxruntime.quantization", **_ONNX)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".int8-", dir=target.parent))
    try:
        # Per-channel int8 weights of the MatMuls (the embedding table stays float32): on
        # MiniLM 0.974 min cosine on the built-in sample, against 0.865 per-tensor.
        quantization.quantize_dynamic(
            str(source),
            str(tmp / "model.onnx"),
            weight_type=quantization.QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
        os.replace(tmp / "model.onnx", target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_onnx(spec: ModelSpec, options: LocalOptions, task: str | None) -> OnnxModel:
    """Load (export or quantize first if needed) the ONNX graph serving ``task``.

    Raises:
        InvalidInputError: a pipeline the loop does not reproduce, or int8 under the fidelity bar.
        ModelNotFoundError: the named ONNX file or the tokenizer is missing.
        MissingDependencyError: onnxruntime / tokenizers (extra ``onnx``), or torch for an export.
    """
    if options.device not in (None, "cpu"):
        raise InvalidInputError(
            f"runtime='onnx' runs on the CPU; got device={options.device!r}. Pass device=None or "
            "'cpu', or runtime='torch' for a GPU.",
            field="device",
        )
    folder, file, weights = _graph(spec, options, task)
    config = read_config(folder, weights)
    tokenizer = _tokenizer(folder)
    model = OnnxModel(_session(file), tokenizer, config, spec, "float32")
    model.file = str(file)
    if options.dtype != "int8":
        logger.info("local model %s: runtime=onnx dtype=float32 (%s)", spec.name, file)
        return model
    sample = list(options.fidelity_sample or FIDELITY_SAMPLE)
    reference = model.encode(sample, adapter=None, prompt="", batch_size=len(sample), show_progress=False)
    quantized = _quantize(file)
    small = OnnxModel(_session(quantized), tokenizer, config, spec, "int8")
    small.file = str(quantized)
    cos = min_cosine(
        reference, small.encode(sample, adapter=None, prompt="", batch_size=len(sample), show_progress=False)
    )
    which = "your fidelity_sample" if options.fidelity_sample else "the built-in sample"
    if cos < INT8_MIN_COSINE:
        raise InvalidInputError(
            f"dtype='int8' is not faithful enough for {spec.name!r}: the dynamic int8 graph reaches a "
            f"min cosine of {cos:.4f} to float32 on {which} of {len(sample)} texts, under the "
            f"required {INT8_MIN_COSINE}. Use dtype='float32' (or None).",
            field="dtype",
        )
    logger.info(
        "local model %s: runtime=onnx dtype=int8 (min cosine %.5f to float32 on %s of %d texts, >= %.2f; %s)",
        spec.name,
        cos,
        which,
        len(sample),
        INT8_MIN_COSINE,
        quantized,
    )
    return small
