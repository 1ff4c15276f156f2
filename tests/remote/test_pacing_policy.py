"""The pure rules behind pacing and bounded bodies, table by table (no I/O, clocks injected).

* which 429s are rate windows and which are final (by code first, wording only without one);
* what ``X-RateLimit-*`` headers say;
* the rate governor's decisions (a fake clock drives it);
* bounded bodies and bounded JSON.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest

from jina_embeddings import _constants as C
from jina_embeddings._http_body import BodyError, BodyReader, TooLarge, json_depth_ok, loads
from jina_embeddings._http_limits import RateGovernor
from jina_embeddings._http_policy import RateInfo, classify_status, is_balance, parse_rate_headers

# (status, headers, code, detail) -> rate | error | final
CLASSIFY = [
    (429, {}, "RATE_TOKEN_LIMIT_EXCEEDED", "the quota for this window is spent", "rate"),
    (429, {}, "RATE_REQUEST_LIMIT_EXCEEDED", "Insufficient balance?", "rate"),  # the code wins
    (429, {}, "RATE_CONCURRENCY_LIMIT_EXCEEDED", "", "rate"),
    (429, {}, "RATE_IP_LIMIT_EXCEEDED", "", "rate"),
    (429, {}, "rate_limit_exceeded", "You exceeded your current quota of requests", "rate"),
    (429, {}, "RESOURCE_EXHAUSTED", "Quota exceeded for requests per minute", "rate"),
    (429, {}, "RESOURCE_EXHAUSTED", "Quota exceeded for requests per day", "final"),
    (429, {}, "AUTHZ_INSUFFICIENT_BALANCE", "", "final"),
    (429, {}, "insufficient_quota", "You exceeded your current quota", "final"),
    (429, {}, "billing_hard_limit_reached", "", "final"),
    (429, {}, None, "quota for this window is spent", "rate"),  # "quota" alone is not a balance
    (429, {}, None, "Too many requests, slow down", "rate"),
    (429, {}, None, "Insufficient balance", "final"),
    (429, {}, None, "Please top up your credits", "final"),
    (429, {}, "429", "Model is overloaded", "rate"),  # a numeric code says nothing
    (429, {"x-should-retry": "false"}, "RATE_TOKEN_LIMIT_EXCEEDED", "", "final"),
    (429, {"x-should-retry": "true"}, "insufficient_quota", "", "error"),
    (402, {}, None, "", "final"),
    (402, {"x-should-retry": "true"}, None, "", "error"),
    (403, {}, "AUTHZ_INSUFFICIENT_BALANCE", "", "final"),
    (503, {}, None, "", "error"),
    (500, {}, None, "input is too large to process", "final"),
    (408, {}, None, "", "error"),
    (409, {}, None, "", "error"),
    (400, {}, None, "", "final"),
    (400, {"x-should-retry": "true"}, None, "", "error"),
]


@pytest.mark.parametrize(("status", "headers", "code", "detail", "expected"), CLASSIFY)
def test_429s_are_classified_by_code_first(
    status: int, headers: dict[str, str], code: str | None, detail: str, expected: str
) -> None:
    assert classify_status(status, headers, code, detail) == expected


def test_balance_means_final_everywhere() -> None:
    assert is_balance("AUTHZ_INSUFFICIENT_BALANCE", "") and not is_balance(
        "RATE_TOKEN_LIMIT_EXCEEDED", "balance"
    )


NOW = 1_700_000_000.0
RATE_HEADERS = [
    ({}, RateInfo()),
    (
        {"X-RateLimit-Remaining-Tokens": "120", "X-RateLimit-Limit-Tokens": "1000"},
        RateInfo(tokens_left=120, tokens_limit=1000),
    ),
    ({"x-ratelimit-remaining-requests": "0"}, RateInfo(requests_left=0)),
    (
        {"x-ratelimit-remaining-tokens": "12", "x-ratelimit-reset-tokens": "6m0s"},
        RateInfo(tokens_left=12, tokens_reset=360.0),
    ),
    (
        {"x-ratelimit-remaining-tokens": "12", "x-ratelimit-reset-tokens": "250ms"},
        RateInfo(tokens_left=12, tokens_reset=0.25),
    ),
    (
        {"x-ratelimit-remaining-tokens": "12", "x-ratelimit-reset-tokens": "1h2m3.5s"},
        RateInfo(tokens_left=12, tokens_reset=3723.5),
    ),
    (
        {"x-ratelimit-remaining-tokens": "12", "x-ratelimit-reset": "1.5"},
        RateInfo(tokens_left=12, requests_reset=1.5, tokens_reset=1.5),
    ),
    (
        {"x-ratelimit-remaining-requests": "3", "x-ratelimit-reset": str(int(NOW) + 30)},  # a Unix time
        RateInfo(requests_left=3, requests_reset=30.0, tokens_reset=30.0),
    ),
    ({"x-ratelimit-remaining-tokens": "-5"}, RateInfo()),
    ({"x-ratelimit-remaining-tokens": "9" * 40}, RateInfo()),
    ({"x-ratelimit-remaining-tokens": "1e9"}, RateInfo()),
    ({"x-ratelimit-remaining-tokens": "5", "x-ratelimit-reset-tokens": "soon"}, RateInfo(tokens_left=5)),
    ({"x-ratelimit-remaining-tokens": "5", "x-ratelimit-reset-tokens": "-3"}, RateInfo(tokens_left=5)),
    ({"x-ratelimit-remaining-tokens": "5", "x-ratelimit-reset-tokens": "nan"}, RateInfo(tokens_left=5)),
    ({"x-ratelimit-remaining-tokens": "5", "x-ratelimit-reset-tokens": "inf"}, RateInfo(tokens_left=5)),
]


@pytest.mark.parametrize(("headers", "expected"), RATE_HEADERS)
def test_rate_limit_headers(headers: dict[str, str], expected: RateInfo) -> None:
    assert parse_rate_headers(headers, NOW) == expected


# -- the governor, on a fake clock ----------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def governor(**kw: Any) -> tuple[RateGovernor, Clock]:
    clock = Clock()
    return RateGovernor(clock=clock, wall=lambda: NOW, **kw), clock


def go(g: RateGovernor, chars: int = 400) -> Any:
    ticket, wait = g.admit(chars)
    assert ticket is not None, wait
    assert g.launch(ticket)
    return ticket


def test_tokens_are_estimated_from_characters_then_from_usage() -> None:
    g, _ = governor()
    assert g.estimate(400) == 100  # characters / 4
    g.settle(go(g, 400), {}, ok=True, tokens=50)
    assert g.estimate(400) == 50  # the server's own ratio


def test_a_429_holds_back_every_request_until_the_window_opens() -> None:
    g, clock = governor()
    t = go(g)
    assert g.rate_limited(t, 2.0, {}, "RATE_TOKEN_LIMIT_EXCEEDED") == 2.0
    assert g.admit(10) == (None, pytest.approx(2.0))
    clock.t += 2.0
    assert g.admit(10)[0] is not None


def test_a_429_without_a_hint_backs_off_more_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "INITIAL_RETRY_DELAY", 0.5)
    monkeypatch.setattr(C, "MAX_RETRY_DELAY", 8.0)
    g, clock = governor()
    waits = []
    for _ in range(3):
        waits.append(g.rate_limited(go(g), None, {}, None))
        clock.t += 100
    assert 0.37 < waits[0] <= 0.5 < waits[1] <= 1.0 < waits[2] <= 2.0


def test_remaining_headers_stop_requests_before_the_window_is_spent() -> None:
    g, clock = governor()
    first = go(g, 400)
    g.settle(
        first, {"x-ratelimit-remaining-tokens": "150", "x-ratelimit-reset-tokens": "10s"}, ok=True, tokens=100
    )
    go(g, 400)  # 100 tokens now in flight, 50 left
    ticket, wait = g.admit(400)
    assert ticket is None and wait == pytest.approx(10.0)  # the reset time is known: wait for it
    clock.t += 10.0
    assert g.admit(400)[0] is not None


def test_without_a_reset_time_one_probe_goes_when_nothing_is_in_flight() -> None:
    g, _ = governor()
    t1, t2 = go(g), go(g)
    g.settle(t1, {"x-ratelimit-remaining-tokens": "0"}, ok=True, tokens=100)
    assert g.admit(400) == (None, None)  # t2 is in flight: its response will say more
    g.settle(t2, {}, ok=True, tokens=100)
    probe, _ = g.admit(400)
    assert probe is not None  # nothing in flight: one request goes and learns when it opens
    assert g.launch(probe)
    assert g.admit(400) == (None, None)  # ... and only one


def test_reports_arriving_out_of_order_keep_the_lowest_budget() -> None:
    g, _ = governor()
    a, b = go(g), go(g)
    g.settle(
        b, {"x-ratelimit-remaining-tokens": "500", "x-ratelimit-reset-tokens": "5s"}, ok=True, tokens=100
    )
    g.settle(
        a, {"x-ratelimit-remaining-tokens": "300", "x-ratelimit-reset-tokens": "5s"}, ok=True, tokens=100
    )
    assert g.state()["snapshot"].tokens_left == 300


def test_a_new_window_starts_with_the_announced_limit() -> None:
    g, clock = governor()
    t = go(g)
    g.settle(
        t,
        {
            "x-ratelimit-remaining-tokens": "0",
            "x-ratelimit-limit-tokens": "250",
            "x-ratelimit-reset-tokens": "1s",
        },
        ok=True,
        tokens=100,
    )
    clock.t += 1.0
    a = go(g)  # 100 of 250
    go(g)  # 200 of 250
    assert g.admit(400) == (None, None)  # a third would not fit: wait for a response
    g.settle(a, {}, ok=True, tokens=100)


def test_client_side_limits_use_a_sliding_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "RATE_WINDOW", 10.0)
    g, clock = governor(requests_per_minute=2, tokens_per_minute=1000)
    go(g, 400)
    clock.t += 1
    go(g, 400)
    ticket, wait = g.admit(40)
    assert ticket is None and wait == pytest.approx(10.0 * (1 + C.RATE_GUARD) - 1)
    clock.t += 10.5
    go(g, 40)
    g2, clock2 = governor(tokens_per_minute=250)
    go(g2, 800)  # 200 tokens
    assert g2.admit(400)[0] is None  # 200 + 100 > 250
    assert g2.admit(100)[0] is not None  # 200 + 25 fits


def test_a_request_that_can_never_fit_is_left_to_the_server() -> None:
    g, _ = governor()
    t = go(g)
    g.settle(t, {"x-ratelimit-remaining-tokens": "10", "x-ratelimit-limit-tokens": "50"}, ok=True, tokens=100)
    assert g.admit(4000)[0] is not None  # 1000 tokens > the whole window: waiting cannot help


def test_launch_refuses_after_a_429_closed_the_window() -> None:
    g, _ = governor()
    waiting, _ = g.admit(40)
    g.rate_limited(go(g), 5.0, {}, None)
    assert waiting is not None and not g.launch(waiting)


# -- bounded bodies ---------------------------------------------------------------------------
def test_body_reader_bounds_wire_and_inflated_bytes() -> None:
    r = BodyReader(100)
    r.feed(b"x" * 60)
    with pytest.raises(TooLarge):
        r.feed(b"x" * 60)
    with pytest.raises(TooLarge):
        BodyReader(100, content_length="101")
    r = BodyReader(1000, content_encoding="gzip")
    with pytest.raises(TooLarge):
        r.feed(gzip.compress(b"\0" * 100_000))
    r = BodyReader(1000, content_encoding="gzip")
    r.feed(gzip.compress(b"a" * 10) + gzip.compress(b"b" * 10))  # two members
    assert r.finish() == b"a" * 10 + b"b" * 10
    r = BodyReader(1000, content_encoding="deflate")
    raw = zlib.compressobj(wbits=-15)
    r.feed(raw.compress(b"raw deflate") + raw.flush())
    assert r.finish() == b"raw deflate"
    with pytest.raises(BodyError):
        BodyReader(1000, content_encoding="br")


def test_error_bodies_are_truncated_not_refused() -> None:
    r = BodyReader(10, content_encoding="gzip", truncate=True)
    r.feed(gzip.compress(b"e" * 1000))
    assert r.done and r.finish() == b"e" * 10  # the first bytes, as a preview
    assert BodyReader(10, content_encoding="zstd", truncate=True).finish() == b""


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ('{"data": [{"embedding": [1, 2]}]}', True),
        ("[" * 32 + "]" * 32, True),
        ("[" * 33 + "]" * 33, False),
        ('["' + "[" * 100 + '"]', True),  # brackets inside a string do not nest
        ('["\\"' + "[" * 100 + '"]', True),  # ... even after an escaped quote
        ('{"a":' * 40 + "1" + "}" * 40, False),
    ],
)
def test_json_depth(text: str, ok: bool) -> None:
    assert json_depth_ok(text.encode(), 32) is ok


@pytest.mark.parametrize(
    "text", ["[" * 5000, "9" * 400, '{"n": -' + "1" * 21 + "}", "\xff", "", "{'a': 1}", "[1,]"]
)
def test_loads_turns_every_bad_body_into_a_body_error(text: str) -> None:
    with pytest.raises(BodyError):
        loads(text.encode("latin-1") if text == "\xff" else text)


def test_loads_keeps_good_bodies() -> None:
    assert loads(b'{"a": [1, 2.5, "x"], "n": 12345678901234567890}') == {
        "a": [1, 2.5, "x"],
        "n": 12345678901234567890,
    }
    assert loads(b"[1e400]") == [float("inf")]  # refused later, by the finite check
