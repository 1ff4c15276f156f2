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
from jina_embeddings.integration import learned_ranges

from ._base import JinaModel, option_fields

__all__ = ["JinaEmbeddings"]

# One field per core option (name, type, default, description from the core's table).
_EmbedderFields = option_fields("_EmbedderFields", "embedding", base=JinaModel)


class JinaEmbeddings(_EmbedderFields, Embeddings):  # type: ignore[misc,valid-type]
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

    Every core option is a field of the same name (``task``, ``dimensions``, ``precision``,
    ``batch_size``, ``device``, ``timeout``, ...; see ``JinaEmbeddings.model_fields`` or the
    core's ``Embedder`` for the list with defaults and descriptions).
    """

    _core_class: ClassVar[type] = Embedder

    model: str = Field(default=DEFAULT_MODEL, alias="model_name")
    """Registry name (``jina-embeddings-v5-text-small``, ``-nano``, ``jina-embeddings-v3``,
    ``jina-embeddings-v4``, code models ...), a Hugging Face repo id, or a local model folder.
    Also accepted as ``model_name`` (the langchain-community name)."""

    @field_validator("quantization_ranges", mode="before")
    @classmethod
    def _ranges_as_lists(cls, value: Any) -> Any:
        """Accept a numpy array (what ``Embedder.calibrate`` returns)."""
        return value.tolist() if hasattr(value, "tolist") else value

    @property
    def lc_attributes(self) -> dict[str, Any]:
        """``dumpd`` also writes int8/uint8 ranges learned from the documents (none were given),
        so a ``load``-ed copy embeds queries with the same ranges."""
        ranges = learned_ranges(self._core)
        return {"quantization_ranges": ranges} if ranges is not None else {}

    @property
    def embedder(self) -> Embedder:
        """The core ``Embedder``: packed binary vectors, usage, ``warm_up()``, ``close()``."""
        return self._core

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (document role), one vector per text, in order."""
        return self._core.embed_documents(texts).to_float_lists()

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (query role)."""
        return self._core.embed_query(text).to_float_lists()[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents`: async HTTP remotely, a worker thread locally."""
        return (await self._core.aembed_documents(texts)).to_float_lists()

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query`."""
        return (await self._core.aembed_query(text)).to_float_lists()[0]

    def embed_image(self, uris: list[str]) -> list[list[float]]:
        """Embed images (document role) for multimodal models (``jina-clip-v2``,
        ``jina-embeddings-v4``): the ``OpenCLIPEmbeddings`` convention that
        ``Chroma.add_images(uris)`` calls. ``uris`` are file paths, ``http(s)`` URLs or
        ``data:`` URIs; query with :meth:`embed_query` (same vector space)."""
        return self._core.embed_images(uris).to_float_lists()

    async def aembed_image(self, uris: list[str]) -> list[list[float]]:
        """Async :meth:`embed_image`."""
        return (await self._core.aembed_images(uris)).to_float_lists()
