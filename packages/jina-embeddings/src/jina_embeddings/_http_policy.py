"""The pure half of the HTTP layer: what is retried, how long to wait, which error is raised.

No I/O and no clock of its own (``now`` and ``random`` are injected), so every rule is
table-tested: :class:`RetryPolicy` (statuses, exceptions, backoff, ``Retry-After``),
:func:`status_error` / :func:`connection_error` (the typed errors of
:mod:`jina_embeddings.errors`, bodies scrubbed by :class:`Scrubber` and cut to 1 KB) and
:func:`is_fatal` (errors every other batch would hit too). :mod:`jina_embeddings._http`
drives them.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import json
import math
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from . import _constants as C
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InsufficientBalanceError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    UnprocessableEntityError,
)

__all__ = [
    "RetryPolicy",
    "Scrubber",
    "connection_error",
    "is_fatal",
    "parse_error_body",
    "parse_retry_after",
    "status_error",
]

_QUOTA = re.compile(r"quota|balance|billing|credit|payment", re.I)
_INPUT_TOO_LARGE = re.compile(
    r"too (large|long) to process|input (is |was )?too (large|long)|"
    r"(maximum|max) (context|sequence|input) length|exceeds? the (maximum|max)",
    re.I,
)
_RETRYABLE_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


# -- secrets ----------------------------------------------------------------------------------
class Scrubber:
    """Removes the API key, in every form a server or proxy might echo, from error text.

    Forms: raw, base64 (of the key and of ``Bearer <key>``), %-encoded; plus any
    ``Bearer <token>`` and anything shaped like a Jina key (``jina_`` + 16 or more characters).
    """

    _PATTERNS = (re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"), re.compile(r"jina_[A-Za-z0-9_\-]{16,}"))

    def __init__(self, secret: str | None) -> None:
        forms: set[str] = set()
        if secret:
            for raw in (secret, f"Bearer {secret}"):
                forms.add(raw)
                forms.add(base64.b64encode(raw.encode()).decode())
                forms.add(urllib.parse.quote(raw, safe=""))
                forms.add(urllib.parse.quote_plus(raw))
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, "***")
        text = self._PATTERNS[0].sub(r"\1***", text)
        return self._PATTERNS[1].sub("jina_***", text)

    def __repr__(self) -> str:
        return "Scrubber(***)"


# -- retry decisions (pure) -------------------------------------------------------------------
def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asks us to wait, or ``None`` when it gives no usable hint.

    ``retry-after-ms`` (milliseconds) wins over ``retry-after``, which is either seconds or an
    HTTP date (relative to ``now``, a Unix time). ``nan`` and unparsable values give ``None``;
    negative values and ``inf`` are returned as they are, for the caller to judge.
    """
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        seconds: float | None
        try:
            seconds = float(value) * scale
        except ValueError:
            seconds = _seconds_until_date(value, now) if scale == 1.0 else None
        if seconds is not None and not math.isnan(seconds):
            return seconds
    return None


