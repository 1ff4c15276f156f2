"""LlamaIndex's per-chunk embedding instrumentation around ONE core call.

``BaseEmbedding.get_text_embedding_batch`` and ``aget_text_embedding_batch`` cut the texts
into ``embed_batch_size`` chunks and call the model once per chunk; the async one starts all
chunk calls at once with an unbounded ``asyncio.gather`` (llama_index#14345). ``JinaEmbedding``
hands all texts to the core in one call instead: the core batches, bounds its concurrency
(``max_concurrency``) and, locally, sorts by length across the whole input. What LlamaIndex
users observe per chunk is kept: an ``EmbeddingStartEvent``/``EmbeddingEndEvent`` pair from the
dispatcher and a ``CBEventType.EMBEDDING`` callback event per chunk, with that chunk's texts
and vectors.

Example::

    with ChunkEvents(embed_model, texts, dispatcher) as events:
        events.done(one_core_call(texts))
    vectors = events.embeddings
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.callbacks.schema import CBEventType, EventPayload
from llama_index.core.instrumentation.events.embedding import EmbeddingEndEvent, EmbeddingStartEvent

__all__ = ["ChunkEvents"]


class ChunkEvents:
    """Start events for every chunk on enter; end events on :meth:`done`, or the error on exit."""

    def __init__(self, model: BaseEmbedding, texts: list[str], dispatcher: Any) -> None:
        size = model.embed_batch_size
        self.chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        self.embeddings: list[Embedding] = []
        self._model = model
        self._dispatcher = dispatcher
        self._event_ids: list[str] = []

    def __enter__(self) -> ChunkEvents:
        payload = self._model.to_payload()
        for _ in self.chunks:
            self._dispatcher.event(EmbeddingStartEvent(model_dict=payload))
            self._event_ids.append(
                self._model.callback_manager.on_event_start(
                    CBEventType.EMBEDDING, payload={EventPayload.SERIALIZED: payload}
                )
            )
        return self

    def done(self, embeddings: list[Embedding]) -> None:
        """Record the vectors of all texts (input order) and end each chunk's events."""
        self.embeddings = embeddings
        start = 0
        for event_id, chunk in zip(self._event_ids, self.chunks, strict=True):
            part = embeddings[start : start + len(chunk)]
            start += len(chunk)
            self._dispatcher.event(EmbeddingEndEvent(chunks=chunk, embeddings=part))
            self._model.callback_manager.on_event_end(
                CBEventType.EMBEDDING,
                payload={EventPayload.CHUNKS: chunk, EventPayload.EMBEDDINGS: part},
                event_id=event_id,
            )
        self._event_ids = []

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Like CallbackManager.event(): an open event ends with the exception as its payload.
        for event_id in self._event_ids:
            self._model.callback_manager.on_event_end(
                CBEventType.EMBEDDING, payload={EventPayload.EXCEPTION: exc}, event_id=event_id
            )
        self._event_ids = []
