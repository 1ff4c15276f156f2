"""Numbers the remote backends live by, in one place, each with the reason it has that value.

Tests make retries fast by patching ``INITIAL_RETRY_DELAY`` / ``MAX_RETRY_DELAY`` and rate
windows short by patching ``RATE_WINDOW`` (everything reads them at call time); nothing else
should change these at run time.
"""

from __future__ import annotations

# -- retries (the Stainless SDKs' policy: openai-python, anthropic-sdk-python) --------------
#: First backoff step in seconds; doubles per retry: 0.5, 1, 2, 4, 8, 8 ...
INITIAL_RETRY_DELAY = 0.5
#: Cap of one backoff step in seconds.
MAX_RETRY_DELAY = 8.0
#: A server hint (``Retry-After``/``retry-after-ms``) above this many seconds is not waited
#: for: the call fails at once and ``RateLimitError.retry_after`` says how long to wait.
MAX_RETRY_AFTER = 60.0
#: Statuses that a retry can fix: timeouts, busy resources, rate windows, server failures.
RETRYABLE_STATUSES = frozenset({408, 409, 429})  # plus every status >= 500
#: Default retries per request for errors (408/409/5xx, dropped connections, timeouts). Two
#: (the chat SDKs' choice) loses about one batch in 200 to a server failing 8 % of attempts;
#: five loses one in 4 million, at worst 15.5 s of backoff. 429s do not count (rate windows).
DEFAULT_MAX_RETRIES = 5

# -- rate windows (429, X-RateLimit-*, requests_per_minute / tokens_per_minute) ---------------
#: Seconds one request may wait, in total, for rate windows before ``RateLimitError``. A
#: quota-bound ingest waits about one window (60 s) per batch; five windows of slack.
DEFAULT_MAX_RATE_LIMIT_WAIT = 300.0
#: Length of the client-side ``requests_per_minute`` / ``tokens_per_minute`` window.
RATE_WINDOW = 60.0
#: Characters per token assumed before a server has reported ``usage`` (English text runs
#: at about 4; after the first response the ratio the server reports is used instead).
CHARS_PER_TOKEN = 4.0
#: The client-side window is this fraction longer than ``RATE_WINDOW``: a request reaches the
#: server a little after the client sent it, so its window there ends a little later too.
RATE_GUARD = 0.02
#: How often a request waiting for the server's next rate-limit headers looks again.
RATE_POLL = 0.02

# -- deadlines and interrupts ----------------------------------------------------------------
#: Longest single blocking socket read: a cancelled or closed call is noticed this fast.
IO_SLICE = 0.1
#: Seconds an interrupted call, or ``close()``, waits for in-flight requests to close their
#: sockets before it returns (they stop within ``IO_SLICE``).
ABANDON_GRACE = 1.0

# -- timeouts ---------------------------------------------------------------------------------
#: Seconds to wait for a free pooled connection. The concurrency bound keeps the pool from
#: running dry, so hitting this means something is badly wrong.
POOL_TIMEOUT = 10.0

# -- batching ---------------------------------------------------------------------------------
#: Texts per request to the Jina API. 2,000 texts become 16 requests, i.e. 4 rounds at the
#: default concurrency of 4: large enough that latency, not request count, bounds throughput,
#: small enough that one failed request costs little and a 60 s timeout is never near.
DEFAULT_API_BATCH_SIZE = 128
#: Texts per request to an OpenAI-compatible server: TEI's default ``--max-client-batch-size``
#: is 32 and it answers 422 above it.
DEFAULT_OPENAI_BATCH_SIZE = 32
#: Texts per forward pass of a local model (sentence-transformers' default; 16-64 measured
#: within noise on CPU) and (query, document) pairs per pass of a local cross-encoder.
DEFAULT_LOCAL_BATCH_SIZE = 32
#: Documents per rerank request (the query is repeated in each); one request for most calls.
DEFAULT_RERANK_BATCH_SIZE = 1024
#: Hard cap of inputs per request (the Jina API and Infinity refuse more).
MAX_INPUTS_PER_REQUEST = 2048

# -- responses --------------------------------------------------------------------------------
#: Bytes of one response body a batch may need per value: a float written out in JSON
#: (``-0.0123456789012345678,``) by a server that ignores ``encoding_format``.
RESPONSE_BYTES_PER_VALUE = 32
#: ... per input (``{"object":"embedding","index":2047,"embedding":...}``, rerank results).
RESPONSE_BYTES_PER_ITEM = 512
#: ... per response (model, usage, whitespace).
RESPONSE_MARGIN = 64 * 1024
#: Width assumed for a model whose width is unknown (generic and unregistered models).
ASSUMED_MAX_WIDTH = 8192
#: Absolute ceiling of one response body, compressed or inflated (2048 x 2048 floats as JSON
#: is 134 MB); a gzip bomb stops here at the latest.
MAX_RESPONSE_BYTES = 160 * 1024 * 1024
#: Bytes of an error response that are read (only 1 KB is kept).
MAX_ERROR_RESPONSE_BYTES = 64 * 1024
#: Nesting depth of a JSON body (real responses nest at most 5 levels deep).
MAX_JSON_DEPTH = 32
#: Digits of a JSON integer (indices and token counts have at most 12).
MAX_JSON_INT_DIGITS = 20

# -- errors -----------------------------------------------------------------------------------
#: Characters of an error body kept on the exception (after scrubbing secrets).
MAX_ERROR_BODY = 1024
#: Characters of the server's message quoted in the exception text.
MAX_ERROR_DETAIL = 300
