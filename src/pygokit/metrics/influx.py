"""InfluxDB line protocol: Go kit's ``metrics/influx`` as a push backend with no dependencies.

`Influx` records counters, gauges and histograms in memory and, as an `Emitter`, hands
them over as InfluxDB line protocol each time a `PushLoop` drains it. Every series
(a measurement and its tags) becomes one line per flush, all with the flush's time:

- a counter writes ``count=<sum added since the last flush>``, only if it was touched;
- a gauge writes ``value=<its current value>``, only if it was set or changed since the
  last flush (the value itself is kept, so ``add`` builds on it across flushes);
- a histogram writes ``p50=..,p90=..,p95=..,p99=..`` (one field per quantile) and
  ``count=<observations>``, computed from that flush's observations alone: each flush
  starts a fresh summary, as Go kit does.

Every field is a float. The Influx object's *tags* are merged with the label values
bound by ``labels``/``with_`` (a label replaces a global tag of the same name), and tags
are written sorted by key, as InfluxDB recommends; so labels bound in any order, at once
or one by one, name the same series and share one set of values.

Line protocol has no way to write some things, so they are changed or skipped, never
allowed to corrupt a line: a newline or carriage return in a name, tag key or tag value
is written as the two characters ``\\n`` or ``\\r``; a trailing backslash is dropped
(InfluxDB 1.x cannot parse one); a tag whose key or value ends up empty is left out
(InfluxDB treats an empty tag as an absent one); a field whose value is NaN or infinite
is left out, and a line left with no field is not written; a NaN or infinite histogram
observation is ignored. Commas, spaces and equals signs are escaped as the protocol says.
A measurement name may not be empty or start with ``#`` (InfluxDB skips such a line as a
comment).

Send the lines with `pygokit.metrics.influx_http.InfluxHTTPSender` (the ``influx`` extra)
to InfluxDB's HTTP API, or with `pygokit.metrics.push.UDPSender` to InfluxDB's UDP
listener or Telegraf's ``socket_listener``; this module itself needs no package.

Example::

    influx = Influx(tags={"service": "addsvc"})
    requests = influx.counter("requests")
    sender = InfluxHTTPSender("http://127.0.0.1:8086", "metrics")
    async with PushLoop(influx, sender, interval=10):
        requests.labels(method="sum").add(1)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Literal, Self, TypeAlias, TypeVar, cast

from pygokit.metrics.labels import Labelled, LabelPairs
from pygokit.metrics.push import pack_lines
from pygokit.metrics.quantiles import Quantiles

__all__ = [
    "DEFAULT_QUANTILES",
    "PRECISIONS",
    "Counter",
    "Gauge",
    "Histogram",
    "Influx",
    "Precision",
]

Precision: TypeAlias = Literal["ns", "u", "ms", "s"]
"""Timestamp units, spelled as InfluxDB's ``precision`` parameter spells them."""

PRECISIONS: Mapping[str, int] = MappingProxyType(
    {"ns": 1, "u": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
)
"""Each `Precision` and the nanoseconds in one of its units."""

DEFAULT_QUANTILES = (0.5, 0.9, 0.95, 0.99)
"""The quantiles a histogram writes unless told otherwise (fields p50, p90, p95, p99)."""

_NO_TAGS: Mapping[str, str] = MappingProxyType({})

# Newlines would end the line, so they become visible two-character sequences; a
# backslash is literal in InfluxDB 1.x unless it precedes an escaped character.
_MEASUREMENT = str.maketrans({"\n": "\\n", "\r": "\\r", ",": "\\,", " ": "\\ "})
_KEY = str.maketrans({"\n": "\\n", "\r": "\\r", ",": "\\,", " ": "\\ ", "=": "\\="})


def _escape_measurement(name: str) -> str:
    return name.translate(_MEASUREMENT).rstrip("\\")


def _escape_key(text: str) -> str:
    """Escape a tag key, tag value or field key."""
    return text.translate(_KEY).rstrip("\\")


def _format(key: str, value: float) -> str | None:
    """``key=value`` as line protocol writes a float field; None for NaN and infinities."""
    if not math.isfinite(value):
        return None
    return f"{key}={float(value)!r}"


def _quantile_field(q: float) -> str:
    """The field name for quantile *q*: 0.5 is ``p50``, 0.999 is ``p99.9``."""
    return _escape_key(f"p{q * 100:.10g}")


S = TypeVar("S", bound="_Series")


class _Series(Labelled):
    """One measurement with one set of tags: the handle users add to and the state drained."""

    __slots__ = ("_influx", "_lock", "_prefix", "name")

    def __init__(self, influx: Influx, name: str, label_pairs: LabelPairs, prefix: str) -> None:
        super().__init__(label_pairs)
        self.name = name
        """The measurement name, as given."""
        self._influx = influx
        self._prefix = prefix
        self._lock = threading.Lock()

    def _bind(self, label_pairs: LabelPairs) -> Self:
        prefix = self._influx._prefix(self.name, label_pairs)
        return self._influx._intern(prefix, lambda: self._child(label_pairs, prefix))

    def _child(self, label_pairs: LabelPairs, prefix: str) -> Self:
        """A new series like this one, for other tags."""
        return type(self)(self._influx, self.name, label_pairs, prefix)

    # Each kind returns the fields to write for this flush (None for none) and resets.
    def _take(self) -> str | None: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._prefix!r})"


