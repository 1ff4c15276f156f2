"""What the remote backends share: configuration checks, batching, response checks, assembly.

Nothing here does I/O; :mod:`jina_embeddings._http` sends. A backend subclass only says how
a batch becomes a request body (:meth:`RemoteEmbeddingBackend.build_body`) and what comes
back (:meth:`RemoteEmbeddingBackend.wire`); this module plans the batches, checks every
response (count, index permutation, width, finite values), puts rows back in input order and
raises :class:`~jina_embeddings._backends.base.BackendPartialFailure` (which the core turns
into :class:`~jina_embeddings.errors.PartialBatchError`) rather than ever returning fewer
vectors than texts. Rows come back raw: cutting, normalizing and quantizing is the core's job.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np

from .. import _constants as C
from .._apikey import APIKey
from .._http import HTTPClient, Reply, is_fatal
from .._models import ModelSpec
from .._options import DEFAULT_BASE_URL, RemoteOptions
from .._quantize import BIT_PRECISIONS
from .._results import Usage
from ..errors import APIResponseValidationError, InvalidInputError
from .base import BackendOutput, BackendPartialFailure, EmbedRequest, InputItem, text_cost
from .table import BackendConfig

__all__ = [
    "RemoteBase",
    "request_chars",
    "response_cap",
    "RemoteEmbeddingBackend",
    "Wire",
    "check_base_url",
    "decode_vector",
    "parse_embeddings",
    "parse_usage",
    "plan_batches",
]

_HOSTED = urllib.parse.urlsplit(DEFAULT_BASE_URL).hostname


# -- configuration ----------------------------------------------------------------------------
def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(
    base_url: str | None, api_key: APIKey | None, *, allow_insecure: bool, protocol: str
) -> str:
    """The base URL to use, after refusing configurations that would leak or cannot work.

    Raises:
        InvalidInputError: credentials, a query or a fragment in ``base_url`` (the key goes in
            ``api_key=``, never in a URL); no key for the hosted Jina API; a key over plain
            ``http://`` to a host that is not loopback, unless ``allow_insecure=True``.
    """
    url = (base_url or DEFAULT_BASE_URL).rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.username or parts.password or parts.query or parts.fragment or not parts.hostname:
        # The URL is not echoed: it may hold a secret.
        raise InvalidInputError(
            "base_url must be scheme://host[:port][/path] without credentials, a "
            "query or a fragment; pass the key as api_key=.",
            field="base_url",
        )
    if protocol == "api" and api_key is None and parts.hostname == _HOSTED:
        raise InvalidInputError(
            "The Jina API needs an API key: pass api_key= or set JINA_API_KEY (or JINAAI_API_KEY); "
            "get one at https://jina.ai/embeddings. For a self-hosted server pass base_url=.",
            field="api_key",
        )
    if (
        api_key is not None
        and parts.scheme == "http"
        and not allow_insecure
        and not _is_loopback(parts.hostname)
    ):
        raise InvalidInputError(
            f"Refusing to send the API key over plain http:// to {parts.hostname!r}: use https://, "
            "or pass allow_insecure=True if the network is trusted.",
            field="allow_insecure",
        )
    return url


# -- batching ---------------------------------------------------------------------------------
def plan_batches(
    items: Sequence[InputItem], *, max_items: int, max_cost: int, cost: Callable[[InputItem], int] = text_cost
) -> list[range]:
    """Contiguous batches of at most ``max_items`` inputs whose ``cost`` adds up to ``max_cost``.

    ``cost`` is characters for text (the default); other input kinds bring their own (an
    image's bytes, say). An input costing more than ``max_cost`` travels alone (the server
    truncates or refuses it).

    Example::

        >>> plan_batches(["aaaaa", "bbbbb", "ccccc"], max_items=2, max_cost=100)
        [range(0, 2), range(2, 3)]
    """
    batches: list[range] = []
    start = spent = 0
    for i, item in enumerate(items):
        size = cost(item)
        if i > start and (i - start >= max_items or spent + size > max_cost):
            batches.append(range(start, i))
            start, spent = i, 0
        spent += size
    if items:
        batches.append(range(start, len(items)))
    return batches


# -- what a request costs and what its response may weigh -----------------------------------
def request_chars(inputs: Any) -> int:
    """Characters of a request's texts: the size its tokens are estimated from."""
    if isinstance(inputs, str):
        return len(inputs)
    return sum(len(t) for t in inputs if isinstance(t, str)) if isinstance(inputs, list) else 0


