"""Frozen, keyword-only option objects, validated when they are built: THE option table.

Every option of :class:`~jina_embeddings.Embedder`, :class:`~jina_embeddings.Reranker` and the
three framework adapters is declared here once: its name, type, default, valid range (the
checks in ``__post_init__``) and its documentation (``doc`` in the field's metadata).
:func:`option_specs` lists them for a kind of object; the adapters build their fields or
parameters from that list (see :mod:`jina_embeddings.integration`) and the test kit's parity
suite fails if one drifts.

A bad value fails here, with :class:`~jina_embeddings.errors.InvalidInputError` naming the
option, before any model is loaded or any request is sent. ``with_options`` style changes
go through :func:`dataclasses.replace`, which validates again.

Example::

    >>> EmbedOptions(dimensions=256, precision="binary").precision
    'binary'
    >>> EmbedOptions(precision="int4")
    Traceback (most recent call last):
    ...
    jina_embeddings.errors.InvalidInputError: Unknown precision 'int4'; ...
"""

from __future__ import annotations

import functools
import math
import typing
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, Literal, TypedDict

from ._backends.table import BackendRow, backend_row
from ._models import ModelSpec
from ._quantize import PRECISIONS, Precision, check_ranges
from ._tasks import Task, check_task
from .errors import InvalidInputError

__all__ = [
    "DEFAULT_BASE_URL",
    "EmbedOptions",
    "EmbedderOptions",
    "LocalOptions",
    "OptionSpec",
    "RemoteOptions",
    "RerankOptions",
    "RerankerOptions",
    "option_specs",
    "split_options",
]

MAX_BATCH_SIZE = 2048
Kind = Literal["embedding", "reranker", "multivector"]


def _opt(
    default: Any, doc: str, *, kinds: tuple[Kind, ...] = ("embedding", "reranker", "multivector"), **kw: Any
) -> Any:
    """A dataclass field carrying its documentation and the kinds of object it applies to."""
    return field(default=default, metadata={"doc": doc, "kinds": kinds}, **kw)


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be True or False, got {value!r}.", field=name)


def check_positive_int(
    name: str, value: object, *, maximum: int | None = None, optional: bool = True
) -> None:
    """Raise InvalidInputError unless ``value`` is an int in 1..maximum (or None if optional)."""
    if value is None and optional:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < 1
        or (maximum is not None and value > maximum)
    ):
        bound = f"in 1..{maximum}" if maximum else ">= 1"
        raise InvalidInputError(f"{name} must be an integer {bound}, got {value!r}.", field=name)


def check_positive_number(name: str, value: object, *, optional: bool = True) -> None:
    """Raise InvalidInputError unless ``value`` is a finite number > 0 (or None if optional)."""
    if value is None and optional:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidInputError(f"{name} must be a finite number > 0, got {value!r}.", field=name)


