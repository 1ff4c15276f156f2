"""One logical request across its attempts: the retry state, and the typed errors it ends in.

Sans-I/O: :class:`Attempts` turns each response or exception of an attempt into a
:class:`Reply` (done), a delay (send again after it; ``0.0`` after a rate window, whose end
the rate governor knows) or the final typed error; it also builds the errors of the waits
around the attempts (a rate window beyond ``max_rate_limit_wait``, a call past
``call_timeout``, a call cancelled by ``close()`` or an interrupt). :mod:`jina_embeddings._http`
does the I/O.
"""

from __future__ import annotations

import contextvars
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import _constants as C
from ._http_body import BodyError, loads
from ._http_limits import RateGovernor, Ticket
from ._http_net import CancelToken
from ._http_policy import (
    RetryPolicy,
    classify_status,
    connection_error,
    parse_error_body,
    parse_retry_after,
    status_error,
)
from .errors import APIConnectionError, APIError, APIResponseValidationError, APITimeoutError, RateLimitError

if TYPE_CHECKING:
    from ._http import HTTPClient

__all__ = ["CALL", "Attempts", "Call", "Reply"]

logger = logging.getLogger("jina_embeddings.http")


@dataclass(frozen=True)
class Reply:
    """A successful response: parsed JSON, the server's request id and the retries it took."""

    data: Any
    request_id: str | None
    retries_taken: int


class Call:
    """One embed/rerank call: its deadline (``call_timeout``) and its cancel token."""

    def __init__(self, owner: HTTPClient, call_timeout: float | None) -> None:
        self.owner = owner
        self.cancel = CancelToken()
        self.call_timeout = call_timeout
        self.deadline = math.inf if call_timeout is None else time.monotonic() + call_timeout

    def left(self) -> float:
        return self.deadline - time.monotonic()


CALL: contextvars.ContextVar[Call | None] = contextvars.ContextVar("jina_call", default=None)


