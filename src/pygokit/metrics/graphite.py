"""Graphite: counters, gauges and histogram quantiles in Carbon's plaintext protocol.

`Graphite` makes the metrics and is a `pygokit.metrics.push.Emitter`. Carbon
usually listens on TCP port 2003, so run it under a `pygokit.metrics.push.PushLoop`
over a `pygokit.metrics.push.TCPSender` (UDP works too, if Carbon enables it). Each
drain writes one line ``name value timestamp`` per series, all with the same
timestamp, in whole Unix seconds from *time_s*:

- a counter writes what was added since the last drain, 0 included: Graphite keeps
  one point per interval and shows a missing point as "no data", not as zero;
- a gauge writes its current value, from the first time it is set or changed;
- a histogram writes ``name.p50``, ``name.p90``, ``name.p95`` and ``name.p99`` (or
  the quantiles you choose: 0.999 becomes ``p99_9``), estimated from the values
  observed since the last drain, and nothing for an interval without any.

Go kit's Graphite histograms are never reset, so their quantiles describe every
value since the process started and, after a while, hardly move however bad the
last minute was. Here each drain starts a new histogram, so every point describes
its own interval, as Go kit's InfluxDB backend does.

Graphite is one-dimensional, as in Go kit: ``labels`` and ``with_`` return the
metric itself. Metric names must not contain whitespace or control characters
(`ValueError` when the metric is made); ``.`` separates levels of the tree.

Example::

    graphite = Graphite(prefix="addsvc.")
    requests = graphite.counter("requests")
    async with Manager(tcp("127.0.0.1", 2003)) as carbon:
        async with PushLoop(graphite, TCPSender(carbon), interval=10):
            requests.add(1)  # addsvc.requests 1 1767225600
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Self, TypeVar

from pygokit.metrics.push import pack_lines
from pygokit.metrics.quantiles import Quantiles
from pygokit.metrics.statsd import _check_name, format_value

__all__ = ["DEFAULT_QUANTILES", "Counter", "Gauge", "Graphite", "Histogram"]

DEFAULT_QUANTILES = (0.5, 0.9, 0.95, 0.99)
"""The quantiles a histogram writes unless told otherwise, as in Go kit."""


class _Metric:
    """A Graphite series: a name, a lock, and labels that change nothing."""

    __slots__ = ("_lock", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        """The metric's name, prefix included."""
        self._lock = threading.Lock()

    def labels(self, **label_values: str) -> Self:
        """Return this metric: Graphite has no labels."""
        return self

    def with_(self, *label_values: str) -> Self:
        """Return this metric: Graphite has no labels."""
        return self

    def _collect(self, out: list[bytes], timestamp: str) -> None:
        """Append this interval's lines, stamped *timestamp*, and start the next one."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _line(name: str, value: float, timestamp: str) -> bytes:
    return f"{name} {format_value(value)} {timestamp}\n".encode()


class Counter(_Metric):
    """A counter that writes what was added in each interval."""

    __slots__ = ("_value",)

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._value = 0.0

    def add(self, delta: float, /) -> None:
        """Add *delta*, which should not be negative."""
        with self._lock:
            self._value += delta

    def _collect(self, out: list[bytes], timestamp: str) -> None:
        with self._lock:
            value, self._value = self._value, 0.0
        if math.isfinite(value):
            out.append(_line(self.name, value, timestamp))


class Gauge(_Metric):
    """A gauge that writes its current value every interval, once it has one."""

    __slots__ = ("_value",)

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._value: float | None = None

    def set(self, value: float, /) -> None:
        """Set the gauge to *value*."""
        self._value = value  # one store: atomic, no lock needed

    def add(self, delta: float, /) -> None:
        """Change the gauge by *delta*, which may be negative."""
        with self._lock:
            self._value = (self._value or 0.0) + delta

    def _collect(self, out: list[bytes], timestamp: str) -> None:
        value = self._value
        if value is not None and math.isfinite(value):
            out.append(_line(self.name, value, timestamp))


class Histogram(_Metric):
    """A histogram that writes quantiles of each interval's observations."""

    __slots__ = ("_names", "_quantiles", "_summary")

    def __init__(self, name: str, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> None:
        super().__init__(name)
        if not quantiles:
            raise ValueError(f"histogram {name!r} needs at least one quantile")
        for q in quantiles:
            if not 0.0 <= q <= 1.0:
                raise ValueError(f"quantiles must be between 0 and 1, got {q!r}")
        names = [f"{name}." + f"p{q * 100:g}".replace(".", "_") for q in quantiles]
        if len(set(names)) != len(names):
            raise ValueError(f"histogram {name!r} has repeated quantiles: {list(quantiles)}")
        self._quantiles = tuple(quantiles)
        self._names = tuple(names)
        self._summary = Quantiles()

    @property
    def quantiles(self) -> tuple[float, ...]:
        """The quantiles written each interval."""
        return self._quantiles

    def observe(self, value: float, /) -> None:
        """Record one observation."""
        with self._lock:
            self._summary.add(value)

    def _collect(self, out: list[bytes], timestamp: str) -> None:
        with self._lock:
            summary, self._summary = self._summary, Quantiles()
        if not summary.count:
            return
        for name, q in zip(self._names, self._quantiles, strict=True):
            value = summary.quantile(q)
            if math.isfinite(value):
                out.append(_line(name, value, timestamp))


M = TypeVar("M", bound=_Metric)


class Graphite:
    """Makes Graphite metrics and buffers what they record until a `PushLoop` drains it.

    Args:
        prefix: Put in front of every metric name, such as ``"addsvc."``.
        time_s: Returns wall-clock time in Unix seconds for the timestamps;
            `time.time` unless a test fixes it.
    """

    def __init__(self, prefix: str = "", *, time_s: Callable[[], float] = time.time) -> None:
        if prefix:
            _check_name("Graphite", prefix, "")
        self._prefix = prefix
        self._time_s = time_s
        self._metrics: dict[str, _Metric] = {}
        self._lock = threading.Lock()

    def counter(self, name: str) -> Counter:
        """The counter *name* (the same object each time)."""
        return self._get(Counter, name, lambda full: Counter(full))

    def gauge(self, name: str) -> Gauge:
        """The gauge *name* (the same object each time)."""
        return self._get(Gauge, name, lambda full: Gauge(full))

    def histogram(self, name: str, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> Histogram:
        """The histogram *name*, writing *quantiles* of each interval's observations."""
        histogram = self._get(Histogram, name, lambda full: Histogram(full, quantiles))
        if histogram.quantiles != tuple(quantiles):
            raise ValueError(
                f"histogram {histogram.name!r} already writes quantiles {histogram.quantiles}"
            )
        return histogram

    def _get(self, cls: type[M], name: str, make: Callable[[str], M]) -> M:
        full = _check_name("Graphite", self._prefix + name, "")
        with self._lock:
            metric = self._metrics.get(full)
            if metric is None:
                metric = self._metrics[full] = make(full)
        if not isinstance(metric, cls):
            raise ValueError(f"Graphite metric {full!r} is already a {type(metric).__name__}")
        return metric

    def drain(self, max_payload: int, /) -> list[bytes]:
        """Every series' line for the interval since the last drain, packed into payloads
        of at most *max_payload* bytes (see `pygokit.metrics.push.Emitter`)."""
        timestamp = str(int(self._time_s()))
        with self._lock:
            every = list(self._metrics.values())
        lines: list[bytes] = []
        for metric in every:
            metric._collect(lines, timestamp)
        return pack_lines(lines, max_payload)

    def __repr__(self) -> str:
        return f"Graphite(prefix={self._prefix!r}, metrics={len(self._metrics)})"