def response_cap(count: int, width: int | None, *, extra: int = 0) -> int:
    """Bytes the response to ``count`` inputs of ``width`` values (``None``: unknown) may have (compressed or not).

    Generous: floats written out as JSON by a server that ignores ``encoding_format``, plus
    per-item and per-response overhead and ``extra`` (echoed documents); at most
    ``MAX_RESPONSE_BYTES``.

    >>> response_cap(1, 1024)
    98816
    """
    width = C.ASSUMED_MAX_WIDTH if width is None else width
    per_item = C.RESPONSE_BYTES_PER_VALUE * width + C.RESPONSE_BYTES_PER_ITEM
    return min(C.MAX_RESPONSE_BYTES, C.RESPONSE_MARGIN + count * per_item + extra)


def _short(value: Any) -> str:
    """A repr that cannot recurse or flood a message (for values a server sent)."""
    if isinstance(value, (list, dict)):
        return f"a {type(value).__name__} of {len(value)}"
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


# -- response checks --------------------------------------------------------------------------
def _invalid(reply: Reply, message: str) -> APIResponseValidationError:
    return APIResponseValidationError(
        f"Invalid response from the server: {message}",
        request_id=reply.request_id,
        retries_taken=reply.retries_taken,
    )


def decode_vector(value: Any, embedding_type: str) -> np.ndarray:
    """One ``embedding`` value -> float32, int8 (``binary``) or uint8 (``ubinary``) array.

    base64 is little-endian float32 (the Jina API, OpenAI, vLLM, TEI); float lists are
    accepted too, from servers that ignore ``encoding_format``.

    Raises:
        ValueError: malformed base64, non-numeric values, or bytes outside the type's range.
    """
    try:
        return _decode(value, embedding_type)
    except (TypeError, OverflowError):
        raise ValueError("embedding values must be numbers") from None


def _decode(value: Any, embedding_type: str) -> np.ndarray:
    if embedding_type in BIT_PRECISIONS:
        ints = np.asarray(value, dtype=np.float64) if isinstance(value, list) else None
        low, high, dtype = (-128, 127, np.int8) if embedding_type == "binary" else (0, 255, np.uint8)
        if (
            ints is None
            or ints.ndim != 1
            or (ints != np.round(ints)).any()
            or (ints.size and (ints.min() < low or ints.max() > high))
        ):
            raise ValueError(f"{embedding_type} embeddings must be lists of integers in {low}..{high}")
        return ints.astype(dtype)
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("embedding is not valid base64") from None
        if len(raw) % 4:
            raise ValueError(f"base64 embedding has {len(raw)} bytes, not a multiple of 4 (float32)")
        return np.frombuffer(raw, dtype="<f4").astype(np.float32, copy=False)
    if isinstance(value, list):
        arr = np.asarray(value, dtype=np.float32)
        if arr.ndim == 1:
            return arr
    raise ValueError("embedding must be a base64 string or a list of numbers")


def parse_usage(value: Any) -> Usage:
    """``usage`` of a response (``total_tokens``, ``prompt_tokens``); missing counts are ``None``."""
    if not isinstance(value, dict):
        return Usage()

    def count(key: str) -> int | None:
        n = value.get(key)
        return n if isinstance(n, int) and not isinstance(n, bool) else None

    return Usage(count("total_tokens"), count("prompt_tokens"))


def indexed_items(reply: Reply, count: int) -> list[tuple[int, dict[str, Any]]]:
    """The response's ``data`` items with their ``index``, checked before any is decoded: a
    list of exactly ``count`` items whose ``index`` values are a permutation of ``0..count-1``
    (shared by the single-vector and the multi-vector parsers).

    Raises:
        APIResponseValidationError: a check fails (with the server's request id).
    """
    data = reply.data
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise _invalid(reply, "no 'data' list in the response")
    if len(items) != count:
        raise _invalid(reply, f"{len(items)} embeddings for {count} inputs")
    seen = [False] * count
    indexed: list[tuple[int, dict[str, Any]]] = []
    for item in items:
        index = item.get("index") if isinstance(item, dict) else None
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count or seen[index]:
            raise _invalid(
                reply, f"'index' values are not a permutation of 0..{count - 1} (got {_short(index)})"
            )
        seen[index] = True
        indexed.append((index, item))
    return indexed


