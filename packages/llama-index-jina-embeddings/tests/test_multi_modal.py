"""``JinaMultiModalEmbedding`` as ``image_embed_model`` of a real ``MultiModalVectorStoreIndex``:
``ImageNode`` with ``image`` (base64), ``image_path`` and ``image_url`` (served on loopback),
text-to-image retrieval, against the loopback fake Jina API."""

from __future__ import annotations

import base64
import functools
import io
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from llama_index.core.embeddings.multi_modal_base import MultiModalEmbedding
from llama_index.core.indices import MultiModalVectorStoreIndex
from llama_index.core.schema import ImageNode, TextNode

from jina_embeddings import InvalidInputError
from jina_testkit.fake_images import expected_image_vector
from jina_testkit.fake_vectors import expected_vector
from llama_index_jina_embeddings import JinaMultiModalEmbedding

CLIP = "jina-clip-v2"


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    pytest.importorskip("PIL")
    from jina_testkit.tiny_clip import sample_images

    for i, image in enumerate(sample_images(3, seed=7)):
        image.save(tmp_path / f"img{i}.png")
    return tmp_path


@pytest.fixture
def file_server(image_dir: Path) -> Iterator[str]:
    """A loopback static file server for ``image_url`` nodes (LlamaIndex fetches those itself)."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(image_dir)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _clip(server: Any, **kw: Any) -> JinaMultiModalEmbedding:
    return JinaMultiModalEmbedding(backend="api", api_key="jina_test", base_url=server.base_url, **kw)


def test_is_a_multimodal_embedding_with_clip_default(fake_jina_server: Any) -> None:
    emb = _clip(fake_jina_server)
    assert isinstance(emb, MultiModalEmbedding) and emb.model == CLIP
    assert JinaMultiModalEmbedding.class_name() == "JinaMultiModalEmbedding"


def test_index_embeds_every_kind_of_image_node_and_retrieves_by_text(
    fake_jina_server: Any, image_dir: Path, file_server: str
) -> None:
    files = sorted(image_dir.glob("*.png"))
    data = [p.read_bytes() for p in files]
    nodes = [
        ImageNode(image=base64.b64encode(data[0]).decode(), id_="b64"),
        ImageNode(image_path=str(files[1]), id_="path"),
        ImageNode(image_url=f"{file_server}/{files[2].name}", id_="url"),
        TextNode(text="a caption about quarterly revenue", id_="text"),
    ]
    clip = _clip(fake_jina_server)
    index = MultiModalVectorStoreIndex([], embed_model=clip, image_embed_model=clip)
    index.insert_nodes(nodes)  # (building from text-less ImageNodes would skip them as "empty")
    image_requests = [
        r
        for r in fake_jina_server.requests
        if any("image" in i for i in r.body["input"] if isinstance(i, dict))
    ]
    assert len(image_requests) == 1
    sent = [base64.b64decode(i["image"]) for i in image_requests[0].body["input"]]
    assert sent == data  # one image each, original bytes, node order
    assert "task" not in image_requests[0].body

    query = "a chart of revenue by quarter"
    retriever = index.as_retriever(similarity_top_k=1, image_similarity_top_k=3)
    hits = retriever.text_to_image_retrieve(query)
    q = expected_vector(CLIP, "retrieval.query", query)
    images = np.stack([expected_image_vector(CLIP, None, data=d) for d in data])
    order = [["b64", "path", "url"][i] for i in np.argsort(-(images @ q))]
    assert [h.node.node_id for h in hits] == order
    np.testing.assert_allclose([h.score for h in hits], np.sort(images @ q)[::-1], atol=1e-5)
    assert fake_jina_server.requests[-1].body["task"] == "retrieval.query"


def test_batches_follow_embed_batch_size(fake_jina_server: Any, image_dir: Path) -> None:
    files = [str(p) for p in sorted(image_dir.glob("*.png"))]
    vectors = _clip(fake_jina_server, embed_batch_size=2).get_image_embedding_batch(files)
    assert [len(r.body["input"]) for r in fake_jina_server.requests] == [2, 1]
    want = [expected_image_vector(CLIP, None, data=Path(f).read_bytes()) for f in files]
    np.testing.assert_allclose(np.array(vectors), np.stack(want), atol=1e-6)


async def test_async_image_methods(fake_jina_server: Any, image_dir: Path) -> None:
    files = sorted(image_dir.glob("*.png"))
    clip = _clip(fake_jina_server)
    one = await clip.aget_image_embedding(io.BytesIO(files[0].read_bytes()))
    many = await clip.aget_image_embedding_batch([str(f) for f in files])
    np.testing.assert_allclose(one, expected_image_vector(CLIP, None, data=files[0].read_bytes()), atol=1e-6)
    assert len(many) == 3 and len(fake_jina_server.requests) == 2


def test_url_string_goes_to_the_api_as_given(fake_jina_server: Any) -> None:
    vector = _clip(fake_jina_server).get_image_embedding("https://example.com/chart.png")
    assert fake_jina_server.requests[0].body["input"] == [{"image": "https://example.com/chart.png"}]
    np.testing.assert_allclose(
        vector, expected_image_vector(CLIP, None, url="https://example.com/chart.png"), atol=1e-6
    )


def test_text_only_model_refuses_images_without_a_request(fake_jina_server: Any, image_dir: Path) -> None:
    emb = _clip(fake_jina_server, model="jina-embeddings-v3")
    with pytest.raises(InvalidInputError, match="takes text only"):
        emb.get_image_embedding(str(next(image_dir.glob("*.png"))))
    assert fake_jina_server.requests == []


def test_serialization_round_trip_keeps_no_key() -> None:
    emb = JinaMultiModalEmbedding(
        backend="api", api_key="secret-k", base_url="http://127.0.0.1:9", dimensions=256
    )
    data = emb.to_dict()
    assert "secret-k" not in str(data) and data["class_name"] == "JinaMultiModalEmbedding"
    again = JinaMultiModalEmbedding.from_dict(data)
    assert (again.model, again.dimensions) == (CLIP, 256)
