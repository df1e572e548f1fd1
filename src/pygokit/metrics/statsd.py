"""StatsD: counters, gauges and timings shipped as text lines, usually over UDP.

`Statsd` makes the metrics and is a `pygokit.metrics.push.Emitter`: run it under a
`pygokit.metrics.push.PushLoop`, which drains it every interval. Each drain writes

- ``name:value|c`` per counter: the sum added since the last drain, only when it is
  not zero (an idle counter costs nothing; StatsD servers report it as 0 anyway);
- ``name:value|g`` per gauge: its current value, only when it was set or changed
  since the last drain;
- ``name:value|ms[|@rate]`` per timing observation, one line each. A timing records
  numbers in whatever unit you observe; StatsD's convention is milliseconds, so
  time code with ``Timer(timing, unit=MILLISECOND)``.

StatsD is one-dimensional, as in Go kit: ``labels`` and ``with_`` return the metric
itself. `pygokit.metrics.dogstatsd` and `pygokit.metrics.influxstatsd` carry labels.

Where this differs from Go kit, on purpose:

- Go kit writes ``@rate`` but records every observation, so the server scales up
  data that was never thinned. Here a timing keeps each observation with
  probability *sample_rate* (draws from the injectable *rng*) and writes ``@rate``,
  so the server's scaling is right. Counters are summed exactly in the process and
  sent once per drain, so sampling them would only add noise and save nothing: a
  counter's *sample_rate* is accepted for Go kit compatibility and not applied.
- A gauge keeps its value across drains, so ``add`` changes the real current value
  (Go kit's adds only within one flush window).
- StatsD reads ``-5|g`` as "subtract 5". A negative gauge is therefore written as
  ``name:0|g`` then ``name:-5|g``, always in one payload.
- Numbers are written exactly and plainly: ``3``, ``0.25``, ``0.00001`` (never
  ``3.000000`` or ``1e-05``). NaN and infinities are not written at all.

Metric names (with the prefix) must not contain ``:``, ``|``, ``@``, whitespace or
control characters: a bad name raises `ValueError` when the metric is made.

Example::

    statsd = Statsd(prefix="addsvc.")
    requests = statsd.counter("requests")
    latency = statsd.timing("latency_ms", sample_rate=0.1)
    async with PushLoop(statsd, UDPSender("127.0.0.1", 8125), interval=10):
        requests.add(1)
        latency.observe(12.5)
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Self, TypeVar, cast

from pygokit.metrics.labels import Labelled, LabelPairs
from pygokit.metrics.push import pack_lines

__all__ = ["Counter", "Gauge", "Histogram", "Statsd", "format_value"]

_UNPRINTABLE = (
    "".join(map(chr, range(32)))
    + "".join(map(chr, range(0x7F, 0xA1)))
    + "\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    + "\u2028\u2029\u202f\u205f\u3000 "
)
"""Whitespace and control characters: never part of a name, tag name or tag value."""


def format_value(value: float) -> str:
    """*value* as StatsD and Graphite servers all parse it: exact, never in e-notation.

    Whole numbers have no decimal point (``3``), others are the shortest exact
    decimal (``0.1``, ``0.00001``). Callers skip NaN and infinities.
    """
    value = float(value)
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    if "e" in text and math.isfinite(value):
        text = format(Decimal(text), "f")
    return text


def _check_name(system: str, name: str, forbidden: str) -> str:
    """Return *name*, or raise ValueError if it is empty or has a character that *system*
    reads as a separator: one of *forbidden*, whitespace or a control character."""
    if not name:
        raise ValueError(f"a {system} metric name must not be empty")
    for char in name:
        if char in forbidden or char in _UNPRINTABLE:
            raise ValueError(
                f"{system} metric name {name!r} contains {char!r}; leave out "
                f"{' '.join(forbidden)}, whitespace and control characters"
            )
    return name


def _replacing(chars: str) -> dict[int, str]:
    """A `str.translate` table turning *chars*, whitespace and controls into ``_``."""
    return {ord(char): "_" for char in chars + _UNPRINTABLE}


class _Series(Labelled):
    """One series on the wire. Its lines are head + value + tail, both worked out once."""

    __slots__ = ("_family", "_head", "_kind", "_lock", "_name", "_rate", "_tail")

    def __init__(
        self, family: _Family, kind: str, name: str, rate: float, label_pairs: LabelPairs
    ) -> None:
        super().__init__(label_pairs)
        self._family = family
        self._kind = kind
        self._name = name
        self._rate = rate
        self._head = self._tail = ""
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The metric's name, prefix included."""
        return self._name

    def _bind(self, label_pairs: LabelPairs) -> Self:
        return self._family._series(type(self), self._kind, self._name, self._rate, label_pairs)

    def _line(self, value: float) -> bytes:
        return f"{self._head}{format_value(value)}{self._tail}\n".encode()

    def _collect(self, out: list[bytes]) -> None:
        """Append the lines recorded since the last call, and forget them."""
        raise NotImplementedError

    def __repr__(self) -> str:
        kind = next(cls for cls in type(self).__mro__ if not cls.__name__.startswith("_"))
        return f"{kind.__name__}({self._head}<value>{self._tail})"


