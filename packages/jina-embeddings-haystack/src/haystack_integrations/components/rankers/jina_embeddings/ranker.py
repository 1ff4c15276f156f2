"""``JinaRanker``: reorders retrieved documents by a Jina reranker's relevance score."""

from dataclasses import replace
from pathlib import Path
from typing import Any

from haystack import Document, component
from haystack.utils import ComponentDevice, Secret

from haystack_integrations.common.jina_embeddings.component import (
    JinaComponent,
    default_api_key,
    document_texts,
    naming_documents,
    result_meta,
)
from haystack_integrations.common.jina_embeddings.images import texts_or_images
from haystack_integrations.common.jina_embeddings.multivector import stored_token_vectors
from jina_embeddings import DEFAULT_RERANKER, Reranker, Reranking
from jina_embeddings.integration import document_vectors_from

__all__ = ["JinaRanker"]


@component
class JinaRanker(JinaComponent):
    """Rank documents for a query with a Jina reranker, locally or through the Jina API.

    Returns copies of the documents, best first, with ``score`` set to the reranker's
    relevance score; the input documents are never modified.

    Args:
        model: registry name (``jina-reranker-v3``, ``jina-reranker-m0``,
            ``jina-reranker-v2-base-multilingual``), repo id or a local cross-encoder folder.
            ``jina-colbert-v2`` (or a ColBERT folder) ranks by MaxSim and reads each document's
            stored token vectors (``Document.multivector_embedding`` where Haystack has it, else
            ``meta["jina_token_vectors"]``, as ``JinaMultiVectorDocumentEmbedder`` writes them).
        api_key: as for :class:`JinaTextEmbedder`.
        top_k: keep the best ``top_k`` documents (``None`` = all); ``run(top_k=)`` overrides it.
        score_threshold: drop documents scoring below it; ``run(score_threshold=)`` overrides it.
        backend: ``"local"``, ``"api"``, ``"openai"`` (a server with a Jina-compatible
            ``/rerank``), ``"fake"`` or ``None`` (``api`` when a key or ``base_url`` is given).
        batch_size, max_length: pairs per forward pass; tokens per (query, document) pair.
        progress_bar: show a progress bar for long lists.
        meta_fields_to_embed, embedding_separator: meta values scored with the content, as in
            :class:`JinaDocumentEmbedder`.
        device, dtype, trust_remote_code, cache_folder, revision, local_files_only: local only.
        base_url, timeout, connect_timeout, max_retries, max_concurrency, allow_insecure,
            served_model_name: remote only.

    Example::

        from haystack import Document
        from haystack_integrations.components.rankers.jina_embeddings import JinaRanker

        ranker = JinaRanker(top_k=1)
        docs = [Document(content="Paris is in France."), Document(content="Berlin is in Germany.")]
        ranker.run(query="city in Germany", documents=docs)["documents"][0].content   # 'Berlin ...'
    """

    _core_class = Reranker
    _kind = "reranker"
    # __init__ arguments, kept as attributes of the same names (Haystack's to_dict convention)
    score_threshold: float | None
    embedding_separator: str
    meta_fields_to_embed: list[str]

    def __init__(
        self,
        model: str | Path = DEFAULT_RERANKER,
        api_key: Secret | None = default_api_key(),  # noqa: B008 (Haystack's convention; Secret is frozen)
        top_k: int | None = None,
        score_threshold: float | None = None,
        *,
        backend: str | None = None,
        meta_fields_to_embed: list[str] | None = None,
        embedding_separator: str = "\n",
        device: ComponentDevice | str | None = None,
        **options: Any,
    ) -> None:
        self._remember(locals())
        self.meta_fields_to_embed = list(meta_fields_to_embed or [])

    @component.output_types(documents=list[Document], meta=dict[str, Any])
    def run(
        self,
        query: str,
        documents: list[Document],
        top_k: int | None = None,
        score_threshold: float | None = None,
    ) -> dict[str, Any]:
        """Rank ``documents`` for ``query``; best first, cut to ``top_k``, filtered by ``score_threshold``.

        An empty list returns ``{"documents": [], "meta": ...}`` without calling the model.

        Raises:
            TypeError: ``documents`` is not a list of Documents.
            InvalidInputError: blank query, a document without text (named by id), bad ``top_k``.
        """
        texts = self._texts(documents)
        with naming_documents(documents):
            client = self._client()
            vectors = document_vectors_from(client, stored_token_vectors(documents))
            ranking = client.rerank(query, texts, top_n=top_k, document_vectors=vectors)
        return self._output(documents, ranking, score_threshold)

    @component.output_types(documents=list[Document], meta=dict[str, Any])
    async def run_async(
        self,
        query: str,
        documents: list[Document],
        top_k: int | None = None,
        score_threshold: float | None = None,
    ) -> dict[str, Any]:
        """Async :meth:`run`: async HTTP for remote backends, a worker thread for local models."""
        texts = self._texts(documents)
        with naming_documents(documents):
            client = self._client()
            vectors = document_vectors_from(client, stored_token_vectors(documents))
            ranking = await client.arerank(query, texts, top_n=top_k, document_vectors=vectors)
        return self._output(documents, ranking, score_threshold)

    def _texts(self, documents: list[Document]) -> list[Any]:
        """Texts; for image rerankers (m0) a document without content but with an image
        (``blob`` or ``meta["file_path"]``) becomes an image (see ``common.images``)."""
        return texts_or_images(
            documents,
            lambda docs: document_texts(
                docs,
                component=type(self).__name__,
                meta_fields=self.meta_fields_to_embed,
                separator=self.embedding_separator,
            ),
        )

    def _output(
        self, documents: list[Document], ranking: Reranking, score_threshold: float | None
    ) -> dict[str, Any]:
        threshold = self.score_threshold if score_threshold is None else score_threshold
        ranked = [
            replace(documents[r.index], score=r.relevance_score)
            for r in ranking
            if threshold is None or r.relevance_score >= threshold
        ]
        return {"documents": ranked, "meta": result_meta(ranking.model, ranking.usage)}
