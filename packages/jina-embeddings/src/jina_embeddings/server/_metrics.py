"""``GET /metrics``: counters, gauges and histograms in the Prometheus text format, by hand.

No client library: the format is a few lines of text (``# HELP``, ``# TYPE``, then
``name{labels} value``; histograms as cumulative ``_bucket{le=...}``, ``_sum``, ``_count``).
Everything is updated on the event loop or under one lock, so a scrape is consistent.

Series (all prefixed ``jina_serve_``):

* ``requests_total{route,status}``: answered requests (429s and errors included).
* ``inputs_total{route}``: texts embedded / documents reranked.
* ``request_inputs{route}`` (histogram): inputs per request.
* ``forward_passes_total``: forward passes of the embedding model (the local backend's
  coalesced passes; one per request with batching off), so
  ``rate(inputs_total{route="embeddings"}) / rate(forward_passes_total)`` is the mean batch size.
* ``queue_depth`` / ``queue_capacity`` (gauges): inputs admitted now / at most.
* ``requests_in_flight`` (gauge); ``request_duration_seconds{route}`` (histogram).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable

__all__ = ["Histogram", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + body + "}" if body else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Histogram:
    """Cumulative buckets plus sum and count (one series per label set)."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str, labels: tuple[tuple[str, str], ...]) -> list[str]:
        out = [
            f"{name}_bucket{_labels((*labels, ('le', _number(b))))} {c}"
            for b, c in zip(self.buckets, self.counts, strict=True)
        ]
        out.append(f"{name}_bucket{_labels((*labels, ('le', '+Inf')))} {self.count}")
        out.append(f"{name}_sum{_labels(labels)} {_number(self.total)}")
        out.append(f"{name}_count{_labels(labels)} {self.count}")
        return out


class Metrics:
    """What ``/metrics`` reports; see the module docstring."""

    def __init__(self, queue_capacity: int) -> None:
        self._lock = threading.Lock()
        self.queue_capacity = queue_capacity
        self.queue_depth = 0
        self.in_flight = 0
        self.requests: dict[tuple[str, str], int] = defaultdict(int)
        self.inputs: dict[str, int] = defaultdict(int)
        self.request_inputs: dict[str, Histogram] = {}
        self.latency: dict[str, Histogram] = {}
        self.passes: Callable[[], int] = lambda: 0

    def answered(self, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, str(status))] += 1
            self.latency.setdefault(route, Histogram(_LATENCY_BUCKETS)).observe(seconds)

    def admitted(self, route: str, count: int) -> None:
        with self._lock:
            self.inputs[route] += count
            self.request_inputs.setdefault(route, Histogram(_SIZE_BUCKETS)).observe(count)

    def count(self, route: str, status: int) -> int:
        with self._lock:
            return self.requests.get((route, str(status)), 0)

    def render(self) -> str:
        """The exposition text (``text/plain; version=0.0.4``)."""
        p = "jina_serve_"
        with self._lock:
            lines = [
                f"# HELP {p}requests_total Requests answered, by route and HTTP status.",
                f"# TYPE {p}requests_total counter",
            ]
            lines += [
                f"{p}requests_total{_labels((('route', r), ('status', s)))} {n}"
                for (r, s), n in sorted(self.requests.items())
            ]
            lines += [
                f"# HELP {p}inputs_total Inputs (texts, rerank documents) admitted, by route.",
                f"# TYPE {p}inputs_total counter",
            ]
            lines += [
                f"{p}inputs_total{_labels((('route', r),))} {n}" for r, n in sorted(self.inputs.items())
            ]
            lines += [
                f"# HELP {p}request_inputs Inputs per admitted request.",
                f"# TYPE {p}request_inputs histogram",
            ]
            for r, h in sorted(self.request_inputs.items()):
                lines += h.lines(f"{p}request_inputs", (("route", r),))
            lines += [
                f"# HELP {p}forward_passes_total Forward passes of the embedding model (batches).",
                f"# TYPE {p}forward_passes_total counter",
                f"{p}forward_passes_total {self.passes()}",
                f"# HELP {p}queue_depth Inputs admitted and not yet answered.",
                f"# TYPE {p}queue_depth gauge",
                f"{p}queue_depth {self.queue_depth}",
                f"# HELP {p}queue_capacity Inputs admitted at most (more gets 429).",
                f"# TYPE {p}queue_capacity gauge",
                f"{p}queue_capacity {self.queue_capacity}",
                f"# HELP {p}requests_in_flight Requests being handled.",
                f"# TYPE {p}requests_in_flight gauge",
                f"{p}requests_in_flight {self.in_flight}",
                f"# HELP {p}request_duration_seconds Time from request to response, by route.",
                f"# TYPE {p}request_duration_seconds histogram",
            ]
            for r, h in sorted(self.latency.items()):
                lines += h.lines(f"{p}request_duration_seconds", (("route", r),))
        return "\n".join(lines) + "\n"