@dataclass(frozen=True, kw_only=True)
class EmbedOptions:
    """How texts become vectors; shared by every backend.

    Attributes:
        task: ``retrieval`` (default for most models), ``text-matching``, ``clustering``,
            ``classification``, v4 ``code``, or a code-model task (``nl2code`` ...). The role
            of each call (query / document) picks the adapter side; ``None`` = model default.
        dimensions: Matryoshka size to cut to (then renormalize). ``None`` = native size.
        precision: ``float32`` (default), ``float16``, ``int8``, ``uint8``, ``binary``,
            ``ubinary`` (bits packed MSB-first, as sentence-transformers and the Jina API).
        normalize: L2-normalize the (cut) float vectors. Default ``True``.
        truncate: cut texts longer than the model's context (counted in the result and
            warned about once). ``False`` raises ``InvalidInputError`` naming the text.
        batch_size: texts per forward pass or per HTTP request (``None`` = backend default).
        show_progress: show a progress bar for long jobs.
        quantization_ranges: int8/uint8 calibration, shape (2, dimensions); ``None`` learns
            them from the first document batch and reuses them for queries.
        late_chunking: late chunking for documents (local mean-pooled models; Jina API v3,
            v4): chunks are embedded with their whole document as context, through
            ``embed_chunks`` / ``embed_chunked`` (adapters group chunks by source document);
            a flat ``embed_documents`` is refused, queries are embedded whole.
    """

    task: Task | str | None = _opt(
        None,
        "retrieval (default for most models), text-matching, clustering, classification, "
        "v4 code, or a code-model task (nl2code, qa, ...); each call's role picks the query or "
        "document side. None: the model's default task.",
    )
    dimensions: int | None = _opt(
        None, "Matryoshka size to cut vectors to (then L2-renormalized). None: the native size."
    )
    precision: Precision = _opt(
        "float32",
        "float32, float16, int8, uint8, binary or ubinary (bits packed MSB-first). "
        "Framework adapters return binary vectors unpacked to +1.0/-1.0 floats.",
    )
    normalize: bool = _opt(True, "L2-normalize the (cut) float vectors.")
    truncate: bool = _opt(
        True,
        "Cut texts longer than the model's context (counted in the result, warned about "
        "once); False raises InvalidInputError naming the text.",
    )
    batch_size: int | None = _opt(
        None,
        "Texts per forward pass or per HTTP request (at most 2048). None: the backend's default.",
        kinds=("embedding", "multivector"),
    )
    show_progress: bool = _opt(
        False, "Show a progress bar for long jobs.", kinds=("embedding", "multivector")
    )
    quantization_ranges: Any = _opt(
        None,
        "int8/uint8 calibration, shape (2, dimensions). None: learned from the first "
        "document batch (at least 2 texts) and reused for queries.",
        compare=False,
        kinds=("embedding",),
    )
    late_chunking: bool = _opt(
        False,
        "Late chunking for documents (local mean-pooled models; Jina API v3/v4): each chunk is "
        "embedded with its whole document as context. Use embed_chunks/embed_chunked (adapters "
        "group by source document); a flat embed_documents is refused, queries are embedded whole.",
        kinds=("embedding",),
    )

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise InvalidInputError(
                f"Unknown precision {self.precision!r}; use one of {', '.join(PRECISIONS)}.",
                field="precision",
            )
        check_positive_int("dimensions", self.dimensions)
        check_positive_int("batch_size", self.batch_size, maximum=MAX_BATCH_SIZE)
        for name in ("normalize", "truncate", "show_progress", "late_chunking"):
            _check_bool(name, getattr(self, name))
        if self.quantization_ranges is not None:
            if self.precision not in ("int8", "uint8"):
                raise InvalidInputError(
                    "quantization_ranges only applies to int8/uint8 precision.", field="quantization_ranges"
                )
            object.__setattr__(
                self, "quantization_ranges", check_ranges(self.quantization_ranges, self.dimensions)
            )

    def for_model(
        self, spec: ModelSpec, backend: str | BackendRow, *, force_late_chunking: bool = False
    ) -> EmbedOptions:
        """Check the options against one model and backend; returns them with the task resolved.

        Raises:
            InvalidInputError: a task the model lacks, ``dimensions`` outside what the model
                (locally: its Matryoshka sizes; the Jina API: 1..native) supports, late
                chunking on a model or backend without it.
        """
        task = check_task(spec, self.task)
        backend = backend_row(backend) if isinstance(backend, str) else backend
        _check_dimensions(spec, self.dimensions, backend)
        if self.late_chunking:
            from ._late_chunking import late_chunking_problem

            problem = late_chunking_problem(spec, backend, force=force_late_chunking)
            if problem is not None:
                raise InvalidInputError(
                    f"late_chunking=True is not available: {problem}", field="late_chunking"
                )
        if self.quantization_ranges is not None and spec.native_dim and self.dimensions is None:
            check_ranges(self.quantization_ranges, spec.native_dim)
        return replace(self, task=task)