class Counter(_Series):
    """A counter that writes ``count=<sum since the last flush>`` when it was touched."""

    __slots__ = ("_total", "_touched")

    def __init__(self, influx: Influx, name: str, label_pairs: LabelPairs, prefix: str) -> None:
        super().__init__(influx, name, label_pairs, prefix)
        self._total = 0.0
        self._touched = False

    def add(self, delta: float, /) -> None:
        """Add *delta* to this flush's sum."""
        with self._lock:
            self._total += delta
            self._touched = True

    def _take(self) -> str | None:
        with self._lock:
            if not self._touched:
                return None
            total, self._total, self._touched = self._total, 0.0, False
        return _format("count", total)


class Gauge(_Series):
    """A gauge that writes ``value=<current value>`` when it changed since the last flush."""

    __slots__ = ("_touched", "_value")

    def __init__(self, influx: Influx, name: str, label_pairs: LabelPairs, prefix: str) -> None:
        super().__init__(influx, name, label_pairs, prefix)
        self._value = 0.0
        self._touched = False

    def set(self, value: float, /) -> None:
        """Set the gauge to *value*."""
        with self._lock:
            self._value = value
            self._touched = True

    def add(self, delta: float, /) -> None:
        """Change the gauge by *delta*, starting from its value (kept across flushes)."""
        with self._lock:
            self._value += delta
            self._touched = True

    def _take(self) -> str | None:
        with self._lock:
            if not self._touched:
                return None
            self._touched = False
            value = self._value
        return _format("value", value)


class Histogram(_Series):
    """A histogram that writes the quantiles and count of each flush's observations."""

    __slots__ = ("_fields", "_quantiles", "_values")

    def __init__(
        self,
        influx: Influx,
        name: str,
        label_pairs: LabelPairs,
        prefix: str,
        quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
    ) -> None:
        super().__init__(influx, name, label_pairs, prefix)
        self._quantiles = quantiles
        self._fields = tuple(_quantile_field(q) for q in quantiles)
        self._values = Quantiles()

    @property
    def quantiles(self) -> tuple[float, ...]:
        """The quantiles written each flush, in field order."""
        return self._quantiles

    def observe(self, value: float, /) -> None:
        """Record one observation in this flush's summary; NaN and infinities are ignored."""
        if value - value == 0:  # false for NaN and both infinities; cheaper than isfinite
            with self._lock:
                self._values.add(value)

    def _child(self, label_pairs: LabelPairs, prefix: str) -> Self:
        return type(self)(self._influx, self.name, label_pairs, prefix, self._quantiles)

    def _take(self) -> str | None:
        with self._lock:
            values = self._values
            if not values.count:
                return None
            self._values = Quantiles()
        fields = [
            _format(field, values.quantile(q))
            for field, q in zip(self._fields, self._quantiles, strict=True)
        ]
        fields.append(_format("count", values.count))
        return ",".join(field for field in fields if field is not None)


