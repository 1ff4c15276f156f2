"""Fixtures of the late-chunking tests: an independent reference built from transformers (+ peft).

The reference does not use the library's span or window code: it tokenizes the joined text,
assigns a token to a chunk when its character offsets overlap the chunk's characters, runs the
plain transformers model (with the task's LoRA adapter for v5-style folders) over the whole
sequence or over the windows the README documents, and means each chunk's token vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_mean_path(tiny_models: dict[str, Path]) -> Path:
    """The tiny XLM-RoBERTa (v3-shaped, mean pooling) folder with LoRA adapters per task."""
    return tiny_models["xlm-roberta"]


@pytest.fixture(scope="session")
def late_reference() -> Callable[..., np.ndarray]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    cache: dict[tuple[str, str | None], Any] = {}

    def load(folder: str, adapter: str | None) -> Any:
        if (folder, adapter) not in cache:
            model = AutoModel.from_pretrained(folder)
            if adapter is not None:
                from peft import PeftModel

                model = PeftModel.from_pretrained(model, f"{folder}/adapters/{adapter}")
            cache[(folder, adapter)] = (AutoTokenizer.from_pretrained(folder), model.eval())
        return cache[(folder, adapter)]

    def reference(
        folder: str | Path,
        chunks: list[str],
        *,
        prompt: str = "",
        adapter: str | None = None,
        window: int | None = None,
        overlap: int = 0,
    ) -> np.ndarray:
        """Unit chunk vectors: one pass over ``prompt + " ".join(chunks)`` (or the documented
        windows: prefix (specials + prompt) + body slice + suffix; later windows drop their
        first ``overlap`` outputs)."""
        tok, model = load(str(folder), adapter)
        text = prompt + " ".join(chunks)
        bounds, pos = [], len(prompt)
        for c in chunks:
            bounds.append((pos, pos + len(c)))
            pos += len(c) + 1
        enc = tok(text, return_offsets_mapping=True, return_special_tokens_mask=True)
        ids, offsets, special = enc["input_ids"], enc["offset_mapping"], enc["special_tokens_mask"]
        owner = []
        for (a, b), s in zip(offsets, special, strict=True):
            hits = [i for i, (x, y) in enumerate(bounds) if not s and a < y and b > x]
            owner.append(hits[-1] if hits else -1)
        first = owner.index(0)
        last = max(i for i, s in enumerate(special) if not s)
        prefix, body, suffix = ids[:first], ids[first : last + 1], ids[last + 1 :]
        with torch.no_grad():
            if window is None:
                hidden = model(input_ids=torch.tensor([ids])).last_hidden_state[0].numpy()
                body_out = hidden[first : last + 1]
            else:
                cap = window - len(prefix) - len(suffix)
                parts, start, keep = [], 0, 0
                while True:
                    stop = min(start + cap, len(body))
                    seq = prefix + body[start:stop] + suffix
                    h = model(input_ids=torch.tensor([seq])).last_hidden_state[0].numpy()
                    parts.append(h[len(prefix) + keep : len(prefix) + (stop - start)])
                    if stop >= len(body):
                        break
                    start, keep = stop - overlap, overlap
                body_out = np.concatenate(parts)
        owners = np.asarray(owner[first : last + 1])
        rows = [body_out[owners == i].mean(0) for i in range(len(chunks))]
        out = np.stack(rows)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    return reference


@pytest.fixture(scope="session")
def token_count() -> Callable[[str | Path, str], int]:
    from transformers import AutoTokenizer

    def count(folder: str | Path, text: str) -> int:
        return len(AutoTokenizer.from_pretrained(str(folder))(text)["input_ids"])

    return count
