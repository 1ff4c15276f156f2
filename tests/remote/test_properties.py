"""Hypothesis property tests (reliability.md goal 15): 520 examples per run, derandomized.

Against the real loopback server: random unicode / RTL / control-character texts, batch
sizes, concurrency and failure schedules keep length and order and give the server's exact
vectors; invalid input raises a typed error with 0 requests. Pure properties cover batching,
response checking and retry delays.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jina_embeddings import Embedder, InvalidInputError
from jina_embeddings import _constants as C
from jina_embeddings._backends.remote import parse_embeddings, plan_batches
from jina_embeddings._http import Reply, RetryPolicy
from jina_embeddings.errors import APIResponseValidationError
from jina_testkit.fake_api import Fault, expected_vector

V5 = "jina-embeddings-v5-text-small"
KEY = "jina_test"
DIMS = 16

PROFILE = dict(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

RTL = st.sampled_from(["שלום עולם", "مرحبا بالعالم", "\u202eevil\u202c", "עברית and English", "ﷺ"])
TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=2000),  # incl. control chars
    st.text(st.characters(min_codepoint=0, max_codepoint=0x1F), min_size=1, max_size=20),
    RTL,
).filter(lambda s: s.strip())
FAULTS = {
    "429": lambda: Fault.status(429, headers={"Retry-After": "0"}),
    "503": lambda: Fault.status(503),
    "drop": Fault.drop,
    "shuffle": Fault.shuffle,
    "ok": lambda: Fault.slow(0.0),
}


@pytest.fixture
def server(fake_jina_module_server: Any) -> Any:
    return fake_jina_module_server


@settings(max_examples=150, **PROFILE)
@given(
    texts=st.lists(TEXT, min_size=1, max_size=30),
    batch_size=st.integers(1, 8),
    concurrency=st.integers(1, 4),
    schedule=st.lists(st.sampled_from(sorted(FAULTS)), max_size=6),
    role=st.sampled_from(["query", "document"]),
    use_async=st.booleans(),
)
def test_valid_input_keeps_length_order_and_values(
    server: Any,
    texts: list[str],
    batch_size: int,
    concurrency: int,
    schedule: list[str],
    role: str,
    use_async: bool,
) -> None:
    server.reset()
    server.script(*(FAULTS[name]() for name in schedule))
    with Embedder(
        V5,
        backend="api",
        api_key=KEY,
        base_url=server.base_url,
        dimensions=DIMS,
        batch_size=batch_size,
        max_concurrency=concurrency,
        max_retries=len(schedule),
    ) as emb:
        if use_async:
            import asyncio

            out = asyncio.run(emb.aembed(texts, role=role))
        else:
            out = emb.embed(texts, role=role)
    task = "retrieval.query" if role == "query" else "retrieval.passage"
    assert out.vectors.shape == (len(texts), DIMS)
    for i, text in enumerate(texts):
        assert np.array_equal(out.vectors[i], expected_vector(V5, task, text, DIMS)), i


BAD_ITEMS = st.one_of(
    st.none(),
    st.just(""),
    st.text(" \t\n\r\u3000\u2003\u00a0", min_size=1, max_size=5),
    st.integers(),
    st.floats(allow_nan=True),
    st.binary(max_size=5),
    st.just("bad \ud800 surrogate"),
    st.lists(st.just("x"), max_size=2),
)


@settings(max_examples=60, **PROFILE)
@given(
    texts=st.lists(st.sampled_from(["ok", "fine text", "שלום"]), max_size=10), bad=BAD_ITEMS, data=st.data()
)
def test_invalid_input_raises_typed_error_before_any_request(
    server: Any, texts: list[str], bad: Any, data: Any
) -> None:
    server.reset()
    index = data.draw(st.integers(0, len(texts)))
    items = [*texts[:index], bad, *texts[index:]]
    with (
        Embedder(V5, backend="api", api_key=KEY, base_url=server.base_url) as emb,
        pytest.raises(InvalidInputError) as info,
    ):
        emb.embed(items)
    assert info.value.index == index
    assert server.requests == []


@settings(max_examples=150, **PROFILE)
@given(
    sizes=st.lists(st.integers(0, 500), max_size=200),
    max_items=st.integers(1, 50),
    max_chars=st.integers(1, 2000),
)
def test_batches_are_contiguous_capped_and_greedy(sizes: list[int], max_items: int, max_chars: int) -> None:
    texts = ["x" * n for n in sizes]  # the default cost of a text is its characters
    batches = plan_batches(texts, max_items=max_items, max_cost=max_chars)
    assert [i for b in batches for i in b] == list(range(len(sizes)))
    for k, batch in enumerate(batches):
        chars = sum(sizes[i] for i in batch)
        assert 1 <= len(batch) <= max_items
        assert chars <= max_chars or len(batch) == 1
        if k + 1 < len(batches):  # the next input did not fit
            nxt = batches[k + 1].start
            assert len(batch) == max_items or chars + sizes[nxt] > max_chars


@settings(max_examples=100, **PROFILE)
@given(
    count=st.integers(1, 20),
    width=st.integers(1, 24),
    kind=st.sampled_from(["base64", "float", "ubinary", "binary"]),
    corrupt=st.sampled_from([None, "drop", "duplicate", "out_of_range"]),
    data=st.data(),
)
def test_responses_are_reordered_or_refused(
    count: int, width: int, kind: str, corrupt: str | None, data: Any
) -> None:
    rng = np.random.default_rng(count * 100 + width)
    if kind in ("ubinary", "binary"):
        low, high = (0, 256) if kind == "ubinary" else (-128, 128)
        rows = rng.integers(low, high, size=(count, width))
        encode = lambda r: r.tolist()  # noqa: E731
    else:
        rows = rng.standard_normal((count, width)).astype(np.float32)
        encode = (
            (lambda r: base64.b64encode(r.astype("<f4").tobytes()).decode())
            if kind == "base64"
            else (lambda r: r.tolist())
        )
    order = data.draw(st.permutations(range(count)))
    items = [{"index": i, "embedding": encode(rows[i])} for i in order]
    if corrupt == "drop":
        items = items[:-1]
    elif corrupt == "duplicate":
        items = [*items[:-1], {**items[-1], "index": items[0]["index"]}] if count > 1 else items[:0]
    elif corrupt == "out_of_range":
        items[-1] = {**items[-1], "index": count}
    reply = Reply({"data": items, "usage": {"total_tokens": 3}}, "rid", 0)
    wire_type = "base64" if kind == "float" else kind
    if corrupt is None:
        matrix, usage, _ = parse_embeddings(reply, count=count, width=width, embedding_type=wire_type)
        assert np.array_equal(matrix, rows.astype(matrix.dtype)) and usage.total_tokens == 3
    else:
        with pytest.raises(APIResponseValidationError):
            parse_embeddings(reply, count=count, width=width, embedding_type=wire_type)


@settings(max_examples=60, **PROFILE)
@given(
    retries=st.integers(0, 2000),
    hint=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12)),
    jitter=st.floats(0, 0.999999),
)
def test_retry_delay_is_bounded(
    retries: int, hint: Any, jitter: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(C, "INITIAL_RETRY_DELAY", 0.5)
    monkeypatch.setattr(C, "MAX_RETRY_DELAY", 8.0)
    headers = {} if hint is None else {"retry-after": str(hint)}
    delay = RetryPolicy(2, now=lambda: 0.0, random=lambda: jitter).delay(retries, headers)
    assert delay is None or (math.isfinite(delay) and 0 < delay <= C.MAX_RETRY_AFTER)
    if isinstance(hint, float) and math.isfinite(hint) and 0 < hint <= 60:
        assert delay == pytest.approx(hint)
    if isinstance(hint, float) and hint > 60:
        assert delay is None
