"""Local images: a tiny random CLIP folder equals sentence-transformers on the same PIL
images and texts (cut, renormalized); v4's own ``encode_image`` through a stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder, Image
from jina_embeddings._backends.local import LocalModel
from jina_embeddings._quantize import quantize

pytestmark = pytest.mark.local


@pytest.fixture(scope="module")
def st_clip(tiny_clip_path: str) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(tiny_clip_path, device="cpu")


@pytest.fixture(scope="module")
def clip(tiny_clip_path: str) -> Embedder:
    return Embedder(tiny_clip_path, backend="local", device="cpu", dtype="float32")


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_folder_is_multimodal(clip: Embedder) -> None:
    assert clip.spec.modalities == ("text", "image") and clip.spec.native_dim == 16


def test_image_and_text_vectors_equal_sentence_transformers(
    clip: Embedder, st_clip: Any, pil_images: list[Any]
) -> None:
    images = clip.embed_images(pil_images)
    np.testing.assert_allclose(images.vectors, _unit(st_clip.encode(pil_images)), atol=1e-5)
    texts = ["a photo of a cat", "a chart of revenue by quarter"]
    np.testing.assert_allclose(clip.embed_queries(texts).vectors, _unit(st_clip.encode(texts)), atol=1e-5)


def test_paths_and_bytes_decode_to_the_same_vectors(
    clip: Embedder, st_clip: Any, pil_images: list[Any], png_files: list[Path], png_bytes: list[bytes]
) -> None:
    out = clip.embed_images([png_files[0], png_bytes[2], str(png_files[3])])
    want = _unit(st_clip.encode([pil_images[0], pil_images[2], pil_images[3]]))  # PNG is lossless
    np.testing.assert_allclose(out.vectors, want, atol=1e-5)


def test_dimensions_cut_then_renormalize(tiny_clip_path: str, st_clip: Any, pil_images: list[Any]) -> None:
    emb = Embedder(tiny_clip_path, backend="local", device="cpu", dtype="float32", dimensions=8)
    out = emb.embed_images(pil_images)
    np.testing.assert_allclose(out.vectors, _unit(st_clip.encode(pil_images)[:, :8]), atol=1e-5)


def test_binary_precision_applies_to_images(tiny_clip_path: str, st_clip: Any, pil_images: list[Any]) -> None:
    emb = Embedder(tiny_clip_path, backend="local", device="cpu", dtype="float32", precision="ubinary")
    out = emb.embed_images(pil_images)
    assert np.array_equal(out.vectors, quantize(_unit(st_clip.encode(pil_images)), "ubinary", None))


def test_mixed_list_equals_separate_calls(clip: Embedder, pil_images: list[Any]) -> None:
    items = [Image.from_pil(pil_images[0]), "a photo of a dog", Image.from_pil(pil_images[1]), "a slide"]
    mixed = clip.embed(items)
    np.testing.assert_allclose(mixed.vectors[[0, 2]], clip.embed_images(pil_images[:2]).vectors, atol=1e-6)
    np.testing.assert_allclose(
        mixed.vectors[[1, 3]], clip.embed(["a photo of a dog", "a slide"]).vectors, atol=1e-6
    )


async def test_aembed_images_equals_sync(clip: Embedder, pil_images: list[Any]) -> None:
    out = await clip.aembed_images(pil_images)
    np.testing.assert_allclose(out.vectors, clip.embed_images(pil_images).vectors, atol=1e-6)


def test_text_to_image_retrieval_runs(clip: Embedder, pil_images: list[Any]) -> None:
    docs = clip.embed_images(pil_images)
    q = clip.embed_query("red green blue squares")
    scores = docs.vectors @ q.vectors[0]
    assert scores.shape == (5,) and np.all(np.abs(scores) <= 1 + 1e-6)


# -- v4: its own encode_image / encode_text, through a stand-in (no v4 weights offline) --------
class _Tok:
    def __call__(self, texts: Any, **kwargs: Any) -> dict[str, Any]:
        items = [texts] if isinstance(texts, str) else texts
        ids = [[0] * (len(t.split()) + 2) for t in items]
        return {"input_ids": ids[0] if isinstance(texts, str) else ids}


class V4StandIn:
    """v4's interface: ST ``encode(texts, task=, prompt=)``; model ``encode_image``/``encode_text``."""

    max_seq_length = 32768
    tokenizer = _Tok()

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @staticmethod
    def vector(key: str) -> np.ndarray:
        rng = np.random.default_rng(abs(hash(key)) % 2**32)
        return rng.standard_normal(2048).astype(np.float32)

    def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        self.calls.append(("encode", kwargs))
        return np.stack([self.vector(f"t|{kwargs.get('task')}|{kwargs.get('prompt')}|{t}") for t in texts])

    def encode_text(self, texts: list[str], task: str, **kwargs: Any) -> list[np.ndarray]:
        self.calls.append(("encode_text", {"task": task, **kwargs}))
        return [self.vector(f"t|{task}|{t}") for t in texts]

    def encode_image(
        self, images: list[Any], task: str, batch_size: int = 8, return_numpy: bool = False, **kw: Any
    ) -> list[np.ndarray]:
        self.calls.append(
            ("encode_image", {"task": task, "batch_size": batch_size, "return_numpy": return_numpy})
        )
        return [self.vector(f"i|{task}|{np.asarray(im).tobytes().hex()[:64]}") for im in images]


def _v4_with_stand_in(**options: Any) -> tuple[Embedder, V4StandIn]:
    emb = Embedder("jina-embeddings-v4", backend="local", device="cpu", dtype="float32", **options)
    stand_in = V4StandIn()
    emb._backend._models[None] = LocalModel(stand_in, "task-kwarg", emb.spec)
    return emb, stand_in


def test_v4_images_go_through_encode_image_with_the_task(pil_images: list[Any]) -> None:
    emb, stand_in = _v4_with_stand_in(dimensions=128)
    out = emb.embed([Image.from_pil(pil_images[0]), "a caption", Image.from_pil(pil_images[1])])
    kinds = [c[0] for c in stand_in.calls]
    assert kinds == ["encode", "encode_image"]
    text_call, image_call = stand_in.calls[0][1], stand_in.calls[1][1]
    assert text_call["task"] == "retrieval" and text_call["prompt"] == "Passage: "
    assert image_call == {"task": "retrieval", "batch_size": 32, "return_numpy": True}
    want_images = _unit(
        np.stack(
            [stand_in.vector(f"i|retrieval|{np.asarray(im).tobytes().hex()[:64]}") for im in pil_images[:2]]
        )[:, :128]
    )
    np.testing.assert_allclose(out.vectors[[0, 2]], want_images, atol=1e-6)
    want_text = _unit(stand_in.vector("t|retrieval|Passage: |a caption")[None, :128])
    np.testing.assert_allclose(out.vectors[[1]], want_text, atol=1e-6)


def test_v4_code_task_reaches_encode_image(pil_images: list[Any]) -> None:
    emb, stand_in = _v4_with_stand_in(task="code")
    emb.embed_images(pil_images[:1], role="query")
    assert stand_in.calls[-1][0] == "encode_image" and stand_in.calls[-1][1]["task"] == "code"