class Counter(_Series):
    """A counter: the sum added since the last drain goes out as one ``|c`` line."""

    __slots__ = ("_value",)

    def __init__(
        self, family: _Family, kind: str, name: str, rate: float, label_pairs: LabelPairs
    ) -> None:
        super().__init__(family, kind, name, rate, label_pairs)
        self._value = 0.0

    def add(self, delta: float, /) -> None:
        """Add *delta*, which should not be negative."""
        with self._lock:
            self._value += delta

    def _collect(self, out: list[bytes]) -> None:
        with self._lock:
            value, self._value = self._value, 0.0
        if value and math.isfinite(value):
            out.append(self._line(value))


class Gauge(_Series):
    """A gauge: its value goes out as a ``|g`` line when touched since the last drain."""

    __slots__ = ("_touched", "_value")

    def __init__(
        self, family: _Family, kind: str, name: str, rate: float, label_pairs: LabelPairs
    ) -> None:
        super().__init__(family, kind, name, rate, label_pairs)
        self._value = 0.0
        self._touched = False

    def set(self, value: float, /) -> None:
        """Set the gauge to *value*."""
        with self._lock:
            self._value = value
            self._touched = True

    def add(self, delta: float, /) -> None:
        """Change the gauge's current value by *delta*, which may be negative."""
        with self._lock:
            self._value += delta
            self._touched = True

    def _collect(self, out: list[bytes]) -> None:
        with self._lock:
            value, touched, self._touched = self._value, self._touched, False
        if not touched or not math.isfinite(value):
            return
        if value < 0:  # "-5|g" would mean "subtract 5": set 0 first, in the same payload
            out.append(self._line(0.0) + self._line(value))
        else:
            out.append(self._line(value))


class Histogram(_Series):
    """Timings (``|ms``) or histograms (``|h``): one line per observation kept."""

    __slots__ = ("_rng", "_values")

    def __init__(
        self, family: _Family, kind: str, name: str, rate: float, label_pairs: LabelPairs
    ) -> None:
        super().__init__(family, kind, name, rate, label_pairs)
        self._rng = family._rng
        self._values: list[float] = []

    def observe(self, value: float, /) -> None:
        """Record *value*; at a sample rate below 1, keep it with that probability."""
        if self._rate < 1.0 and self._rng() >= self._rate:
            return
        with self._lock:
            self._values.append(value)

    def _collect(self, out: list[bytes]) -> None:
        with self._lock:
            values, self._values = self._values, []
        head, tail = self._head, self._tail
        out.extend(
            f"{head}{format_value(value)}{tail}\n".encode()
            for value in values
            if math.isfinite(value)
        )


S = TypeVar("S", bound=_Series)


