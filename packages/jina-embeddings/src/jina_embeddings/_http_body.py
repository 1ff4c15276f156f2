"""Response bodies a hostile server cannot use against us: bounded bytes, bounded JSON.

Pure (no I/O): :class:`BodyReader` is fed the raw (still compressed) chunks of one response
and inflates them itself, so that neither the bytes on the wire nor the inflated bytes can
pass ``limit`` (a 1 MB gzip body that inflates to 1 GiB stops at the limit, having used
about the limit in memory). :func:`loads` parses JSON with limits on nesting depth and on
integer size, so a body of 5,000 ``[`` or a 400-digit number is a :class:`BodyError`, never a
``RecursionError`` or ``OverflowError``. :mod:`jina_embeddings._http` turns a
:class:`BodyError` into :class:`~jina_embeddings.errors.APIResponseValidationError`.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

from . import _constants as C

__all__ = ["BodyError", "BodyReader", "TooLarge", "json_depth_ok", "loads"]


class BodyError(ValueError):
    """A response body that breaks the rules (too large, bad encoding, not bounded JSON)."""


class TooLarge(BodyError):
    """More bytes than the limit of this response (on the wire or inflated); ``partial`` holds
    what was decoded up to the limit (kept as the preview of an error body)."""

    def __init__(self, message: str, partial: bytes = b"") -> None:
        super().__init__(message)
        self.partial = partial


# -- content decoding ------------------------------------------------------------------------
class _Identity:
    def decode(self, data: bytes, room: int) -> bytes:
        if len(data) > room:
            raise TooLarge("the body is over this response's budget", data[:room])
        return data

    def flush(self) -> bytes:
        return b""


class _Inflate:
    """gzip or deflate, inflating at most ``room + 1`` bytes per call (``max_length``)."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._d = zlib.decompressobj(self._wbits)
        self._first = True

    def decode(self, data: bytes, room: int) -> bytes:
        out: list[bytes] = []
        total = 0
        while data:
            try:
                chunk = self._d.decompress(data, room - total + 1)
            except zlib.error:
                if self._encoding == "deflate" and self._first:  # raw deflate, as some servers send
                    self._d, self._first = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise BodyError(f"the body is not valid {self._encoding}") from None
            self._first = False
            total += len(chunk)
            out.append(chunk)
            if total > room:
                raise TooLarge("the inflated body is over this response's budget", b"".join(out)[:room])
            data = self._d.unconsumed_tail
            if not data and self._d.eof and self._d.unused_data:  # concatenated gzip members
                data, self._d = self._d.unused_data, zlib.decompressobj(self._wbits)
        return b"".join(out)

    def flush(self) -> bytes:
        return self._d.flush()


def _decoders(content_encoding: str | None) -> list[_Identity | _Inflate]:
    names = [n.strip().lower() for n in (content_encoding or "").split(",") if n.strip()]
    decoders: list[_Identity | _Inflate] = []
    for name in reversed(names):  # applied in the order listed, so undone in reverse
        if name == "identity":
            continue
        if name not in ("gzip", "x-gzip", "deflate"):
            raise BodyError(f"the server sent Content-Encoding {name[:20]!r}, which was not asked for")
        decoders.append(_Inflate(name))
    return decoders or [_Identity()]


class BodyReader:
    """Collects one response body, at most ``limit`` bytes on the wire and ``limit`` inflated.

    Args:
        limit: the byte budget of this response.
        content_encoding: the response's ``Content-Encoding`` (gzip and deflate are undone here).
        content_length: the response's ``Content-Length``, checked before anything is read.
        truncate: keep the first ``limit`` bytes instead of raising (error bodies: only a
            short preview is ever kept).

    Raises:
        TooLarge: over the limit (unless ``truncate``).
        BodyError: an encoding that was not asked for, or a corrupt gzip/deflate stream.

    Example::

        >>> import gzip
        >>> r = BodyReader(10, content_encoding="gzip")
        >>> r.feed(gzip.compress(b"x" * 100))
        Traceback (most recent call last):
        ...
        jina_embeddings._http_body.TooLarge: the inflated body is over this response's budget
    """

    def __init__(
        self,
        limit: int,
        *,
        content_encoding: str | None = None,
        content_length: str | None = None,
        truncate: bool = False,
    ) -> None:
        self.limit = limit
        self.truncate = truncate
        self.truncated = False
        self.wire_bytes = 0
        self._out = bytearray()
        try:
            self._decoders = _decoders(content_encoding)
        except BodyError:
            if not truncate:
                raise
            self._decoders, self.truncated = [], True  # an error body we cannot read: no preview
        length = (content_length or "").strip()
        if length.isdigit() and int(length) > limit and not truncate:
            raise TooLarge(f"Content-Length {int(length)} is over this response's budget of {limit} bytes")

    @property
    def done(self) -> bool:
        """Nothing more is wanted (an error body's preview is full)."""
        return self.truncated

    def feed(self, raw: bytes) -> None:
        if self.truncated:
            return
        self.wire_bytes += len(raw)
        try:
            if self.wire_bytes > self.limit and not self.truncate:
                raise TooLarge(f"the body on the wire is over this response's budget of {self.limit} bytes")
            data = raw
            for decoder in self._decoders:
                data = decoder.decode(data, self.limit - len(self._out))
            if len(self._out) + len(data) > self.limit:
                raise TooLarge(f"the body is over this response's budget of {self.limit} bytes")
            self._out += data
        except TooLarge as exc:
            if not self.truncate:
                raise
            self._out += exc.partial[: self.limit - len(self._out)]  # an error body's preview
            self.truncated = True
        except BodyError:
            if not self.truncate:
                raise
            self.truncated = True

    def finish(self) -> bytes:
        if not self.truncated:
            try:
                tail = b"".join(d.flush() for d in self._decoders)
            except zlib.error:
                raise BodyError("the body ends in the middle of its gzip/deflate stream") from None
            if len(self._out) + len(tail) > self.limit and not self.truncate:
                raise TooLarge(f"the inflated body is over this response's budget of {self.limit} bytes")
            self._out += tail
        return bytes(self._out[: self.limit])


# -- bounded JSON ----------------------------------------------------------------------------
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth_ok(raw: bytes, limit: int) -> bool:
    """Whether the brackets of ``raw`` (outside strings) nest at most ``limit`` deep.

    Strings are cut out and everything but brackets dropped at C speed, so a 3 MB body of
    base64 vectors costs a few milliseconds; only the brackets are counted in Python.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return True
    depth = 0
    for b in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        if b in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return False
        else:
            depth -= 1
    return True


def _bounded_int(text: str) -> int:
    digits = len(text) - (text[0] == "-")
    if digits > C.MAX_JSON_INT_DIGITS:
        raise BodyError(f"an integer with {digits} digits")
    return int(text)


def loads(raw: bytes | str) -> Any:
    """``json.loads`` with bounded nesting and integers.

    Raises:
        BodyError: not JSON, nested deeper than ``MAX_JSON_DEPTH``, or an integer with more
            than ``MAX_JSON_INT_DIGITS`` digits. (Floats too large for a double become
            ``inf``, which the response checks refuse as non-finite.)
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if not json_depth_ok(data, C.MAX_JSON_DEPTH):
        raise BodyError(f"JSON nested more than {C.MAX_JSON_DEPTH} levels deep")
    try:
        return json.loads(data, parse_int=_bounded_int)
    except BodyError:
        raise
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        why = type(exc).__name__
    # Raised outside the handler: the decoder's error holds the whole body (``doc``), which may
    # echo the key, and must not ride along as ``__context__``.
    raise BodyError(f"not valid JSON ({why})")
