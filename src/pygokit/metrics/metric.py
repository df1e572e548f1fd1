"""The three metric interfaces every backend implements: Counter, Gauge, Histogram.

Metrics are write-only: a service adds, sets and observes, and the backend decides
how values are stored, aggregated and shipped. Build them in ``main`` and pass them
in; never create them as module globals.

``labels(**kv)`` returns the metric bound to those label values (Go kit's ``With``);
``with_(*label_values)`` does the same from Go kit's alternating ``name, value``
list. Binding the same labels again returns the same bound metric, so calling
``counter.labels(method="sum").add(1)`` on every request is cheap.
"""

from __future__ import annotations

from typing import Protocol, Self, runtime_checkable

__all__ = ["Counter", "Gauge", "Histogram"]


@runtime_checkable
class Counter(Protocol):
    """A value that only goes up: requests served, errors, bytes sent."""

    def add(self, delta: float, /) -> None:
        """Add *delta*, which should not be negative."""

    def labels(self, **label_values: str) -> Self:
        """Return this counter bound to *label_values* in addition to any bound before."""

    def with_(self, *label_values: str) -> Self:
        """Return this counter bound to alternating ``name, value`` labels (Go kit's With)."""


@runtime_checkable
class Gauge(Protocol):
    """A value that goes up and down: queue depth, connections open, temperature."""

    def set(self, value: float, /) -> None:
        """Set the gauge to *value*."""

    def add(self, delta: float, /) -> None:
        """Change the gauge by *delta*, which may be negative."""

    def labels(self, **label_values: str) -> Self:
        """Return this gauge bound to *label_values* in addition to any bound before."""

    def with_(self, *label_values: str) -> Self:
        """Return this gauge bound to alternating ``name, value`` labels (Go kit's With)."""


@runtime_checkable
class Histogram(Protocol):
    """A distribution of observations: request durations, response sizes."""

    def observe(self, value: float, /) -> None:
        """Record one observation."""

    def labels(self, **label_values: str) -> Self:
        """Return this histogram bound to *label_values* in addition to any bound before."""

    def with_(self, *label_values: str) -> Self:
        """Return this histogram bound to alternating ``name, value`` labels (Go kit's With)."""