def _check_dimensions(spec: ModelSpec, dimensions: int | None, backend: BackendRow) -> None:
    if dimensions is None:
        return
    native = spec.native_dim
    if "any_dimensions" in backend.capabilities and spec.kind != "multivector":
        if not spec.api_dimensions:
            raise InvalidInputError(
                f"Model {spec.name!r} does not accept dimensions (no Matryoshka training); omit dimensions=.",
                field="dimensions",
            )
        if native and dimensions > native:
            raise InvalidInputError(
                f"dimensions={dimensions} exceeds {spec.name}'s native size {native} "
                f"(the API accepts 1..{native}).",
                field="dimensions",
            )
        return
    if spec.matryoshka_dims is not None:
        if dimensions not in spec.matryoshka_dims:
            sizes = ", ".join(map(str, spec.matryoshka_dims))
            raise InvalidInputError(
                f"dimensions={dimensions} is not a Matryoshka size of {spec.name!r}; valid sizes: {sizes}.",
                field="dimensions",
            )
    elif not spec.matryoshka:
        raise InvalidInputError(
            f"Model {spec.name!r} has no Matryoshka sizes; omit dimensions=.", field="dimensions"
        )
    elif native and dimensions > native:
        raise InvalidInputError(
            f"dimensions={dimensions} exceeds the model's size {native}.", field="dimensions"
        )


