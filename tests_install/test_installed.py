"""The packages under test are the installed wheels, and every public entry point imports."""

from __future__ import annotations

import importlib
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

DISTRIBUTIONS = [
    "jina-embeddings",
    "langchain-jina-embeddings",
    "llama-index-jina-embeddings",
    "jina-embeddings-haystack",
]
PUBLIC = {  # module -> names a user imports from it
    "jina_embeddings": ["Embedder", "Reranker", "Embeddings", "MODELS"],
    "langchain_jina_embeddings": ["JinaEmbeddings", "JinaRerank"],
    "llama_index_jina_embeddings": ["JinaEmbedding", "JinaRerank"],
    "haystack_integrations.components.embedders.jina_embeddings": [
        "JinaTextEmbedder",
        "JinaDocumentEmbedder",
    ],
    "haystack_integrations.components.rankers.jina_embeddings": ["JinaRanker"],
}


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_distribution_is_an_installed_wheel_not_the_work_tree(dist: str) -> None:
    d = metadata.distribution(dist)
    assert "editable" not in (d.read_text("direct_url.json") or "")
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    files = [Path(d.locate_file(f)).resolve() for f in d.files or [] if f.suffix == ".py"]
    assert files, f"{dist} installed no Python files"
    assert all(site in f.parents for f in files), files


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_import_from_site_packages(module: str) -> None:
    mod = importlib.import_module(module)
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert site in Path(mod.__file__).resolve().parents, mod.__file__
    for name in PUBLIC[module]:
        assert getattr(mod, name) is not None, (module, name)


def test_local_extra_is_installed() -> None:
    """`pip install "jina-embeddings[local]"` brought the local-inference stack, and it imports."""
    from packaging.requirements import Requirement

    requires = [Requirement(r) for r in metadata.requires("jina-embeddings") or []]
    local = {r.name for r in requires if r.marker and r.marker.evaluate({"extra": "local"})}
    assert {"torch", "transformers", "sentence-transformers", "peft"} <= local, requires
    for module in ("torch", "transformers", "sentence_transformers", "peft"):
        importlib.import_module(module)
