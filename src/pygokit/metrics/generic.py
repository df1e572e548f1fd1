"""In-memory metrics whose values you can read back: for tests, and under push backends.

Each metric keeps its own value behind a lock, so threads and tasks can update it
alike. Children made by ``labels`` are separate series that start at zero (Go kit's
generic ``With`` copies the parent's value into the child; that is not repeated here).

Example::

    requests = Counter("requests")
    requests.labels(method="sum").add(1)
    assert requests.labels(method="sum").value() == 1
"""

from __future__ import annotations

import math
import threading
from typing import Self

from pygokit.metrics.labels import Labelled, LabelPairs
from pygokit.metrics.quantiles import Quantiles

__all__ = ["Counter", "Gauge", "Histogram", "SimpleHistogram"]


class Counter(Labelled):
    """A counter whose total can be read (`value`) and read-and-reset (`value_reset`)."""

    __slots__ = ("_lock", "_value", "name")

    def __init__(self, name: str, label_pairs: LabelPairs = ()) -> None:
        super().__init__(label_pairs)
        self.name = name
        self._value = 0.0
        self._lock = threading.Lock()

    def add(self, delta: float, /) -> None:
        """Add *delta* to the total."""
        with self._lock:
            self._value += delta

    def value(self) -> float:
        """The total added so far (since the last `value_reset`)."""
        return self._value

    def value_reset(self) -> float:
        """Return the total and start again from zero (push backends send deltas this way)."""
        with self._lock:
            value, self._value = self._value, 0.0
        return value

    def _bind(self, label_pairs: LabelPairs) -> Self:
        return type(self)(self.name, label_pairs)

    def __repr__(self) -> str:
        return f"Counter({self.name!r}, labels={dict(self._label_pairs)!r}, value={self._value})"


class Gauge(Labelled):
    """A gauge whose current value can be read (`value`)."""

    __slots__ = ("_lock", "_value", "name")

    def __init__(self, name: str, label_pairs: LabelPairs = ()) -> None:
        super().__init__(label_pairs)
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

    def _bind(self, label_pairs: LabelPairs) -> Self:
        return type(self)(self.name, label_pairs)

    def __repr__(self) -> str:
        return f"Gauge({self.name!r}, labels={dict(self._label_pairs)!r}, value={self._value})"


class Histogram(Labelled):
    """A histogram that estimates quantiles of everything observed, in bounded memory.

    Quantile estimates are within a fraction of a percent for smooth distributions
    (see `pygokit.metrics.quantiles`).
    """

    __slots__ = ("_lock", "_quantiles", "_sum", "name")

    def __init__(self, name: str, label_pairs: LabelPairs = ()) -> None:
        super().__init__(label_pairs)
        self.name = name
        self._quantiles = Quantiles()
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, value: float, /) -> None:
        """Record one observation."""
        with self._lock:
            self._quantiles.add(value)
            self._sum += value

    def quantile(self, q: float) -> float:
        """Estimate the *q* quantile (0 to 1) of all observations; NaN before the first."""
        with self._lock:
            return self._quantiles.quantile(q)

    def count(self) -> int:
        """How many values were observed."""
        return self._quantiles.count

    def sum(self) -> float:
        """The sum of every observed value."""
        return self._sum

    def _bind(self, label_pairs: LabelPairs) -> Self:
        return type(self)(self.name, label_pairs)

    def __repr__(self) -> str:
        return f"Histogram({self.name!r}, labels={dict(self._label_pairs)!r}, count={self.count()})"


class SimpleHistogram(Labelled):
    """A histogram that only keeps the running mean of its observations (Go kit's
    ``SimpleHistogram``): constant memory, one number to read."""

    __slots__ = ("_count", "_lock", "_mean", "name")

    def __init__(self, name: str = "", label_pairs: LabelPairs = ()) -> None:
        super().__init__(label_pairs)
        self.name = name
        self._mean = math.nan
        self._count = 0
        self._lock = threading.Lock()

    def observe(self, value: float, /) -> None:
        """Fold *value* into the running mean."""
        with self._lock:
            self._count += 1
            if self._count == 1:
                self._mean = value
            else:
                self._mean += (value - self._mean) / self._count

    def approximate_moving_average(self) -> float:
        """The mean of the observations so far; NaN before the first."""
        return self._mean

    def _bind(self, label_pairs: LabelPairs) -> Self:
        return type(self)(self.name, label_pairs)
