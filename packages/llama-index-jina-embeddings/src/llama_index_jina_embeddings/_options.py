"""The core's backend options as pydantic fields, shared by ``JinaEmbedding`` and ``JinaRerank``.

Each field has the name, default and meaning of the matching ``jina_embeddings`` option, so one
set of words works in every framework. Pydantic checks types; values are checked by the core
when the client is built (``InvalidInputError`` naming the option), not re-checked here: one
rule, one place.

The API key is deliberately *not* a field: fields are what ``to_dict()``, ``to_json()``,
``repr`` and pickles carry (see :mod:`._private` for where the key lives).
"""

from __future__ import annotations

from typing import Any, Literal

from llama_index.core.bridge.pydantic import BaseModel, Field

__all__ = ["CoreClientOptions"]


class CoreClientOptions(BaseModel):
    """Backend choice plus local-model and remote-server options (see the core's docs)."""

    backend: Literal["local", "api", "openai", "fake"] | None = Field(
        default=None,
        description="'local', 'api' (Jina API or a Jina-compatible server), 'openai' "
        "(OpenAI-compatible /v1/embeddings) or 'fake' (deterministic, offline). None: 'api' "
        "if base_url or an API key (api_key= / JINA_API_KEY / JINAAI_API_KEY) is given, else 'local'.",
    )
    show_progress: bool = Field(
        default=False, description="Show the core's progress bar (forward passes / HTTP batches)."
    )
    # -- local backend ---------------------------------------------------------------------
    device: str | None = Field(
        default=None, description="Local: 'cuda', 'cuda:1', 'mps', 'cpu'; None = cuda > mps > cpu."
    )
    dtype: Literal["float32", "float16", "bfloat16"] | None = Field(
        default=None, description="Local: weights dtype; None = bfloat16 on GPU, float32 on CPU."
    )
    trust_remote_code: bool | None = Field(
        default=None,
        description="Local: run the model repo's own code; None = the registry's answer for Jina "
        "models, or whether a model folder ships code.",
    )
    cache_folder: str | None = Field(default=None, description="Local: Hugging Face cache folder.")
    revision: str | None = Field(default=None, description="Local: model branch, tag or commit.")
    local_files_only: bool = Field(default=False, description="Local: never reach the Hugging Face Hub.")
    # -- remote backends -------------------------------------------------------------------
    base_url: str | None = Field(
        default=None,
        description="Remote: server root, requests go to {base_url}/embeddings and {base_url}/rerank. "
        "None = https://api.jina.ai/v1 for backend='api'.",
    )
    timeout: float = Field(default=60.0, description="Remote: read/write timeout per request, seconds.")
    connect_timeout: float = Field(default=5.0, description="Remote: connect timeout, seconds.")
    max_retries: int = Field(
        default=2, description="Remote: retries per request on 408/409/429/5xx and connection errors."
    )
    max_concurrency: int = Field(
        default=4, description="Remote: requests in flight at once for one call, sync and async alike."
    )
    allow_insecure: bool = Field(
        default=False, description="Remote: allow sending the key over plain http:// to a non-loopback host."
    )
    served_model_name: str | None = Field(
        default=None, description="Remote: the model name the server expects; None = the registry name."
    )

    def _client_options(self) -> dict[str, Any]:
        """The shared options as core keyword arguments."""
        return {name: getattr(self, name) for name in CoreClientOptions.model_fields}
