"""``JinaEmbeddings.embed_image`` / ``aembed_image`` (the OpenCLIPEmbeddings convention), end to
end through a real LangChain vector store, against the loopback fake Jina API."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.vectorstores import InMemoryVectorStore

from jina_testkit.fake_images import expected_image_vector
from jina_testkit.fake_vectors import expected_vector
from langchain_jina_embeddings import JinaEmbeddings

CLIP = "jina-clip-v2"


@pytest.fixture
def image_files(tmp_path: Path) -> list[Path]:
    pytest.importorskip("PIL")
    from jina_testkit.tiny_clip import sample_images

    paths = []
    for i, image in enumerate(sample_images(4, seed=3)):
        paths.append(tmp_path / f"page{i}.png")
        image.save(paths[-1])
    return paths


def _emb(server: Any, **kw: Any) -> JinaEmbeddings:
    return JinaEmbeddings(model=CLIP, backend="api", api_key="jina_test", base_url=server.base_url, **kw)


def add_images(store: InMemoryVectorStore, uris: list[str]) -> list[str]:
    """What ``Chroma.add_images`` does: ``embed_image(uris=...)``, documents = base64 of the files."""
    vectors = store.embedding.embed_image(uris=uris)  # type: ignore[attr-defined]
    ids = []
    for uri, vector in zip(uris, vectors, strict=True):
        doc_id = str(uuid.uuid4())
        text = base64.b64encode(Path(uri).read_bytes()).decode()
        store.store[doc_id] = {"id": doc_id, "vector": vector, "text": text, "metadata": {"uri": uri}}
        ids.append(doc_id)
    return ids


def test_embed_image_sends_one_image_each_with_original_bytes(
    fake_jina_server: Any, image_files: list[Path]
) -> None:
    uris = [str(p) for p in image_files]
    vectors = _emb(fake_jina_server).embed_image(uris=uris)
    (request,) = fake_jina_server.requests
    assert "task" not in request.body  # clip-v2 image side: no task
    assert [base64.b64decode(i["image"]) for i in request.body["input"]] == [
        p.read_bytes() for p in image_files
    ]
    want = [expected_image_vector(CLIP, None, data=p.read_bytes()) for p in image_files]
    np.testing.assert_allclose(np.array(vectors), np.stack(want), atol=1e-6)
    assert isinstance(vectors[0][0], float)


async def test_aembed_image(fake_jina_server: Any, image_files: list[Path]) -> None:
    vectors = await _emb(fake_jina_server, dimensions=64).aembed_image([str(image_files[0])])
    assert len(vectors) == 1 and len(vectors[0]) == 64
    assert fake_jina_server.requests[0].body["dimensions"] == 64


def test_text_to_image_search_in_a_vector_store(fake_jina_server: Any, image_files: list[Path]) -> None:
    emb = _emb(fake_jina_server)
    store = InMemoryVectorStore(emb)
    add_images(store, [str(p) for p in image_files])
    hits = store.similarity_search("a chart of revenue by quarter", k=4)
    query = expected_vector(CLIP, "retrieval.query", "a chart of revenue by quarter")
    images = np.stack([expected_image_vector(CLIP, None, data=p.read_bytes()) for p in image_files])
    order = np.argsort(-(images @ query))
    assert [h.metadata["uri"] for h in hits] == [str(image_files[i]) for i in order]
    assert fake_jina_server.requests[-1].body["task"] == "retrieval.query"
    assert len(fake_jina_server.requests) == 2


def test_text_only_model_refuses_before_any_request(fake_jina_server: Any, image_files: list[Path]) -> None:
    from jina_embeddings import InvalidInputError

    emb = JinaEmbeddings(
        model="jina-embeddings-v5-text-small",
        backend="api",
        api_key="jina_test",
        base_url=fake_jina_server.base_url,
    )
    with pytest.raises(InvalidInputError, match="takes text only"):
        emb.embed_image([str(image_files[0])])
    assert fake_jina_server.requests == []
