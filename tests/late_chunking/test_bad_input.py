"""Bad input to late chunking fails before any model call or request, naming what and where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jina_embeddings import Embedder, InvalidInputError
from jina_embeddings._late_chunking import group_chunks, late_chunking_problem, scatter

pytestmark = pytest.mark.local


@pytest.fixture(scope="module")
def minilm(minilm_path: str) -> Embedder:
    return Embedder(minilm_path, backend="local", dtype="float32")


def _no_model_call(emb: Embedder, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(emb._backend, "model_for", lambda *a, **k: calls.append("load"))
    return calls


@pytest.mark.parametrize(
    ("documents", "index", "message"),
    [
        ([[]], 0, "has no chunks"),
        ([["fine"], []], 1, "document 1 has no chunks"),
        ([["a chunk", "   "]], 0, "chunk 1 of the document is whitespace-only"),
        ([["a chunk", ""]], 0, "chunk 1 of the document is empty"),
        ([["ok"], ["a", None]], 1, "chunk 1 of document 1 is NoneType"),
        (["just a string"], 0, "must be a list of text chunks, got str"),
        ([["ok"], b"bytes"], 1, "got bytes"),
    ],
)
def test_bad_chunks_are_named(
    minilm: Embedder, monkeypatch: pytest.MonkeyPatch, documents: Any, index: int, message: str
) -> None:
    calls = _no_model_call(minilm, monkeypatch)
    with pytest.raises(InvalidInputError, match=message) as info:
        minilm.embed_chunked(documents)
    assert info.value.index == index and info.value.field == "chunks"
    assert calls == []


def test_a_bare_string_or_no_list_is_refused(minilm: Embedder) -> None:
    with pytest.raises(InvalidInputError, match="embed_chunks"):
        minilm.embed_chunked("one long text")
    with pytest.raises(InvalidInputError, match="must be a list of text chunks, got str"):
        minilm.embed_chunks("one long text")


def test_images_are_refused(minilm: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    pil = pytest.importorskip("PIL.Image")
    calls = _no_model_call(minilm, monkeypatch)
    with pytest.raises(InvalidInputError, match="text chunks only") as info:
        minilm.embed_chunks(["A caption.", pil.new("RGB", (4, 4))])
    assert info.value.index == 0 and calls == []


def test_no_documents_gives_no_results(minilm: Embedder) -> None:
    assert minilm.embed_chunked([]) == []


def test_flat_documents_refused_under_late_chunking(minilm_path: str) -> None:
    emb = Embedder(minilm_path, backend="local", late_chunking=True)
    with pytest.raises(InvalidInputError, match="needs document boundaries") as info:
        emb.embed_documents(["Acme was founded in 1998.", "It makes anvils."])
    assert info.value.field == "late_chunking"
    assert emb.embed_query("anvils?").vectors.shape == (1, 384)  # a query is embedded whole


def test_last_token_model_refused_unless_forced(
    tiny_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tiny_models["qwen3"]  # v5-small-shaped: last-token pooling
    with pytest.raises(InvalidInputError, match="pools by 'lasttoken', not by mean") as info:
        Embedder(folder, backend="local", late_chunking=True)
    assert info.value.field == "late_chunking"
    emb = Embedder(folder, backend="local")
    calls = _no_model_call(emb, monkeypatch)
    with pytest.raises(InvalidInputError, match="force_late_chunking=True"):
        emb.embed_chunks(["A chunk.", "Another one."])
    assert calls == []
    forced = Embedder(folder, backend="local", late_chunking=True, force_late_chunking=True, dtype="float32")
    assert forced.embed_chunks(["A chunk.", "Another one."]).vectors.shape == (2, 64)


def test_registry_capabilities() -> None:
    from jina_embeddings import get_spec
    from jina_embeddings._backends.table import backend_row

    local, api, openai = backend_row("local"), backend_row("api"), backend_row("openai")
    for name in ("jina-embeddings-v3", "jina-embeddings-v2-base-en"):
        assert late_chunking_problem(get_spec(name), local) is None
    assert late_chunking_problem(get_spec("jina-embeddings-v4"), api) is None
    assert "v3 and v4 only" in (late_chunking_problem(get_spec("jina-embeddings-v2-base-en"), api) or "")
    for name in ("jina-embeddings-v5-text-small", "jina-code-embeddings-0.5b"):
        assert "last-token" in (late_chunking_problem(get_spec(name), local) or "")
        assert late_chunking_problem(get_spec(name), local, force=True) is None
    assert "no late chunking" in (late_chunking_problem(get_spec("jina-embeddings-v3"), openai) or "")


def test_overlap_over_half_a_window_is_refused(minilm_path: str) -> None:
    with pytest.raises(InvalidInputError, match="late_chunking_overlap must be an integer"):
        Embedder(minilm_path, backend="local", late_chunking_overlap=-1)
    emb = Embedder(minilm_path, backend="local", late_chunking_window=64, late_chunking_overlap=40)
    long = [f"Sentence {i} about the company and its many factories." for i in range(20)]
    with pytest.raises(InvalidInputError, match="more than half") as info:
        emb.embed_chunks(long)
    assert info.value.field == "late_chunking_overlap"
    with pytest.raises(
        InvalidInputError, match="only apply to backend='local'|only applies to backend='local'"
    ):
        Embedder("jina-embeddings-v3", backend="api", api_key="k", late_chunking_overlap=8)


def test_group_chunks_and_scatter() -> None:
    groups = group_chunks(["s1", "s2", "s1", None, "s1"], [2, 0, 0, 7, 1])
    assert groups == [[2, 4, 0], [1], [3]]
    assert scatter(groups, [["c", "e", "a"], ["b"], ["d"]], 5) == ["a", "b", "c", "d", "e"]


def test_fake_backend_late_chunks_deterministically() -> None:
    import numpy as np

    emb = Embedder("jina-embeddings-v3", backend="fake", dimensions=64)
    doc = ["Acme was founded in 1998.", "It makes anvils."]
    late = emb.embed_chunks(doc).vectors
    np.testing.assert_array_equal(late, emb.embed_chunked([doc, ["Other."]])[0].vectors)
    alone = emb.embed_documents(doc).vectors
    assert np.abs(late - alone).max() > 1e-3 and late.shape == (2, 64)
    changed = emb.embed_chunks([doc[0], "It makes rockets."]).vectors
    assert np.abs(changed[0] - late[0]).max() > 1e-3  # a chunk's vector depends on its neighbours
