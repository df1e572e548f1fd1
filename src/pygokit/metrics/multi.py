"""Fan-out metrics: one update goes to several backends, such as Prometheus and StatsD."""

from __future__ import annotations

from typing import Generic, Self, TypeVar

from pygokit.metrics import metric

__all__ = ["Counter", "Gauge", "Histogram"]

M = TypeVar("M", metric.Counter, metric.Gauge, metric.Histogram)


class _Multi(Generic[M]):
    __slots__ = ("_metrics",)

    def __init__(self, *metrics: M) -> None:
        self._metrics: tuple[M, ...] = metrics

    def labels(self, **label_values: str) -> Self:
        """Bind *label_values* on every metric."""
        return type(self)(*(m.labels(**label_values) for m in self._metrics))

    def with_(self, *label_values: str) -> Self:
        """Bind alternating ``name, value`` labels on every metric."""
        return type(self)(*(m.with_(*label_values) for m in self._metrics))


class Counter(_Multi[metric.Counter]):
    """A counter that adds to every counter it was given."""

    __slots__ = ()

    def add(self, delta: float, /) -> None:
        """Add *delta* to each counter."""
        for counter in self._metrics:
            counter.add(delta)


class Gauge(_Multi[metric.Gauge]):
    """A gauge that sets and changes every gauge it was given."""

    __slots__ = ()

    def set(self, value: float, /) -> None:
        """Set each gauge to *value*."""
        for gauge in self._metrics:
            gauge.set(value)

    def add(self, delta: float, /) -> None:
        """Change each gauge by *delta*."""
        for gauge in self._metrics:
            gauge.add(delta)


class Histogram(_Multi[metric.Histogram]):
    """A histogram that records every observation in each histogram it was given."""

    __slots__ = ()

    def observe(self, value: float, /) -> None:
        """Observe *value* in each histogram."""
        for histogram in self._metrics:
            histogram.observe(value)
