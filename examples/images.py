"""Images with Jina models, offline: text-to-image search locally, then the same calls remotely.

    python examples/images.py

1. Local: a tiny random CLIP folder (built here in 0.3 s by the project's test kit, the
   offline stand-in for ``jina-clip-v2``, which cannot be downloaded without network) embeds
   four images and two queries through ``backend="local"``; a text query ranks the images.
   The vectors are random-model vectors: the point is the API, not the ranking.
2. Remote: the test kit's loopback fake Jina API stands in for https://api.jina.ai;
   ``jina-embeddings-v4`` embeds image files, bytes, PIL images and a URL (one ``{"image"}``
   item each, original bytes, task ``retrieval.passage``), and ``jina-reranker-m0`` reranks a
   mix of image and text documents.

With a Jina API key, use ``Embedder("jina-clip-v2")`` / ``Embedder("jina-embeddings-v4")``
without ``base_url`` and the same calls go to the Jina API.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from jina_embeddings import Embedder, Image, Reranker  # noqa: E402
from jina_testkit.fake_api import FakeJinaServer  # noqa: E402
from jina_testkit.tiny_clip import build_tiny_clip, sample_images  # noqa: E402


def local_search(folder: Path, image_paths: list[Path]) -> None:
    clip = Embedder(folder, backend="local", device="cpu", dtype="float32", dimensions=8)
    docs = clip.embed_images(image_paths)  # documents by default
    for query in ("red green blue squares", "a scanned invoice page"):
        q = clip.embed_query(query)
        scores = docs.vectors @ q.vectors[0]  # unit vectors: dot product = cosine
        best = int(scores.argmax())
        print(f"local  {query!r}: best image {image_paths[best].name} (cosine {scores[best]:.3f})")
    mixed = clip.embed([Image.from_path(image_paths[0]), "a caption"])
    print(f"local  mixed list -> {mixed.vectors.shape} (image and text in one call)")


def remote_calls(image_paths: list[Path]) -> None:
    pil = sample_images(1, seed=9)[0]
    with FakeJinaServer(api_key="demo-key") as server:
        emb = Embedder(
            "jina-embeddings-v4", backend="api", api_key="demo-key", base_url=server.base_url, dimensions=256
        )
        pages = emb.embed_images(
            [
                str(image_paths[0]),
                image_paths[1],
                image_paths[2].read_bytes(),
                pil,
                "https://example.com/slide.png",
            ]
        )
        body = server.requests[-1].body
        print(
            f"remote v4: {pages.vectors.shape}, {len(server.requests)} request, task={body['task']!r}, "
            f"{len(body['input'])} image items"
        )
        q = emb.embed_query("revenue by quarter")
        print(f"remote v4: best page for the query: {int((pages.vectors @ q.vectors[0]).argmax())}")
        rr = Reranker("jina-reranker-m0", backend="api", api_key="demo-key", base_url=server.base_url)
        ranking = rr.rerank(
            "revenue by quarter", [Image.from_path(image_paths[3]), "revenue by quarter, 2024"]
        )
        print("remote m0:", [(r.index, round(r.relevance_score, 3)) for r in ranking])
        emb.close()
        rr.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = build_tiny_clip(root / "tiny-clip")
        image_paths = []
        for i, image in enumerate(sample_images(4)):
            image_paths.append(root / f"image{i}.png")
            image.save(image_paths[-1])
        local_search(folder, image_paths)
        remote_calls(image_paths)


if __name__ == "__main__":
    main()
