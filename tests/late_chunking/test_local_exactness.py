"""Local late chunking against an independent transformers (+ peft) reference.

Each chunk vector must be the mean of its own tokens' outputs from ONE pass over
``prompt + " ".join(chunks)`` (cos >= 0.9999), differ from the chunk embedded alone, and a
document beyond the window must get the documented overlapping windows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder

pytestmark = pytest.mark.local

DOC = [
    "Acme Corporation was founded in Berlin in 1998 by two engineers.",
    "It makes anvils and rocket skates.",
    "The company employs about two hundred people.",
    "Its main rival is a firm from Munich.",
]
OTHER = ["Photosynthesis turns light into chemical energy.", "Plants do it in their leaves."]


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def minilm(minilm_path: str) -> Embedder:
    return Embedder(minilm_path, backend="local", dtype="float32")


def test_minilm_chunks_equal_span_means_of_one_pass(
    minilm: Embedder, minilm_path: str, late_reference: Any
) -> None:
    got = minilm.embed_chunks(DOC)
    ref = late_reference(minilm_path, DOC)
    assert got.vectors.shape == (4, 384)
    assert _cos(got.vectors, ref).min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(got.vectors, axis=1), 1.0, atol=1e-5)


def test_minilm_late_chunks_differ_from_chunks_embedded_alone(minilm: Embedder) -> None:
    late = minilm.embed_chunks(DOC).vectors
    alone = minilm.embed_documents(DOC).vectors
    cos = _cos(late, alone)
    assert cos.max() < 0.99, cos  # context changed every chunk
    assert cos.min() > 0.3, cos  # ... but each still says what it says


def test_documents_never_share_a_pass(minilm: Embedder, minilm_path: str, late_reference: Any) -> None:
    both = minilm.embed_chunked([DOC, OTHER])
    assert [len(r) for r in both] == [4, 2]
    assert _cos(both[0].vectors, late_reference(minilm_path, DOC)).min() >= 0.9999
    assert _cos(both[1].vectors, late_reference(minilm_path, OTHER)).min() >= 0.9999
    # the same document alone gives the same vectors: batching with another changed nothing
    np.testing.assert_allclose(minilm.embed_chunks(OTHER).vectors, both[1].vectors, atol=1e-5)


@pytest.mark.parametrize(
    ("task", "role_prompt"), [("retrieval", "Document: "), ("text-matching", "Document: ")]
)
def test_tiny_v5_folder_uses_prompt_and_adapter(
    tiny_mean_path: Path, late_reference: Any, task: str, role_prompt: str
) -> None:
    emb = Embedder(tiny_mean_path, backend="local", task=task, dtype="float32")
    got = emb.embed_chunks(DOC)
    ref = late_reference(tiny_mean_path, DOC, prompt=role_prompt, adapter=task)
    assert _cos(got.vectors, ref).min() >= 0.9999
    without_prompt = late_reference(tiny_mean_path, DOC, prompt="", adapter=task)
    assert _cos(got.vectors, without_prompt).min() < 0.9999  # the prompt was in front


def test_tasks_switch_adapters_between_calls(tiny_mean_path: Path, late_reference: Any) -> None:
    a = Embedder(tiny_mean_path, backend="local", task="retrieval", dtype="float32")
    b = Embedder(tiny_mean_path, backend="local", task="clustering", dtype="float32")
    va, vb, va2 = a.embed_chunks(DOC).vectors, b.embed_chunks(DOC).vectors, a.embed_chunks(DOC).vectors
    assert (
        _cos(vb, late_reference(tiny_mean_path, DOC, prompt="Document: ", adapter="clustering")).min()
        >= 0.9999
    )
    np.testing.assert_allclose(va, va2, atol=1e-6)
    assert np.abs(va - vb).max() > 1e-3


def _long_doc(n: int) -> list[str]:
    return [
        f"Part {i}: the company built its {i}th factory, and it was larger than before." for i in range(n)
    ]


def test_minilm_document_beyond_context_gets_documented_windows(
    minilm: Embedder, minilm_path: str, late_reference: Any, token_count: Any
) -> None:
    chunks = _long_doc(40)
    assert token_count(minilm_path, " ".join(chunks)) > 2 * 256  # several windows
    got = minilm.embed_chunks(chunks).vectors
    # default overlap: a quarter of the window's text tokens (256 - [CLS] - [SEP] = 254 -> 63)
    ref = late_reference(minilm_path, chunks, window=256, overlap=63)
    assert got.shape == (40, 384)
    assert _cos(got, ref).min() >= 0.9999
    no_overlap = late_reference(minilm_path, chunks, window=256, overlap=0)
    assert _cos(got, no_overlap).min() < 0.9999  # the overlap is really used


def test_window_and_overlap_options(tiny_mean_path: Path, late_reference: Any, token_count: Any) -> None:
    chunks = _long_doc(4)
    assert (
        2 * 96 < token_count(tiny_mean_path, "Document: " + " ".join(chunks)) < 512
    )  # windows; one pass fits
    emb = Embedder(
        tiny_mean_path,
        backend="local",
        dtype="float32",
        late_chunking_window=96,
        late_chunking_overlap=20,
    )
    got = emb.embed_chunks(chunks).vectors
    ref = late_reference(
        tiny_mean_path, chunks, prompt="Document: ", adapter="retrieval", window=96, overlap=20
    )
    assert _cos(got, ref).min() >= 0.9999
    whole = late_reference(tiny_mean_path, chunks, prompt="Document: ", adapter="retrieval")
    assert _cos(got, whole).min() < 0.9999  # windows, not one pass


def test_postprocessing_is_the_cores(minilm_path: str) -> None:
    full = Embedder(minilm_path, backend="local", dtype="float32").embed_chunks(DOC)
    bits = Embedder(minilm_path, backend="local", dtype="float32", precision="ubinary").embed_chunks(DOC)
    assert bits.vectors.dtype == np.uint8 and bits.vectors.shape == (4, 48)
    np.testing.assert_array_equal(bits.vectors, np.packbits(full.vectors > 0, axis=1))
    i8 = Embedder(minilm_path, backend="local", dtype="float32", precision="int8").embed_chunked([DOC, OTHER])
    assert [r.vectors.dtype for r in i8] == [np.int8, np.int8]


async def test_async_twins_match_sync(minilm: Embedder) -> None:
    sync = minilm.embed_chunked([DOC, OTHER])
    got = await minilm.aembed_chunked([DOC, OTHER])
    one = await minilm.aembed_chunks(OTHER)
    for a, b in zip(sync, got, strict=True):
        np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)
    np.testing.assert_allclose(one.vectors, sync[1].vectors, atol=1e-5)
