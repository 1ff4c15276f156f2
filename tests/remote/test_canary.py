"""A canary key never leaks (reliability.md goals 9 and 10).

With DEBUG logging on ``jina_embeddings``, ``httpx`` and ``httpcore``, every path (success,
401, 429-then-retry, a server echoing the key, timeout, connect error; sync and async) is run,
and no form of the key (raw, base64, %-encoded, 8-character prefix) may appear in a log
record, a repr, an exception (its text, repr, cause chain, traceback) or a pickle. Positive
controls prove the checks can fail: the server must have received the key in the
``Authorization`` header, and the log capture must hold httpcore's records.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import pickle
import secrets
import socket
import traceback
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from jina_embeddings import (
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    Embedder,
    JinaError,
    Reranker,
)
from jina_testkit.fake_api import Fault

CANARY = "jina_CANARY" + secrets.token_hex(16)


def forms(key: str) -> list[str]:
    raw = [key, f"Bearer {key}"]
    return [
        *raw,
        *(base64.b64encode(r.encode()).decode() for r in raw),
        *(urllib.parse.quote(r, safe="") for r in raw),
        *(urllib.parse.quote_plus(r) for r in raw),
        key[:8],
        key[len("jina_") :],
    ]


def assert_clean(text: str, where: str) -> None:
    for form in forms(CANARY):
        assert form not in text, f"canary form {form[:12]!r}... found in {where}"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def capture() -> Iterator[Capture]:
    handler = Capture()
    loggers = [logging.getLogger(n) for n in ("jina_embeddings", "httpx", "httpcore")]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.addHandler(handler)
    try:
        yield handler
    finally:
        for lg, (level, _) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def check_records(records: list[logging.LogRecord]) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in records:
        assert_clean(formatter.format(record), f"log record of {record.name}")
        assert_clean(repr(record.args), f"log args of {record.name}")
        assert_clean(repr(record.__dict__), f"log record dict of {record.name}")


def check_exception(exc: BaseException) -> None:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        assert_clean(str(e), f"str({type(e).__name__})")
        assert_clean(repr(e), f"repr({type(e).__name__})")
        assert_clean(repr(vars(e)) if hasattr(e, "__dict__") else "", f"vars({type(e).__name__})")
        todo += [e.__cause__, e.__context__, *getattr(e, "errors", [])]
    assert_clean("".join(traceback.format_exception(exc)), "formatted traceback")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SCENARIOS = ["success", "401", "429-then-retry", "echoed-key-401", "timeout", "connect-error"]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_canary_never_leaks(
    fake_jina_server_factory: Any, capture: Capture, scenario: str, mode: str
) -> None:
    srv = fake_jina_server_factory(api_key="jina_test" if scenario == "401" else CANARY)
    base_url = f"http://127.0.0.1:{closed_port()}/v1" if scenario == "connect-error" else srv.base_url
    if scenario == "429-then-retry":
        srv.script(Fault.status(429, headers={"Retry-After": "0"}))
    if scenario == "echoed-key-401":
        srv.script(
            Fault.status(
                401,
                body={
                    "detail": f"invalid key {CANARY} in 'Authorization: Bearer {CANARY}'",
                    "echo": base64.b64encode(CANARY.encode()).decode(),
                },
            )
        )
    if scenario == "timeout":
        srv.script(Fault.hang(2.0), Fault.hang(2.0))
    emb = Embedder(
        "jina-embeddings-v5-text-small",
        backend="api",
        api_key=CANARY,
        base_url=base_url,
        timeout=0.2,
        connect_timeout=0.2,
        max_retries=1,
    )
    error: BaseException | None = None
    formatted = ""
    try:
        if mode == "sync":
            emb.embed(["hello world", "second text"])
        else:
            asyncio.run(emb.aembed(["hello world", "second text"]))
    except JinaError as exc:
        error = exc
        formatted = traceback.format_exc()
    finally:
        emb.close()

    assert (error is None) == (scenario in ("success", "429-then-retry")), error
    if error is not None:
        check_exception(error)
        assert_clean(formatted, "traceback.format_exc()")
    check_records(capture.records)
    for obj in (emb, emb._backend, emb._backend.http):
        assert_clean(repr(obj), f"repr({type(obj).__name__})")
        assert_clean(str(obj), f"str({type(obj).__name__})")
    assert_clean(repr(pickle.dumps(emb)), "pickle.dumps(Embedder)")
    assert CANARY.encode() not in pickle.dumps(emb)

    # positive controls: the checks above could have failed
    assert any(r.name.startswith("httpcore") for r in capture.records) or scenario == "connect-error"
    assert any(r.name == "jina_embeddings.http" for r in capture.records)
    if scenario != "connect-error":
        sent = srv.requests[0]
        assert sent.headers["authorization"] == f"Bearer {CANARY}"
        assert CANARY not in sent.path


def test_reranker_and_backend_objects_hide_the_key(srv: Any) -> None:
    rr = Reranker("jina-reranker-v3", backend="api", api_key=CANARY, base_url=srv.base_url)
    for obj in (rr, rr._backend, rr._backend.http):
        assert_clean(repr(obj), type(obj).__name__)
    assert CANARY.encode() not in pickle.dumps(rr)
    with pytest.raises(TypeError):
        pickle.dumps(rr._backend)  # live connections and the key do not travel
    rr.close()


def test_key_only_in_authorization_header(srv: Any) -> None:
    srv_key = srv.api_key
    with Embedder(
        "jina-embeddings-v5-text-small", backend="api", api_key=srv_key, base_url=srv.base_url
    ) as emb:
        emb.embed_query("where is the key?")
    request = srv.requests[0]
    assert request.headers["authorization"] == f"Bearer {srv_key}"
    others = {k: v for k, v in request.headers.items() if k != "authorization"}
    assert srv_key not in repr(others) and srv_key not in request.path and srv_key not in repr(request.body)


# -- a hostile server echoes the key everywhere it can (issue 12, item 7) ------------------------
ECHOES = [
    ("header", AuthenticationError),  # x-request-id: <key>
    ("body", AuthenticationError),  # JSON detail and request_id spelled as \u escapes
    ("location", APIStatusError),  # 307 Location: https://evil.example.com/?key=<key>#<key>
    ("reason", AuthenticationError),  # "HTTP/1.1 401 Bad key <key>"
    ("preview", APIResponseValidationError),  # 200 HTML with the key where a 200-char cut would split it
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("where", "cls"), ECHOES, ids=[e[0] for e in ECHOES])
def test_key_echoed_by_a_hostile_server_never_leaks(
    fake_jina_server_factory: Any, capture: Capture, where: str, cls: type, mode: str
) -> None:
    srv = fake_jina_server_factory(api_key=None)
    srv.script(Fault.echo(where))
    emb = Embedder(
        "jina-embeddings-v5-text-small", backend="api", api_key=CANARY, base_url=srv.base_url, max_retries=0
    )
    try:
        with pytest.raises(cls) as info:
            if mode == "sync":
                emb.embed(["hello world"])
            else:
                asyncio.run(emb.aembed(["hello world"]))
    finally:
        emb.close()
    assert type(info.value) is cls
    check_exception(info.value)
    check_records(capture.records)
    # positive controls: the key went out, and httpcore logged the response headers it came back in
    assert srv.requests[0].headers["authorization"] == f"Bearer {CANARY}"
    heads = [r for r in capture.records if "receive_response_headers.complete" in r.getMessage()]
    assert heads, "httpcore did not log the response headers: the log check proves nothing"
    if where in ("header", "location", "reason"):
        assert any("***" in r.getMessage() for r in heads)  # ... and what it logged was scrubbed


def test_scrubbing_happens_before_cutting_and_decodes_escapes() -> None:
    from jina_embeddings._http_policy import Scrubber

    scrub = Scrubber(CANARY)
    escaped = "".join(f"\\u{ord(c):04x}" for c in CANARY)
    for text in (
        "x" * 190 + CANARY,
        f'{{"detail": "{escaped}"}}',
        f"key={CANARY[5:]}",
        base64.urlsafe_b64encode(CANARY.encode()).decode().rstrip("="),
    ):
        assert_clean(scrub(text)[:200], "scrubbed text")
