"""Metrics published as one JSON object over HTTP, in the manner of Go's ``expvar``.

A `Vars` holds named counters, gauges and histograms and serves their current
values as JSON from an ASGI app (conventionally mounted at ``/debug/vars``): handy
for a glance with ``curl`` or for a simple poller, with no dependency at all. It is
an object you make in ``main`` and pass around, never a process-wide global as in
Go. Like Go kit's ``metrics/expvar``, every metric is one-dimensional: ``labels``
and ``with_`` return the same metric. A histogram publishes one value per quantile,
``<name>.p50``, ``<name>.p90``, ``<name>.p95`` and ``<name>.p99`` by default,
estimated by `pygokit.metrics.quantiles.Quantiles`. Go kit recomputes them on every
observation; here they are computed when the values are read, so ``observe`` stays
an append.

Example::

    debug_vars = Vars()
    requests = debug_vars.counter("requests")
    duration = debug_vars.histogram("request_duration_seconds")
    requests.add(1)
    duration.observe(0.012)
    app = debug_vars.app()  # mount it at /debug/vars
    # {"request_duration_seconds.p50": 0.012, ..., "requests": 1.0}
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from typing import Self, TypeVar

from pygokit._asgi import ASGIApp, Receive, Scope, Send, answer_lifespan, refuse_unless_get, respond
from pygokit.metrics.quantiles import Quantiles

__all__ = ["QUANTILES", "Counter", "Gauge", "Histogram", "Vars"]

QUANTILES = (0.50, 0.90, 0.95, 0.99)
"""The quantiles a histogram publishes unless told otherwise (Go kit's p50 to p99)."""


class _OneDimensional:
    """``labels`` and ``with_`` for metrics with no dimensions: both return the metric."""

    __slots__ = ()

    def labels(self, **label_values: str) -> Self:
        """Return this metric unchanged: expvar metrics have no labels."""
        return self

    def with_(self, *label_values: str) -> Self:
        """Return this metric unchanged: expvar metrics have no labels."""
        return self


class Counter(_OneDimensional):
    """A published total; made by `Vars.counter`."""

    __slots__ = ("_lock", "_value", "name")

    def __init__(self, name: str) -> None:
        """Make an unpublished metric; `Vars` makes published ones."""
        self.name = name
        self._value = 0.0
        self._lock = threading.Lock()

    def add(self, delta: float, /) -> None:
        """Add *delta* to the total."""
        with self._lock:
            self._value += delta

    def value(self) -> float:
        """The total so far."""
        return self._value

    def __repr__(self) -> str:
        return f"expvar.Counter({self.name!r}, value={self._value})"


class Gauge(_OneDimensional):
    """A published value that goes up and down; made by `Vars.gauge`."""

    __slots__ = ("_lock", "_value", "name")

    def __init__(self, name: str) -> None:
        """Make an unpublished metric; `Vars` makes published ones."""
        self.name = name
        self._value = 0.0
        self._lock = threading.Lock()

    def set(self, value: float, /) -> None:
        """Set the gauge to *value*."""
        self._value = value  # one store: atomic, no lock needed

    def add(self, delta: float, /) -> None:
        """Change the gauge by *delta*."""
        with self._lock:
            self._value += delta

    def value(self) -> float:
        """The current value."""
        return self._value

    def __repr__(self) -> str:
        return f"expvar.Gauge({self.name!r}, value={self._value})"


class Histogram(_OneDimensional):
    """Observations published as quantile estimates; made by `Vars.histogram`.

    Each quantile *q* is published as ``<name>.p<100q>`` (0.5 as ``.p50``, 0.999 as
    ``.p99.9``). Before the first observation every estimate is NaN (null in JSON).
    """

    __slots__ = ("_lock", "_quantiles", "name", "quantiles")

    def __init__(self, name: str, quantiles: Sequence[float] = QUANTILES) -> None:
        """Make an unpublished histogram; ValueError for a quantile outside [0, 1]."""
        for q in quantiles:
            if not 0.0 <= q <= 1.0:
                raise ValueError(f"histogram {name!r}: quantile must be in [0, 1], got {q!r}")
        self.name = name
        self.quantiles = tuple(quantiles)
        self._quantiles = Quantiles()
        self._lock = threading.Lock()

    def observe(self, value: float, /) -> None:
        """Record one observation."""
        with self._lock:
            self._quantiles.add(value)

    def values(self) -> dict[str, float]:
        """The published name and current estimate of each quantile."""
        with self._lock:
            return {
                _quantile_name(self.name, q): self._quantiles.quantile(q) for q in self.quantiles
            }

    def __repr__(self) -> str:
        return f"expvar.Histogram({self.name!r}, quantiles={self.quantiles})"


def _quantile_name(name: str, q: float) -> str:
    return f"{name}.p{q * 100:g}"


_M = TypeVar("_M", "Counter", "Gauge", "Histogram")


class Vars:
    """A set of published metrics with unique names, served as JSON by `app`.

    Thread-safe: metrics can be made and updated from any thread or task.
    """

    __slots__ = ("_lock", "_metrics", "_names")

    def __init__(self) -> None:
        """Start with nothing published."""
        self._lock = threading.Lock()
        self._metrics: list[Counter | Gauge | Histogram] = []
        self._names: set[str] = set()

    def counter(self, name: str) -> Counter:
        """Publish a new counter as *name*; ValueError if the name is taken."""
        return self._publish(Counter(name), [name])

    def gauge(self, name: str) -> Gauge:
        """Publish a new gauge as *name*; ValueError if the name is taken."""
        return self._publish(Gauge(name), [name])

    def histogram(self, name: str, quantiles: Sequence[float] = QUANTILES) -> Histogram:
        """Publish a new histogram as ``<name>.p<q>`` for each of *quantiles*.

        ValueError if a quantile is outside [0, 1] or a published name is taken.
        """
        histogram = Histogram(name, quantiles)
        return self._publish(histogram, [_quantile_name(name, q) for q in histogram.quantiles])

    def snapshot(self) -> dict[str, float]:
        """Every published name and its current value, sorted by name."""
        with self._lock:
            metrics = list(self._metrics)
        values: dict[str, float] = {}
        for metric in metrics:
            if isinstance(metric, Histogram):
                values.update(metric.values())
            else:
                values[metric.name] = metric.value()
        return dict(sorted(values.items()))

    def to_json(self) -> bytes:
        """`snapshot` as a JSON object, one name per line; NaN and infinities are null."""
        values = {k: v if math.isfinite(v) else None for k, v in self.snapshot().items()}
        return json.dumps(values, indent=0, allow_nan=False).encode()

    def app(self) -> ASGIApp:
        """An ASGI app that serves `to_json` at whatever path it is mounted.

        GET answers 200 with ``application/json``, HEAD the same headers without a
        body, other methods 405. The lifespan protocol is answered, so the app can
        be served on its own.
        """

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "lifespan":
                await answer_lifespan(receive, send)
                return
            if scope["type"] != "http" or await refuse_unless_get(send, scope):
                return
            headers = [
                (b"cache-control", b"no-store"),
                (b"content-type", b"application/json; charset=utf-8"),
            ]
            await respond(send, scope, 200, headers, self.to_json())

        return app

    def _publish(self, metric: _M, names: list[str]) -> _M:
        if not metric.name:
            raise ValueError("a published metric needs a non-empty name")
        repeated = [name for i, name in enumerate(names) if name in names[:i]]
        if repeated:
            raise ValueError(f"histogram {metric.name!r} publishes {repeated[0]!r} twice")
        with self._lock:
            taken = [name for name in names if name in self._names]
            if taken:
                raise ValueError(f"expvar name {taken[0]!r} is already published in these Vars")
            self._names.update(names)
            self._metrics.append(metric)
        return metric

    def __repr__(self) -> str:
        return f"Vars({sorted(self._names)})"
