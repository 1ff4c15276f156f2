"""Importing the package (and building a client) must not import torch or load anything."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import llama_index_jina_embeddings as pkg
emb = pkg.JinaEmbedding()                  # local backend by default: nothing loads until first use
rerank = pkg.JinaRerank()
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers", "peft") if m in sys.modules)
assert not heavy, heavy
print(emb.client.backend_name, rerank.client.backend_name)
"""


def test_import_and_construction_do_not_import_torch() -> None:
    env = {"PATH": "", "HF_HUB_OFFLINE": "1"}  # no JINA_API_KEY: the local backend is chosen
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["local", "local"]
