"""Late chunking for LangChain: embed split ``Document``s with their source document as context.

LangChain's ``Embeddings.embed_documents(texts)`` sees bare strings, so it cannot know which
chunks belong together. :class:`JinaLateChunking` takes the ``Document``s a text splitter
made (``RecursiveCharacterTextSplitter(add_start_index=True)``): chunks with the same
``metadata["source"]`` are one source document, embedded together in
``metadata["start_index"]`` order (a chunk without ``source`` is its own document), and the
vectors come back in input order, ready for ``vectorstore.add_embeddings`` or
:meth:`JinaLateChunking.add_documents`.

Example::

    from langchain_core.documents import Document
    from langchain_core.vectorstores import InMemoryVectorStore
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from langchain_jina_embeddings import JinaEmbeddings
    from langchain_jina_embeddings.late_chunking import JinaLateChunking

    embeddings = JinaEmbeddings(model="jina-embeddings-v3", late_chunking=True)
    splitter = RecursiveCharacterTextSplitter(chunk_size=300, add_start_index=True)
    chunks = splitter.split_documents([Document("...", metadata={"source": "acme.txt"})])
    store = InMemoryVectorStore(embeddings)            # queries: embed_query as usual
    JinaLateChunking(embeddings).add_documents(store, chunks)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.vectorstores import VectorStore

from jina_embeddings.integration import group_chunks

from .embeddings import JinaEmbeddings

__all__ = ["JinaLateChunking"]


class JinaLateChunking:
    """Late-chunk ``Document``s grouped by ``metadata["source"]`` (see the module docstring).

    Args:
        embeddings: the :class:`JinaEmbeddings` to use (a local mean-pooled model, or v3/v4
            on the Jina API); the same object embeds the queries of the store.
        source_key: metadata key naming the source document (default ``"source"``).
        position_key: metadata key giving the chunk's place in it (default ``"start_index"``,
            what ``add_start_index=True`` writes).
    """

    def __init__(
        self, embeddings: JinaEmbeddings, *, source_key: str = "source", position_key: str = "start_index"
    ) -> None:
        if not isinstance(embeddings, JinaEmbeddings):
            raise TypeError(f"embeddings must be a JinaEmbeddings, got {type(embeddings).__name__}.")
        self.embeddings = embeddings
        self.source_key = source_key
        self.position_key = position_key

    def _plan(self, documents: Sequence[Document]) -> tuple[list[str], list[list[int]]]:
        if not all(isinstance(d, Document) for d in documents):
            raise TypeError("JinaLateChunking embeds LangChain Documents (split with add_start_index=True).")
        groups = group_chunks(
            [d.metadata.get(self.source_key) for d in documents],
            [d.metadata.get(self.position_key) for d in documents],
        )
        return [d.page_content for d in documents], groups

    def embed_documents(self, documents: Sequence[Document]) -> list[list[float]]:
        """One vector per document chunk, in input order, each with its source as context."""
        if not documents:
            return []
        texts, groups = self._plan(documents)
        return self.embeddings.embedder.embed_chunk_groups(texts, groups).to_float_lists()

    async def aembed_documents(self, documents: Sequence[Document]) -> list[list[float]]:
        """Async :meth:`embed_documents`."""
        if not documents:
            return []
        texts, groups = self._plan(documents)
        return (await self.embeddings.embedder.aembed_chunk_groups(texts, groups)).to_float_lists()

    def add_documents(
        self,
        vectorstore: VectorStore,
        documents: Sequence[Document],
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed ``documents`` with late chunking and add them to ``vectorstore``; returns the ids.

        Uses the store's ``add_embeddings(text_embeddings, metadatas, ids)`` where it has one
        (FAISS, PGVector and others); an ``InMemoryVectorStore`` gets its own record layout.
        """
        return self._add(vectorstore, documents, self.embed_documents(documents), ids, kwargs)

    async def aadd_documents(
        self,
        vectorstore: VectorStore,
        documents: Sequence[Document],
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Async :meth:`add_documents` (the embedding is async; the store write is the store's)."""
        return self._add(vectorstore, documents, await self.aembed_documents(documents), ids, kwargs)

    @staticmethod
    def _add(
        store: VectorStore, documents: Sequence[Document], vectors: list[list[float]], ids: Any, kwargs: Any
    ) -> list[str]:
        import uuid

        from langchain_core.vectorstores import InMemoryVectorStore

        if ids is not None and len(ids) != len(documents):
            raise ValueError(
                f"ids must be the same length as documents: {len(ids)} ids, {len(documents)} documents."
            )
        texts = [d.page_content for d in documents]
        metadatas = [d.metadata for d in documents]
        add_embeddings = getattr(store, "add_embeddings", None)
        if callable(add_embeddings):
            return list(
                add_embeddings(list(zip(texts, vectors, strict=True)), metadatas=metadatas, ids=ids, **kwargs)
            )
        if isinstance(store, InMemoryVectorStore):
            out = []
            for k, (doc, vector) in enumerate(zip(documents, vectors, strict=True)):
                doc_id = (ids[k] if ids else None) or doc.id or str(uuid.uuid4())
                store.store[doc_id] = {
                    "id": doc_id,
                    "vector": vector,
                    "text": doc.page_content,
                    "metadata": doc.metadata,
                }
                out.append(doc_id)
            return out
        raise TypeError(
            f"{type(store).__name__} has no add_embeddings(); pass the vectors from embed_documents() "
            "to the store's own method for precomputed embeddings."
        )