@dataclass(frozen=True, kw_only=True)
class LocalOptions:
    """How the local backend loads a model (nothing is loaded until first use or ``warm_up``).

    Attributes:
        device: ``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"cpu"`` or ``None`` for auto
            (cuda > mps > cpu).
        dtype: ``"float32"``, ``"float16"``, ``"bfloat16"``, ``"int8"`` (``runtime="onnx"``:
            dynamic int8, accepted only after a fidelity check) or ``None`` for the fastest
            faithful one: bfloat16 on GPU and on CPUs with native bf16 (AMX, AVX512-BF16) after
            a fidelity check at load, else float32 (see README "Local speed").
        runtime: ``"torch"`` (sentence-transformers) or ``"onnx"`` (onnxruntime, no torch
            needed for a model that ships ``onnx/model.onnx``; exported once from torch otherwise).
        onnx_file: the ONNX file inside the model folder, for ``runtime="onnx"``; ``None`` =
            ``onnx/model.onnx`` if present, else an export into the ONNX cache folder.
        fidelity_sample: texts the fidelity checks embed (``dtype=None`` bf16 on CPU, int8);
            ``None`` = a built-in sample of 16 varied texts.
        trust_remote_code: run the model repo's own code; ``None`` = the registry's answer
            (Jina repos that need it) or, for folders, whether the folder ships code.
        merge_adapters: load one model per task with its LoRA merged into the weights
            (faster, one copy of the weights per task used) instead of switching adapters.
        cache_folder: Hugging Face cache folder; ``None`` = the HF default.
        revision: model revision (branch, tag or commit) for Hugging Face repos.
        local_files_only: never reach the Hub, even when it is reachable.
        late_chunking_overlap: long late chunking (a document longer than the context):
            tokens each window shares with the previous one; each later window drops its
            first ``late_chunking_overlap`` outputs (Jina's late-chunking reference). At most
            half a window; ``None`` = a quarter of the window's text tokens, at most 256.
        late_chunking_window: tokens per late-chunking window, special tokens and prompt
            included; ``None`` = the model's context (``max_seq_length``).
        force_late_chunking: allow late chunking on a model that does not pool by mean
            (last-token v5 and code models, CLS models); experimental.
        coalesce: concurrent calls on one loaded model (threads or asyncio tasks) share
            forward passes of up to ``batch_size`` texts, grouped by adapter and prompt; each
            caller gets its own rows (see README "Local speed").
        coalesce_wait_ms: how long a pass waits for more callers before it starts; ``0`` =
            natural batching (an idle model starts at once; callers arriving meanwhile join
            the next pass).
    """

    device: str | None = _opt(None, "Local: 'cuda', 'cuda:1', 'mps', 'cpu'; None: cuda > mps > cpu.")
    dtype: Literal["float32", "float16", "bfloat16", "int8"] | None = _opt(
        None,
        "Local: compute dtype; None: the fastest faithful one (bfloat16 on GPU and on CPUs with "
        "native bf16 after a fidelity check at load, else float32). int8: runtime='onnx' only, "
        "dynamic quantization accepted after a fidelity check (cosine >= 0.99 to float32).",
    )
    runtime: Literal["torch", "onnx"] = _opt(
        "torch",
        "Local: 'torch' (sentence-transformers) or 'onnx' (onnxruntime; runs a model that ships "
        "onnx/model.onnx without torch, else exports it once from torch into the ONNX cache).",
        kinds=("embedding",),
    )
    onnx_file: str | None = _opt(
        None,
        "Local, runtime='onnx': the ONNX file inside the model folder; None: onnx/model.onnx "
        "if present, else a one-time export into the ONNX cache folder.",
        kinds=("embedding",),
    )
    fidelity_sample: Sequence[str] | None = _opt(
        None,
        "Local: texts the fidelity checks embed (dtype=None bf16 on CPU, dtype='int8'); "
        "None: a built-in sample of 16 varied texts.",
        kinds=("embedding",),
    )
    trust_remote_code: bool | None = _opt(
        None,
        "Local: run the model repo's own code; None: the registry's answer for Jina "
        "models, or whether a model folder ships code.",
    )
    merge_adapters: bool = _opt(
        False,
        "Local v5: one copy of the weights per task with its LoRA merged in (faster, more "
        "memory) instead of switching adapters.",
        kinds=("embedding",),
    )
    cache_folder: str | None = _opt(None, "Local: Hugging Face cache folder; None: the HF default.")
    revision: str | None = _opt(None, "Local: model revision (branch, tag or commit) of a Hugging Face repo.")
    local_files_only: bool = _opt(False, "Local: never reach the Hugging Face Hub.")
    coalesce: bool = _opt(
        True,
        "Local: concurrent calls on one loaded model (threads or asyncio tasks) share forward "
        "passes of up to batch_size texts, grouped by adapter and prompt; each caller gets its own rows.",
        kinds=("embedding",),
    )
    coalesce_wait_ms: float = _opt(
        0.0,
        "Local: milliseconds a pass waits for more concurrent callers before it starts (0..1000); "
        "0: an idle model starts at once and callers arriving meanwhile join the next pass.",
        kinds=("embedding",),
    )
    late_chunking_overlap: int | None = _opt(
        None,
        "Local late chunking: tokens each window of a document longer than the context shares "
        "with the previous one (long late chunking); each later window drops its first overlap "
        "outputs. At most half a window; None: a quarter of the window, at most 256.",
        kinds=("embedding",),
    )
    late_chunking_window: int | None = _opt(
        None,
        "Local late chunking: tokens per window (special tokens and prompt included); None: the "
        "model's context. Smaller windows use less memory per pass.",
        kinds=("embedding",),
    )
    force_late_chunking: bool = _opt(
        False,
        "Local: allow late chunking on a model that does not pool by mean (v5, code and CLS "
        "models), where span means are outside its training. Experimental.",
        kinds=("embedding",),
    )

    def __post_init__(self) -> None:
        if self.dtype not in (None, "float32", "float16", "bfloat16", "int8"):
            raise InvalidInputError(
                f"dtype must be float32, float16, bfloat16, int8 or None, got {self.dtype!r}.", field="dtype"
            )
        _check_runtime(self.runtime, self.dtype, self.onnx_file)
        if self.fidelity_sample is not None:
            object.__setattr__(self, "fidelity_sample", _check_sample(self.fidelity_sample))
        if self.device is not None:  # spelling only, no torch import ("gpu", "tpu:9" fail here)
            from ._backends.loading import check_device

            check_device(self.device)
        if self.trust_remote_code is not None:
            _check_bool("trust_remote_code", self.trust_remote_code)
        _check_bool("merge_adapters", self.merge_adapters)
        _check_bool("local_files_only", self.local_files_only)
        _check_bool("coalesce", self.coalesce)
        wait = self.coalesce_wait_ms
        if (
            isinstance(wait, bool)
            or not isinstance(wait, int | float)
            or not math.isfinite(wait)
            or not 0 <= wait <= 1000
        ):
            raise InvalidInputError(
                f"coalesce_wait_ms must be a number of milliseconds in 0..1000, got {wait!r}.",
                field="coalesce_wait_ms",
            )
        check_positive_int("late_chunking_window", self.late_chunking_window)
        if self.late_chunking_overlap is not None and (
            isinstance(self.late_chunking_overlap, bool)
            or not isinstance(self.late_chunking_overlap, int)
            or self.late_chunking_overlap < 0
        ):
            raise InvalidInputError(
                f"late_chunking_overlap must be an integer >= 0, got {self.late_chunking_overlap!r}.",
                field="late_chunking_overlap",
            )
        _check_bool("force_late_chunking", self.force_late_chunking)


