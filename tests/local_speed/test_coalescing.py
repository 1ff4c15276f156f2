"""Concurrent callers of one loaded model share forward passes (``coalesce=True``, the default).

Every test checks what each caller got against what a lone call returns, and counts the
forward passes exactly where the arrival order is forced (a gate holds the first pass until
the others are queued).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jina_embeddings import Embedder, InvalidInputError
from jina_embeddings._backends.coalescing import coalescer_of

pytestmark = pytest.mark.local
TASKS = ("retrieval", "text-matching", "clustering", "classification")
WORDS = ["fox", "dog", "search", "vector", "model", "query", "passage", "river", "mountain", "cloud"]


def _texts(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 12)))) for _ in range(n)]


@pytest.fixture(scope="module")
def qwen3(tiny_models: dict[str, Path]) -> Path:
    return tiny_models["qwen3"]


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


class Recorder:
    """Wraps one loaded model's ``encode``: records every pass; can hold the first one."""

    def __init__(self, model: Any, *, hold_first: bool = False, fail: bool = False) -> None:
        self.model = model
        self.inner = model.encode
        self.passes: list[tuple[list[str], str, str | None, np.ndarray]] = []
        self.hold = threading.Event()
        self.entered = threading.Event()
        if not hold_first:
            self.hold.set()
        self.fail = fail
        self.forwards = 0
        first = model.st[0]
        self._hook = first.register_forward_pre_hook(self._count)

    def _count(self, module: Any, args: Any) -> None:
        self.forwards += 1

    def __call__(self, texts: Any, **kwargs: Any) -> np.ndarray:
        self.entered.set()
        if not self.hold.wait(30):
            raise AssertionError("the gate was never opened")
        if self.fail:
            raise RuntimeError("simulated failure of the pass")
        out = self.inner(texts, **kwargs)
        self.passes.append((list(texts), kwargs["prompt"], kwargs["adapter"], out))
        return out

    def close(self) -> None:
        self._hook.remove()


@pytest.fixture
def recorder(qwen3: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Recorder]]:
    made: list[Recorder] = []

    def make(**kwargs: Any) -> Recorder:
        model = Embedder(qwen3, backend="local", dtype="float32")._backend.model_for("retrieval")
        rec = Recorder(model, **kwargs)
        monkeypatch.setattr(model, "encode", rec)
        made.append(rec)
        return rec

    yield make
    for rec in made:
        rec.close()


def _queued(model: Any) -> int:
    return len(coalescer_of(model)._queue)


def test_lone_call_is_bit_identical_to_coalesce_false(qwen3: Path) -> None:
    texts = _texts(0, 40)
    for task in TASKS:
        on = Embedder(qwen3, backend="local", task=task, dtype="float32")
        off = Embedder(qwen3, backend="local", task=task, dtype="float32", coalesce=False)
        assert np.array_equal(on.embed_documents(texts).vectors, off.embed_documents(texts).vectors)
        assert np.array_equal(on.embed_query(texts[0]).vectors, off.embed_query(texts[0]).vectors)


def test_eight_threads_mixed_tasks_get_their_own_rows(qwen3: Path, recorder: Callable[..., Recorder]) -> None:
    """8 threads x 4 tasks x both roles: each caller's rows equal a lone call's (float rounding:
    torch is not batch-invariant) and are bit-identical to its rows of the recorded pass."""
    rec = recorder()
    on = {t: Embedder(qwen3, backend="local", task=t, dtype="float32") for t in TASKS}
    off = {t: Embedder(qwen3, backend="local", task=t, dtype="float32", coalesce=False) for t in TASKS}
    jobs = [
        (i, TASKS[i % 4], "query" if i % 3 == 0 else "document", _texts(i, 1 + i % 5)) for i in range(160)
    ]
    start = threading.Barrier(8)

    def call(job: tuple[int, str, str, list[str]]) -> np.ndarray:
        i, task, role, texts = job
        if i < 8:
            start.wait()
        return on[task].embed(texts, role=role).vectors

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, jobs))
    passes = list(rec.passes)

    for (_i, task, role, texts), got in zip(jobs, results, strict=True):
        alone = off[task].embed(texts, role=role).vectors
        assert got.shape == alone.shape
        np.testing.assert_allclose(got, alone, atol=2e-6)
    assert sum(len(p[0]) for p in passes) == sum(len(j[3]) for j in jobs)
    assert len(passes) < len(jobs), "no pass was shared"
    # every pass holds one (adapter, prompt) group: each of its texts belongs to a caller of it
    callers = {}
    for _i, task, role, texts in jobs:
        prompt = "Query: " if (task, role) == ("retrieval", "query") else "Document: "
        for text in texts:
            callers.setdefault(text, set()).add((task, prompt))
    for texts, prompt, adapter, _ in passes:
        assert all((adapter, prompt) in callers[t] for t in texts)


