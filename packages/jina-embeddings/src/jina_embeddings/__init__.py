"""Jina embeddings and rerankers, local or remote, with the right task for every role.

    from jina_embeddings import Embedder, Reranker

    emb = Embedder("jina-embeddings-v5-text-small", task="retrieval", dimensions=256)
    docs = emb.embed_documents(["...", "..."])      # Embeddings: .vectors, .usage, .model
    q = emb.embed_query("...")

Importing this package is cheap: torch, transformers, sentence-transformers and peft are
imported only when a local model is first used (``pip install "jina-embeddings[local]"``).
"""

from __future__ import annotations

from ._apikey import APIKey
from ._backends.table import default_batch_sizes
from ._embedder import DEFAULT_MODEL, Embedder, TruncationWarning
from ._frontend import RemoteBackendWarning
from ._images import Image
from ._maxsim import maxsim, maxsim_scores
from ._models import MODELS, ModelSpec, UnregisteredModelWarning, get_spec, list_models
from ._multivector import MultiVectorEmbedder, MultiVectorEmbeddings
from ._multivector_io import TOKEN_VECTORS_KEY, decode_token_vectors, encode_token_vectors
from ._options import EmbedOptions, LocalOptions, RemoteOptions, RerankOptions
from ._quantize import PRECISIONS
from ._reranker import DEFAULT_RERANKER, Reranker
from ._results import Embeddings, Reranking, RerankResult, Usage
from ._tasks import Role, Task, TaskAliasWarning, TaskBinding, resolve
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InsufficientBalanceError,
    InternalServerError,
    InvalidInputError,
    JinaError,
    MissingDependencyError,
    ModelNotFoundError,
    NotFoundError,
    PartialBatchError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    UnprocessableEntityError,
)

__version__ = "0.1.0"

#: ``batch_size=None`` means this, per backend (read from the backend table).
DEFAULT_BATCH_SIZES = default_batch_sizes()

__all__ = [
    "TOKEN_VECTORS_KEY",
    "MultiVectorEmbedder",
    "MultiVectorEmbeddings",
    "decode_token_vectors",
    "encode_token_vectors",
    "maxsim",
    "maxsim_scores",
    "DEFAULT_BATCH_SIZES",
    "DEFAULT_MODEL",
    "DEFAULT_RERANKER",
    "MODELS",
    "PRECISIONS",
    "APIConnectionError",
    "APIError",
    "APIKey",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EmbedOptions",
    "Embedder",
    "Embeddings",
    "Image",
    "InsufficientBalanceError",
    "InternalServerError",
    "InvalidInputError",
    "JinaError",
    "LocalOptions",
    "MissingDependencyError",
    "ModelNotFoundError",
    "ModelSpec",
    "NotFoundError",
    "PartialBatchError",
    "PermissionDeniedError",
    "RateLimitError",
    "RemoteBackendWarning",
    "RemoteOptions",
    "RequestTooLargeError",
    "RerankOptions",
    "RerankResult",
    "Reranker",
    "Reranking",
    "Role",
    "Task",
    "TaskAliasWarning",
    "TaskBinding",
    "TruncationWarning",
    "UnprocessableEntityError",
    "UnregisteredModelWarning",
    "Usage",
    "__version__",
    "get_spec",
    "list_models",
    "resolve",
]