def _check_runtime(runtime: object, dtype: object, onnx_file: object) -> None:
    if runtime not in ("torch", "onnx"):
        raise InvalidInputError(f"runtime must be 'torch' or 'onnx', got {runtime!r}.", field="runtime")
    if dtype == "int8" and runtime != "onnx":
        raise InvalidInputError(
            "dtype='int8' is dynamic int8 quantization of the ONNX graph: pass runtime='onnx'.", field="dtype"
        )
    if runtime == "onnx" and dtype in ("float16", "bfloat16"):
        raise InvalidInputError(
            f"runtime='onnx' runs float32 or int8 on CPU, not {dtype}; pass dtype=None, 'float32' "
            "or 'int8' (or runtime='torch' for bf16).",
            field="dtype",
        )
    if onnx_file is not None and (runtime != "onnx" or not isinstance(onnx_file, str) or not onnx_file):
        raise InvalidInputError(
            "onnx_file names an ONNX file inside the model folder and needs runtime='onnx'.",
            field="onnx_file",
        )


def _check_sample(sample: object) -> tuple[str, ...]:
    if isinstance(sample, str) or not isinstance(sample, Sequence):
        raise InvalidInputError(
            "fidelity_sample must be a list of texts, not a single string.", field="fidelity_sample"
        )
    texts = tuple(sample)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()), None)
    if bad is not None:
        raise InvalidInputError(
            f"fidelity_sample[{bad}] must be a non-empty text.", field="fidelity_sample", index=bad
        )
    if len(texts) < 2:
        raise InvalidInputError("fidelity_sample needs at least 2 texts.", field="fidelity_sample")
    return texts


@dataclass(frozen=True, kw_only=True)
class RerankOptions:
    """Reranking options.

    Attributes:
        top_n: keep the best ``top_n`` results (``None`` = all, sorted).
        batch_size: (query, document) pairs per forward pass / documents per request.
        max_length: tokens per (query, document) pair for cross-encoders (``None`` = model max).
        show_progress: progress bar for long jobs.
    """

    top_n: int | None = _opt(
        None, "How many results to keep, best first; None: all, sorted.", kinds=("reranker",)
    )
    batch_size: int | None = _opt(
        None,
        "(query, document) pairs per forward pass, or documents per request; None: the backend's default.",
        kinds=("reranker",),
    )
    max_length: int | None = _opt(
        None,
        "Local cross-encoders: tokens per (query, document) pair; None: the model's maximum.",
        kinds=("reranker",),
    )
    show_progress: bool = _opt(False, "Show a progress bar for long jobs.", kinds=("reranker",))

    def __post_init__(self) -> None:
        check_positive_int("top_n", self.top_n)
        check_positive_int("batch_size", self.batch_size, maximum=MAX_BATCH_SIZE)
        check_positive_int("max_length", self.max_length)
        _check_bool("show_progress", self.show_progress)