def _seconds_until_date(value: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:  # HTTP dates are GMT; a bare date must not be read as local time
            when = when.replace(tzinfo=datetime.timezone.utc)
        return when.timestamp() - now
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass
class RetryPolicy:
    """Pure retry decisions; ``now`` and ``random`` are injectable for tests.

    Args:
        max_retries: retries after the first attempt (so at most ``max_retries + 1`` attempts).
        now: clock for ``Retry-After`` dates (Unix seconds).
        random: uniform [0, 1) source for the jitter.

    Example::

        >>> RetryPolicy(2, random=lambda: 0.0).delay(1, {})
        1.0
    """

    max_retries: int = 2
    now: Callable[[], float] = time.time
    random: Callable[[], float] = random.random

    def backoff(self, retries_taken: int) -> float:
        """``min(base * 2**n, cap) * U(0.75, 1]`` with ``n`` the retries so far."""
        step = min(C.INITIAL_RETRY_DELAY * 2.0 ** min(retries_taken, 1000), C.MAX_RETRY_DELAY)
        return step * (1.0 - 0.25 * self.random())

    def delay(self, retries_taken: int, headers: Mapping[str, str]) -> float | None:
        """Seconds to wait before the next attempt, or ``None``: the server asks for too long."""
        hint = parse_retry_after(headers, self.now())
        if hint is not None and hint > C.MAX_RETRY_AFTER:
            return None
        if hint is not None and hint > 0:
            return hint
        return self.backoff(retries_taken)

    @staticmethod
    def status_is_retryable(status: int, headers: Mapping[str, str], code: str | None, detail: str) -> bool:
        """408/409/429/5xx, except quota 429s and 5xx that say the input is too large.

        ``x-should-retry: true|false`` overrides everything.
        """
        flag = headers.get("x-should-retry", "").strip().lower()
        if flag in ("true", "false"):
            return flag == "true"
        if status == 429:
            return not _QUOTA.search(f"{code or ''} {detail}")
        if status >= 500:
            return not _INPUT_TOO_LARGE.search(detail)
        return status in C.RETRYABLE_STATUSES

    @staticmethod
    def exception_is_retryable(exc: BaseException) -> bool:
        """Timeouts, dropped or refused connections; not malformed URLs or proxy setup errors."""
        return isinstance(exc, _RETRYABLE_EXCEPTIONS)


# -- error mapping (pure) ---------------------------------------------------------------------
def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parse_error_body(text: str) -> tuple[str, str | None, str | None]:
    """(detail, code, request_id) from the error shapes servers use.

    Jina ``{"detail", "code", "request_id"}`` (422: ``{"detail", "errors"}``); OpenAI, vLLM,
    llama.cpp and Infinity ``{"error": {"message", "type", "code"}}``; older vLLM
    ``{"object": "error", "message", "type"}``; TEI ``{"error": str, "error_type": str}``.
    """
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip(), None, None
    if not isinstance(data, dict):
        return text.strip(), None, None
    err = data.get("error")
    if isinstance(err, dict):
        detail, code = err.get("message") or err, err.get("code") or err.get("type")
    else:
        detail = data.get("detail") or data.get("message") or err or data
        code = data.get("code") or data.get("error_type") or data.get("type")
    if isinstance(data.get("errors"), list) and data["errors"]:
        detail = f"{_as_text(detail)} {_as_text(data['errors'])}"
    rid = data.get("request_id")
    return _as_text(detail), None if code is None else str(code), None if rid is None else str(rid)


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientBalanceError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: RequestTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
_HINTS: dict[type[APIStatusError], str] = {
    AuthenticationError: "Check api_key= or the JINA_API_KEY environment variable.",
    InsufficientBalanceError: "The account behind the API key is out of tokens or quota; top it up.",
    NotFoundError: "Check base_url and the model name.",
    RequestTooLargeError: "Lower batch_size= or max_batch_chars=.",
}


def status_error(
    status: int,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: str,
    scrub: Callable[[str], str],
    retries_taken: int = 0,
    retry_after: float | None = None,
) -> APIStatusError:
    """The typed error for an HTTP error response (``body`` is scrubbed and cut to 1 KB)."""
    clean = scrub(body)
    detail, code, rid = parse_error_body(clean)
    rid = rid or headers.get("x-request-id") or headers.get("request-id")
    cls = _STATUS_CLASSES.get(status, InternalServerError if status >= 500 else APIStatusError)
    if status in (403, 429) and _QUOTA.search(f"{code or ''} {detail}"):
        cls = InsufficientBalanceError
    if 300 <= status < 400:
        detail = f"redirect to {headers.get('location', '?')!r} not followed; set base_url to the final URL"
    hint = _HINTS.get(cls, "")
    if cls is InternalServerError and _INPUT_TOO_LARGE.search(detail):
        hint = "The server says the input is too large: lower batch_size= or keep truncate=True."
    if len(detail) > C.MAX_ERROR_DETAIL:
        detail = detail[: C.MAX_ERROR_DETAIL] + "..."
    parts = [f"HTTP {status} from {method} {path}: {detail or '(empty body)'}"]
    parts += [f"[code {code}]"] if code else []
    parts += [f"(request_id {rid})"] if rid else []
    parts += [hint] if hint else []
    kwargs: dict[str, Any] = dict(
        status_code=status,
        body=clean[: C.MAX_ERROR_BODY],
        request_id=rid,
        retries_taken=retries_taken,
        code=code,
    )
    if cls is RateLimitError:
        kwargs["retry_after"] = retry_after
    return cls(" ".join(parts), **kwargs)


def connection_error(exc: BaseException, *, method: str, path: str, retries_taken: int) -> APIConnectionError:
    """The typed error for a request that got no response (its text names no header or body)."""
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else "failed without a response"
    return cls(
        f"{method} {path} {what} after {retries_taken + 1} attempt(s): {type(exc).__name__}: {exc}",
        retries_taken=retries_taken,
    )


def is_fatal(exc: BaseException) -> bool:
    """Errors every other batch of the call would hit too: stop sending after one."""
    fatal = (AuthenticationError, InsufficientBalanceError, PermissionDeniedError, NotFoundError)
    too_long = isinstance(exc, RateLimitError) and (exc.retry_after or 0) > C.MAX_RETRY_AFTER
    return isinstance(exc, fatal) or too_long
