"""Numbers the remote backends live by, in one place, each with the reason it has that value.

Tests make retries fast by patching ``INITIAL_RETRY_DELAY`` (the policy reads it at call
time); nothing else should change these at run time.
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

# -- errors -----------------------------------------------------------------------------------
#: Characters of an error body kept on the exception (after scrubbing secrets).
MAX_ERROR_BODY = 1024
#: Characters of the server's message quoted in the exception text.
MAX_ERROR_DETAIL = 300
