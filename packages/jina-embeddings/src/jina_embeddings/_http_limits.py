"""What one Embedder shares across all its calls: the concurrency bound and the rate governor.

* :class:`Slots` is ``max_concurrency``: one counter for sync threads and async tasks of any
  number of event loops together, first come first served. A request holds its slot until
  its socket is closed, even when it was abandoned (cancelled or interrupted).
* :class:`RateGovernor` paces every request of the Embedder, not each batch on its own: a 429
  with ``Retry-After`` holds back all of them until the window opens; ``X-RateLimit-Remaining-*``
  headers stop new requests before the window is spent; ``requests_per_minute`` /
  ``tokens_per_minute`` pace servers that send no headers. Waiting here is bounded by
  ``max_rate_limit_wait`` (per request), not by ``max_retries``.

Both are thread-safe, never block an event loop (async callers poll in short sleeps) and
take their clock as an argument, so tests can drive them without sleeping.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import threading
import time
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import _constants as C
from ._http_policy import RateInfo, RetryPolicy, parse_rate_headers

__all__ = ["RateGovernor", "Slots", "Ticket"]


# -- the concurrency bound -------------------------------------------------------------------
class _Waiter:
    """One queued acquirer: a thread (event) or a task (future on its loop)."""

    __slots__ = ("event", "future", "granted", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop
        self.event = threading.Event() if loop is None else None
        self.future: asyncio.Future[None] | None = loop.create_future() if loop is not None else None
        self.granted = False

    def grant(self) -> bool:
        """Hand the slot over (called under the lock); ``False`` if this waiter is gone."""
        if self.event is not None:
            self.granted = True
            self.event.set()
            return True
        if self.loop is None or self.future is None or self.loop.is_closed():
            return False
        try:
            self.loop.call_soon_threadsafe(_resolve, self.future)
        except RuntimeError:  # the loop closed meanwhile
            return False
        self.granted = True
        return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Slots:
    """``n`` slots shared by threads and event loops; waiters are served in arrival order.

    ``acquire`` / ``aacquire`` take ``expired`` (a callable raising when the caller must stop
    waiting: call deadline passed, call cancelled); they look at it every ``IO_SLICE``.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self._free = n
        self._lock = threading.Lock()
        self._waiters: collections.deque[_Waiter] = collections.deque()

    @property
    def in_use(self) -> int:
        with self._lock:
            return self.n - self._free

    def _take(self) -> bool:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                if self._waiters.popleft().grant():
                    return
            self._free += 1

    def acquire(self, expired: Callable[[], None]) -> None:
        with self._lock:
            if self._take():
                return
            waiter = _Waiter()
            self._waiters.append(waiter)
        event = typing.cast(threading.Event, waiter.event)  # a sync waiter always has one
        try:
            while not event.wait(C.IO_SLICE):
                expired()
        except BaseException:
            self._abandon(waiter)
            raise

    async def aacquire(self, expired: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._take():
                return
            waiter = _Waiter(loop)
            self._waiters.append(waiter)
        future = typing.cast("asyncio.Future[None]", waiter.future)  # an async waiter always has one
        try:
            while True:
                await asyncio.wait({future}, timeout=C.IO_SLICE)
                with self._lock:
                    if waiter.granted:
                        return
                expired()
        except BaseException:
            self._abandon(waiter)
            raise

    def _abandon(self, waiter: _Waiter) -> None:
        """A waiter gives up: leave the queue, or pass on a slot it was granted meanwhile."""
        with self._lock:
            granted = waiter.granted
            if not granted:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
        if granted:
            self.release()


# -- the rate governor -----------------------------------------------------------------------
@dataclass
class Ticket:
    """A request the governor let go: its place in the send order and its estimated cost."""

    seq: int
    tokens: int
    chars: int


@dataclass
class _Snapshot:
    """The server's budget as of the response to request ``seq``."""

    seq: int
    info: RateInfo
    requests_reset_at: float | None
    tokens_reset_at: float | None


def _same_window(old: _Snapshot, new: _Snapshot) -> str:
    """``newer``, ``older``, ``same`` (by reset times, when both have one) or ``unknown``."""
    for a, b in ((old.tokens_reset_at, new.tokens_reset_at), (old.requests_reset_at, new.requests_reset_at)):
        if a is not None and b is not None:
            if b > a + _SAME_RESET:
                return "newer"
            if b < a - _SAME_RESET:
                return "older"
            return "same"
    return "unknown"


def _more_left(new: _Snapshot, old: _Snapshot) -> bool:
    pairs = ((new.info.tokens_left, old.info.tokens_left), (new.info.requests_left, old.info.requests_left))
    return any(a is not None and b is not None and a > b for a, b in pairs)


def _lowest(a: RateInfo, b: RateInfo) -> RateInfo:
    def low(x: int | None, y: int | None) -> int | None:
        return y if x is None else x if y is None else min(x, y)

    return RateInfo(
        requests_left=low(a.requests_left, b.requests_left),
        tokens_left=low(a.tokens_left, b.tokens_left),
        requests_limit=a.requests_limit or b.requests_limit,
        tokens_limit=a.tokens_limit or b.tokens_limit,
        requests_reset=b.requests_reset,
        tokens_reset=b.tokens_reset,
    )


#: Reset times this close (seconds) describe the same window.
_SAME_RESET = 0.02


class RateGovernor:
    """Paces all requests of one client by the server's rate windows and the client's limits.

    Args:
        requests_per_minute, tokens_per_minute: client-side limits over a sliding
            ``RATE_WINDOW`` (``None``: none).
        clock: monotonic seconds; ``wall``: Unix seconds (for ``Retry-After`` dates).

    :meth:`admit` says whether a request may go now (and reserves its cost) or how long to
    wait; :meth:`launch` confirms it just before it is sent; :meth:`settle` feeds back each response's headers and usage; :meth:`rate_limited`
    a 429's wait, which holds back every request.

    Tokens are estimated as characters / ``CHARS_PER_TOKEN`` until the server has reported
    ``usage``; then as characters times the server's own tokens-per-character ratio so far.
    """

    def __init__(
        self,
        *,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.rpm, self.tpm = requests_per_minute, tokens_per_minute
        self.clock, self.wall = clock, wall
        self._lock = threading.Lock()
        self._blocked_until = 0.0
        self._strikes = 0
        self._seq = 0
        self._inflight: dict[int, Ticket] = {}
        self._snap: _Snapshot | None = None
        self._log: collections.deque[list[float]] = collections.deque()  # [time, tokens, seq]
        self._chars_seen = 0
        self._tokens_seen = 0
        self.last_code: str | None = None

    # -- estimates --------------------------------------------------------------------------
    def estimate(self, chars: int) -> int:
        with self._lock:
            return self._estimate(chars)

    def _estimate(self, chars: int) -> int:
        if self._tokens_seen and self._chars_seen:
            return max(1, math.ceil(chars * self._tokens_seen / self._chars_seen))
        return max(1, math.ceil(chars / C.CHARS_PER_TOKEN))

    # -- before a request -------------------------------------------------------------------
    def admit(self, chars: int) -> tuple[Ticket | None, float | None]:
        """``(ticket, 0.0)``: send now; ``(None, seconds)``: wait that long; ``(None, None)``:
        wait for a response in flight (the server's next headers say more)."""
        with self._lock:
            now = self.clock()
            tokens = self._estimate(chars)
            wait = self._wait(now, tokens)
            if wait is not None and wait <= 0:
                self._seq += 1
                ticket = Ticket(self._seq, tokens, chars)
                self._inflight[ticket.seq] = ticket
                if self.rpm or self.tpm:
                    self._log.append([now, float(tokens), float(ticket.seq)])
                return ticket, 0.0
            return None, wait

    def launch(self, ticket: Ticket) -> bool:
        """The request is about to go on the wire (it holds a connection slot now): ``False`` if a
        429 meanwhile closed the window (the caller waits again). Its place in the send order is
        taken here, so that the server's headers are matched to the requests sent after them."""
        with self._lock:
            now = self.clock()
            if now < self._blocked_until:
                self._inflight.pop(ticket.seq, None)
                self._drop_log(ticket.seq)
                return False
            old = ticket.seq
            self._inflight.pop(old, None)
            self._seq += 1
            ticket.seq = self._seq
            self._inflight[ticket.seq] = ticket
            for entry in self._log:  # the client's own window counts from the send, not the wait
                if entry[2] == old:
                    entry[0], entry[2] = now, float(ticket.seq)
                    break
            return True

    def _drop_log(self, seq: int) -> None:
        for entry in self._log:
            if entry[2] == seq:
                self._log.remove(entry)
                break

    def _wait(self, now: float, tokens: int) -> float | None:
        if now < self._blocked_until:
            return self._blocked_until - now
        self._roll(now)
        waits = [self._client_wait(now, tokens), *self._server_wait(now, tokens)]
        if None in waits:
            return None
        return max(w for w in waits if w is not None)

    def _roll(self, now: float) -> None:
        """When the window the snapshot describes is over, a new one starts with the full limits
        the server announced (not with "unknown": that would send every worker at once)."""
        snap = self._snap
        if snap is None:
            return
        resets = [r for r in (snap.tokens_reset_at, snap.requests_reset_at) if r is not None]
        if not resets or max(resets) > now:
            return
        info = snap.info
        if info.tokens_limit is None and info.requests_limit is None:
            self._snap = None
            return
        fresh = RateInfo(
            requests_left=info.requests_limit,
            tokens_left=info.tokens_limit,
            requests_limit=info.requests_limit,
            tokens_limit=info.tokens_limit,
        )
        self._snap = _Snapshot(self._seq, fresh, None, None)

    def _client_wait(self, now: float, tokens: int) -> float:
        if not (self.rpm or self.tpm):
            return 0.0
        window = C.RATE_WINDOW * (1 + C.RATE_GUARD)  # a little longer: the server's clock starts later
        while self._log and self._log[0][0] <= now - window:
            self._log.popleft()
        wait = 0.0
        if self.rpm and len(self._log) >= self.rpm:
            wait = self._log[len(self._log) - self.rpm][0] + window - now
        if self.tpm and self._log:
            spent = sum(e[1] for e in self._log)
            if spent + tokens > self.tpm:
                freed = 0.0
                for entry in self._log:  # oldest first: when will enough have aged out?
                    freed += entry[1]
                    if spent - freed + tokens <= self.tpm:
                        wait = max(wait, entry[0] + window - now)
                        break
                else:
                    wait = max(wait, self._log[-1][0] + window - now)
        return max(wait, 0.0)

    def _server_wait(self, now: float, tokens: int) -> list[float | None]:
        snap = self._snap
        if snap is None:
            return []
        info = snap.info
        waits: list[float | None] = []
        newer = [t for seq, t in self._inflight.items() if seq > snap.seq]
        checks = (  # (left, needed with the newer requests, this one's own cost, limit, reset)
            (
                info.tokens_left,
                sum(t.tokens for t in newer) + tokens,
                tokens,
                info.tokens_limit,
                snap.tokens_reset_at,
            ),
            (info.requests_left, len(newer) + 1, 1, info.requests_limit, snap.requests_reset_at),
        )
        for left, need, own, limit, reset_at in checks:
            if left is None or left >= need:
                continue
            if reset_at is not None and now >= reset_at:
                continue  # that window is over
            if limit is not None and own > limit:
                continue  # can never fit in a window: let the server decide
            if reset_at is not None:
                waits.append(reset_at - now)
            elif self._inflight:
                waits.append(None)  # a response in flight will say more
            # else: nothing in flight: this request goes as a probe (200, or 429 + Retry-After)
        return waits

    # -- after a response -------------------------------------------------------------------
    def settle(
        self,
        ticket: Ticket,
        headers: Mapping[str, str] | None,
        *,
        ok: bool = False,
        tokens: int | None = None,
    ) -> None:
        """A request is over (answered, failed or abandoned): release its reservation and learn
        from its headers (remaining budget) and ``usage`` (tokens per character)."""
        with self._lock:
            self._inflight.pop(ticket.seq, None)
            if ok:
                self._strikes = 0
                if tokens is not None and tokens > 0 and ticket.chars > 0:
                    self._chars_seen += ticket.chars
                    self._tokens_seen += tokens
                    if self.tpm:
                        for entry in self._log:
                            if entry[2] == ticket.seq:
                                entry[1] = float(tokens)
                                break
            if headers:
                self._learn(ticket.seq, headers)

    def _learn(self, seq: int, headers: Mapping[str, str]) -> None:
        """Merge a response's budget into the snapshot. Within one window the budget only
        shrinks, so the lowest report wins, whatever order the responses arrive in (requests
        sent together may reach the server in either order); a later window replaces it."""
        info = parse_rate_headers(headers, self.wall())
        if not info.known:
            return
        now = self.clock()
        new = _Snapshot(
            seq,
            info,
            None if info.requests_reset is None else now + info.requests_reset,
            None if info.tokens_reset is None else now + info.tokens_reset,
        )
        old = self._snap
        if old is None:
            self._snap = new
            return
        window = _same_window(old, new)
        if window == "newer" or (window == "unknown" and seq > old.seq and _more_left(new, old)):
            self._snap = new
            return
        if window == "older" or (window == "unknown" and seq < old.seq and _more_left(new, old)):
            return  # a report from a window that is over
        self._snap = _Snapshot(
            max(seq, old.seq),
            _lowest(old.info, info),
            old.requests_reset_at or new.requests_reset_at,
            old.tokens_reset_at or new.tokens_reset_at,
        )

    def rate_limited(
        self, ticket: Ticket, hint: float | None, headers: Mapping[str, str], code: str | None
    ) -> float:
        """A 429 rate window: every request waits until it opens. Returns the wait in seconds
        (the server's hint, else a backoff that grows with consecutive 429s)."""
        with self._lock:
            self._inflight.pop(ticket.seq, None)
            wait = hint if hint is not None and hint > 0 else RetryPolicy().backoff(self._strikes)
            self._strikes += 1
            self.last_code = code
            now = self.clock()
            self._blocked_until = max(self._blocked_until, now + wait)
            self._learn(ticket.seq, headers)
            if self._snap is not None:  # the budget it describes ends when the window opens
                snap = self._snap
                snap.tokens_reset_at = snap.tokens_reset_at or self._blocked_until
                snap.requests_reset_at = snap.requests_reset_at or self._blocked_until
            return wait

    def forget(self, ticket: Ticket) -> None:
        """A request is over without a response to learn from (or was never sent)."""
        with self._lock:
            self._inflight.pop(ticket.seq, None)

    def state(self) -> dict[str, Any]:
        """For tests and DEBUG logs: what the governor believes now."""
        with self._lock:
            return {
                "blocked_for": max(0.0, self._blocked_until - self.clock()),
                "in_flight": len(self._inflight),
                "snapshot": None if self._snap is None else self._snap.info,
                "tokens_per_char": (self._tokens_seen / self._chars_seen) if self._chars_seen else None,
            }