DEFAULT_BASE_URL = "https://api.jina.ai/v1"


def _check_url_parses(url: str) -> None:
    """A malformed host or port (``http://127.0.0.1:abc/v1``, ``http://[::1/v1``) is refused now,
    not as ``httpx.InvalidURL`` at the first request. The URL is not echoed: it may hold a secret."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - parses the port
    except ValueError:
        raise InvalidInputError(
            "base_url is not a valid URL (check the host, the brackets of an IPv6 address and the port).",
            field="base_url",
        ) from None
    if not parts.hostname:
        raise InvalidInputError(
            "base_url has no host (expected scheme://host[:port][/path]).", field="base_url"
        )


@dataclass(frozen=True, kw_only=True)
class RemoteOptions:
    """How the remote backends (``api``, ``openai``) talk to a server.

    Attributes:
        base_url: OpenAI-SDK style root; requests go to ``{base_url}/embeddings`` and
            ``{base_url}/rerank``. ``None`` = ``https://api.jina.ai/v1`` for ``backend="api"``
            (required for ``backend="openai"``).
        timeout: wall-clock limit of one attempt (connect, send, wait, read), in seconds; a
            server that trickles bytes cannot extend it.
        connect_timeout: seconds to open a connection (within ``timeout``).
        max_retries: retries per request for errors (408/409/5xx, dropped connections,
            timeouts), with backoff; 429 rate windows do not count (``max_rate_limit_wait``).
        max_concurrency: requests in flight at once for this object: all threads and event
            loops together.
        call_timeout: wall-clock limit of one call (all its requests, retries and waits);
            ``None``: each request is bounded on its own only.
        max_rate_limit_wait: seconds one request may wait, in total, for rate windows (429
            with ``Retry-After``, ``X-RateLimit-Remaining-*`` at 0, the limits below) before
            ``RateLimitError``; ``0`` never waits.
        requests_per_minute, tokens_per_minute: client-side pacing for servers that send no
            rate-limit headers (sliding 60 s window; tokens estimated, see README).
        max_batch_chars: cap on the characters of one request, on top of ``batch_size``.
        allow_insecure: allow sending the key over plain ``http://`` to a non-loopback host.
        served_model_name: model name the server expects (OpenAI-compatible servers often
            serve ``jinaai/...`` ids); ``None`` = the registry name.
        server_dimensions: OpenAI-compatible servers only: send ``dimensions`` and let the
            server cut (vLLM with Matryoshka config, TEI). ``False`` cuts client-side.
    """

    base_url: str | None = _opt(
        None,
        "Remote: server root; requests go to {base_url}/embeddings and {base_url}/rerank. "
        "None: https://api.jina.ai/v1 for backend='api' (required for backend='openai').",
    )
    timeout: float = _opt(
        60.0,
        "Remote: wall-clock limit of one attempt (connect, send, wait, read), in seconds; a "
        "server that trickles bytes cannot extend it.",
    )
    connect_timeout: float = _opt(5.0, "Remote: seconds to open a connection (within timeout).")
    max_retries: int = _opt(
        5,
        "Remote: retries per request for errors (408/409/5xx, dropped connections, timeouts), "
        "0..20; 429 rate windows do not count (see max_rate_limit_wait).",
    )
    max_concurrency: int = _opt(
        4, "Remote: requests in flight at once for this object, all threads and event loops together."
    )
    call_timeout: float | None = _opt(
        None,
        "Remote: wall-clock limit of one call (all its requests, retries and waits), in "
        "seconds; None: each request is bounded on its own only.",
    )
    max_rate_limit_wait: float = _opt(
        300.0,
        "Remote: seconds one request may wait in total for rate windows (429 with Retry-After, "
        "X-RateLimit-Remaining at 0, requests/tokens_per_minute) before RateLimitError; "
        "0 never waits. Does not use max_retries.",
    )
    requests_per_minute: int | None = _opt(
        None,
        "Remote: client-side limit of requests started per 60 s (sliding), for servers that "
        "send no rate-limit headers; None: no limit.",
    )
    tokens_per_minute: int | None = _opt(
        None,
        "Remote: client-side limit of tokens sent per 60 s (sliding; estimated as characters / 4 "
        "until the server reports usage, then by its ratio); None: no limit.",
    )
    max_batch_chars: int = _opt(
        400_000, "Remote: cap on the characters of one request, on top of batch_size."
    )
    allow_insecure: bool = _opt(
        False, "Remote: allow sending the key over plain http:// to a non-loopback host."
    )
    served_model_name: str | None = _opt(
        None,
        "Remote: the model name the server expects (OpenAI-compatible servers often serve "
        "jinaai/... ids); None: the registry name.",
    )
    server_dimensions: bool = _opt(
        False,
        "OpenAI-compatible servers only: send dimensions and let the server cut (vLLM with "
        "a Matryoshka config, TEI); False cuts client-side.",
        kinds=("embedding",),
    )

    def __post_init__(self) -> None:
        if self.base_url is not None and (
            not isinstance(self.base_url, str)
            or not self.base_url.lower().startswith(("http://", "https://"))
        ):
            # The value is not echoed: a URL may carry credentials.
            scheme = self.base_url.partition(":")[0] if isinstance(self.base_url, str) else ""
            shown = repr(scheme) if scheme.isalpha() and len(scheme) <= 10 else type(self.base_url).__name__
            raise InvalidInputError(
                f"base_url must start with http:// or https:// (got {shown}).", field="base_url"
            )
        if self.base_url is not None:
            _check_url_parses(self.base_url)
        check_positive_number("timeout", self.timeout, optional=False)
        check_positive_number("connect_timeout", self.connect_timeout, optional=False)
        check_positive_number("call_timeout", self.call_timeout)
        if (
            isinstance(self.max_rate_limit_wait, bool)
            or not isinstance(self.max_rate_limit_wait, int | float)
            or not math.isfinite(self.max_rate_limit_wait)
            or self.max_rate_limit_wait < 0
        ):
            raise InvalidInputError(
                f"max_rate_limit_wait must be a finite number >= 0, got {self.max_rate_limit_wait!r}.",
                field="max_rate_limit_wait",
            )
        check_positive_int("requests_per_minute", self.requests_per_minute)
        check_positive_int("tokens_per_minute", self.tokens_per_minute)
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or not 0 <= self.max_retries <= 20
        ):
            raise InvalidInputError(
                f"max_retries must be an integer in 0..20, got {self.max_retries!r}.", field="max_retries"
            )
        check_positive_int("max_concurrency", self.max_concurrency, maximum=256, optional=False)
        check_positive_int("max_batch_chars", self.max_batch_chars, optional=False)
        _check_bool("allow_insecure", self.allow_insecure)
        _check_bool("server_dimensions", self.server_dimensions)


# -- the table, for object signatures and adapters ------------------------------------------
_GROUPS: dict[str, tuple[type, ...]] = {
    "embedding": (EmbedOptions, LocalOptions, RemoteOptions),
    "reranker": (RerankOptions, LocalOptions, RemoteOptions),
    # MultiVectorEmbedder: the embedding options that apply to token vectors (see kinds=).
    "multivector": (EmbedOptions, LocalOptions, RemoteOptions),
}
_GROUP_NAMES = {
    EmbedOptions: "embed",
    RerankOptions: "rerank",
    LocalOptions: "local",
    RemoteOptions: "remote",
}


@dataclass(frozen=True)
class OptionSpec:
    """One option as the table declares it.

    Attributes:
        name: the keyword, the same in the core and every adapter.
        default: its default value.
        annotation: its type.
        doc: one or two sentences for docstrings and field descriptions.
        group: ``embed``, ``rerank``, ``local`` or ``remote`` (which option object holds it).
    """

    name: str
    default: Any
    annotation: Any
    doc: str
    group: str


def option_specs(kind: Kind) -> tuple[OptionSpec, ...]:
    """Every option an ``Embedder`` (``"embedding"``) or ``Reranker`` (``"reranker"``) takes, in order.

    Example::

        >>> [o.name for o in option_specs("reranker")][:3]
        ['top_n', 'batch_size', 'max_length']
    """
    if kind not in _GROUPS:
        raise InvalidInputError(
            f"kind must be 'embedding', 'reranker' or 'multivector', got {kind!r}.", field="kind"
        )
    return _table(kind)


@functools.cache
def _table(kind: Kind) -> tuple[OptionSpec, ...]:
    """The table is fixed: built once per kind, not on every object construction (and every
    LlamaIndex client check), since it resolves type hints."""
    specs: list[OptionSpec] = []
    for cls in _GROUPS[kind]:
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            if kind in f.metadata["kinds"]:
                default = None if f.default is MISSING else f.default
                specs.append(OptionSpec(f.name, default, hints[f.name], f.metadata["doc"], _GROUP_NAMES[cls]))
    return tuple(specs)


def split_options(kind: Kind, options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Keyword options -> ``{group: {name: value}}`` for the option objects of ``kind``.

    Raises:
        TypeError: an option that ``kind`` does not take (like any unexpected keyword).
    """
    groups: dict[str, dict[str, Any]] = {_GROUP_NAMES[cls]: {} for cls in _GROUPS[kind]}
    known = {spec.name: spec.group for spec in option_specs(kind)}
    unknown = sorted(set(options) - set(known))
    if unknown:
        what = {"embedding": "Embedder", "reranker": "Reranker"}.get(kind, "MultiVectorEmbedder")
        raise TypeError(f"{what}() got unexpected keyword argument(s): {', '.join(unknown)}")
    for name, value in options.items():
        groups[known[name]][name] = value
    return groups


