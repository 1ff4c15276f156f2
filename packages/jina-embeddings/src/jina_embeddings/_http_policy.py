"""The pure half of the HTTP layer: what is retried, how long to wait, which error is raised.

No I/O and no clock of its own (``now`` and ``random`` are injected), so every rule is
table-tested: :class:`RetryPolicy` (statuses, exceptions, backoff, ``Retry-After``; a 429 is
a *rate window* unless its code says the balance is spent), :func:`parse_rate_headers`
(``X-RateLimit-*``), :func:`status_error` / :func:`connection_error` (the typed errors of
:mod:`jina_embeddings.errors`, bodies decoded, then scrubbed by :class:`Scrubber`, then cut to
1 KB) and :func:`is_fatal` (errors every other batch would hit too).
:mod:`jina_embeddings._http` drives them.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import json
import logging
import math
import random
import re
import threading
import time
import urllib.parse
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import httpx

from . import _constants as C
from ._http_body import BodyError, loads
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
    "RateInfo",
    "RetryPolicy",
    "Scrubber",
    "classify_status",
    "connection_error",
    "install_log_scrubbing",
    "is_balance",
    "is_fatal",
    "parse_error_body",
    "parse_rate_headers",
    "parse_retry_after",
    "status_error",
]

Decision = Literal["rate", "error", "final"]

# A code names the failure exactly; wording is only read when there is no code.
_BALANCE_CODE = re.compile(r"insufficient[_ ]?(balance|quota|funds|credits?)|billing|payment", re.I)
_RATE_CODE = re.compile(r"^RATE_[A-Z_]*LIMIT_EXCEEDED$|rate[_ ]?limit|too[_ ]many[_ ]requests|throttl", re.I)
_LONG_PERIOD = re.compile(r"per (day|month)|daily|monthly|billing|balance", re.I)
_BALANCE_WORDS = re.compile(
    r"balance|billing|credits?\b|payment|insufficient[_ ]quota|exceeded your current quota|"
    r"out of (quota|tokens|credits)|top[- ]?up",
    re.I,
)
_INPUT_TOO_LARGE = re.compile(
    r"too (large|long) to process|input (is |was )?too (large|long)|"
    r"(maximum|max) (context|sequence|input) length|exceeds? the (maximum|max)",
    re.I,
)
_RETRYABLE_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


# -- secrets ----------------------------------------------------------------------------------
_ASCII_ESCAPE = re.compile(r"\\u00([2-7][0-9a-fA-F])")


def _unescape(text: str) -> str:
    """Undo ``\\u00XX`` escapes of printable ASCII (the only characters a key may hold)."""
    return _ASCII_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "\\u00" in text else text


class Scrubber:
    """Removes the API key, in every form a server or proxy might echo, from text.

    Forms: raw, base64 (standard and URL-safe, with or without padding; of the key and of
    ``Bearer <key>``), %-encoded, ``\\u``-escaped, and the part after a ``jina_`` prefix; plus
    any ``Bearer <token>``, ``api_key=...`` and anything shaped like a Jina key (``jina_`` + 16
    or more characters). Escaped ASCII (``\\u006a``) is decoded before matching, so a key
    spelled in JSON escapes is found too.

    Scrubbers of live clients are registered (``register=True``), so that
    :func:`install_log_scrubbing`'s filter removes every live key from httpx's and
    httpcore's log records.
    """

    _PATTERNS = (
        (re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"), r"\1***"),
        (re.compile(r"jina_[A-Za-z0-9_\-]{16,}"), "jina_***"),
        (re.compile(r"(?i)((?:api[_-]?key|access[_-]?token|token|key)=)[^&\s\"',;]+"), r"\1***"),
    )
    _live: ClassVar[weakref.WeakSet[Scrubber]] = weakref.WeakSet()
    _live_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, secret: str | None, *, register: bool = False) -> None:
        forms: set[str] = set()
        if secret:
            for raw in (secret, f"Bearer {secret}"):
                b64 = base64.b64encode(raw.encode()).decode()
                url64 = base64.urlsafe_b64encode(raw.encode()).decode()
                forms |= {raw, b64, b64.rstrip("="), url64, url64.rstrip("=")}
                forms |= {urllib.parse.quote(raw, safe=""), urllib.parse.quote_plus(raw)}
                forms |= {"".join(f"\\u{ord(c):04x}" for c in raw), "".join(f"\\u{ord(c):04X}" for c in raw)}
            if secret.startswith("jina_") and len(secret) >= 5 + 12:
                forms.add(secret[5:])
        self._forms = sorted((f for f in forms if len(f) >= 8), key=len, reverse=True)
        if register and self._forms:
            with Scrubber._live_lock:
                Scrubber._live.add(self)

    def __call__(self, text: str) -> str:
        text = _unescape(text)
        for form in self._forms:
            if form in text:
                text = text.replace(form, "***")
        for pattern, replacement in self._PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    @classmethod
    def everywhere(cls, text: str) -> str:
        """``text`` scrubbed of every live key (and of anything shaped like a key)."""
        with cls._live_lock:
            live = list(cls._live)
        for scrubber in live:
            text = scrubber(text)
        return cls(None)(text) if not live else text

    def __repr__(self) -> str:
        return "Scrubber(***)"


class _ScrubFilter(logging.Filter):
    """Rewrites a log record whose text holds a live key (httpcore logs response headers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is the logger's problem, not ours
            return True
        clean = Scrubber.everywhere(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTERED_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "jina_embeddings",
    "jina_embeddings.http",
)
_FILTER = _ScrubFilter()


def install_log_scrubbing() -> None:
    """Put the scrubbing filter on httpx's, httpcore's and our loggers (idempotent).

    Logger filters apply to the records a logger creates, so each of httpcore's child
    loggers gets its own.
    """
    for name in _FILTERED_LOGGERS:
        log = logging.getLogger(name)
        if _FILTER not in log.filters:
            log.addFilter(_FILTER)


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


@dataclass(frozen=True)
class RateInfo:
    """What a response's rate-limit headers say; ``None`` where a header is absent or bad.

    ``*_reset`` are seconds from now until the window refills.
    """

    requests_left: int | None = None
    tokens_left: int | None = None
    requests_limit: int | None = None
    tokens_limit: int | None = None
    requests_reset: float | None = None
    tokens_reset: float | None = None

    @property
    def known(self) -> bool:
        return self.requests_left is not None or self.tokens_left is not None


_DURATION = re.compile(
    r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$"
)


def _count(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 15 else None


def _reset_seconds(value: str | None, now: float) -> float | None:
    """``"1.5"``, ``"20ms"``, ``"6m0s"`` (OpenAI) or a Unix time -> seconds from ``now``."""
    value = (value or "").strip().lower()
    if not value or len(value) > 32:
        return None
    try:
        seconds = float(value)
    except ValueError:
        match = _DURATION.match(value)
        if not match or not any(match.groups()):
            return None
        h, m, s, ms = (float(g) if g else 0.0 for g in match.groups())
        seconds = h * 3600 + m * 60 + s + ms / 1000
    if not math.isfinite(seconds) or seconds < 0:
        return None
    if seconds > 1e9:  # a Unix time (GitHub style)
        seconds -= now
    return seconds if 0 <= seconds <= 86400 else None


def parse_rate_headers(headers: Mapping[str, str], now: float) -> RateInfo:
    """``X-RateLimit-{Remaining,Limit,Reset}-{Requests,Tokens}`` (and ``X-RateLimit-Reset``).

    Example::

        >>> parse_rate_headers({"x-ratelimit-remaining-tokens": "120", "x-ratelimit-reset-tokens": "1m30s"}, 0)
        RateInfo(requests_left=None, tokens_left=120, requests_limit=None, tokens_limit=None, requests_reset=None, tokens_reset=90.0)
    """
    h = {str(k).lower(): v for k, v in headers.items()}
    common = _reset_seconds(h.get("x-ratelimit-reset"), now)
    return RateInfo(
        requests_left=_count(h.get("x-ratelimit-remaining-requests")),
        tokens_left=_count(h.get("x-ratelimit-remaining-tokens")),
        requests_limit=_count(h.get("x-ratelimit-limit-requests")),
        tokens_limit=_count(h.get("x-ratelimit-limit-tokens")),
        requests_reset=_reset_seconds(h.get("x-ratelimit-reset-requests"), now) or common,
        tokens_reset=_reset_seconds(h.get("x-ratelimit-reset-tokens"), now) or common,
    )


def _informative(code: str | None) -> bool:
    return bool(code) and any(c.isalpha() for c in code or "")


def is_balance(code: str | None, detail: str) -> bool:
    """Whether an error says the account is out of balance or quota (final, never retried).

    By code first: Jina ``AUTHZ_INSUFFICIENT_BALANCE``, OpenAI ``insufficient_quota``, any
    ``billing``/``payment`` code; ``RATE_*_LIMIT_EXCEEDED`` and ``rate_limit_exceeded`` are rate
    windows whatever the wording; Google's ``RESOURCE_EXHAUSTED`` is a balance error only for
    daily or monthly quotas. Wording is read only when there is no code.
    """
    if _informative(code):
        if _BALANCE_CODE.search(code or ""):
            return True
        if (code or "").upper() == "RESOURCE_EXHAUSTED":
            return bool(_LONG_PERIOD.search(detail))
        return False
    return bool(_BALANCE_WORDS.search(detail))


def classify_status(status: int, headers: Mapping[str, str], code: str | None, detail: str) -> Decision:
    """``rate`` (wait for the window), ``error`` (retry, counts against ``max_retries``) or ``final``.

    ``x-should-retry: true|false`` overrides everything but the kind of wait.
    """
    flag = headers.get("x-should-retry", "").strip().lower()
    if flag == "false":
        return "final"
    if status == 429:
        if is_balance(code, detail):
            return "error" if flag == "true" else "final"
        return "rate"
    if flag == "true":
        return "error"
    if status >= 500:
        return "final" if _INPUT_TOO_LARGE.search(detail) else "error"
    return "error" if status in C.RETRYABLE_STATUSES else "final"


@dataclass
class RetryPolicy:
    """Pure retry decisions; ``now`` and ``random`` are injectable for tests.

    Args:
        max_retries: retries for errors after the first attempt (rate windows do not count).
        now: clock for ``Retry-After`` dates (Unix seconds).
        random: uniform [0, 1) source for the jitter.

    Example::

        >>> RetryPolicy(2, random=lambda: 0.0).delay(1, {})
        1.0
    """

    max_retries: int = C.DEFAULT_MAX_RETRIES
    now: Callable[[], float] = time.time
    random: Callable[[], float] = random.random

    def backoff(self, retries_taken: int) -> float:
        """``min(base * 2**n, cap) * U(0.75, 1]`` with ``n`` the retries so far."""
        step = min(C.INITIAL_RETRY_DELAY * 2.0 ** min(retries_taken, 1000), C.MAX_RETRY_DELAY)
        return step * (1.0 - 0.25 * self.random())

    def delay(self, retries_taken: int, headers: Mapping[str, str]) -> float | None:
        """Seconds before retrying an *error*, or ``None``: the server asks for too long."""
        hint = parse_retry_after(headers, self.now())
        if hint is not None and hint > C.MAX_RETRY_AFTER:
            return None
        if hint is not None and hint > 0:
            return hint
        return self.backoff(retries_taken)

    @staticmethod
    def status_is_retryable(status: int, headers: Mapping[str, str], code: str | None, detail: str) -> bool:
        """Whether a response is ever retried (rate windows and errors); see :func:`classify_status`."""
        return classify_status(status, headers, code, detail) != "final"

    @staticmethod
    def exception_is_retryable(exc: BaseException) -> bool:
        """Timeouts, dropped or refused connections; not malformed URLs or proxy setup errors."""
        return isinstance(exc, _RETRYABLE_EXCEPTIONS)


# -- error mapping (pure) ---------------------------------------------------------------------
def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _fields(data: Any, text: str) -> tuple[str, str | None, str | None]:
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
    code_text = None if code is None else _as_text(code)[:100]
    return _as_text(detail), code_text, None if rid is None else _as_text(rid)[:128]


def parse_error_body(text: str | bytes) -> tuple[str, str | None, str | None]:
    """(detail, code, request_id) from the error shapes servers use.

    Jina ``{"detail", "code", "request_id"}`` (422: ``{"detail", "errors"}``); OpenAI, vLLM,
    llama.cpp and Infinity ``{"error": {"message", "type", "code"}}``; older vLLM
    ``{"object": "error", "message", "type"}``; TEI ``{"error": str, "error_type": str}``.
    A body that is not bounded JSON is its own detail.
    """
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    try:
        data = loads(raw)
    except BodyError:
        return raw.strip(), None, None
    return _fields(data, raw)


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


def _location(value: str | None, scrub: Callable[[str], str]) -> str:
    """A redirect target without its query, fragment or credentials, scrubbed."""
    if not value:
        return "?"
    parts = urllib.parse.urlsplit(value[:500])
    host = parts.hostname or ""
    shown = f"{parts.scheme}://{host}{':' + str(parts.port) if _port(parts) else ''}{parts.path}"
    return scrub(shown if parts.scheme else parts.path or "?")


def _port(parts: urllib.parse.SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def status_error(
    status: int,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: str | bytes,
    scrub: Callable[[str], str],
    retries_taken: int = 0,
    retry_after: float | None = None,
) -> APIStatusError:
    """The typed error for an HTTP error response.

    The body is decoded first (JSON, with its escapes), then every string is scrubbed, then
    it is cut: a key the server echoed in any spelling never reaches the message, ``.body``,
    ``.code`` or ``.request_id``.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data: Any = _tree(scrub, loads(text))
        clean = json.dumps(data, ensure_ascii=False)
    except BodyError:
        data, clean = None, scrub(text)
    detail, code, rid = _fields(data, clean)
    header_rid = headers.get("x-request-id") or headers.get("request-id")
    rid = rid or (scrub(header_rid)[:128] if header_rid else None)
    cls = _STATUS_CLASSES.get(status, InternalServerError if status >= 500 else APIStatusError)
    if status in (403, 429) and is_balance(code, detail):
        cls = InsufficientBalanceError
    if 300 <= status < 400:
        target = _location(headers.get("location"), scrub)
        detail = f"redirect to {target!r} not followed; set base_url to the final URL"
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


def _tree(scrub: Callable[[str], str], value: Any) -> Any:
    """A copy of a parsed JSON value (at most ``MAX_JSON_DEPTH`` deep) with every string scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_tree(scrub, v) for v in value]
    if isinstance(value, dict):
        return {scrub(str(k)): _tree(scrub, v) for k, v in value.items()}
    return value


def connection_error(
    exc: BaseException,
    *,
    method: str,
    path: str,
    retries_taken: int,
    where: str = "",
    scrub: Callable[[str], str] | None = None,
) -> APIConnectionError:
    """The typed error for a request that got no response; names the host and port (``where``)."""
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else "failed without a response"
    reason = f"{type(exc).__name__}: {exc}"
    if scrub is not None:
        reason = scrub(reason)
    target = f" to {where}" if where else ""
    return cls(
        f"{method} {path}{target} {what} after {retries_taken + 1} attempt(s): {reason[:300]}",
        retries_taken=retries_taken,
    )


def is_fatal(exc: BaseException) -> bool:
    """Errors every other batch of the call would hit too: stop sending after one.

    Authentication, balance, permission and not-found errors; and a rate limit that outlasts
    the time a request may wait (its window will not open for the others either).
    """
    fatal = (AuthenticationError, InsufficientBalanceError, PermissionDeniedError, NotFoundError)
    return isinstance(exc, fatal) or bool(getattr(exc, "stops_call", False))
