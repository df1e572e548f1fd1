"""Label binding shared by every backend: pairs, Go kit's With list, and the child cache.

A metric's labels are a tuple of ``(name, value)`` pairs sorted by name. Binding
more labels gives the metric for the parent's pairs plus the new ones; a name bound
again replaces its earlier value. Every metric of one family (one root and all it
was bound to) is kept by its pairs, so the same labels in any order are the same
series, and repeating a binding costs one dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self, TypeAlias

__all__ = ["UNKNOWN", "LabelPairs", "Labelled", "merge", "pairs_from_values"]

LabelPairs: TypeAlias = tuple[tuple[str, str], ...]
"""Label names and values, in the order they were bound."""

UNKNOWN = "unknown"
"""The value Go kit gives the last label name of an odd-length With list."""


def pairs_from_values(label_values: Sequence[str]) -> LabelPairs:
    """Turn Go kit's alternating ``name, value, ...`` list into pairs.

    An odd-length list gets `UNKNOWN` as its last value, as in Go kit.
    """
    values = list(label_values)
    if len(values) % 2:
        values.append(UNKNOWN)
    return tuple(zip(values[::2], values[1::2], strict=True))


def merge(bound: LabelPairs, more: LabelPairs) -> LabelPairs:
    """*bound* with *more* added; a name in both takes its value from *more*, in place."""
    if not bound:
        return more
    merged = dict(bound)
    merged.update(more)
    return tuple(merged.items())


class Labelled:
    """Base for metrics: ``labels``/``with_`` with cached children; subclasses bind.

    A subclass implements `_bind`, which makes the metric for a complete set of
    label pairs; this class works out the pairs and keeps each child it made.
    """

    __slots__ = ("_children", "_label_pairs", "_series")

    def __init__(self, label_pairs: LabelPairs = ()) -> None:
        self._label_pairs = label_pairs
        self._children: dict[LabelPairs, Self] = {}
        # Every metric bound from the same root, by its label pairs sorted by name: shared
        # by the whole family, so labels bound in any order or in steps reach one series.
        self._series: dict[LabelPairs, Self] = {}

    @property
    def label_pairs(self) -> LabelPairs:
        """The label names and values bound to this metric, sorted by name."""
        return self._label_pairs

    def labels(self, **label_values: str) -> Self:
        """Return this metric bound to *label_values* as well.

        The same labels, in any order and however they were bound in steps, give the
        same metric; repeating a call costs one dictionary lookup.
        """
        key = tuple(label_values.items())
        child = self._children.get(key)
        if child is None:
            pairs = tuple(sorted(merge(self._label_pairs, key)))
            child = self if pairs == self._label_pairs else self._series.get(pairs)
            if child is None:
                child = self._bind(pairs)
                child._series = self._series
                self._series[pairs] = child
            self._children[key] = child
        return child

    def with_(self, *label_values: str) -> Self:
        """Return this metric bound to alternating ``name, value`` labels (Go kit's With)."""
        return self.labels(**dict(pairs_from_values(label_values)))

    def _bind(self, label_pairs: LabelPairs) -> Self:
        """Make the metric for exactly *label_pairs*."""
        raise NotImplementedError
