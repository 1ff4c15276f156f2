"""Local late chunking: one forward pass per document (or per window), span means per chunk.

For each document the text ``prompt + " ".join(chunks)`` is tokenized once by the model's
fast tokenizer (offsets give each token's characters, see :mod:`.late_spans`); the token ids
go through the model's transformer with the task's adapter active exactly as in a plain
``encode`` (peft adapter switched under the model lock, or v3/v4's ``task=`` argument); each
chunk's vector is the mean of its own tokens' output vectors (special and prompt tokens
excluded), then whatever the model applies after pooling (a ``Dense`` layer, ``Normalize``),
and the core's usual cut -> renormalize -> quantize.

Passes are batched across documents: sequences sorted by length, at most ``batch_size`` per
pass and at most ``batch_size * 512`` padded tokens (long documents go a few at a time),
right-padded with the attention mask set, so padding never changes a real token's output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from .._optional import require
from .._results import Usage
from ..errors import InvalidInputError
from .base import BackendOutput, EmbedRequest
from .late_spans import DocumentTokens, joined_text, plan_windows, split_document

__all__ = ["embed_late"]

_TOKENS_PER_SEQUENCE = 512  # padded-token budget per pass = batch_size * this


def embed_late(
    model: Any, request: EmbedRequest, options: Any, *, adapter: str | None, cancel: Any = None
) -> BackendOutput:
    """Late-chunk the documents of ``request`` (``texts`` = their chunks, ``chunk_counts``)."""
    from .local import DEFAULT_BATCH_SIZE, _Cancelled

    counts = request.chunk_counts or ()
    prompt = request.binding.prompt
    if not hasattr(model, "run_pass") or getattr(options, "runtime", "torch") != "torch":
        raise InvalidInputError(
            "late chunking needs the token outputs of the torch model; it runs with runtime='torch' "
            "(the default), not runtime='onnx'.",
            field="runtime",
        )
    with model.lock:  # the tokenizer's state and the adapter are model-global
        if cancel is not None and cancel.is_set():
            raise _Cancelled
        st = model.st
        post = _post_pooling(st, model.spec.name)
        docs, spans = _tokenize(st.tokenizer, prompt, cast(Sequence[str], request.texts), counts)
        window = min(options.late_chunking_window or model.max_seq_length, model.max_seq_length)
        sequences, plans = _windows(docs, window, options.late_chunking_overlap)
        outputs = model.run_pass(
            lambda st, kwargs: _token_outputs(
                st, sequences, request.batch_size or DEFAULT_BATCH_SIZE, kwargs
            ),
            adapter=adapter,
            show_progress=request.show_progress,
            cancel=cancel,
        )
        vectors = _pool(docs, plans, outputs, spans)
        vectors = _apply(post, vectors)
    return BackendOutput(
        vectors=vectors.astype(np.float32),
        model=model.spec.name,
        usage=Usage(None, None),
        truncated=0,
        truncated_indices=(),
    )


def _tokenize(
    tokenizer: Any, prompt: str, chunks: Sequence[str], counts: Sequence[int]
) -> tuple[list[DocumentTokens], list[int]]:
    if not getattr(tokenizer, "is_fast", False):
        raise InvalidInputError(
            "late chunking needs a fast tokenizer (character offsets per token); this model's is not.",
            field="late_chunking",
        )
    docs: list[DocumentTokens] = []
    start = 0
    for d, n in enumerate(counts):
        text, spans = joined_text(prompt, chunks[start : start + n])
        enc = tokenizer(
            text,
            add_special_tokens=True,
            truncation=False,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
            verbose=False,
        )
        try:
            docs.append(
                split_document(
                    enc["input_ids"], enc["offset_mapping"], enc["special_tokens_mask"], text, spans
                )
            )
        except InvalidInputError as exc:
            where = f"document {d}" if len(counts) > 1 else "the document"
            raise InvalidInputError(f"{where}: {exc}", index=d, field="chunks") from None
        start += n
    return docs, list(counts)


def _windows(
    docs: Sequence[DocumentTokens], window: int, overlap: int | None
) -> tuple[list[list[int]], list[Any]]:
    """All sequences to run, and per document its windows with their sequence indices."""
    sequences: list[list[int]] = []
    plans: list[Any] = []
    for doc in docs:
        capacity = window - len(doc.prefix) - len(doc.suffix)
        step_back = min(256, max(capacity, 0) // 4) if overlap is None else overlap
        mine = []
        for w in plan_windows(len(doc.body), capacity=capacity, overlap=step_back):
            mine.append((w, len(sequences)))
            sequences.append(doc.prefix + doc.body[w.start : w.stop] + doc.suffix)
        plans.append(mine)
    return sequences, plans


def _token_outputs(st: Any, sequences: list[list[int]], batch_size: int, kwargs: dict[str, Any]) -> list[Any]:
    """Output token vectors (float32 numpy, one (len, d) array per sequence)."""
    torch = require("torch")
    tokenizer = st.tokenizer
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    with_types = "token_type_ids" in getattr(tokenizer, "model_input_names", ())
    order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
    budget = batch_size * _TOKENS_PER_SEQUENCE
    out: list[Any] = [None] * len(sequences)
    k = 0
    device = st.device
    while k < len(order):
        longest = len(sequences[order[k]])
        take = max(1, min(batch_size, budget // max(longest, 1)))
        batch = order[k : k + take]
        k += take
        ids = torch.full((len(batch), longest), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), longest), dtype=torch.long)
        for row, i in enumerate(batch):
            seq = sequences[i]
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        features: dict[str, Any] = {"input_ids": ids.to(device), "attention_mask": mask.to(device)}
        if with_types:
            features["token_type_ids"] = torch.zeros_like(ids).to(device)
        with torch.inference_mode():
            tokens = st.forward(features, **kwargs)["token_embeddings"].float().cpu().numpy()
        for row, i in enumerate(batch):
            out[i] = tokens[row, : len(sequences[i])]
    return out


def _pool(
    docs: Sequence[DocumentTokens], plans: Sequence[Any], outputs: Sequence[Any], counts: Sequence[int]
) -> np.ndarray:
    """Stitch each document's window outputs over its body, then mean each chunk's tokens."""
    rows: list[np.ndarray] = []
    for doc, plan, n in zip(docs, plans, counts, strict=True):
        body_out: list[np.ndarray] = []
        for w, seq in plan:
            start = len(doc.prefix) + w.keep
            body_out.append(outputs[seq][start : len(doc.prefix) + (w.stop - w.start)])
        stitched = np.concatenate(body_out)
        owners = np.asarray(doc.owners)
        for c in range(n):
            rows.append(stitched[owners == c].mean(axis=0, dtype=np.float64))
    return np.stack(rows)


def _post_pooling(st: Any, name: str) -> list[Any]:
    """The modules after the model's mean ``Pooling`` (``Dense``, ``Normalize`` ...)."""
    modules = list(st.children()) if hasattr(st, "children") else []
    names = [type(m).__name__ for m in modules]
    if "Pooling" not in names:
        raise InvalidInputError(
            f"late chunking needs a sentence-transformers model with a Pooling module; {name!r} has "
            f"{', '.join(names) or 'none'}.",
            field="late_chunking",
        )
    return modules[names.index("Pooling") + 1 :]


def _apply(post: Sequence[Any], vectors: np.ndarray) -> np.ndarray:
    if not post:
        return vectors
    torch = require("torch")
    first = post[0]
    param = next(iter(first.parameters()), None) if hasattr(first, "parameters") else None
    dtype = param.dtype if param is not None else torch.float32
    device = param.device if param is not None else "cpu"
    features = {"sentence_embedding": torch.as_tensor(vectors, dtype=dtype, device=device)}
    with torch.inference_mode():
        for module in post:
            features = module(features)
    return features["sentence_embedding"].float().cpu().numpy()
