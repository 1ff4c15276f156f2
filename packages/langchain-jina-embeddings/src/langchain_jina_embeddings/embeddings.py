"""``JinaEmbeddings``: LangChain ``Embeddings`` over the core ``Embedder``.

LangChain's two calls map to the core's two roles: ``embed_documents`` embeds with the
document role (v5 ``Document: `` prompt and adapter, API task ``retrieval.passage``),
``embed_query`` with the query role (``Query: ``, ``retrieval.query``). Batching, retries,
task mapping, Matryoshka cuts and quantization all happen in the core; this class only
turns the result into the lists of floats LangChain vector stores hold.
"""

from __future__ import annotations

from typing import Any, ClassVar

from langchain_core.embeddings import Embeddings
from pydantic import Field, field_validator

from jina_embeddings import DEFAULT_MODEL, Embedder
from jina_embeddings._options import EmbedOptions

from ._base import LOCAL_DEFAULTS, REMOTE_DEFAULTS, JinaModel

__all__ = ["JinaEmbeddings"]

_EMBED = EmbedOptions()


class JinaEmbeddings(JinaModel, Embeddings):
    """Jina embedding models for LangChain, run locally or through the Jina API.

    A drop-in for ``langchain_community.embeddings.JinaEmbeddings`` (``model_name`` and
    ``jina_api_key`` are accepted), which sends no task: here documents and queries get
    the right task for their role, and ``dimensions``/``precision`` are honoured.

    Example:
        .. code-block:: python

            from langchain_core.vectorstores import InMemoryVectorStore
            from langchain_jina_embeddings import JinaEmbeddings

            emb = JinaEmbeddings(model="jina-embeddings-v5-text-small", dimensions=256)
            store = InMemoryVectorStore.from_texts(["Berlin is in Germany.", "Paris is in France."], emb)
            store.similarity_search("Where is Berlin?", k=1)

    Binary precisions come back unpacked to ±1.0 floats (cosine on them ranks like Hamming
    distance); the packed bytes and token usage are on the core object, :attr:`embedder`.
    The object is immutable; ``model_copy(update={...})`` gives a changed copy.
    """

    _core_class: ClassVar[type] = Embedder

    model: str = Field(default=DEFAULT_MODEL, alias="model_name")
    """Registry name (``jina-embeddings-v5-text-small``, ``-nano``, ``jina-embeddings-v3``,
    ``jina-embeddings-v4``, code models ...), a Hugging Face repo id, or a local model folder.
    Also accepted as ``model_name`` (the langchain-community name)."""
    task: str | None = _EMBED.task
    """``retrieval`` (default for most models), ``text-matching``, ``clustering``,
    ``classification``, or a code task (``nl2code``, ``qa`` ...). Each call's role picks the
    query or document side. ``None``: the model's default task."""
    dimensions: int | None = _EMBED.dimensions
    """Matryoshka size to cut vectors to (then renormalized); ``None``: the native size."""
    precision: str = _EMBED.precision
    """``float32``, ``float16``, ``int8``, ``uint8``, ``binary`` or ``ubinary``. Vectors come
    back as floats; binary ones as ±1.0."""
    normalize: bool = _EMBED.normalize
    """L2-normalize the (cut) vectors."""
    truncate: bool = _EMBED.truncate
    """Cut texts longer than the model's context (with a warning); ``False`` raises instead."""
    batch_size: int | None = _EMBED.batch_size
    """Texts per forward pass or per HTTP request; ``None``: the backend's default."""
    show_progress: bool = _EMBED.show_progress
    """Show a progress bar for long jobs."""
    quantization_ranges: list[list[float]] | None = None
    """``int8``/``uint8`` calibration, shape (2, dimensions); ``None``: learned from the first
    document batch and reused for queries."""
    late_chunking: bool = _EMBED.late_chunking
    """Jina API, v3/v4: the texts of one call are encoded as one sequence, then split."""
    merge_adapters: bool = LOCAL_DEFAULTS.merge_adapters
    """Local: one model per task with its LoRA merged in (faster, more memory)."""
    max_batch_chars: int = REMOTE_DEFAULTS.max_batch_chars
    """Remote: cap on the characters of one request, on top of ``batch_size``."""
    server_dimensions: bool = REMOTE_DEFAULTS.server_dimensions
    """OpenAI-compatible servers: let the server cut to ``dimensions``."""

    @field_validator("quantization_ranges", mode="before")
    @classmethod
    def _ranges_as_lists(cls, value: Any) -> Any:
        """Accept a numpy array (what ``Embedder.calibrate`` returns)."""
        return value.tolist() if hasattr(value, "tolist") else value

    @property
    def embedder(self) -> Embedder:
        """The core ``Embedder``: packed binary vectors, usage, ``warm_up()``, ``close()``."""
        return self._core  # type: ignore[no-any-return]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (document role), one vector per text, in order."""
        return self._core.embed_documents(texts).to_float_lists()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (query role)."""
        return self._core.embed_query(text).to_float_lists()[0]  # type: ignore[no-any-return]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents`: async HTTP remotely, a worker thread locally."""
        return (await self._core.aembed_documents(texts)).to_float_lists()  # type: ignore[no-any-return]

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query`."""
        return (await self._core.aembed_query(text)).to_float_lists()[0]  # type: ignore[no-any-return]