class _Family:
    """What the StatsD dialects share: names, tags, the series registry and the drain.

    A dialect sets the characters its names must not contain and its tag tables, and
    renders a series' head and tail in `_render`. Series are keyed by what they put
    on the wire, so labels bound in any order reach the same series.
    """

    _system = "StatsD"
    _forbidden = ":|@"
    _key_table = _replacing(":|@")
    _value_table = _key_table

    def __init__(
        self, prefix: str, tags: Mapping[str, str] | None, rng: Callable[[], float]
    ) -> None:
        if prefix:
            _check_name(self._system, prefix, self._forbidden)
        self._prefix = prefix
        self._rng = rng
        self._tags = self._clean_tags({}, (tags or {}).items(), sort=False)
        self._registry: dict[str, _Series] = {}
        self._lock = threading.Lock()

    def _clean_tags(
        self, base: Mapping[str, str], pairs: Iterable[tuple[str, str]], *, sort: bool = True
    ) -> dict[str, str]:
        """*base* (already clean) updated by *pairs*, cleaned, sorted by name unless not."""
        cleaned = [
            (str(key).translate(self._key_table) or "_", str(value).translate(self._value_table))
            for key, value in pairs
        ]
        tags = dict(base)
        tags.update(sorted(cleaned) if sort else cleaned)
        return tags

    def _render(self, kind: str, name: str, rate: str, tags: Mapping[str, str]) -> tuple[str, str]:
        """The text before and after the value on a series' lines."""
        raise NotImplementedError

    def _make(self, cls: type[S], kind: str, name: str, sample_rate: float) -> S:
        _check_rate(sample_rate)
        full_name = _check_name(self._system, self._prefix + name, self._forbidden)
        return self._series(cls, kind, full_name, sample_rate, ())

    def _series(
        self, cls: type[S], kind: str, name: str, rate: float, label_pairs: LabelPairs
    ) -> S:
        """The one series for this name, type, rate and set of labels."""
        tags = self._clean_tags(self._tags, label_pairs)
        rate_text = f"|@{format_value(rate)}" if rate < 1.0 else ""
        head, tail = self._render(kind, name, rate_text, tags)
        with self._lock:
            series = self._registry.get(head + tail)
            if series is None:
                series = cls(self, kind, name, rate, label_pairs)
                series._head, series._tail = head, tail
                self._registry[head + tail] = series
        return cast(S, series)

    def drain(self, max_payload: int, /) -> list[bytes]:
        """Everything recorded since the last drain, packed into payloads of at most
        *max_payload* bytes (see `pygokit.metrics.push.Emitter`)."""
        with self._lock:
            every = list(self._registry.values())
        lines: list[bytes] = []
        for series in every:
            series._collect(lines)
        return pack_lines(lines, max_payload)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prefix={self._prefix!r}, series={len(self._registry)})"


def _check_rate(sample_rate: float) -> None:
    if not 0.0 < sample_rate <= 1.0:
        raise ValueError(f"sample_rate must be above 0 and at most 1, got {sample_rate!r}")


class _Flat:
    """Makes a series one-dimensional: binding labels returns the series itself."""

    __slots__ = ()

    def labels(self, **label_values: str) -> Self:
        """Return this metric: StatsD has no labels."""
        return self

    def with_(self, *label_values: str) -> Self:
        """Return this metric: StatsD has no labels."""
        return self


class _FlatCounter(_Flat, Counter):
    __slots__ = ()


class _FlatGauge(_Flat, Gauge):
    __slots__ = ()


class _FlatHistogram(_Flat, Histogram):
    __slots__ = ()


class Statsd(_Family):
    """Makes StatsD metrics and buffers what they record until a `PushLoop` drains it.

    Args:
        prefix: Put in front of every metric name, such as ``"addsvc."``.
        rng: Returns a float in [0, 1) that decides which observations a sampled
            timing keeps; `random.random` unless a test fixes it.
    """

    def __init__(self, prefix: str = "", *, rng: Callable[[], float] = random.random) -> None:
        super().__init__(prefix, None, rng)

    def counter(self, name: str, sample_rate: float = 1.0) -> Counter:
        """The counter *name* (the same object each time).

        *sample_rate* is checked but not applied: counters are summed exactly.
        """
        _check_rate(sample_rate)
        return self._make(_FlatCounter, "c", name, 1.0)

    def gauge(self, name: str) -> Gauge:
        """The gauge *name* (the same object each time)."""
        return self._make(_FlatGauge, "g", name, 1.0)

    def timing(self, name: str, sample_rate: float = 1.0) -> Histogram:
        """The timing *name*, keeping each observation with probability *sample_rate*.

        Observe in the unit your StatsD server expects: milliseconds, by convention.
        """
        return self._make(_FlatHistogram, "ms", name, sample_rate)

    def _render(self, kind: str, name: str, rate: str, tags: Mapping[str, str]) -> tuple[str, str]:
        return f"{name}:", f"|{kind}{rate}"