class Influx:
    """Counters, gauges and histograms drained as InfluxDB line protocol (an `Emitter`).

    Args:
        tags: Tags written on every line, such as ``{"service": "addsvc", "host": ...}``;
            a label bound with the same name replaces one.
        precision: The unit of the timestamps written, which must match the receiver's
            (`InfluxHTTPSender`'s *precision*). Use one finer than the flush interval:
            two flushes with the same timestamp overwrite each other's points.
        time_ns: The wall clock, in nanoseconds since the Unix epoch, read once per drain.

    Metrics may be updated from any thread. Every series is kept (and visited by each
    drain) for the life of this object, so label values should come from a small set:
    a method or status code, not a user id.
    """

    def __init__(
        self,
        *,
        tags: Mapping[str, str] = _NO_TAGS,
        precision: Precision = "ns",
        time_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self._tags = {_escape_key(key): _escape_key(value) for key, value in tags.items()}
        self._precision: Precision = precision
        self._unit_ns = PRECISIONS[precision]
        self._time_ns = time_ns
        self._series: dict[str, _Series] = {}
        self._kinds: dict[str, type[_Series]] = {}
        self._lock = threading.Lock()

    @property
    def precision(self) -> Precision:
        """The unit of the timestamps this emitter writes."""
        return self._precision

    def counter(self, name: str) -> Counter:
        """The counter written as measurement *name*, field ``count``."""
        return self._metric(Counter, name, lambda prefix: Counter(self, name, (), prefix))

    def gauge(self, name: str) -> Gauge:
        """The gauge written as measurement *name*, field ``value``."""
        return self._metric(Gauge, name, lambda prefix: Gauge(self, name, (), prefix))

    def histogram(self, name: str, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> Histogram:
        """The histogram written as measurement *name*, one field per quantile plus ``count``.

        *quantiles* are fractions between 0 and 1; 0.5 writes field ``p50`` and 0.999
        writes ``p99.9``. Asking again for the same name needs the same quantiles.
        """
        wanted = tuple(float(q) for q in quantiles)
        for q in wanted:
            if not 0.0 <= q <= 1.0:
                raise ValueError(f"quantiles must be between 0 and 1, got {q!r}")
        fields = [_quantile_field(q) for q in wanted]
        if len(set(fields)) != len(fields):
            raise ValueError(f"quantiles must be distinct, got {fields}")
        histogram = self._metric(
            Histogram, name, lambda prefix: Histogram(self, name, (), prefix, wanted)
        )
        if histogram.quantiles != wanted:
            raise ValueError(
                f"histogram {name!r} was made with quantiles {histogram.quantiles};"
                f" ask with the same ones, or use another name for {wanted}"
            )
        return histogram

    def drain(self, max_payload: int, /) -> list[bytes]:
        """Every series touched since the last drain as lines, packed into payloads of at
        most *max_payload* bytes; counters and histograms start again from empty."""
        with self._lock:
            series = list(self._series.values())
        timestamp = f" {self._time_ns() // self._unit_ns}\n"
        lines = []
        for one in series:
            fields = one._take()
            if fields:
                lines.append(f"{one._prefix} {fields}{timestamp}".encode())
        return pack_lines(lines, max_payload)

    def _metric(self, kind: type[S], name: str, make: Callable[[str], S]) -> S:
        """The series of *kind* for *name* with only the global tags, made when new."""
        measurement = _escape_measurement(name)
        if not measurement or measurement.startswith("#"):
            raise ValueError(
                f"measurement name {name!r} cannot be written: it is empty or starts with '#'"
            )
        with self._lock:
            known = self._kinds.setdefault(measurement, kind)
        if known is not kind:
            raise ValueError(
                f"measurement {measurement!r} is already a {known.__name__.lower()} of this"
                f" Influx; give the {kind.__name__.lower()} another name"
            )
        prefix = self._prefix(name, ())
        return self._intern(prefix, lambda: make(prefix))

    def _prefix(self, name: str, label_pairs: LabelPairs) -> str:
        """``measurement,k1=v1,k2=v2``: escaped, global tags merged, empty tags left out,
        sorted by key."""
        tags = dict(self._tags)
        for key, value in label_pairs:
            tags[_escape_key(key)] = _escape_key(value)
        pairs = "".join(f",{key}={value}" for key, value in sorted(tags.items()) if key and value)
        return _escape_measurement(name) + pairs

    def _intern(self, prefix: str, make: Callable[[], S]) -> S:
        """The one series written as *prefix*, made by *make* when new."""
        with self._lock:
            series = self._series.get(prefix)
            if series is None:
                series = self._series[prefix] = make()
        # Safe: a measurement has one kind (checked in _metric), and the prefix starts with it.
        return cast(S, series)

    def __repr__(self) -> str:
        return f"Influx(tags={self._tags!r}, precision={self._precision!r})"
