"""Remote images (backend="api") against the loopback fake Jina API: exactly one ``{"image"}``
per image, the original bytes, the role's task, the server's vectors in input order."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from jina_embeddings import Image, UnprocessableEntityError
from jina_testkit.fake_images import expected_image_vector
from jina_testkit.fake_vectors import expected_rerank_score, expected_vector

V4, CLIP, M0 = "jina-embeddings-v4", "jina-clip-v2", "jina-reranker-m0"


def _sent_images(srv: Any) -> list[str]:
    return [item["image"] for r in srv.requests for item in r.body["input"] if "image" in item]


def test_every_kind_of_image_travels_once_with_original_bytes(
    srv: Any, api_embedder: Any, png_files: list[Path], png_bytes: list[bytes], pil_images: list[Any]
) -> None:
    emb = api_embedder(V4)
    url = "https://example.com/slide.png"
    data_uri = "data:image/png;base64," + base64.b64encode(png_bytes[3]).decode()
    with png_files[4].open("rb") as handle:
        inputs = [str(png_files[0]), png_files[1], png_bytes[2], pil_images[3], url, data_uri, handle]
        out = emb.embed_images(inputs)
    assert len(srv.requests) == 1
    body = srv.requests[0].body
    assert body["task"] == "retrieval.passage"
    assert len(body["input"]) == 7 and all(set(item) == {"image"} for item in body["input"])
    sent = body["input"]
    # files and bytes: base64 of the original bytes (the JPEG is not re-encoded)
    assert base64.b64decode(sent[0]["image"]) == png_files[0].read_bytes()
    assert base64.b64decode(sent[1]["image"]) == png_files[1].read_bytes()
    assert base64.b64decode(sent[2]["image"]) == png_bytes[2]
    assert sent[4]["image"] == url  # URLs as given
    assert base64.b64decode(sent[5]["image"]) == png_bytes[3]  # data: URI -> its bytes
    assert base64.b64decode(sent[6]["image"]) == png_files[4].read_bytes()
    # PIL travels as a PNG that decodes to the same pixels
    from PIL import Image as PILImage

    decoded = PILImage.open(io.BytesIO(base64.b64decode(sent[3]["image"])))
    assert decoded.format == "PNG"
    assert np.array_equal(np.asarray(decoded), np.asarray(pil_images[3]))
    expected = [
        expected_image_vector(V4, "retrieval.passage", data=png_files[0].read_bytes(), native_dim=2048),
        expected_image_vector(V4, "retrieval.passage", data=png_files[1].read_bytes(), native_dim=2048),
        expected_image_vector(V4, "retrieval.passage", data=png_bytes[2], native_dim=2048),
        expected_image_vector(
            V4, "retrieval.passage", data=base64.b64decode(sent[3]["image"]), native_dim=2048
        ),
        expected_image_vector(V4, "retrieval.passage", url=url, native_dim=2048),
        expected_image_vector(V4, "retrieval.passage", data=png_bytes[3], native_dim=2048),
        expected_image_vector(V4, "retrieval.passage", data=png_files[4].read_bytes(), native_dim=2048),
    ]
    np.testing.assert_allclose(out.vectors, np.stack(expected), atol=1e-6)


@pytest.mark.parametrize(
    ("model", "role", "task"),
    [
        (V4, "document", "retrieval.passage"),
        (V4, "query", "retrieval.query"),
        (CLIP, "document", None),  # clip-v2's image side takes no task
    ],
)
def test_role_picks_the_task(
    srv: Any, api_embedder: Any, png_bytes: list[bytes], model: str, role: str, task: str | None
) -> None:
    emb = api_embedder(model)
    out = emb.embed_images(png_bytes[:2], role=role)
    (request,) = srv.requests
    assert request.body.get("task") == task
    native = 2048 if model == V4 else 1024
    want = [expected_image_vector(model, task, data=b, native_dim=native) for b in png_bytes[:2]]
    np.testing.assert_allclose(out.vectors, np.stack(want), atol=1e-6)


def test_clip_text_queries_use_retrieval_query_in_the_image_space(
    srv: Any, api_embedder: Any, png_bytes: list[bytes]
) -> None:
    emb = api_embedder(CLIP)
    q = emb.embed_query("a photo of a cat")
    assert srv.requests[-1].body["task"] == "retrieval.query"
    np.testing.assert_allclose(
        q.vectors[0], expected_vector(CLIP, "retrieval.query", "a photo of a cat"), atol=1e-6
    )


def test_mixed_list_equals_separate_calls_and_keeps_order(
    srv: Any, api_embedder: Any, png_bytes: list[bytes]
) -> None:
    emb = api_embedder(V4, dimensions=256)
    mixed = emb.embed([Image.from_bytes(png_bytes[0]), "a caption", Image.from_bytes(png_bytes[1])])
    body = srv.requests[0].body
    assert body["input"][1] == {"text": "a caption"}
    assert [set(i) for i in body["input"]] == [{"image"}, {"text"}, {"image"}]
    images = emb.embed_images(png_bytes[:2])
    texts = emb.embed(["a caption"])
    np.testing.assert_allclose(mixed.vectors[[0, 2]], images.vectors, atol=1e-6)
    np.testing.assert_allclose(mixed.vectors[1], texts.vectors[0], atol=1e-6)
    assert mixed.vectors.shape == (3, 256)


def test_a_bare_str_inside_embed_is_always_text(srv: Any, api_embedder: Any, png_files: list[Path]) -> None:
    api_embedder(V4).embed([str(png_files[0])])
    assert srv.requests[0].body["input"] == [str(png_files[0])]


def test_batches_are_sized_by_image_cost(srv: Any, api_embedder: Any, png_bytes: list[bytes]) -> None:
    cost = 4 * ((max(len(b) for b in png_bytes) + 2) // 3)
    # two images per request at most; one request at a time so the start order is the plan's order
    emb = api_embedder(V4, max_batch_chars=2 * cost, max_concurrency=1)
    out = emb.embed_images(png_bytes)
    assert [len(r.body["input"]) for r in sorted(srv.requests, key=lambda r: r.started)] == [2, 2, 1]
    assert len(_sent_images(srv)) == 5
    want = [expected_image_vector(V4, "retrieval.passage", data=b, native_dim=2048) for b in png_bytes]
    np.testing.assert_allclose(out.vectors, np.stack(want), atol=1e-6)


def test_batch_size_caps_images_per_request(srv: Any, api_embedder: Any, png_bytes: list[bytes]) -> None:
    api_embedder(V4, batch_size=3).embed_images(png_bytes)
    assert sorted(len(r.body["input"]) for r in srv.requests) == [2, 3]


def test_dimensions_and_binary_precision_apply_to_images(
    srv: Any, api_embedder: Any, png_bytes: list[bytes]
) -> None:
    out = api_embedder(CLIP, dimensions=64, precision="ubinary").embed_images(png_bytes[:2])
    body = srv.requests[0].body
    assert body["dimensions"] == 64 and body["embedding_type"] == "ubinary"
    want = [np.packbits(expected_image_vector(CLIP, None, data=b, dimensions=64) > 0) for b in png_bytes[:2]]
    assert np.array_equal(out.vectors, np.stack(want))


async def test_aembed_images(srv: Any, api_embedder: Any, png_bytes: list[bytes]) -> None:
    out = await api_embedder(V4).aembed_images(png_bytes[:3])
    assert len(srv.requests) == 1 and len(_sent_images(srv)) == 3
    want = [expected_image_vector(V4, "retrieval.passage", data=b, native_dim=2048) for b in png_bytes[:3]]
    np.testing.assert_allclose(out.vectors, np.stack(want), atol=1e-6)


def test_m0_reranks_image_documents(srv: Any, api_reranker: Any, png_bytes: list[bytes]) -> None:
    rr = api_reranker(M0)
    docs = [Image.from_bytes(png_bytes[0]), "revenue by quarter table", Image.from_url("https://x.org/c.png")]
    result = rr.rerank("revenue by quarter", docs)
    (request,) = srv.requests
    assert request.body["documents"][0] == {"image": base64.b64encode(png_bytes[0]).decode()}
    assert request.body["documents"][1] == {"text": "revenue by quarter table"}
    assert request.body["documents"][2] == {"image": "https://x.org/c.png"}
    keys = ["image:" + hashlib.sha256(png_bytes[0]).hexdigest(), docs[1], "image-url:https://x.org/c.png"]
    scores = {i: expected_rerank_score("revenue by quarter", k) for i, k in enumerate(keys)}
    assert [r.index for r in result] == sorted(scores, key=lambda i: -scores[i])
    assert result[0].index == 1 and result[0].document == "revenue by quarter table"
    assert isinstance(result[1].document, Image)
    for r in result:
        assert r.relevance_score == pytest.approx(scores[r.index])


def test_fake_server_refuses_corrupt_base64_and_text_models(srv: Any) -> None:
    headers = {"Authorization": "Bearer jina_test"}
    with httpx.Client(base_url=srv.base_url, headers=headers) as client:
        bad = client.post("/embeddings", json={"model": V4, "input": [{"image": "%%%notbase64"}]})
        assert bad.status_code == 422
        not_image = client.post(
            "/embeddings", json={"model": V4, "input": [{"image": base64.b64encode(b"hello").decode()}]}
        )
        assert not_image.status_code == 422
        text_only = client.post(
            "/embeddings",
            json={"model": "jina-embeddings-v3", "input": [{"image": "https://x.org/a.png"}]},
        )
        assert text_only.status_code == 422


def test_server_422_surfaces_as_a_typed_error(srv: Any, api_embedder: Any) -> None:
    # A URL the client cannot check: the (fake) server decides. jina-clip-v2 under an unregistered
    # spelling is not an image model there, so the server answers 422.
    emb = api_embedder(CLIP, served_model_name="jina-embeddings-v3")
    with pytest.raises(UnprocessableEntityError):
        emb.embed_images(["https://example.com/a.png"])
    assert len(srv.requests) == 1
