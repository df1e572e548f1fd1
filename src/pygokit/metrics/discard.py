"""Metrics that record nothing: for when a component needs metrics and you need none."""

from __future__ import annotations

from typing import Self

__all__ = ["Counter", "Gauge", "Histogram"]


class _Discard:
    __slots__ = ()

    def labels(self, **label_values: str) -> Self:
        """Return this metric: nothing is recorded whatever the labels."""
        return self

    def with_(self, *label_values: str) -> Self:
        """Return this metric: nothing is recorded whatever the labels."""
        return self


class Counter(_Discard):
    """A counter that discards every addition."""

    __slots__ = ()

    def add(self, delta: float, /) -> None:
        """Discard *delta*."""


class Gauge(_Discard):
    """A gauge that discards every change."""

    __slots__ = ()

    def set(self, value: float, /) -> None:
        """Discard *value*."""

    def add(self, delta: float, /) -> None:
        """Discard *delta*."""


class Histogram(_Discard):
    """A histogram that discards every observation."""

    __slots__ = ()

    def observe(self, value: float, /) -> None:
        """Discard *value*."""
