"""Prometheus metrics in the text exposition format, with no client library.

Counters and histograms keyed by label values; updating one is a dict lookup and an add, so
metrics cost nothing measurable per request. Exposed at ``GET /metrics``.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from reflectlab.model import CallEvent

__all__ = ["Metrics"]

Labels = tuple[tuple[str, str], ...]

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _fmt_labels(labels: Labels, extra: Labels = ()) -> str:
    items = (*labels, *extra)
    if not items:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in items) + "}"


class Counter:
    def __init__(self, name: str, help: str) -> None:
        self.name, self.help = name, help
        self.values: dict[Labels, float] = defaultdict(float)

    def inc(self, labels: Labels = (), by: float = 1.0) -> None:
        self.values[labels] += by

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        out += [f"{self.name}{_fmt_labels(k)} {v:g}" for k, v in sorted(self.values.items())]
        return out


class Gauge(Counter):
    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge"]
        out += [f"{self.name}{_fmt_labels(k)} {v:g}" for k, v in sorted(self.values.items())]
        return out


class Histogram:
    def __init__(self, name: str, help: str, buckets: tuple[float, ...] = _LATENCY_BUCKETS):
        self.name, self.help, self.buckets = name, help, buckets
        self.counts: dict[Labels, list[int]] = {}
        self.sums: dict[Labels, float] = defaultdict(float)

    def observe(self, value: float, labels: Labels = ()) -> None:
        counts = self.counts.get(labels)
        if counts is None:
            counts = self.counts[labels] = [0] * (len(self.buckets) + 1)
        counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sums[labels] += value

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for labels, counts in sorted(self.counts.items()):
            running = 0
            for bound, c in zip((*self.buckets, float("inf")), counts, strict=True):
                running += c
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                out.append(f"{self.name}_bucket{_fmt_labels(labels, (('le', le),))} {running}")
            out.append(f"{self.name}_sum{_fmt_labels(labels)} {self.sums[labels]:g}")
            out.append(f"{self.name}_count{_fmt_labels(labels)} {running}")
        return out


class Metrics:
    """Everything ``/metrics`` reports, per strategy."""

    def __init__(self) -> None:
        p = "reflectlab_proxy"
        self.requests = Counter(f"{p}_requests_total", "Chat requests answered, by status.")
        self.calls = Counter(f"{p}_upstream_calls_total", "Internal model calls, by role.")
        self.tokens = Counter(f"{p}_tokens_total", "Tokens of internal calls, by kind.")
        self.cost = Counter(f"{p}_cost_usd_total", "Cost of internal calls in USD.")
        self.errors = Counter(f"{p}_errors_total", "Errors answered or hit, by kind.")
        self.in_flight = Gauge(f"{p}_requests_in_flight", "Chat requests being served.")
        self.latency = Histogram(f"{p}_request_duration_seconds", "Chat request latency.")
        self.call_latency = Histogram(
            f"{p}_upstream_call_duration_seconds", "Internal model call latency."
        )
        self.in_flight.inc((), 0)

    def request(self, strategy: str, status: int, seconds: float) -> None:
        s = (("strategy", strategy),)
        self.requests.inc((*s, ("status", str(status))))
        self.latency.observe(seconds, s)

    def error(self, strategy: str, kind: str) -> None:
        self.errors.inc((("strategy", strategy), ("kind", kind)))

    def call(self, strategy: str, event: CallEvent) -> None:
        s = (("strategy", strategy),)
        if event.error is not None:
            self.error(strategy, f"upstream_{event.error_type or 'error'}")
            return
        self.calls.inc((*s, ("role", event.role)))
        u = event.usage
        self.tokens.inc((*s, ("kind", "prompt")), u.prompt_tokens)
        self.tokens.inc((*s, ("kind", "completion")), u.completion_tokens)
        if u.cached_tokens:
            self.tokens.inc((*s, ("kind", "cached")), u.cached_tokens)
        if u.cost_usd:
            self.cost.inc(s, u.cost_usd)
        self.call_latency.observe(event.latency_s, s)

    def render(self) -> str:
        lines: list[str] = []
        for m in (
            self.requests,
            self.calls,
            self.tokens,
            self.cost,
            self.errors,
            self.in_flight,
            self.latency,
            self.call_latency,
        ):
            lines += m.render()
        return "\n".join(lines) + "\n"