def test_shared_pass_rows_are_bit_identical_to_that_pass(
    qwen3: Path, recorder: Callable[..., Recorder]
) -> None:
    """Held first pass, then 6 callers queued: one pass of their 6 texts, in arrival order;
    each caller's vector is bit-identical to its row of one lone call with those 6 texts."""
    rec = recorder(hold_first=True)
    emb = Embedder(qwen3, backend="local", dtype="float32")
    off = Embedder(qwen3, backend="local", dtype="float32", coalesce=False)
    texts = _texts(7, 6)
    with ThreadPoolExecutor(7) as pool:
        first = pool.submit(emb.embed_query, "hold")
        _wait_until(rec.entered.is_set, "the first pass")
        futures = []
        for k, text in enumerate(texts):
            futures.append(pool.submit(emb.embed_query, text))
            _wait_until(lambda k=k: _queued(rec.model) == k + 1, "the callers to queue")
        rec.hold.set()
        got = [f.result().vectors[0] for f in futures]
        first.result()
    assert [p[0] for p in rec.passes] == [["hold"], texts]
    assert rec.forwards == 2
    together = off.embed_queries(texts).vectors
    for k in range(6):
        assert np.array_equal(got[k], together[k])
        np.testing.assert_allclose(got[k], off.embed_query(texts[k]).vectors[0], atol=2e-6)


def test_exact_pass_counts_respect_batch_size_and_groups(
    qwen3: Path, recorder: Callable[..., Recorder]
) -> None:
    """10 single-text callers of one group with batch_size=4, and 3 of another group, all
    queued behind a held pass: 1 + ceil(10 / 4) + 1 passes, never mixing the groups."""
    rec = recorder(hold_first=True)
    docs = Embedder(qwen3, backend="local", dtype="float32", batch_size=4)
    other = Embedder(qwen3, backend="local", dtype="float32", batch_size=4, task="clustering")
    with ThreadPoolExecutor(14) as pool:
        held = pool.submit(docs.embed_documents, ["hold"])
        _wait_until(rec.entered.is_set, "the first pass")
        futures = []
        for k in range(13):
            emb = other if k in (3, 7, 11) else docs
            futures.append(pool.submit(emb.embed_documents, [f"text {k}"]))
            _wait_until(lambda k=k: _queued(rec.model) == k + 1, "the callers to queue")
        rec.hold.set()
        for f in futures:
            f.result()
        held.result()
    sizes = [(len(p[0]), p[2]) for p in rec.passes]
    # FIFO by the head's group: docs 0,1,2,4 | clustering 3,7,11 | docs 5,6,8,9 | docs 10,12
    assert sizes == [
        (1, "retrieval"),
        (4, "retrieval"),
        (3, "clustering"),
        (4, "retrieval"),
        (2, "retrieval"),
    ]
    assert rec.forwards == 5


def test_a_job_larger_than_batch_size_runs_alone_and_is_batched_inside(
    qwen3: Path, recorder: Callable[..., Recorder]
) -> None:
    rec = recorder(hold_first=True)
    emb = Embedder(qwen3, backend="local", dtype="float32", batch_size=4)
    with ThreadPoolExecutor(3) as pool:
        held = pool.submit(emb.embed_documents, ["hold"])
        _wait_until(rec.entered.is_set, "the first pass")
        big = pool.submit(emb.embed_documents, _texts(3, 10))
        _wait_until(lambda: _queued(rec.model) == 1, "the big caller")
        small = pool.submit(emb.embed_documents, ["small"])
        _wait_until(lambda: _queued(rec.model) == 2, "the small caller")
        rec.hold.set()
        assert big.result().vectors.shape[0] == 10 and small.result().vectors.shape[0] == 1
        held.result()
    assert [len(p[0]) for p in rec.passes] == [1, 10, 1]
    assert rec.forwards == 1 + 3 + 1  # sentence-transformers splits the 10 texts into 4 + 4 + 2


@pytest.mark.filterwarnings("ignore::jina_embeddings.TruncationWarning")
def test_a_failing_check_fails_only_its_caller(qwen3: Path, recorder: Callable[..., Recorder]) -> None:
    rec = recorder(hold_first=True)
    strict = Embedder(qwen3, backend="local", dtype="float32", truncate=False)
    lenient = Embedder(qwen3, backend="local", dtype="float32")
    too_long = " ".join(["abcdefghij"] * 300)  # under the certain-token bound: the backend decides
    with ThreadPoolExecutor(4) as pool:
        held = pool.submit(lenient.embed_documents, ["hold"])
        _wait_until(rec.entered.is_set, "the first pass")
        ok1 = pool.submit(lenient.embed_documents, ["fine", "also fine"])
        _wait_until(lambda: _queued(rec.model) == 1, "caller 1")
        bad = pool.submit(strict.embed_documents, ["short", too_long])
        _wait_until(lambda: _queued(rec.model) == 2, "caller 2")
        ok2 = pool.submit(lenient.embed_documents, [too_long])  # truncated, not refused
        _wait_until(lambda: _queued(rec.model) == 3, "caller 3")
        rec.hold.set()
        with pytest.raises(InvalidInputError) as info:
            bad.result()
        assert info.value.index == 1
        assert ok1.result().vectors.shape[0] == 2
        assert ok2.result().truncated == 1
        held.result()
    assert [p[0] for p in rec.passes] == [["hold"], ["fine", "also fine", too_long]]


