"""``JinaRerank``: a LlamaIndex node postprocessor over the ``jina_embeddings`` ``Reranker``.

It reranks each node's ``get_content(MetadataMode.EMBED)`` (what the old integration and
core ``SentenceTransformerRerank`` rerank) and returns new ``NodeWithScore`` objects scored
with the relevance, best first. It emits what core rerankers emit: ``ReRankStartEvent`` and
``ReRankEndEvent`` through the dispatcher and a ``CBEventType.RERANKING`` callback event.
The async path is native (async HTTP, or a worker thread for local models).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import llama_index.core.instrumentation as instrument
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr
from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle

from jina_embeddings import DEFAULT_RERANKER, TOKEN_VECTORS_KEY, InvalidInputError, Reranker, Reranking
from jina_embeddings.integration import KeyRef, document_vectors_from, resolve_api_key

from ._client_cache import ClientCache, ClosesClients
from ._options import core_kwargs, core_option_fields

__all__ = ["JinaRerank"]

dispatcher = instrument.get_dispatcher(__name__)


# top_n defaults to 2 like the integration it replaces and core SentenceTransformerRerank, so
# swapping the import changes nothing; None keeps all.
_RerankFields = core_option_fields(
    "_RerankFields", "reranker", base=BaseNodePostprocessor, defaults={"top_n": 2}
)


class JinaRerank(_RerankFields, ClosesClients):  # type: ignore[misc,valid-type]
    """Rerank retrieved nodes with a Jina reranker, locally or through the Jina API.

    A drop-in for ``llama_index.postprocessor.jinaai_rerank.JinaRerank`` (change the import),
    with a current default model (``jina-reranker-v3``; the old default v1 is retired), native
    async, timeouts and retries, and the key kept out of ``to_dict()``, ``repr`` and pickles.

    Args:
        model: registry name, repo id or local cross-encoder folder. ``jina-colbert-v2`` (or a
            ColBERT folder) scores by MaxSim and reads each node's stored token vectors from
            ``metadata["jina_token_vectors"]`` (``TOKEN_VECTORS_KEY``; never part of the text).
        api_key: Jina API key; default ``JINA_API_KEY``, then ``JINAAI_API_KEY`` (never
            serialized; read from the environment again after ``from_dict`` or unpickling).
        **kwargs: any field below, plus ``callback_manager``.

    Example::

        from llama_index_jina_embeddings import JinaRerank

        rerank = JinaRerank(top_n=3)          # jina-reranker-v3 through the API if a key is set
        query_engine = index.as_query_engine(similarity_top_k=10, node_postprocessors=[rerank])
        # or on its own:
        best = rerank.postprocess_nodes(retriever.retrieve("capital?"), query_str="capital?")
    """

    model_config = ConfigDict(extra="forbid", protected_namespaces=("pydantic_model_",))

    model: str = Field(default=DEFAULT_RERANKER, description="Reranker name, repo id or local folder.")
    _secret: KeyRef = PrivateAttr(default_factory=KeyRef)
    _clients: ClientCache[Reranker] = PrivateAttr(default_factory=ClientCache)

    def __init__(
        self, model: str | os.PathLike[str] | None = None, *, api_key: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(model=os.fspath(model) if model is not None else DEFAULT_RERANKER, **kwargs)
        self._secret = KeyRef(resolve_api_key(api_key) if api_key is not None else None)
        self._client()  # validates every option now, loads and sends nothing

    @classmethod
    def class_name(cls) -> str:
        return "JinaRerank"

    def _client(self) -> Reranker:
        """The core ``Reranker`` for the current fields (rebuilt if a field changed)."""
        options = {**core_kwargs(self, "reranker"), "model": self.model}
        return self._clients.get(None, options, lambda: Reranker(**options, api_key=self._secret.key))

    @property
    def client(self) -> Reranker:
        """The core :class:`jina_embeddings.Reranker` behind this object."""
        return self._client()

    # -- LlamaIndex hooks: sync and async differ only in the core call ------------------------
    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        with self._reranking(nodes, query_bundle) as run:
            if nodes:
                client = self._client()
                run.finish(client.rerank(run.query, run.texts, document_vectors=run.vectors(client)))
        return run.result

    async def _apostprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        with self._reranking(nodes, query_bundle) as run:
            if nodes:
                client = self._client()
                run.finish(await client.arerank(run.query, run.texts, document_vectors=run.vectors(client)))
        return run.result

    @contextmanager
    def _reranking(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None) -> Iterator[_Run]:
        """Validate, emit the start events, and the end events once :meth:`_Run.finish` ran."""
        top_n = self.top_n if self.top_n is not None else len(nodes)
        dispatcher.event(
            ReRankStartEvent(query=query_bundle, nodes=nodes, top_n=top_n, model_name=self.model)
        )
        if query_bundle is None:
            raise InvalidInputError(
                "JinaRerank needs the query: call postprocess_nodes(nodes, query_str=...) or pass "
                "a QueryBundle (query engines and retrievers do this for you).",
                field="query_bundle",
            )
        run = _Run(nodes, query_bundle.query_str)
        payload = {
            EventPayload.NODES: nodes,
            EventPayload.MODEL_NAME: self.model,
            EventPayload.QUERY_STR: run.query,
            EventPayload.TOP_K: top_n,
        }
        with self.callback_manager.event(CBEventType.RERANKING, payload=payload) as event:
            yield run
            event.on_end(payload={EventPayload.NODES: run.result})
        dispatcher.event(ReRankEndEvent(nodes=run.result))


class _Run:
    """One rerank call: the texts that go to the core and the nodes that come back."""

    def __init__(self, nodes: list[NodeWithScore], query: str) -> None:
        self.nodes = nodes
        self.query = query
        self.texts = [_content(n) for n in nodes]
        self.result: list[NodeWithScore] = []

    def vectors(self, client: Reranker) -> list[Any] | None:
        """Stored token vectors (``metadata["jina_token_vectors"]``) for multi-vector rerankers."""
        return document_vectors_from(client, [n.node.metadata for n in self.nodes])

    def finish(self, ranking: Reranking) -> None:
        """New nodes, best first, scored with the relevance (the inputs are not modified)."""
        self.result = [NodeWithScore(node=self.nodes[r.index].node, score=r.relevance_score) for r in ranking]


def _content(node: NodeWithScore) -> str:
    """The text a reranker reads; stored token vectors in the metadata are never part of it."""
    inner = node.node
    if (
        TOKEN_VECTORS_KEY in (inner.metadata or {})
        and TOKEN_VECTORS_KEY not in inner.excluded_embed_metadata_keys
    ):
        inner = inner.model_copy(
            update={"excluded_embed_metadata_keys": [*inner.excluded_embed_metadata_keys, TOKEN_VECTORS_KEY]}
        )
    return inner.get_content(metadata_mode=MetadataMode.EMBED)
