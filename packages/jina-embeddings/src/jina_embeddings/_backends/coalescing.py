"""Concurrent callers of one loaded model share forward passes (``coalesce=True``).

Without it, 64 threads (or asyncio tasks) each embedding one query pay 64 forward passes of
one text each, one after the other under the model's lock. Here each call becomes a
:class:`Job` in the model's queue and one of the waiting callers, the *leader*, runs a pass
for the jobs at the head of the queue that share its :data:`GroupKey` (adapter, prompt,
batch size: everything that changes the forward pass), up to ``batch_size`` texts in
arrival order. Each caller gets exactly its own rows, in order.

Natural batching (``coalesce_wait_ms=0``, the default): a caller that finds the model idle
starts at once, alone, so a lone caller pays nothing; callers that arrive while a pass runs
are gathered into the next one. ``coalesce_wait_ms > 0`` makes the leader wait up to that
long for more callers before a pass that is not yet full (useful when callers arrive spread
out and passes are cheap, e.g. on a GPU).

There is no background thread: the leader is one of the callers' own threads (an ``aembed``
call's worker thread, so the event loop stays free). When its own job is done it hands the
lead on to a waiting caller. A job is never split; a job larger than ``batch_size`` runs in
a pass of its own (sentence-transformers batches it as usual).

Errors and cancellation stay per caller: a job whose check fails (a text too long with
``truncate=False``) fails alone before the pass; a cancelled caller's job is dropped before
its pass, or its rows are dropped after it, without failing the others. A pass is stopped
early only when every caller in it has gone. An error of the pass itself (an adapter that
does not load) reaches every caller of that pass, each with its own copy.

Bit-identity: a pass over several callers' texts is exactly one ``encode`` of their
concatenation. torch on CPU is not batch-invariant (a text's vector differs in the last bits
with its batch neighbours, in plain sentence-transformers too: up to 2e-7 in float32 for
MiniLM), so a coalesced caller's rows equal a lone call's to float rounding, and are
bit-identical to the same rows of that concatenated call; a caller that runs alone gets
exactly what ``coalesce=False`` gives.

Example::

    emb = Embedder("./my-model", backend="local")       # coalesce=True by default
    with ThreadPoolExecutor(64) as pool:                  # 64 callers, a handful of passes
        vectors = list(pool.map(lambda q: emb.embed_query(q).vectors[0], queries))
"""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

__all__ = ["AllCancelled", "CancelFlag", "Coalescer", "GroupKey", "Job", "PassCancelled", "coalesced_encode"]

#: What must be equal for two jobs to share a pass (adapter, prompt, batch size, ...).
GroupKey = Hashable


class CancelFlag(Protocol):
    """What the model's per-batch cancel hook reads: a ``threading.Event`` or :class:`AllCancelled`."""

    def is_set(self) -> bool: ...


class PassCancelled(Exception):
    """Raised to a caller whose job was dropped because the caller cancelled it."""


#: Runs one pass: ``(jobs, cancel flag) -> one outcome per job`` (a value, or an exception
#: instance for a job that fails alone). Raising fails every job of the pass.
PassRunner = Callable[[Sequence["Job"], Any], Sequence[Any]]


@dataclass(eq=False)
class Job:
    """One caller's texts and, once its pass is done, its outcome.

    Attributes:
        items: the caller's inputs, in order.
        key: the :data:`GroupKey`; only jobs with equal keys share a pass.
        limit: the most inputs a pass may hold (the caller's ``batch_size``).
        wait_s: how long a leader may wait for more jobs before a pass that is not full.
        cancel: set by the caller when it goes away (an abandoned ``aembed``).
        check: the caller's own check of its items, run by whichever leader runs the pass.
        run: runs a pass of this job's group (see :data:`PassRunner`); a leader runs the
            head job's ``run``, never its own, since the head may be of another group.
    """

    items: Sequence[Any]
    key: GroupKey
    limit: int
    wait_s: float = 0.0
    cancel: threading.Event | None = None
    check: Callable[[Sequence[Any]], Any] | None = None
    run: PassRunner | None = None
    result: Any = None
    error: BaseException | None = None
    done: bool = False
    started: bool = False
    arrived: float = field(default_factory=time.monotonic)

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()


class AllCancelled:
    """An ``is_set()`` flag that is true once every job of a pass is cancelled.

    Handed to the model's per-batch cancel hook in place of one caller's event, so one
    caller going away never stops the pass of the others.
    """

    __slots__ = ("_jobs",)

    def __init__(self, jobs: Sequence[Job]) -> None:
        self._jobs = tuple(jobs)

    def is_set(self) -> bool:
        return all(job.cancelled for job in self._jobs)


