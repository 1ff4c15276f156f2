"""Local reranking: order equals the model's raw scores; v3/m0 go through their own methods."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from jina_embeddings import Reranker, get_spec
from jina_embeddings._backends import local_rerank

pytestmark = pytest.mark.local
QUERY = "the quick fox"
DOCS = [
    "embeddings for search",
    "the quick brown fox",
    "un chien paresseux",
    "fox and dog",
    "Der schnelle braune Fuchs",
    "retrieval augmented generation",
    "a lazy dog sleeps",
]


def test_cross_encoder_order_equals_raw_scores(tiny_reranker_path: str) -> None:
    from sentence_transformers import CrossEncoder

    raw = CrossEncoder(tiny_reranker_path, device="cpu").predict([(QUERY, d) for d in DOCS])
    res = Reranker(tiny_reranker_path, backend="local").rerank(QUERY, DOCS)
    assert res.indices == sorted(range(len(DOCS)), key=lambda i: (-raw[i], i))
    np.testing.assert_allclose(res.scores, sorted(raw, reverse=True), rtol=1e-5)
    assert [r.document for r in res] == [DOCS[i] for i in res.indices]


def test_top_n_and_async(tiny_reranker_path: str) -> None:
    rr = Reranker(tiny_reranker_path, backend="local", top_n=3)
    full = Reranker(tiny_reranker_path, backend="local").rerank(QUERY, DOCS)
    top = rr.rerank(QUERY, DOCS)
    assert top.indices == full.indices[:3]
    assert rr.rerank(QUERY, DOCS, top_n=2).indices == full.indices[:2]
    assert asyncio.run(rr.arerank(QUERY, DOCS)).indices == full.indices[:3]


class _ListwiseStub:
    """Stands in for jina-reranker-v3's remote-code model: the interface its card documents."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], dict[str, Any]]] = []

    def to(self, device: str) -> _ListwiseStub:
        return self

    def eval(self) -> _ListwiseStub:
        return self

    def rerank(self, query: str, documents: list[str], **kwargs: Any) -> list[dict[str, Any]]:
        self.calls.append((query, documents, kwargs))
        scores = [len(set(query.split()) & set(d.split())) / 10 for d in documents]
        return sorted(
            (
                {"index": i, "relevance_score": s, "document": d}
                for i, (s, d) in enumerate(zip(scores, documents, strict=True))
            ),
            key=lambda r: -r["relevance_score"],
        )

    def compute_score(self, pairs: list[list[str]], **kwargs: Any) -> list[float]:
        self.calls.append(("compute_score", [p[1] for p in pairs], kwargs))
        return [len(set(q.split()) & set(d.split())) / 10 for q, d in pairs]


@pytest.mark.parametrize("model", ["jina-reranker-v3", "jina-reranker-m0"])
def test_listwise_and_m0_dispatch(model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers

    stub = _ListwiseStub()
    loads: list[dict[str, Any]] = []

    def from_pretrained(source: str, **kwargs: Any) -> _ListwiseStub:
        loads.append({"source": source, **kwargs})
        return stub

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", from_pretrained)
    rr = Reranker(model, backend="local", max_length=512)
    res = rr.rerank("quick fox", ["slow dog", "quick brown fox", "fox"])
    assert res.indices == [1, 2, 0] and res.scores == [0.2, 0.1, 0.0]
    assert loads[0]["source"] == get_spec(model).hf_repo and loads[0]["trust_remote_code"] is True
    if model == "jina-reranker-v3":
        assert stub.calls[0][2] == {"max_doc_length": 512}
    else:
        assert stub.calls[0][2]["doc_type"] == "text" and stub.calls[0][2]["max_length"] == 512


def test_reranker_models_are_cached_weakly(tiny_reranker_path: str) -> None:
    a = Reranker(tiny_reranker_path, backend="local")
    b = Reranker(tiny_reranker_path, backend="local")
    assert a._backend._model() is b._backend._model()
    assert isinstance(a._backend, local_rerank.LocalRerankBackend)
