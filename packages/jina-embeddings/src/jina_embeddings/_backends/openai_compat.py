"""``backend="openai"``: a self-hosted OpenAI-compatible ``/v1/embeddings`` server.

vLLM, TEI, llama.cpp and Infinity serve the OpenAI schema (``input``, ``model``,
``encoding_format``, ``dimensions``), which has no task or prompt field. So the prompt that
the (task, role) pair calls for (v5: ``Query: `` / ``Document: ``) is prepended here, and the
server should serve the merged per-task model (e.g. ``jinaai/jina-embeddings-v5-text-small-retrieval``).

``dimensions`` is sent only with ``server_dimensions=True`` (vLLM with a Matryoshka config,
TEI); otherwise the full vector comes back (base64). Either way the core cuts (a no-op where
the server did), renormalizes and quantizes, like for every other backend.

Example::

    from jina_embeddings import Embedder

    emb = Embedder("jina-embeddings-v5-text-small-retrieval", backend="openai",
                   base_url="http://gpu-box:8000/v1",
                   served_model_name="jinaai/jina-embeddings-v5-text-small-retrieval")
    emb.embed_query("what is the capital of Germany?")   # the server sees "Query: what is ..."
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .. import _constants as C
from .._http import Reply
from ..errors import APIResponseValidationError
from .base import EmbedRequest, InputItem
from .remote import RemoteEmbeddingBackend, Wire

__all__ = ["OpenAICompatBackend", "build_openai_body"]


def build_openai_body(
    model: str, request: EmbedRequest, texts: list[str], *, server_dimensions: bool
) -> dict[str, Any]:
    """The OpenAI ``/v1/embeddings`` body (pure): prompts prepended, base64 transport."""
    prompt = request.binding.prompt
    body: dict[str, Any] = {"model": model, "input": [prompt + t for t in texts], "encoding_format": "base64"}
    if server_dimensions and request.dimensions is not None:
        body["dimensions"] = request.dimensions
    return body


class OpenAICompatBackend(RemoteEmbeddingBackend):
    """Embeddings from an OpenAI-compatible server; see the module docstring.

    Args:
        spec: the model (decides the prompts); ``served_model_name`` overrides the name sent.
        remote: ``base_url`` (required), timeouts, retries, concurrency, ``server_dimensions``.
        api_key: optional (vLLM ``--api-key``, TEI ``--api-key``).
        protocol: ``"openai"``.
    """

    name = "openai"
    default_batch_size = C.DEFAULT_OPENAI_BATCH_SIZE

    def _server_cuts(self, request: EmbedRequest) -> bool:
        return self.remote.server_dimensions and request.dimensions is not None

    def build_body(self, request: EmbedRequest, texts: list[InputItem]) -> dict[str, Any]:
        # texts only: this backend's row has no "images" capability, so the core refused images
        return build_openai_body(
            self.model_name, request, cast(list[str], texts), server_dimensions=self.remote.server_dimensions
        )

    def wire(self, request: EmbedRequest) -> Wire:
        width = request.dimensions if self._server_cuts(request) else self.spec.native_dim
        return Wire("base64", width, "float32", dimensions_applied=False)

    def check_rows(self, request: EmbedRequest, rows: np.ndarray, reply: Reply) -> None:
        """Refuse vectors narrower than ``dimensions``: the server serves another model."""
        if request.dimensions is not None and rows.shape[1] < request.dimensions:
            raise APIResponseValidationError(
                f"Invalid response from the server: vectors have {rows.shape[1]} values, fewer than "
                f"dimensions={request.dimensions}; is the server serving {self.spec.name!r}?",
                request_id=reply.request_id,
                retries_taken=reply.retries_taken,
            )