class Coalescer:
    """The queue of one loaded model; see the module docstring.

    Attributes:
        passes: passes run so far (for tests and benchmarks).
    """

    def __init__(self) -> None:
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # waiters: a pass ended
        self._arrivals = threading.Condition(lock)  # a leader waiting for more jobs (wait_s)
        self._queue: deque[Job] = deque()
        self._leading = False
        self.passes = 0

    def submit(self, job: Job) -> Any:
        """Queue ``job``, take part in leading until it is done, return its result.

        Raises:
            PassCancelled: the job was cancelled before its pass ran, or during it.
            BaseException: what the pass (or this job's own check) raised.
        """
        with self._cond:
            self._queue.append(job)
            self._arrivals.notify()
            while not job.done:
                if not self._leading:
                    self._leading = True
                    batch = self._take(job)
                    self._cond.release()
                    try:
                        self._run(batch)
                    finally:
                        self._cond.acquire()
                        self._leading = False
                        self._cond.notify_all()
                elif job.cancelled and not job.started:
                    self._drop(job)
                else:
                    # Woken when a pass ends; the timeout bounds how late a cancelled
                    # waiter notices that it can leave.
                    self._cond.wait(timeout=0.05)
        if job.error is not None:
            raise job.error
        return job.result

    # -- inside the condition's lock ---------------------------------------------------
    def _drop(self, job: Job) -> None:
        self._queue.remove(job)
        job.error = PassCancelled()
        job.done = True

    def _take(self, leader: Job) -> list[Job]:
        """The next pass: head job's group, FIFO, up to its limit (waits ``wait_s`` if asked)."""
        for job in [j for j in self._queue if j.cancelled]:
            self._drop(job)
        if not self._queue:
            return []
        head = self._queue[0]
        if head.wait_s > 0:
            deadline = head.arrived + head.wait_s
            while self._size(head) < head.limit and not head.cancelled:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrivals.wait(timeout=left)
        batch: list[Job] = []
        total = 0
        for job in list(self._queue):
            if job.key != head.key or job.cancelled:
                continue
            if batch and total + len(job.items) > head.limit:
                break
            batch.append(job)
            total += len(job.items)
        for job in batch:
            self._queue.remove(job)
            job.started = True
        return batch

    def _size(self, head: Job) -> int:
        return sum(len(j.items) for j in self._queue if j.key == head.key)

    # -- outside the lock ----------------------------------------------------------------
    def _run(self, batch: list[Job]) -> None:
        if not batch:
            return
        self.passes += 1
        run = batch[0].run
        try:
            if run is None:
                raise RuntimeError("a coalesced job without a pass runner")  # a bug, never input
            outcomes = run(batch, batch[0].cancel if len(batch) == 1 else AllCancelled(batch))
        except BaseException as exc:  # every job of the pass gets the error, each its own copy
            outcomes = [exc] + [_copy_error(exc) for _ in batch[1:]]
        with self._cond:
            for job, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    job.error = outcome
                elif job.cancelled:
                    job.error = PassCancelled()
                else:
                    job.result = outcome
                job.done = True


def _copy_error(exc: BaseException) -> BaseException:
    """A copy of ``exc`` (same type, message and fields) caused by it: raising one exception
    object from several threads at once would mix their tracebacks."""
    try:
        dup = copy.copy(exc)
    except Exception:
        return exc
    dup.__cause__ = exc
    dup.__traceback__ = None
    return dup


_REGISTRY_LOCK = threading.Lock()


def coalescer_of(owner: Any) -> Coalescer:
    """The :class:`Coalescer` attached to ``owner`` (a loaded model), created on first use."""
    found = getattr(owner, "_coalescer", None)
    if found is None:
        with _REGISTRY_LOCK:
            found = getattr(owner, "_coalescer", None)
            if found is None:
                found = Coalescer()
                owner._coalescer = found
    return found


def coalesced_encode(
    model: Any,
    texts: Sequence[Any],
    *,
    key: GroupKey,
    limit: int,
    wait_s: float,
    cancel: threading.Event | None,
    check: Callable[[Sequence[Any]], Any],
    encode: Callable[[Sequence[Any], CancelFlag | None], np.ndarray],
) -> tuple[np.ndarray, Any]:
    """Embed ``texts`` in a pass shared with the other callers of ``model`` that have ``key``.

    ``check(texts)`` runs under ``model.lock`` before the pass, once per caller (its result, or
    its exception, is that caller's alone); ``encode(all_texts, cancel_flag)`` runs the pass
    under ``model.lock`` (callers with equal ``key`` run the same pass, so whichever leader's
    ``encode`` runs it gives the same result). Returns ``(this caller's rows, its check result)``.
    """

    def run(jobs: Sequence[Job], flag: CancelFlag | None) -> list[Any]:
        outcomes: list[Any] = [None] * len(jobs)
        with model.lock:
            ready: list[int] = []
            for i, one in enumerate(jobs):
                try:  # each caller's own check (its truncate setting, its error)
                    outcomes[i] = one.check(one.items) if one.check is not None else None
                    ready.append(i)
                except Exception as exc:
                    outcomes[i] = exc
            if ready:
                rows = encode([t for i in ready for t in jobs[i].items], flag)
                start = 0
                for i in ready:
                    n = len(jobs[i].items)
                    outcomes[i] = (rows[start : start + n], outcomes[i])
                    start += n
        return outcomes

    job = Job(items=texts, key=key, limit=limit, wait_s=wait_s, cancel=cancel, check=check, run=run)
    result: tuple[np.ndarray, Any] = coalescer_of(model).submit(job)
    return result