def parse_embeddings(
    reply: Reply, *, count: int, width: int | None, embedding_type: str
) -> tuple[np.ndarray, Usage, str | None]:
    """Check one ``/embeddings`` response and return (rows in input order, usage, model).

    Checks: a ``data`` list of exactly ``count`` items whose ``index`` values are a
    permutation of ``0..count-1``; every vector decodes and has the same width (``width``
    when known); float values are finite.

    Raises:
        APIResponseValidationError: any check fails (with the server's request id).
    """
    data = reply.data
    rows: list[np.ndarray | None] = [None] * count
    for index, item in indexed_items(reply, count):
        try:
            rows[index] = decode_vector(item.get("embedding"), embedding_type)
        except ValueError as exc:
            raise _invalid(reply, f"item {index}: {exc}") from None
    widths = {len(row) for row in rows if row is not None}
    if len(widths) != 1 or (width is not None and widths != {width}):
        want = f"{width}" if width is not None else "one width"
        raise _invalid(reply, f"vector widths {sorted(widths)}, expected {want}")
    matrix = np.stack(rows)  # type: ignore[arg-type]
    if matrix.dtype.kind == "f" and not np.isfinite(matrix).all():
        raise _invalid(reply, "non-finite values (NaN or inf) in the vectors")
    model = data.get("model")
    return matrix, parse_usage(data.get("usage")), model if isinstance(model, str) else None


# -- backends ---------------------------------------------------------------------------------
class RemoteBase:
    """Configuration, pooled HTTP client and lifecycle shared by every remote backend."""

    name = "remote"

    def __init__(self, config: BackendConfig) -> None:
        self.spec: ModelSpec = config.spec
        self.remote: RemoteOptions = config.remote
        self.protocol = config.protocol
        remote, api_key = config.remote, config.api_key
        base_url = check_base_url(
            remote.base_url, api_key, allow_insecure=remote.allow_insecure, protocol=self.protocol
        )
        self.http = HTTPClient(
            base_url,
            api_key=api_key,
            timeout=remote.timeout,
            connect_timeout=remote.connect_timeout,
            max_retries=remote.max_retries,
            max_concurrency=remote.max_concurrency,
            call_timeout=remote.call_timeout,
            max_rate_limit_wait=remote.max_rate_limit_wait,
            requests_per_minute=remote.requests_per_minute,
            tokens_per_minute=remote.tokens_per_minute,
        )
        self.http.transport, self.http.async_transport = config.transport, config.async_transport

    @property
    def model_name(self) -> str:
        """The model name sent to the server."""
        if self.protocol == "openai":
            return self.remote.served_model_name or self.spec.name
        return self.remote.served_model_name or self.spec.api_name or self.spec.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model_name!r}, base_url={self.http.base_url!r})"

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError(
            f"{type(self).__name__} holds connections and the API key; pickle the "
            "Embedder or Reranker instead (it drops both)."
        )

    def warm_up(self, task: str | None = None) -> None:
        """Create the connection pool now (``task`` is for local models; unused here)."""
        self.http.warm_up()

    def close(self) -> None:
        self.http.close()

    async def aclose(self) -> None:
        await self.http.aclose()


@dataclass(frozen=True)
class Wire:
    """What one call asks the server for and what it gets back.

    Attributes:
        embedding_type: how vectors travel: ``base64`` floats, or ``binary``/``ubinary`` bits.
        width: expected values (floats) or bytes (bits) per vector, ``None`` if unknown.
        precision: precision of the returned rows (``float32`` or the bit precision).
        dimensions_applied: rows are final size and normalized; the core must not redo it.
    """

    embedding_type: str
    width: int | None
    precision: str = "float32"
    dimensions_applied: bool = False


