"""``dtype=None`` on the local backend: the fastest dtype that keeps the vectors faithful.

* CUDA: bfloat16, what the Jina model cards recommend (chosen at load, as before).
* CPU with native bf16 arithmetic (Intel AMX or AVX512-BF16, read from torch's CPU probe,
  else ``/proc/cpuinfo``): the model loads in float32, embeds :data:`FIDELITY_SAMPLE`, is
  cast to bfloat16 and embeds it again. If every text's cosine to its float32 vector is at
  least :data:`MIN_COSINE` (0.995) it stays bfloat16 (2.5-3.5x float32 on such CPUs for
  MiniLM); otherwise it is loaded again in float32. One log line says which and why.
* Any other CPU, MPS and the rest: float32 (bf16 without hardware support is slower).

``dtype="float32"`` (or any explicit dtype) is loaded as asked, with no check: float32 stays
bit-exact. The chosen dtype is :attr:`LocalModel.dtype`, shown in the ``Embedder`` repr
once loaded and in every result's ``compute_dtype``.

Example::

    emb = Embedder("./minilm", backend="local")        # dtype=None
    emb.embed_query("hi").compute_dtype                # 'bfloat16' on an AVX512-BF16 CPU
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "FIDELITY_SAMPLE",
    "MIN_COSINE",
    "cpu_bf16_feature",
    "dtype_name",
    "min_cosine",
    "settle_cpu_dtype",
    "settle_dtype",
]

logger = logging.getLogger("jina_embeddings")
M = TypeVar("M")

#: The least per-text cosine to float32 that bfloat16 must reach on the sample.
MIN_COSINE = 0.995

#: Built-in sample for fidelity checks: short and long, several languages and scripts, code,
#: numbers, markup: the kinds of text where a lower precision fails first.
FIDELITY_SAMPLE: tuple[str, ...] = (
    "What is the capital of France?",
    "Paris is the capital and most populous city of France.",
    "How do I reset my password if I no longer have access to my email address?",
    "The mitochondria is the powerhouse of the cell, producing ATP through oxidative phosphorylation.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "El aprendizaje automático permite a las computadoras aprender de los datos sin programación explícita.",
    "東京は日本の首都であり、世界最大級の都市圏を持つ。",
    "Москва — столица России, крупнейший по численности населения город страны.",
    "def quicksort(xs):\n    return xs if len(xs) < 2 else quicksort([x for x in xs[1:] if x < xs[0]])",
    "SELECT name, COUNT(*) FROM orders GROUP BY name HAVING COUNT(*) > 10 ORDER BY 2 DESC;",
    "Invoice #48213: 3 x widget @ $19.99, tax 8.25%, total $64.92, due 2026-03-31.",
    "<div class='card'><h2>Offer</h2><p>Free shipping on orders over 50 EUR</p></div>",
    "ok",
    "lol this is sooo good!!! 😂😂 can't wait for the next one",
    "Quarterly revenue rose 12 percent year over year, driven by cloud subscriptions and a "
    "recovery in hardware sales, while operating margins narrowed slightly because of higher "
    "research spending and one-time restructuring costs in the European division. Management "
    "raised its full-year guidance and announced a new share buyback programme, citing strong "
    "demand from enterprise customers and an improving supply chain. Analysts noted that the "
    "company's backlog reached a record level, although currency headwinds are expected to "
    "weigh on results in the second half of the year.",
    "Photosynthesis converts light energy into chemical energy: in the thylakoid membranes, "
    "chlorophyll absorbs photons, water is split, oxygen is released and ATP and NADPH are "
    "formed; in the Calvin cycle these carriers drive the fixation of carbon dioxide into "
    "three-carbon sugars that the plant uses to build glucose, starch and cellulose.",
)


def cpu_bf16_feature() -> str | None:
    """The CPU feature that makes bf16 fast here (``"amx_bf16"``, ``"avx512_bf16"``), or None."""
    torch_cpu: Any = getattr(sys.modules.get("torch"), "cpu", None)
    probes = (("amx_bf16", "_is_amx_tile_supported"), ("avx512_bf16", "_is_avx512_bf16_supported"))
    for feature, probe in probes:
        check = getattr(torch_cpu, probe, None)
        if check is not None:
            try:
                if check():
                    return feature
            except Exception:  # a torch build without the probe's backend
                continue
    flags = _cpuinfo_flags()
    return next((feature for feature, _ in probes if feature in flags), None)


def _cpuinfo_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def dtype_name(st: Any) -> str:
    """The dtype of a loaded model's weights, as a string (``"float32"``, ``"bfloat16"``...)."""
    try:
        param = next(iter(st.parameters()))
    except (StopIteration, AttributeError, TypeError):
        return "float32"
    return str(param.dtype).removeprefix("torch.")


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """The smallest row-wise cosine between two (n, d) arrays (float64, so it is exact enough)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return float(np.min(np.sum(a * b, axis=1) / np.maximum(norms, 1e-30)))


def _sample_vectors(st: Any, sample: Sequence[str]) -> np.ndarray:
    return np.asarray(
        st.encode(
            list(sample),
            batch_size=min(len(sample), 64),
            convert_to_numpy=True,
            normalize_embeddings=False,
            show_progress_bar=False,
        ),
        dtype=np.float32,
    )


def settle_cpu_dtype(
    model: M,
    st: Any,
    name: str,
    load_float32: Callable[[], M],
    *,
    threshold: float | None = None,
    sample: Sequence[str] | None = None,
) -> M:
    """``dtype=None`` on CPU: keep ``model`` (loaded in float32) in bf16 if the CPU has native
    bf16 and the sample stays faithful, else float32. Returns the model to use.

    ``sample`` replaces the built-in :data:`FIDELITY_SAMPLE` (``fidelity_sample=``).
    ``load_float32`` builds a fresh float32 model, used when the bf16 cast fails the check
    (the cast cannot be undone exactly).
    """
    feature = cpu_bf16_feature()
    if os.environ.get("JINA_EMBEDDINGS_CPU_BF16", "").strip().lower() in ("0", "false", "no", "off"):
        feature = None
        why = "float32 (JINA_EMBEDDINGS_CPU_BF16=0)"
    elif feature is None:
        why = "float32 (this CPU has no native bf16: no AMX or AVX512-BF16)"
    if feature is None:
        logger.info("local model %s: dtype=%s", name, why)
        return model
    limit = MIN_COSINE if threshold is None else threshold
    torch = sys.modules["torch"]
    try:
        texts = list(sample or FIDELITY_SAMPLE)
        reference = _sample_vectors(st, texts)
        st.to(torch.bfloat16)
        cos = min_cosine(reference, _sample_vectors(st, texts))
    except Exception as exc:  # a model whose code cannot run the sample as is: stay exact
        logger.warning(
            "local model %s: dtype=float32 (the bf16 check could not run: %s: %s)",
            name,
            type(exc).__name__,
            exc,
        )
        return model if dtype_name(st) == "float32" else load_float32()
    if cos >= limit:
        logger.info(
            "local model %s: dtype=bfloat16 (dtype=None: this CPU has %s; min cosine %.5f to "
            "float32 on %s of %d texts, >= %.3f)",
            name,
            feature,
            cos,
            "your fidelity_sample" if sample else "the built-in sample",
            len(texts),
            limit,
        )
        return model
    logger.warning(
        "local model %s: dtype=float32 (bfloat16 reached a min cosine of only %.5f to float32 on "
        "the sample, under %.3f; pass dtype='bfloat16' to force it)",
        name,
        cos,
        limit,
    )
    return load_float32()


def settle_dtype(
    model: M,
    st: Any,
    name: str,
    device: str,
    asked: str | None,
    load_float32: Callable[[], M],
    sample: Sequence[str] | None = None,
) -> M:
    """The dtype step of every local load: ``dtype=None`` on CPU goes through
    :func:`settle_cpu_dtype`; everything else is logged as loaded (one line)."""
    if asked is None and device.split(":")[0] == "cpu":
        return settle_cpu_dtype(model, st, name, load_float32, sample=sample)
    why = "as asked" if asked else f"dtype=None on {device}"
    logger.info("local model %s: dtype=%s (%s)", name, dtype_name(st), why)
    return model
