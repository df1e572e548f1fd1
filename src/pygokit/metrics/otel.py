"""OpenTelemetry metrics: Go kit's Counter, Gauge and Histogram over an OTel ``Meter``.

Instrument against `pygokit.metrics.metric` and record to whatever SDK and exporter
the application configures: this module needs only ``opentelemetry-api`` (the
``otel`` extra); without an SDK every record is a cheap no-op. Pass the ``Meter``
in (``meter_provider.get_meter("addsvc")``) rather than reaching for the global one.

- `Counter` is an OTel ``Counter``: ``add`` records the delta.
- `Gauge` is an OTel synchronous ``Gauge``. The gauge keeps its current value per
  label set in the process, so ``add`` sets the gauge to the new total and ``set``
  sets it outright; what an exporter sees is always the exact value last reached
  (tracking deltas on an ``UpDownCounter`` instead would also work, but a ``set``
  would then be exported as a sum of float deltas that can drift from the value
  set). With cumulative temporality (the default) the last value is exported at
  every collection; with delta temporality only in intervals where it changed.
- `Histogram` is an OTel ``Histogram``; ``buckets`` passes explicit bucket
  boundaries to the SDK as advice (a View configured in the SDK wins over it).
  Quantiles are the backend's business: the SDK exports bucket counts, sum, count,
  min and max, not percentiles.

Labels become measurement attributes. ``labels``/``with_`` build the attributes once
per label set and keep them, so ``requests.labels(method="sum").add(1)`` costs the
SDK's own ``add`` plus a dictionary lookup.

Example::

    meter = meter_provider.get_meter("addsvc")
    requests = Counter(meter, "requests", unit="{request}", description="Requests served.")
    duration = Histogram(meter, "request.duration", unit="s")
    requests.labels(method="sum").add(1)
    duration.labels(method="sum").observe(0.012)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Self

from pygokit._extras import missing_extra

try:
    from opentelemetry import metrics as otel
except ImportError as exc:  # pragma: no cover  # tests/test_extras.py checks this branch
    raise missing_extra("pygokit.metrics.otel", "otel") from exc

from pygokit.metrics.labels import Labelled, LabelPairs

__all__ = ["Counter", "Gauge", "Histogram"]

_Attributes = Mapping[str, str] | None


def _attributes(label_pairs: LabelPairs) -> _Attributes:
    return dict(label_pairs) if label_pairs else None


class Counter(Labelled):
    """A counter recorded on an OTel ``Counter``; a negative delta is dropped by the SDK
    (with a warning in its log), as OTel counters only go up."""

    __slots__ = ("_add", "_attributes", "instrument")

    instrument: otel.Counter
    """The OTel instrument this counter records on."""

    def __init__(
        self, meter: otel.Meter, name: str, *, unit: str = "", description: str = ""
    ) -> None:
        """Create the OTel counter *name* on *meter*."""
        self._setup(meter.create_counter(name, unit=unit, description=description), ())

    @classmethod
    def wrap(cls, instrument: otel.Counter) -> Self:
        """Record on an OTel counter built elsewhere."""
        self = cls.__new__(cls)
        self._setup(instrument, ())
        return self

    def _setup(self, instrument: otel.Counter, label_pairs: LabelPairs) -> None:
        Labelled.__init__(self, label_pairs)
        self.instrument = instrument
        self._add: Callable[[float, _Attributes], None] = instrument.add
        self._attributes = _attributes(label_pairs)

    def add(self, delta: float, /) -> None:
        """Add *delta* with the bound labels as attributes."""
        self._add(delta, self._attributes)

    def _bind(self, label_pairs: LabelPairs) -> Self:
        child = type(self).__new__(type(self))
        child._setup(self.instrument, label_pairs)
        return child


class _Cell:
    """A gauge's current value for one label set, shared by every binding of that set."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0


class Gauge(Labelled):
    """A gauge recorded on an OTel synchronous ``Gauge``; starts at zero per label set.

    Bindings of the same labels in any order share one value. A non-finite value
    is dropped by the SDK (with a warning in its log).
    """

    __slots__ = ("_attributes", "_cell", "_cells", "_lock", "_set", "instrument")

    instrument: otel._Gauge
    """The OTel instrument this gauge records on."""

    def __init__(
        self, meter: otel.Meter, name: str, *, unit: str = "", description: str = ""
    ) -> None:
        """Create the OTel synchronous gauge *name* on *meter*."""
        self._setup(meter.create_gauge(name, unit=unit, description=description), ())

    @classmethod
    def wrap(cls, instrument: otel._Gauge) -> Self:
        """Record on an OTel synchronous gauge built elsewhere (``meter.create_gauge``).

        Values start at zero here whatever the instrument was set to before.
        """
        self = cls.__new__(cls)
        self._setup(instrument, ())
        return self

    def _setup(
        self,
        instrument: otel._Gauge,
        label_pairs: LabelPairs,
        cells: dict[LabelPairs, _Cell] | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        Labelled.__init__(self, label_pairs)
        self.instrument = instrument
        self._set: Callable[[float, _Attributes], None] = instrument.set
        self._attributes = _attributes(label_pairs)
        self._cells = {} if cells is None else cells
        self._lock = threading.Lock() if lock is None else lock
        self._cell = self._cells.setdefault(tuple(sorted(label_pairs)), _Cell())

    def set(self, value: float, /) -> None:
        """Set the gauge to *value*."""
        with self._lock:
            self._cell.value = value
            self._set(value, self._attributes)

    def add(self, delta: float, /) -> None:
        """Change the gauge by *delta* (it records the new value)."""
        with self._lock:
            value = self._cell.value = self._cell.value + delta
            self._set(value, self._attributes)

    def value(self) -> float:
        """The value this process last gave the gauge for the bound labels."""
        return self._cell.value

    def _bind(self, label_pairs: LabelPairs) -> Self:
        child = type(self).__new__(type(self))
        child._setup(self.instrument, label_pairs, self._cells, self._lock)
        return child


class Histogram(Labelled):
    """A histogram recorded on an OTel ``Histogram``.

    OTel histograms take values of zero and above: the SDK drops a negative or
    non-finite value (with a warning in its log).
    """

    __slots__ = ("_attributes", "_record", "instrument")

    instrument: otel.Histogram
    """The OTel instrument this histogram records on."""

    def __init__(
        self,
        meter: otel.Meter,
        name: str,
        *,
        unit: str = "",
        description: str = "",
        buckets: Sequence[float] | None = None,
    ) -> None:
        """Create the OTel histogram *name* on *meter*, advising *buckets* if given."""
        instrument = meter.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
        )
        self._setup(instrument, ())

    @classmethod
    def wrap(cls, instrument: otel.Histogram) -> Self:
        """Record on an OTel histogram built elsewhere."""
        self = cls.__new__(cls)
        self._setup(instrument, ())
        return self

    def _setup(self, instrument: otel.Histogram, label_pairs: LabelPairs) -> None:
        Labelled.__init__(self, label_pairs)
        self.instrument = instrument
        self._record: Callable[[float, _Attributes], None] = instrument.record
        self._attributes = _attributes(label_pairs)

    def observe(self, value: float, /) -> None:
        """Record *value* with the bound labels as attributes."""
        self._record(value, self._attributes)

    def _bind(self, label_pairs: LabelPairs) -> Self:
        child = type(self).__new__(type(self))
        child._setup(self.instrument, label_pairs)
        return child