class RemoteEmbeddingBackend(RemoteBase):
    """Batches, fans out, checks and assembles; subclasses build bodies (sans-I/O)."""

    path = "/embeddings"
    default_batch_size = C.DEFAULT_API_BATCH_SIZE

    # -- subclass hooks (pure) --------------------------------------------------------------
    def build_body(self, request: EmbedRequest, texts: list[InputItem]) -> dict[str, Any]:
        raise NotImplementedError

    def wire(self, request: EmbedRequest) -> Wire:
        raise NotImplementedError

    def check_rows(self, request: EmbedRequest, rows: np.ndarray, reply: Reply) -> None:
        """Extra checks of one batch's rows (default: none). Never changes them: the core
        post-processes every row, of a success or of a partial failure, the same way."""

    # -- the two entry points ---------------------------------------------------------------
    def embed(self, request: EmbedRequest) -> BackendOutput:
        call = _EmbedCall(self, request)

        def run(batch: range) -> tuple[np.ndarray, Usage, str | None]:
            body = call.body(batch)
            return call.parse(batch, self.http.post(self.path, body, **call.limits(batch, body)))

        with call:
            return call.finish(self.http.map(call.batches, run))

    async def aembed(self, request: EmbedRequest) -> BackendOutput:
        call = _EmbedCall(self, request)

        async def run(batch: range) -> tuple[np.ndarray, Usage, str | None]:
            body = call.body(batch)
            return call.parse(batch, await self.http.apost(self.path, body, **call.limits(batch, body)))

        with call:
            return call.finish(await self.http.amap(call.batches, run))

    def plan(self, request: EmbedRequest) -> list[range]:
        """Batches for ``request`` (late chunking: per document, see :mod:`.late_chunking_remote`)."""
        if request.chunk_counts is not None:
            from .late_chunking_remote import plan_document_groups

            return plan_document_groups(request, self.spec, max_chars=self.remote.max_batch_chars)
        max_items = min(request.batch_size or self.default_batch_size, C.MAX_INPUTS_PER_REQUEST)
        return plan_batches(request.texts, max_items=max_items, max_cost=self.remote.max_batch_chars)


class _EmbedCall:
    """One embed call: its batches, progress bar, and the assembly of the batch results."""

    def __init__(self, backend: RemoteEmbeddingBackend, request: EmbedRequest) -> None:
        self.backend, self.request = backend, request
        self.batches = backend.plan(request)
        self.wire = backend.wire(request)
        self.progress = None
        if request.show_progress:
            from tqdm.auto import tqdm

            self.progress = tqdm(
                total=len(request.texts), unit="text", desc=f"{backend.model_name} ({backend.name})"
            )

    def __enter__(self) -> _EmbedCall:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.close()

    def body(self, batch: range) -> dict[str, Any]:
        return self.backend.build_body(self.request, [self.request.texts[i] for i in batch])

    def limits(self, batch: range, body: dict[str, Any]) -> dict[str, int]:
        """The request's size (for token estimates) and its response's byte budget."""
        return {
            "chars": request_chars(body.get("input")),
            "max_bytes": response_cap(len(batch), self.wire.width),
        }

    def parse(self, batch: range, reply: Reply) -> tuple[np.ndarray, Usage, str | None]:
        rows, usage, model = parse_embeddings(
            reply, count=len(batch), width=self.wire.width, embedding_type=self.wire.embedding_type
        )
        self.backend.check_rows(self.request, rows, reply)
        if self.progress is not None:
            self.progress.update(len(batch))
        return rows, usage, model

    def finish(self, results: Sequence[Any]) -> BackendOutput:
        """All rows in input order, or the error: the only error if every batch failed,
        else :class:`PartialBatchError` with the finished rows and the failed indices."""
        failed = [(b, r) for b, r in zip(self.batches, results, strict=True) if isinstance(r, BaseException)]
        if failed:
            self._raise(failed, results)
        return self._output(results)

    def _output(self, results: Sequence[Any]) -> BackendOutput:
        """The rows of finished batches (in input order) as one raw output."""
        rows = np.concatenate([r[0] for r in results])
        usage = reduce(lambda a, b: a + b, (r[1] for r in results), Usage())
        model = next((r[2] for r in results if r[2]), None) or self.backend.spec.name
        return BackendOutput(
            vectors=rows,
            model=model,
            usage=usage,
            precision=self.wire.precision,
            dimensions_applied=self.wire.dimensions_applied,
        )

    def _raise(self, failed: list[tuple[range, BaseException]], results: Sequence[Any]) -> None:
        errors = list({id(e): e for _, e in failed}.values())
        first = next((e for e in errors if is_fatal(e)), errors[0])
        if len(failed) == len(self.batches):
            raise first
        survivors = [r for r in results if not isinstance(r, BaseException)]
        failed_indices = [i for batch, _ in failed for i in batch]
        total = len(self.request.texts)
        raise BackendPartialFailure(
            f"{len(failed_indices)} of {total} texts failed ({len(failed)} of {len(self.batches)} "
            f"requests) after retries: {type(first).__name__}: {first}.",
            output=self._output(survivors),
            failed_indices=failed_indices,
            errors=errors,
            cause=first,
        )