def test_an_error_of_the_pass_reaches_each_caller_of_that_pass(
    qwen3: Path, recorder: Callable[..., Recorder]
) -> None:
    rec = recorder(hold_first=True, fail=True)
    emb = Embedder(qwen3, backend="local", dtype="float32")
    with ThreadPoolExecutor(4) as pool:
        held = pool.submit(emb.embed_documents, ["hold"])
        _wait_until(rec.entered.is_set, "the first pass")
        futures = []
        for k in range(3):
            futures.append(pool.submit(emb.embed_documents, [f"t{k}"]))
            _wait_until(lambda k=k: _queued(rec.model) == k + 1, "the callers")
        rec.hold.set()
        errors = []
        for f in [held, *futures]:
            with pytest.raises(RuntimeError, match="simulated failure") as info:
                f.result()
            errors.append(info.value)
    assert len({id(e) for e in errors}) == 4  # each caller raises its own exception object
    rec.fail = False
    assert emb.embed_documents(["after"]).vectors.shape[0] == 1  # the model is usable again


def test_asyncio_callers_share_passes_and_keep_the_loop_free(
    qwen3: Path, recorder: Callable[..., Recorder]
) -> None:
    rec = recorder()
    emb = Embedder(qwen3, backend="local", dtype="float32")
    off = Embedder(qwen3, backend="local", dtype="float32", coalesce=False)
    queries = _texts(11, 64)

    async def main() -> tuple[list[np.ndarray], int]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.001)

        tick_task = asyncio.create_task(ticker())
        results = await asyncio.gather(*(emb.aembed_query(q) for q in queries))
        done.set()
        await tick_task
        return [r.vectors[0] for r in results], ticks

    got, ticks = asyncio.run(main())
    passes = list(rec.passes)
    assert ticks > 1  # the event loop kept running while the passes ran
    for q, v in zip(queries, got, strict=True):
        np.testing.assert_allclose(v, off.embed_query(q).vectors[0], atol=2e-6)
    assert sorted(t for p in passes for t in p[0]) == sorted(queries)
    assert len(passes) < 64 and max(len(p[0]) for p in passes) > 1


def test_a_cancelled_async_caller_is_dropped_without_failing_the_others(
    qwen3: Path, recorder: Callable[..., Recorder]
) -> None:
    rec = recorder(hold_first=True)
    emb = Embedder(qwen3, backend="local", dtype="float32")

    async def main() -> tuple[list[np.ndarray], bool]:
        held = asyncio.create_task(emb.aembed_documents(["hold"]))
        await asyncio.to_thread(_wait_until, rec.entered.is_set, "the first pass")
        keep1 = asyncio.create_task(emb.aembed_documents(["keep one"]))
        await asyncio.to_thread(_wait_until, lambda: _queued(rec.model) == 1, "keep1")
        gone = asyncio.create_task(emb.aembed_documents(["cancelled text"]))
        await asyncio.to_thread(_wait_until, lambda: _queued(rec.model) == 2, "gone")
        keep2 = asyncio.create_task(emb.aembed_documents(["keep two"]))
        await asyncio.to_thread(_wait_until, lambda: _queued(rec.model) == 3, "keep2")
        gone.cancel()
        try:
            await gone
            cancelled = False
        except asyncio.CancelledError:
            cancelled = True
        rec.hold.set()
        out = [(await t).vectors[0] for t in (held, keep1, keep2)]
        return out, cancelled

    got, cancelled = asyncio.run(main())
    assert cancelled and len(got) == 3
    assert [p[0] for p in rec.passes] == [["hold"], ["keep one", "keep two"]]


def test_wait_ms_gathers_callers_that_arrive_after_an_idle_start(
    qwen3: Path, recorder: Callable[..., Recorder]
) -> None:
    """With coalesce_wait_ms the first caller of an idle model waits for a second one (the pass
    is full at batch_size=2, so it starts then); without it, each starts alone."""
    rec = recorder()
    waiting = Embedder(qwen3, backend="local", dtype="float32", batch_size=2, coalesce_wait_ms=1000)
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(waiting.embed_documents, ["first"])
        _wait_until(lambda: _queued(rec.model) == 1, "the first caller to wait")
        b = pool.submit(waiting.embed_documents, ["second"])
        a.result()
        b.result()
    assert [p[0] for p in rec.passes] == [["first", "second"]]


@pytest.mark.parametrize("bad", [-1, 1001, float("nan"), True, "5"])
def test_coalesce_wait_ms_is_checked(qwen3: Path, bad: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        Embedder(qwen3, backend="local", coalesce_wait_ms=bad)
    assert info.value.field == "coalesce_wait_ms"


def test_coalesce_is_checked(qwen3: Path) -> None:
    with pytest.raises(InvalidInputError) as info:
        Embedder(qwen3, backend="local", coalesce="yes")
    assert info.value.field == "coalesce"
