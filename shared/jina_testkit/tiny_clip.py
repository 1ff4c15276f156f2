"""A tiny random CLIP (text + image towers) built offline: the stand-in for jina-clip-v2.

A raw Hugging Face folder (``CLIPModel`` + ``CLIPTokenizer`` + ``CLIPImageProcessor``):
hidden size 32, 2 layers, 32-pixel images in 8-pixel patches, projection 16, a 200-token
byte-level BPE. sentence-transformers 6.2 loads such a folder directly as a multimodal model
(``modalities == ['text', 'image']``), so ``Embedder(folder, backend="local")`` runs the same
code path as a real CLIP-style checkpoint. About 0.2 MB and 0.3 s to build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["CLIP_CORPUS", "build_tiny_clip", "sample_images"]

CLIP_CORPUS = [
    "a photo of a cat",
    "a photo of a dog",
    "a chart of revenue by quarter",
    "a scanned invoice page",
    "red green blue squares",
    "a slide with a bar chart",
] * 8


def _tokenizer(vocab_size: int = 200) -> Any:
    """A ``CLIPTokenizer`` over a byte-level BPE trained on :data:`CLIP_CORPUS`."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import CLIPTokenizer

    specials = ["<|startoftext|>", "<|endoftext|>"]
    tok = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        end_of_word_suffix="</w>",
    )
    tok.train_from_iterator(CLIP_CORPUS, trainer)
    raw = json.loads(tok.to_str())["model"]
    vocab: dict[str, int] = dict(raw["vocab"])
    # CLIP's slow tokenizer looks up every single byte character with the "</w>" suffix too.
    for ch in pre_tokenizers.ByteLevel.alphabet():
        vocab.setdefault(ch + "</w>", len(vocab))
    merges = [" ".join(m) if isinstance(m, list) else m for m in raw["merges"]]
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)


def build_tiny_clip(out_dir: str | Path, *, seed: int = 0) -> Path:
    """Write a tiny random CLIP folder to ``out_dir`` and return it (see the module docstring)."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = _tokenizer()
    tok.save_pretrained(str(out))
    config = CLIPConfig(
        text_config=dict(
            vocab_size=len(tok),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=77,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
        ),
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            patch_size=8,
        ),
        projection_dim=16,
    )
    torch.manual_seed(seed)
    CLIPModel(config).eval().save_pretrained(str(out))
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(
        str(out)
    )
    return out


def sample_images(count: int, *, size: int = 40, seed: int = 0) -> list[Any]:
    """``count`` distinct small RGB PIL images (random blocks of colour), reproducible by ``seed``."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        blocks = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        pixels = np.kron(blocks, np.ones((size // 4, size // 4, 1), dtype=np.uint8))
        images.append(Image.fromarray(pixels, "RGB"))
    return images
