"""The package imports and runs without torch.

``import haystack`` itself imports torch whenever it is installed (haystack/utils/device.py),
so "torch not in sys.modules" cannot hold next to Haystack. What matters to users is that
neither this package nor the core needs torch: the subprocess below makes ``import torch``
fail, records who asked for it, and runs a pipeline on the fake backend.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = r"""
import json, sys, traceback
from importlib.abc import MetaPathFinder

askers = []

class NoTorch(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch.") or name == "sentence_transformers":
            frames = [f.filename for f in traceback.extract_stack()[:-1] if "importlib" not in f.filename]
            askers.append(frames[-1])
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None

sys.meta_path.insert(0, NoTorch())

from haystack import Document, Pipeline
from haystack_integrations.components.embedders.jina_embeddings import JinaDocumentEmbedder, JinaTextEmbedder
from haystack_integrations.components.rankers.jina_embeddings import JinaRanker

pipe = Pipeline()
pipe.add_component("docs", JinaDocumentEmbedder(backend="fake", progress_bar=False))
out = pipe.run({"docs": {"documents": [Document(content="hello world")]}})
query = JinaTextEmbedder(backend="fake").run("hello")
ranked = JinaRanker(backend="fake").run(query="hello", documents=[Document(content="hello")])
print(json.dumps({
    "dims": len(out["docs"]["documents"][0].embedding),
    "query_dims": len(query["embedding"]),
    "ranked": len(ranked["documents"]),
    "askers": askers,
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "sentence_transformers", "transformers")),
}))
"""


def test_imports_and_runs_without_torch():
    env = {**os.environ, "HAYSTACK_TELEMETRY_ENABLED": "False"}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (report["dims"], report["query_dims"], report["ranked"]) == (1024, 1024, 1)
    assert report["loaded"] == []
    # only Haystack's own optional import asked for torch; never this package or the core
    assert report["askers"], "the blocker saw no torch import: the check itself is broken"
    assert all(a.replace(os.sep, "/").endswith("haystack/utils/device.py") for a in report["askers"]), report[
        "askers"
    ]