# -- one logical request ----------------------------------------------------------------------
@dataclass
class Attempts:
    """State of one request across its attempts; see the module docstring.

    ``on_response`` / ``on_exception`` return a :class:`Reply` (done) or a delay in seconds
    (sleep, then send again; ``0.0`` after a rate window: the governor says when), or raise
    the final typed error. ``retries_taken`` counts every retry; ``error_retries`` only those
    that ``max_retries`` bounds.
    """

    policy: RetryPolicy
    method: str
    path: str
    scrub: Callable[[str], str]
    where: str = ""
    governor: RateGovernor = field(default_factory=RateGovernor)
    max_rate_wait: float = C.DEFAULT_MAX_RATE_LIMIT_WAIT
    retries_taken: int = 0
    error_retries: int = 0
    rate_waited: float = 0.0
    last_429: tuple[Mapping[str, str], bytes] | None = None
    last_error: BaseException | None = None

    sent: int = 0

    def begin(self) -> None:
        """An attempt starts (``retries_taken`` counts those after the first)."""
        self.sent += 1
        self.retries_taken = self.sent - 1

    @property
    def _attempt(self) -> str:
        return (
            f"attempt {self.retries_taken + 1}, error retries {self.error_retries}/{self.policy.max_retries}"
        )

    def _rid(self, headers: Mapping[str, str]) -> str | None:
        rid = headers.get("x-request-id") or headers.get("request-id")
        return self.scrub(rid)[:128] if rid else None

    def on_response(
        self, status: int, headers: Mapping[str, str], raw: bytes, ticket: Ticket
    ) -> Reply | float:
        logger.debug("%s %s -> %d (%s)", self.method, self.path, status, self._attempt)
        if 200 <= status < 300:
            try:
                data = loads(raw)
            except BodyError as exc:
                self.governor.settle(ticket, headers)
                preview = self.scrub(raw[:4096].decode("utf-8", "replace"))[:200]
                raise APIResponseValidationError(
                    f"{self.method} {self.path} returned HTTP {status} with a body that is {exc} "
                    f"({self.scrub(headers.get('content-type', 'no content-type'))[:60]}): {preview!r}",
                    request_id=self._rid(headers),
                    retries_taken=self.retries_taken,
                ) from None
            self.governor.settle(ticket, headers, ok=True, tokens=_usage_tokens(data))
            return Reply(data, self._rid(headers), self.retries_taken)
        detail, code, _ = parse_error_body(raw)
        decision = classify_status(status, headers, code, detail)
        if decision == "rate":
            hint = parse_retry_after(headers, self.policy.now())
            wait = self.governor.rate_limited(ticket, hint, headers, code)
            self.last_429 = (headers, raw)
            logger.debug("%s %s: rate window, all requests wait %.3f s", self.method, self.path, wait)
            return 0.0
        self.governor.settle(ticket, headers)
        if decision == "error":
            delay = self._error_delay(headers, f"HTTP {status}")
            if delay is not None:
                return delay
        raise self._status_error(status, headers, raw)

    def _status_error(self, status: int, headers: Mapping[str, str], raw: bytes, **kw: Any) -> APIError:
        return status_error(
            status,
            method=self.method,
            path=self.path,
            headers=headers,
            body=raw,
            scrub=self.scrub,
            retries_taken=self.retries_taken,
            retry_after=kw.get("retry_after", parse_retry_after(headers, self.policy.now())),
        )

    def on_exception(self, exc: BaseException, ticket: Ticket) -> float:
        logger.debug("%s %s -> %s (%s)", self.method, self.path, type(exc).__name__, self._attempt)
        self.governor.settle(ticket, None)
        if RetryPolicy.exception_is_retryable(exc):
            delay = self._error_delay({}, type(exc).__name__)
            if delay is not None:
                self.last_error = exc
                return delay
        raise connection_error(
            exc,
            method=self.method,
            path=self.path,
            retries_taken=self.retries_taken,
            where=self.where,
            scrub=self.scrub,
        ) from exc

    def _error_delay(self, headers: Mapping[str, str], why: str) -> float | None:
        if self.error_retries >= self.policy.max_retries:
            return None
        delay = self.policy.delay(self.error_retries, headers)
        if delay is None:
            logger.debug(
                "%s %s: server asks to wait more than %.0f s", self.method, self.path, C.MAX_RETRY_AFTER
            )
            return None
        self.error_retries += 1
        logger.debug(
            "retrying %s %s in %.3f s after %s (%s)", self.method, self.path, delay, why, self._attempt
        )
        return delay

    # -- waits ----------------------------------------------------------------------------
    def rate_step(self, wait: float | None) -> float:
        """How long to sleep before asking the governor again; raises when the rate window
        will not open within ``max_rate_limit_wait`` (the call then stops sending)."""
        budget = self.max_rate_wait - self.rate_waited
        if wait is not None and wait > budget:
            raise self.rate_exhausted(wait)
        if wait is None and budget <= 0:
            raise self.rate_exhausted(C.RATE_POLL)
        return C.RATE_POLL if wait is None else wait

    def rate_exhausted(self, wait: float) -> APIError:
        why = (
            f"the rate window opens in {wait:.1f} s, beyond what is left of max_rate_limit_wait="
            f"{self.max_rate_wait:g} s (waited {self.rate_waited:.1f} s)"
        )
        if self.last_429 is not None:
            headers, raw = self.last_429
            err = self._status_error(429, headers, raw, retry_after=wait)
            err.args = (f"{err.message} Not retried: {why}.",)
        else:
            err = RateLimitError(
                f"{self.method} {self.path}: not sent, {why}.",
                status_code=429,
                retries_taken=self.retries_taken,
                retry_after=wait,
                code=self.governor.last_code,
            )
        err.stops_call = True
        return err

    def abandoned(self, reason: str) -> APIConnectionError:
        what = "the client was closed" if reason == "closed" else "the call was interrupted"
        return APIConnectionError(
            f"{self.method} {self.path} to {self.where}: {what} while this request was pending; "
            "its connection was closed.",
            retries_taken=self.retries_taken,
        )

    def call_expired(self, call: Call) -> APITimeoutError:
        err = APITimeoutError(
            f"{self.method} {self.path} to {self.where}: the call ran out of call_timeout="
            f"{call.call_timeout:g} s after {self.retries_taken + 1} attempt(s).",
            retries_taken=self.retries_taken,
        )
        err.__cause__ = self.last_error
        return err

    def check(self, call: Call) -> None:
        """Raise if the call was cancelled or is past its deadline (for every wait)."""
        if call.cancel.cancelled:
            raise self.abandoned(call.cancel.reason)
        if call.left() <= 0:
            raise self.call_expired(call)


def _usage_tokens(data: Any) -> int | None:
    usage = data.get("usage") if isinstance(data, dict) else None
    tokens = usage.get("total_tokens") if isinstance(usage, dict) else None
    return tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None
