"""Importing the adapter, and building its objects, does not import torch."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import langchain_jina_embeddings
from langchain_jina_embeddings import JinaEmbeddings, JinaRerank
assert "torch" not in sys.modules, "import"
JinaEmbeddings(backend="local"); JinaRerank(backend="local")   # lazy: nothing is loaded yet
JinaEmbeddings(backend="fake").embed_documents(["a", "b"])
JinaRerank(backend="fake").compress_documents([], "q")
heavy = sorted({"torch", "transformers", "sentence_transformers", "peft"} & set(sys.modules))
assert not heavy, heavy
print("ok")
"""


def test_import_and_construction_do_not_import_torch() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
