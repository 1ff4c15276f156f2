"""One-time export of a torch model to ONNX, for ``runtime="onnx"`` (needs torch, once).

A model folder that ships ``onnx/model.onnx`` runs without torch. Any other model (a plain
sentence-transformers folder, a v5-style folder whose task adapter must be merged first, a
Hub repo without ONNX files) is loaded once with torch, its task adapter merged into the
weights, and its transformer exported with ``torch.onnx.export`` into the ONNX cache folder:

    ``$JINA_EMBEDDINGS_ONNX_CACHE``, else ``$XDG_CACHE_HOME/jina-embeddings/onnx``, else
    ``~/.cache/jina-embeddings/onnx``; one sub-folder per (model, revision, task), named
    ``<model>-<task>-<hash>``, holding ``model.onnx``, ``tokenizer.json`` (the tokenizer as
    transformers configured it) and ``jina_onnx.json`` (pooling, padding side, context).

The hash covers the model's source, revision, task and the size and modification time of its
weight files, so a changed folder is exported again. A finished export is moved into place in
one rename, so processes exporting the same model at once never see half a folder. Copy such
a folder (or its ``model.onnx`` as ``onnx/model.onnx`` into the model folder) to a machine
without torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from .._models import ModelSpec
from .._optional import require
from ..errors import InvalidInputError

__all__ = ["CONFIG_NAME", "EXPORT_VERSION", "cache_root", "export", "export_dir", "pipeline_config"]

logger = logging.getLogger("jina_embeddings")
CONFIG_NAME = "jina_onnx.json"
EXPORT_VERSION = 1
_POOLINGS = ("mean", "cls", "lasttoken", "max")
_EXPORT = {
    "extra": "local",
    "purpose": "Exporting a model to ONNX (runtime='onnx' without a shipped ONNX file)",
}


def cache_root() -> Path:
    """The ONNX cache folder (see the module docstring)."""
    explicit = os.environ.get("JINA_EMBEDDINGS_ONNX_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jina-embeddings" / "onnx"


def _fingerprint(spec: ModelSpec, revision: str | None, task: str | None) -> str:
    parts: list[str] = [str(EXPORT_VERSION), spec.source, revision or "", task or ""]
    if spec.path:
        root = Path(spec.path)
        watched = [root / "config.json", *root.glob("*.safetensors"), *root.glob("*.bin")]
        if task:
            watched += list((root / "adapters" / task).glob("*"))
        for file in sorted(watched):
            if file.is_file():
                stat = file.stat()
                parts.append(f"{file.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def export_dir(spec: ModelSpec, revision: str | None, task: str | None) -> Path:
    """Where the export of ``spec`` for ``task`` lives (or will live) in the cache."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", spec.name)[:60]
    return cache_root() / f"{name}-{task or 'default'}-{_fingerprint(spec, revision, task)}"


def pipeline_config(st: Any) -> dict[str, Any]:
    """What the ONNX loop needs to reproduce a sentence-transformers model around its graph.

    Raises:
        InvalidInputError: a module the loop does not reproduce (Dense, images, a pooling
            other than mean / CLS / last-token / max, a pooling that excludes the prompt).
    """
    names = [type(m).__name__ for m in st]
    pooling = next((m for m in st if type(m).__name__ == "Pooling"), None)
    unsupported = [n for n in names if n not in ("Transformer", "Pooling", "Normalize")]
    mode = str(getattr(pooling, "pooling_mode", "") or "")
    if unsupported or pooling is None or names[0] != "Transformer" or mode not in _POOLINGS:
        raise InvalidInputError(
            f"runtime='onnx' runs Transformer -> Pooling (mean, cls, lasttoken, max) -> Normalize "
            f"pipelines; this model has {' -> '.join(names)} (pooling {mode or 'none'!r}). Use "
            "runtime='torch'.",
            field="runtime",
        )
    if getattr(pooling, "include_prompt", True) is False:
        raise InvalidInputError(
            "runtime='onnx' does not reproduce a pooling that leaves out the prompt tokens "
            "(include_prompt=False); use runtime='torch'.",
            field="runtime",
        )
    tok = st.tokenizer
    return {
        "version": EXPORT_VERSION,
        "pooling": mode,
        "padding_side": str(getattr(tok, "padding_side", "right") or "right"),
        "max_seq_length": int(st.max_seq_length or 512),
        "normalize": "Normalize" in names,
        "pad_token_id": int(tok.pad_token_id if tok.pad_token_id is not None else 0),
    }


class _Hidden:
    """Builds the wrapper module lazily (torch is imported only here)."""

    @staticmethod
    def make(model: Any, names: list[str]) -> Any:
        torch = require("torch", **_EXPORT)

        class Wrapper(torch.nn.Module):  # type: ignore[name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, *inputs: Any) -> Any:  # keyword arguments: see offline-testing §3.1
                return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

        return Wrapper().eval()


def _transformer(st: Any) -> Any:
    first = st[0]
    found = getattr(first, "auto_model", None) or getattr(first, "model", None)
    if found is None:
        raise InvalidInputError("runtime='onnx': no transformer found to export.", field="runtime")
    return found


def export(st: Any, out: Path, *, source: str, task: str | None) -> Path:
    """Export the loaded float32 sentence-transformers model ``st`` into ``out`` (atomic)."""
    torch = require("torch", **_EXPORT)
    config = pipeline_config(st)
    model = _transformer(st)
    if hasattr(model, "set_attn_implementation"):
        # the tracer follows eager attention exactly; sdpa masks vary across versions
        with contextlib.suppress(Exception):  # a model that only has one implementation
            model.set_attn_implementation("eager")
    forward_params = set(getattr(st[0], "model_forward_params", None) or ()) or {
        "input_ids",
        "attention_mask",
        "token_type_ids",
    }
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in forward_params and int(getattr(model.config, "type_vocab_size", 0) or 0) > 0:
        names.append("token_type_ids")
    wrapper = _Hidden.make(model, names)
    ids = torch.tensor([[5, 6, 7, 8, 9, 10], [5, 6, 7, 0, 0, 0]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], dtype=torch.long)
    if config["padding_side"] == "left":
        mask = mask.flip(1)
    dummy = [ids, mask] + ([torch.zeros_like(ids)] if len(names) == 3 else [])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # tracer notes on transformers' mask code: the exported graph is checked against
            # torch by the tests on every architecture, padding side and pooling
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                tuple(dummy),
                str(tmp / "model.onnx"),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={
                    **{n: {0: "batch", 1: "sequence"} for n in names},
                    "last_hidden_state": {0: "batch", 1: "sequence"},
                },
                opset_version=17,
                dynamo=False,
            )
        st.tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        config.update(source=source, task=task, inputs=names)
        (tmp / CONFIG_NAME).write_text(json.dumps(config, indent=2), encoding="utf-8")
        try:
            os.replace(tmp, out)
        except OSError:  # another process finished the same export first: keep theirs
            if not (out / CONFIG_NAME).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("exported %s (task %s) to ONNX in %s", source, task, out)
    return out