class _LocalKwargs(TypedDict, total=False):
    device: str | None
    dtype: Literal["float32", "float16", "bfloat16", "int8"] | None
    trust_remote_code: bool | None
    cache_folder: str | None
    revision: str | None
    local_files_only: bool


class _RemoteKwargs(TypedDict, total=False):
    base_url: str | None
    timeout: float
    connect_timeout: float
    max_retries: int
    max_concurrency: int
    call_timeout: float | None
    max_rate_limit_wait: float
    requests_per_minute: int | None
    tokens_per_minute: int | None
    max_batch_chars: int
    allow_insecure: bool
    served_model_name: str | None


class EmbedderOptions(_LocalKwargs, _RemoteKwargs, total=False):
    """The keyword options of :class:`~jina_embeddings.Embedder`, for static type checkers.

    Names and types only; defaults, ranges and docs are on the option dataclasses above
    (a test checks that both list the same names and types).
    """

    task: str | None
    dimensions: int | None
    precision: Precision
    normalize: bool
    truncate: bool
    batch_size: int | None
    show_progress: bool
    quantization_ranges: Any
    late_chunking: bool
    merge_adapters: bool
    coalesce: bool
    coalesce_wait_ms: float
    runtime: Literal["torch", "onnx"]
    onnx_file: str | None
    fidelity_sample: Sequence[str] | None
    late_chunking_overlap: int | None
    late_chunking_window: int | None
    force_late_chunking: bool
    server_dimensions: bool


class RerankerOptions(_LocalKwargs, _RemoteKwargs, total=False):
    """The keyword options of :class:`~jina_embeddings.Reranker`, for static type checkers."""

    top_n: int | None
    batch_size: int | None
    max_length: int | None
    show_progress: bool
