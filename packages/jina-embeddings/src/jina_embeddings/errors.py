"""One exception hierarchy for every backend and adapter.

Catch ``JinaError`` to handle everything this package raises on purpose::

    JinaError
     +-- InvalidInputError          (also a ValueError) bad text, option, task, dimensions ...
     |    +-- ModelNotFoundError    unknown registry name / folder that is not a model
     +-- MissingDependencyError     (also an ImportError) an optional extra is not installed
     +-- PartialBatchError          some batches failed for good; carries what succeeded
     +-- APIError                   anything that went wrong talking to a server
          +-- APIConnectionError    no response at all (refused, reset, DNS, TLS)
          |    +-- APITimeoutError  connect/read/write/pool timeout
          +-- APIResponseValidationError  a 2xx response that breaks the contract
          +-- APIStatusError        an HTTP error status; ``status_code`` says which
               +-- BadRequestError (400)       +-- AuthenticationError (401)
               +-- InsufficientBalanceError (402, 403 balance/quota)
               +-- PermissionDeniedError (403) +-- NotFoundError (404)
               +-- ConflictError (409)         +-- RequestTooLargeError (413)
               +-- UnprocessableEntityError (422)
               +-- RateLimitError (429; ``retry_after``)
               +-- InternalServerError (>= 500)

Every API error carries ``status_code``, ``request_id`` and ``retries_taken``; bodies are
kept short (1 KB) and never contain the API key, because the key is only ever sent in a
header and never echoed into an error message by this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InsufficientBalanceError",
    "InternalServerError",
    "InvalidInputError",
    "JinaError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "NotFoundError",
    "PartialBatchError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "UnprocessableEntityError",
]

MAX_BODY_CHARS = 1024


class JinaError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidInputError(JinaError, ValueError):
    """Bad input or option, detected before any model call or request.

    ``index`` is the position of the offending item in the caller's list, when one item is
    to blame; ``field`` names the option or argument.
    """

    def __init__(self, message: str, *, index: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.index = index
        self.field = field


class ModelNotFoundError(InvalidInputError):
    """The model name is neither in the registry, nor a Hugging Face repo id, nor a local folder."""


class MissingDependencyError(JinaError, ImportError):
    """An optional dependency is missing, or installed in a version that cannot work with the
    others; the message holds the exact ``pip install`` line (``install_line``)."""

    def __init__(
        self,
        package: str,
        *,
        extra: str,
        purpose: str,
        problem: str | None = None,
        install_line: str | None = None,
    ) -> None:
        self.package = package
        self.extra = extra
        self.install_line = install_line or f'pip install "jina-embeddings[{extra}]"'
        what = problem or f"the optional dependency {package!r}, which is not installed"
        super().__init__(f"{purpose} needs {what}. Install it with: {self.install_line}")


class PartialBatchError(JinaError):
    """Some batches failed for good after retries; nothing is silently dropped.

    ``vectors`` holds one entry per input: the finished vector, or ``None`` where the batch
    failed. ``failed_indices`` lists the inputs that have no vector and ``errors`` the
    exception of each failed batch.
    """

    def __init__(
        self,
        message: str,
        *,
        vectors: Sequence[Any],
        failed_indices: Sequence[int],
        errors: Sequence[BaseException],
    ) -> None:
        super().__init__(message)
        self.vectors = list(vectors)
        self.failed_indices = list(failed_indices)
        self.errors = list(errors)


class APIError(JinaError):
    """Something went wrong talking to a remote server.

    ``stops_call`` is ``True`` when this error made the call stop sending its other batches
    (a rate window that will not open within ``max_rate_limit_wait``).
    """

    stops_call: bool = False

    def __init__(
        self,
        message: str,
        *,
        request_id: str | None = None,
        retries_taken: int = 0,
    ) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.retries_taken = retries_taken

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class APIConnectionError(APIError):
    """No HTTP response was received (connection refused, reset or dropped)."""


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or waiting for a pooled connection)."""


class APIResponseValidationError(APIError):
    """A successful response broke the contract: wrong count, indices, dimensions or values."""


class APIStatusError(APIError):
    """The server answered with an HTTP error status."""

    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: str | None = None,
        request_id: str | None = None,
        retries_taken: int = 0,
        code: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id, retries_taken=retries_taken)
        self.status_code = status_code
        self.body = body[:MAX_BODY_CHARS] if body else body
        self.code = code


class BadRequestError(APIStatusError):
    """400: the request was malformed or names something unknown."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, malformed or invalid."""


class InsufficientBalanceError(APIStatusError):
    """402 or 403 with a balance/quota code: the account is out of tokens. Never retried."""


class PermissionDeniedError(APIStatusError):
    """403 for any other reason."""


class NotFoundError(APIStatusError):
    """404: wrong route or model; check ``base_url``."""


class ConflictError(APIStatusError):
    """409: the resource is busy. Retried."""


class RequestTooLargeError(APIStatusError):
    """413: the request body is too large; lower ``batch_size`` or ``max_batch_chars``."""


class UnprocessableEntityError(APIStatusError):
    """422: the server rejected a field or an input (too long, extra field ...)."""


class RateLimitError(APIStatusError):
    """429: too many requests. ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the server failed. Retried, unless the body says the input is too large."""
