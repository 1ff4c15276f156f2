"""The test kit's option-parity suite, run against every adapter class (and the core itself)."""

from __future__ import annotations

import inspect
from typing import Any

from haystack_integrations.components.embedders.jina_embeddings import (
    JinaDocumentEmbedder,
    JinaMultiVectorDocumentEmbedder,
    JinaMultiVectorTextEmbedder,
    JinaTextEmbedder,
)
from haystack_integrations.components.rankers.jina_embeddings import JinaRanker
from jina_embeddings import Embedder, MultiVectorEmbedder, Reranker
from jina_testkit.option_parity import OptionParityContract
from langchain_jina_embeddings import JinaEmbeddings, JinaRerank
from llama_index_jina_embeddings import JinaEmbedding
from llama_index_jina_embeddings import JinaRerank as LlamaJinaRerank


def signature_defaults(cls: type) -> dict[str, Any]:
    return {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"}


def field_defaults(cls: Any) -> dict[str, Any]:
    return {n: f.default for n, f in cls.model_fields.items()}


class TestCoreEmbedder(OptionParityContract):
    kind = "embedding"

    def make(self, **options: Any) -> Any:
        return Embedder(backend="fake", **options)

    def defaults(self) -> dict[str, Any]:
        return signature_defaults(Embedder)


class TestCoreReranker(OptionParityContract):
    kind = "reranker"

    def make(self, **options: Any) -> Any:
        return Reranker(backend="fake", **options)

    def defaults(self) -> dict[str, Any]:
        return signature_defaults(Reranker)


class TestLangChainEmbeddings(OptionParityContract):
    kind = "embedding"

    def make(self, **options: Any) -> Any:
        return JinaEmbeddings(backend="fake", **options)

    def defaults(self) -> dict[str, Any]:
        return field_defaults(JinaEmbeddings)


class TestLangChainRerank(OptionParityContract):
    kind = "reranker"
    framework_defaults = {"top_n": 3}  # langchain-community's JinaRerank

    def make(self, **options: Any) -> Any:
        return JinaRerank(backend="fake", **options)

    def defaults(self) -> dict[str, Any]:
        return field_defaults(JinaRerank)


class TestLlamaIndexEmbedding(OptionParityContract):
    kind = "embedding"
    renames = {"batch_size": "embed_batch_size"}  # BaseEmbedding's own field
    framework_defaults = {"batch_size": 32}  # by backend: the core's default for the chosen one

    def make(self, **options: Any) -> Any:
        return JinaEmbedding(backend="fake", **options)

    def defaults(self) -> dict[str, Any]:
        return field_defaults(JinaEmbedding)


class TestLlamaIndexRerank(OptionParityContract):
    kind = "reranker"
    framework_defaults = {"top_n": 2}  # llama_index.postprocessor.jinaai_rerank and SentenceTransformerRerank

    def make(self, **options: Any) -> Any:
        return LlamaJinaRerank(backend="fake", **options)

    def defaults(self) -> dict[str, Any]:
        return field_defaults(LlamaJinaRerank)


class TestHaystackTextEmbedder(OptionParityContract):
    kind = "embedding"
    excluded = ("batch_size", "show_progress")  # one query per run

    def make(self, **options: Any) -> Any:
        return JinaTextEmbedder(backend="fake", **options)

    def defaults(self) -> dict[str, Any]:
        return signature_defaults(JinaTextEmbedder)


class TestHaystackDocumentEmbedder(OptionParityContract):
    kind = "embedding"
    renames = {"show_progress": "progress_bar"}
    framework_defaults = {"show_progress": True}  # Haystack's document embedders show a bar

    def make(self, **options: Any) -> Any:
        return JinaDocumentEmbedder(backend="fake", **options)

    def defaults(self) -> dict[str, Any]:
        return signature_defaults(JinaDocumentEmbedder)


class TestHaystackRanker(OptionParityContract):
    kind = "reranker"
    renames = {"show_progress": "progress_bar", "top_n": "top_k"}

    def make(self, **options: Any) -> Any:
        return JinaRanker(backend="fake", **options)

    def defaults(self) -> dict[str, Any]:
        return signature_defaults(JinaRanker)


class TestCoreMultiVectorEmbedder(OptionParityContract):
    kind = "multivector"

    def make(self, **options: Any) -> Any:
        return MultiVectorEmbedder("jina-colbert-v2", backend="local", **options)

    def defaults(self) -> dict[str, Any]:
        return signature_defaults(MultiVectorEmbedder)


class TestHaystackMultiVectorTextEmbedder(OptionParityContract):
    kind = "multivector"
    excluded = ("batch_size", "show_progress")  # one query per run

    def make(self, **options: Any) -> Any:
        return JinaMultiVectorTextEmbedder(backend="local", **options)

    def defaults(self) -> dict[str, Any]:
        return signature_defaults(JinaMultiVectorTextEmbedder)


class TestHaystackMultiVectorDocumentEmbedder(OptionParityContract):
    kind = "multivector"
    renames = {"show_progress": "progress_bar"}
    framework_defaults = {"show_progress": True}

    def make(self, **options: Any) -> Any:
        return JinaMultiVectorDocumentEmbedder(backend="local", **options)

    def defaults(self) -> dict[str, Any]:
        return signature_defaults(JinaMultiVectorDocumentEmbedder)
