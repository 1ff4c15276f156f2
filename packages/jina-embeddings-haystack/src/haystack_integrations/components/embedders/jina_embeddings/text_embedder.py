"""``JinaTextEmbedder``: embeds one query string (query role) for an embedding retriever."""

from pathlib import Path
from typing import Any

from haystack import component
from haystack.utils import ComponentDevice, Secret

from haystack_integrations.common.jina_embeddings.component import JinaComponent, default_api_key, result_meta
from jina_embeddings import DEFAULT_MODEL, Embedder, Embeddings
from jina_embeddings.integration import check_query

__all__ = ["JinaTextEmbedder"]


@component
class JinaTextEmbedder(JinaComponent):
    """Embed a query with a Jina model, locally or through the Jina API.

    The query side of the model's task is used (for ``task="retrieval"``: the query adapter
    and prompt locally, ``retrieval.query`` on the API), so pair it with
    :class:`JinaDocumentEmbedder` on the same settings; you never write the role yourself.

    Args:
        api_key: the Jina API key; by default read from ``JINA_API_KEY`` or ``JINAAI_API_KEY``
            when the component warms up (absent is fine for local inference).
        model: registry name, Hugging Face repo id or a local model folder.
        prefix, suffix: extra text around the query (the model's own prompt is already added).
        task: ``retrieval`` (the default of most models), ``text-matching``, ``clustering``,
            ``classification``, or a code task; the role picks the side.
        dimensions, late_chunking: Matryoshka size; Jina API late chunking (v3/v4).
        backend: ``"local"``, ``"api"``, ``"openai"``, ``"fake"`` or ``None`` (``api`` when a
            key or ``base_url`` is given, else ``local``).
        precision, normalize, truncate, quantization_ranges: output form, see the core's
            ``EmbedOptions``; binary precisions come back unpacked to ±1.0 floats.
        device: a ``ComponentDevice`` or a string (``"cuda:0"``); ``None`` = auto. Local only,
            like ``dtype``, ``trust_remote_code``, ``merge_adapters``, ``cache_folder``,
            ``revision`` and ``local_files_only``.
        base_url, timeout, connect_timeout, max_retries, max_concurrency, max_batch_chars,
            allow_insecure, served_model_name, server_dimensions: remote backends only.

    Example::

        from haystack_integrations.components.embedders.jina_embeddings import JinaTextEmbedder

        embedder = JinaTextEmbedder(model="jina-embeddings-v5-text-small", backend="local")
        result = embedder.run("Where is the Brandenburg Gate?")
        result["embedding"][:3]   # [0.021, -0.047, 0.013]
        result["meta"]            # {"model": "jina-embeddings-v5-text-small", "usage": {...}}
    """

    _core_class = Embedder
    _kind = "embedding"
    _exclude = ("batch_size", "show_progress")  # one query per run: nothing to batch or to show
    # __init__ arguments, kept as attributes of the same names (Haystack's to_dict convention)
    prefix: str
    suffix: str

    def __init__(
        self,
        api_key: Secret | None = default_api_key(),  # noqa: B008 (Haystack's convention; Secret is frozen)
        model: str | Path = DEFAULT_MODEL,
        prefix: str = "",
        suffix: str = "",
        task: str | None = None,
        dimensions: int | None = None,
        late_chunking: bool = False,
        *,
        backend: str | None = None,
        device: ComponentDevice | str | None = None,
        **options: Any,
    ) -> None:
        self._remember(locals())

    @component.output_types(embedding=list[float], meta=dict[str, Any])
    def run(self, text: str) -> dict[str, Any]:
        """Embed ``text`` as a query.

        Returns:
            ``{"embedding": list[float], "meta": {"model": ..., "usage": {...}}}``

        Raises:
            TypeError: ``text`` is not a string (use :class:`JinaDocumentEmbedder` for documents).
            InvalidInputError: a blank query or a bad setting.
        """
        return self._output(self._client().embed_query(self._query(text)))

    @component.output_types(embedding=list[float], meta=dict[str, Any])
    async def run_async(self, text: str) -> dict[str, Any]:
        """Async :meth:`run`: async HTTP for remote backends, a worker thread for local models."""
        return self._output(await self._client().aembed_query(self._query(text)))

    def _query(self, text: str) -> str:
        if not isinstance(text, str):
            raise TypeError(
                "JinaTextEmbedder expects a string as input. To embed a list of Documents, "
                "use JinaDocumentEmbedder."
            )
        return self.prefix + check_query(text) + self.suffix

    @staticmethod
    def _output(result: Embeddings) -> dict[str, Any]:
        return {"embedding": result.to_float_lists()[0], "meta": result_meta(result.model, result.usage)}
