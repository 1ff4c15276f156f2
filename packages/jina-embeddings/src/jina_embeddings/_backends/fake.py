"""``backend="fake"``: deterministic, offline vectors and scores for your own tests.

The vectors are not random noise: each is a signed feature-hash of the text's words, plus
a small component that depends on the (task, role) binding, so texts that share words are
similar (a retrieval test can pass) and different tasks or roles give different vectors (a
mapping bug is visible). The prompt changes the perturbation, not the words. No model, no network, no optional dependency.

Example::

    emb = Embedder("jina-embeddings-v5-text-small", backend="fake", dimensions=64)
    emb.embed_query("berlin").vectors.shape   # (1, 64)
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import numpy as np

from .._models import ModelSpec
from .._results import Usage
from .base import BackendOutput, EmbedRequest, InputItem, RerankOutput, RerankRequest
from .table import BackendConfig

__all__ = ["FakeBackend", "FakeRerankBackend", "fake_vector"]

_WORD = re.compile(r"\w+", re.UNICODE)
_NOISE = 0.15
_FALLBACK_DIM = 256


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).digest()


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _as_text(item: InputItem) -> str:
    """A text as is; an image as a key of its bytes (identical images get identical vectors)."""
    return item if isinstance(item, str) else "image " + hashlib.sha256(item.read_bytes()).hexdigest()


@lru_cache(maxsize=65536)
def _word_vector(word: str, dim: int) -> np.ndarray:
    rng = np.random.default_rng(int.from_bytes(_digest("w", word)[:8], "little"))
    return rng.standard_normal(dim)


def fake_vector(text: str, *, salt: str, dim: int) -> np.ndarray:
    """Unit float32 vector: sum of dense per-word random vectors + a ``salt`` perturbation.

    Dense word vectors (rather than hashed buckets) keep their similarity structure after a
    Matryoshka cut to the first ``dimensions`` values, like a real model's.
    """
    vec = np.zeros(dim, dtype=np.float64)
    for word in _words(text):
        vec += _word_vector(word, dim)
    norm = np.linalg.norm(vec)
    if norm:
        vec /= norm
    rng = np.random.default_rng(int.from_bytes(_digest("n", salt, text)[:8], "little"))
    vec += _NOISE * rng.standard_normal(dim) / np.sqrt(dim)
    return (vec / np.linalg.norm(vec)).astype(np.float32)


def _late(vectors: np.ndarray, texts: list[str], counts: tuple[int, ...], salt: str, dim: int) -> np.ndarray:
    """Late chunking's fake: each chunk's vector plus half its document's, renormalized."""
    rows, start = [], 0
    for n in counts:
        context = fake_vector(" ".join(texts[start : start + n]), salt=salt + "|late", dim=dim)
        for row in vectors[start : start + n]:
            mixed = row + 0.5 * context
            rows.append(mixed / np.linalg.norm(mixed))
        start += n
    return np.stack(rows).astype(np.float32)


class FakeBackend:
    """Deterministic embedding backend; see the module docstring."""

    name = "fake"

    def __init__(self, config: BackendConfig) -> None:
        self.spec: ModelSpec = config.spec
        self.dim = self.spec.native_dim or _FALLBACK_DIM
        self.calls = 0

    def embed(self, request: EmbedRequest) -> BackendOutput:
        self.calls += 1
        b = request.binding
        salt = f"{self.spec.name}|{b.adapter}|{b.api_task}|{b.prompt}"
        texts = [_as_text(t) for t in request.texts]
        vectors = np.stack([fake_vector(t, salt=salt, dim=self.dim) for t in texts])
        if request.chunk_counts is not None:  # late chunking: each chunk also sees its document
            vectors = _late(vectors, texts, request.chunk_counts, salt, self.dim)
        tokens = sum(len(_words(b.prompt + t)) for t in texts)
        return BackendOutput(vectors=vectors, model=self.spec.name, usage=Usage(tokens, tokens))

    async def aembed(self, request: EmbedRequest) -> BackendOutput:
        return self.embed(request)

    def warm_up(self, task: str | None = None) -> None:
        return None

    def close(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


class FakeRerankBackend:
    """Deterministic reranker: word-overlap (Jaccard) score plus a tiny hash tie-breaker."""

    name = "fake"

    def __init__(self, config: BackendConfig) -> None:
        self.spec: ModelSpec = config.spec

    @staticmethod
    def score(query: str, document: str) -> float:
        q, d = set(_words(query)), set(_words(document))
        overlap = len(q & d) / len(q | d) if q | d else 0.0
        return overlap + int.from_bytes(_digest("t", document)[:4], "little") / 2**32 * 1e-6

    def rerank(self, request: RerankRequest) -> RerankOutput:
        query, documents = request.query, [_as_text(d) for d in request.documents]
        scored = [(i, self.score(query, doc)) for i, doc in enumerate(documents)]
        tokens = len(_words(query)) * len(documents) + sum(len(_words(d)) for d in documents)
        return RerankOutput(scored=scored, model=self.spec.name, usage=Usage(tokens, tokens))

    async def arerank(self, request: RerankRequest) -> RerankOutput:
        return self.rerank(request)

    def warm_up(self) -> None:
        return None

    def close(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
