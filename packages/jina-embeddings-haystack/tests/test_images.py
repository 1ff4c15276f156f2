"""``JinaDocumentImageEmbedder`` (the SentenceTransformersDocumentImageEmbedder contract plus
``Document.blob``) and ``JinaRanker`` image documents, in real indexing + query pipelines,
against the loopback fake Jina API and a tiny local CLIP."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from haystack import Document, Pipeline
from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
from haystack.components.writers import DocumentWriter
from haystack.dataclasses import ByteStream
from haystack.document_stores.in_memory import InMemoryDocumentStore

from haystack_integrations.components.embedders.jina_embeddings import (
    JinaDocumentImageEmbedder,
    JinaTextEmbedder,
)
from haystack_integrations.components.rankers.jina_embeddings import JinaRanker
from jina_embeddings import InvalidInputError
from jina_testkit.fake_images import expected_image_vector
from jina_testkit.fake_vectors import expected_rerank_score, expected_vector

CLIP, V4 = "jina-clip-v2", "jina-embeddings-v4"


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    """A folder with three PNGs, a JPEG and a two-page PDF (each page a different image)."""
    pytest.importorskip("PIL")
    from jina_testkit.tiny_clip import sample_images

    images = sample_images(6, seed=11)
    for i in range(3):
        images[i].save(tmp_path / f"p{i}.png")
    images[3].save(tmp_path / "photo.jpg", quality=60)
    images[4].save(tmp_path / "report.pdf", save_all=True, append_images=[images[5]])
    return tmp_path


def _api(server: Any, cls: type, **kw: Any) -> Any:
    from haystack.utils import Secret

    return cls(api_key=Secret.from_token("jina_test"), backend="api", base_url=server.base_url, **kw)


def _image_inputs(server: Any) -> list[dict[str, str]]:
    return [
        i for r in server.requests for i in r.body.get("input", []) if isinstance(i, dict) and "image" in i
    ]


def test_file_path_meta_field_root_path_and_blob(fake_jina_server: Any, scans: Path) -> None:
    embedder = _api(
        fake_jina_server,
        JinaDocumentImageEmbedder,
        model=V4,
        root_path=str(scans),
        file_path_meta_field="src",
    )
    blob = (scans / "p2.png").read_bytes()
    docs = [
        Document(id="a", meta={"src": "p0.png"}),
        Document(id="b", meta={"src": "photo.jpg"}),
        Document(id="c", blob=ByteStream(blob, mime_type="image/png")),
    ]
    out = embedder.run(docs)["documents"]
    (request,) = fake_jina_server.requests
    assert request.body["task"] == "retrieval.passage"
    sent = [base64.b64decode(i["image"]) for i in request.body["input"]]
    assert sent == [(scans / "p0.png").read_bytes(), (scans / "photo.jpg").read_bytes(), blob]
    for doc, data in zip(out, sent, strict=True):
        np.testing.assert_allclose(
            doc.embedding,
            expected_image_vector(V4, "retrieval.passage", data=data, native_dim=2048),
            atol=1e-6,
        )
        assert doc.meta["embedding_source"] == {"type": "image", "file_path_meta_field": "src"}
    assert docs[0].embedding is None  # inputs untouched


def test_pdf_pages_by_page_number(fake_jina_server: Any, scans: Path) -> None:
    pytest.importorskip("pypdfium2")
    embedder = _api(fake_jina_server, JinaDocumentImageEmbedder, root_path=str(scans))
    docs = [Document(meta={"file_path": "report.pdf", "page_number": n}) for n in (2, 1)]
    embedder.run(docs)
    pages = [base64.b64decode(i["image"]) for i in _image_inputs(fake_jina_server)]
    assert len(pages) == 2 and pages[0] != pages[1] and all(p[:8] == b"\x89PNG\r\n\x1a\n" for p in pages)
    with pytest.raises(InvalidInputError, match="page_number"):
        embedder.run([Document(meta={"file_path": "report.pdf"})])
    with pytest.raises(InvalidInputError, match="out of range"):
        embedder.run([Document(meta={"file_path": "report.pdf", "page_number": 3})])
    assert len(fake_jina_server.requests) == 1


def test_bad_documents_refused_by_id_before_any_request(
    fake_jina_server: Any, scans: Path, tmp_path: Path
) -> None:
    embedder = _api(fake_jina_server, JinaDocumentImageEmbedder, root_path=str(scans))
    with pytest.raises(InvalidInputError, match="escapes root_path"):
        embedder.run([Document(id="evil", meta={"file_path": "../../etc/passwd"})])
    with pytest.raises(InvalidInputError, match=r"Document 'gone'.*does not exist"):
        embedder.run(
            [Document(meta={"file_path": "p0.png"}), Document(id="gone", meta={"file_path": "nope.png"})]
        )
    with pytest.raises(InvalidInputError, match=r"'none'.*has no image"):
        embedder.run([Document(id="none", content="only text")])
    with pytest.raises(InvalidInputError, match=r"'bad'.*unsupported format"):
        embedder.run([Document(id="bad", blob=ByteStream(b"not an image"))])
    with pytest.raises(TypeError):
        embedder.run("p0.png")  # type: ignore[arg-type]
    assert fake_jina_server.requests == []


def test_serialization_round_trip(scans: Path) -> None:
    from haystack.utils import Secret

    embedder = JinaDocumentImageEmbedder(
        api_key=Secret.from_env_var("JINA_API_KEY", strict=False),
        backend="api",
        base_url="http://127.0.0.1:9",
        root_path=str(scans),
        file_path_meta_field="image",
        dimensions=256,
    )
    data = embedder.to_dict()
    assert (
        data["init_parameters"]["root_path"] == str(scans)
        and data["init_parameters"]["file_path_meta_field"] == "image"
    )
    again = JinaDocumentImageEmbedder.from_dict(data)
    assert again.to_dict() == data
    pipeline = Pipeline()
    pipeline.add_component("embedder", embedder)
    assert Pipeline.loads(pipeline.dumps()).get_component("embedder").to_dict() == data


def test_indexing_and_query_pipelines_text_to_image(fake_jina_server: Any, scans: Path) -> None:
    store = InMemoryDocumentStore(embedding_similarity_function="cosine")
    indexing = Pipeline()
    indexing.add_component(
        "embedder", _api(fake_jina_server, JinaDocumentImageEmbedder, root_path=str(scans))
    )
    indexing.add_component("writer", DocumentWriter(document_store=store))
    indexing.connect("embedder.documents", "writer.documents")
    names = ["p0.png", "p1.png", "p2.png", "photo.jpg"]
    indexing.run({"embedder": {"documents": [Document(id=n, meta={"file_path": n}) for n in names]}})
    assert store.count_documents() == 4

    query = Pipeline()
    query.add_component("text", _api(fake_jina_server, JinaTextEmbedder, model=CLIP))
    query.add_component("retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=4))
    query.connect("text.embedding", "retriever.query_embedding")
    hits = query.run({"text": {"text": "a scanned invoice page"}})["retriever"]["documents"]
    q = expected_vector(CLIP, "retrieval.query", "a scanned invoice page")
    images = np.stack([expected_image_vector(CLIP, None, data=(scans / n).read_bytes()) for n in names])
    assert [d.id for d in hits] == [names[i] for i in np.argsort(-(images @ q))]
    assert fake_jina_server.requests[-1].body["task"] == "retrieval.query"
    assert len(_image_inputs(fake_jina_server)) == 4


async def test_run_async(fake_jina_server: Any, scans: Path) -> None:
    embedder = _api(fake_jina_server, JinaDocumentImageEmbedder, root_path=str(scans))
    out = await embedder.run_async([Document(meta={"file_path": "p1.png"})])
    np.testing.assert_allclose(
        out["documents"][0].embedding,
        expected_image_vector(CLIP, None, data=(scans / "p1.png").read_bytes()),
        atol=1e-6,
    )


def test_ranker_takes_image_documents_for_m0(fake_jina_server: Any, scans: Path) -> None:
    ranker = _api(fake_jina_server, JinaRanker, model="jina-reranker-m0")
    png = (scans / "p0.png").read_bytes()
    docs = [
        Document(id="img", blob=ByteStream(png, mime_type="image/png")),
        Document(id="txt", content="revenue by quarter"),
        Document(id="file", meta={"file_path": str(scans / "p1.png")}),
    ]
    ranked = ranker.run("revenue by quarter", docs)["documents"]
    body = fake_jina_server.requests[0].body
    assert body["documents"][0] == {"image": base64.b64encode(png).decode()}
    assert body["documents"][1] == {"text": "revenue by quarter"}
    assert base64.b64decode(body["documents"][2]["image"]) == (scans / "p1.png").read_bytes()
    keys = {
        "img": "image:" + hashlib.sha256(png).hexdigest(),
        "txt": "revenue by quarter",
        "file": "image:" + hashlib.sha256((scans / "p1.png").read_bytes()).hexdigest(),
    }
    scores = {k: expected_rerank_score("revenue by quarter", v) for k, v in keys.items()}
    assert [d.id for d in ranked] == sorted(scores, key=lambda k: -scores[k])
    assert ranked[0].score == pytest.approx(scores["txt"])


def test_text_ranker_refuses_image_documents(fake_jina_server: Any, scans: Path) -> None:
    ranker = _api(fake_jina_server, JinaRanker, model="jina-reranker-v3")
    with pytest.raises(InvalidInputError, match=r"Document 'img'.*takes text only"):
        ranker.run(
            "q", [Document(content="a"), Document(id="img", blob=ByteStream((scans / "p0.png").read_bytes()))]
        )
    assert fake_jina_server.requests == []


@pytest.mark.local
def test_local_tiny_clip_pipeline_equals_sentence_transformers(tiny_clip_path: str, scans: Path) -> None:
    from PIL import Image as PILImage
    from sentence_transformers import SentenceTransformer

    embedder = JinaDocumentImageEmbedder(
        model=tiny_clip_path,
        backend="local",
        device="cpu",
        dtype="float32",
        root_path=str(scans),
        api_key=None,
        progress_bar=False,
    )
    embedder.warm_up()
    docs = embedder.run([Document(meta={"file_path": n}) for n in ("p0.png", "p1.png")])["documents"]
    st = SentenceTransformer(tiny_clip_path, device="cpu")
    ref = st.encode([PILImage.open(scans / n).convert("RGB") for n in ("p0.png", "p1.png")])
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(np.array([d.embedding for d in docs]), ref, atol=1e-5)
