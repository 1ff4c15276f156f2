"""Images on the local backend: decode with Pillow, then the model's own image path.

Two kinds of models take images locally:

* models with their own ``encode_image(images, task=...)`` (``jina-embeddings-v4`` through
  its ``trust_remote_code`` module): the role's adapter name (``retrieval``, ``code`` ...) is
  passed as ``task``, as v4's own code expects;
* sentence-transformers multimodal models (``jina-clip-v2``, any CLIP-style folder, which
  sentence-transformers 6 loads with ``modalities == ['text', 'image']``): ``encode`` on
  the PIL images. Image inputs get no prompt (prompts are text instructions).

A list mixing texts and images is split by modality (sentence-transformers refuses a batch
that mixes them), each part encoded with its own path and the rows put back in input order,
so a mixed call equals the separate calls. Vectors come back raw: the core cuts,
renormalizes and quantizes them like text vectors, so ``dimensions`` and ``precision`` work
for images too.

No v4 weights can be loaded offline; the v4 dispatch is tested with a stand-in object that
has v4's ``encode_image``/``encode_text`` interface.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .._images import Image
from .._results import Usage
from ..errors import InvalidInputError
from .base import BackendOutput, EmbedRequest

if TYPE_CHECKING:
    from .local import LocalBackend, LocalModel

__all__ = ["embed_with_images", "encode_images", "image_encoder"]


def image_encoder(st: Any) -> Any:
    """The object with an ``encode_image`` method behind ``st`` (v4's model), else ``None``."""
    if callable(getattr(st, "encode_image", None)):
        return st
    first = st[0] if hasattr(st, "__getitem__") else None
    for name in ("model", "auto_model"):
        inner = getattr(first, name, None)
        if callable(getattr(inner, "encode_image", None)):
            return inner
    return None


def _as_matrix(out: Any) -> np.ndarray:
    """``encode_image`` output (array, tensor, or a list of per-image vectors) -> float32 (n, d)."""
    rows = out if isinstance(out, list | tuple) else [out]
    arrays = []
    for row in rows:
        if hasattr(row, "detach"):  # a torch tensor (v4 runs in bf16: numpy has no bf16)
            row = row.detach().float().cpu().numpy()
        arrays.append(np.asarray(row, dtype=np.float32))
    matrix = np.concatenate(arrays) if len(arrays) == 1 and arrays[0].ndim == 2 else np.stack(arrays)
    return matrix.astype(np.float32, copy=False)


def encode_images(
    model: LocalModel, pils: list[Any], *, adapter: str | None, batch_size: int, show_progress: bool
) -> np.ndarray:
    """Encode PIL images with ``model`` (the caller holds ``model.lock``); raw float32 rows."""
    host = image_encoder(model.st)
    if host is not None:
        kwargs: dict[str, Any] = {"images": pils, "batch_size": batch_size, "return_numpy": True}
        if adapter is not None:
            kwargs["task"] = adapter
        return _as_matrix(host.encode_image(**kwargs))
    modalities = getattr(model.st, "modalities", None)
    if modalities is not None and "image" not in modalities:
        raise InvalidInputError(
            f"{model.spec.name!r} loaded as a text-only sentence-transformers model "
            f"(modalities {list(modalities)}); it cannot embed images.",
            field="model",
        )
    out = model.st.encode(
        pils,
        batch_size=batch_size,
        show_progress_bar=show_progress,
        convert_to_numpy=True,
        normalize_embeddings=False,
    )
    return np.asarray(out, dtype=np.float32)


def embed_with_images(backend: LocalBackend, request: EmbedRequest, cancel: Any) -> BackendOutput:
    """:meth:`LocalBackend._embed` for a request that holds images (see the module docstring)."""
    from .local import DEFAULT_BATCH_SIZE, _Cancelled

    items = request.texts
    text_at = [i for i, item in enumerate(items) if isinstance(item, str)]
    image_at = [i for i, item in enumerate(items) if isinstance(item, Image)]
    text_out = (
        backend._embed(replace(request, texts=[items[i] for i in text_at]), cancel) if text_at else None
    )
    binding = request.binding
    model = backend.model_for(binding.task, show_progress=request.show_progress)
    pils = [items[i].to_pil() for i in image_at]  # type: ignore[union-attr]  # decoded outside the lock
    with model.lock:
        if cancel is not None and cancel.is_set():
            raise _Cancelled
        model._cancel.event = cancel  # the forward pre-hook stops between batches
        try:
            image_rows = encode_images(
                model,
                pils,
                adapter=None if backend.options.merge_adapters else binding.adapter,
                batch_size=request.batch_size or DEFAULT_BATCH_SIZE,
                show_progress=request.show_progress,
            )
        finally:
            model._cancel.event = None
    if image_rows.ndim != 2 or image_rows.shape[0] != len(image_at):
        raise RuntimeError(f"the model returned {image_rows.shape} for {len(image_at)} images")
    text_rows = np.asarray(text_out.vectors, dtype=np.float32) if text_out is not None else None
    if text_rows is not None and text_rows.shape[1] != image_rows.shape[1]:
        raise RuntimeError(
            f"{backend.spec.name!r} gives {text_rows.shape[1]}-d text vectors but "
            f"{image_rows.shape[1]}-d image vectors; they cannot share one result"
        )
    vectors = np.empty((len(items), image_rows.shape[1]), dtype=np.float32)
    vectors[image_at] = image_rows
    truncated: tuple[int, ...] = ()
    if text_rows is not None and text_out is not None:
        vectors[text_at] = text_rows
        truncated = tuple(text_at[i] for i in (text_out.truncated_indices or ()))
    return BackendOutput(
        vectors=vectors,
        model=backend.spec.name,
        usage=Usage(None, None),
        truncated=len(truncated),
        truncated_indices=truncated,
    )
