"""A streaming summary of a distribution that answers quantile queries in bounded memory.

Observations are appended to a buffer; every few hundred they are merged into at
most a few hundred weighted centroids, kept small near the tails and larger near
the median (the t-digest's size rule), so p99 stays accurate. Adding a value costs
an append; the merge, a C sort plus one pass, is paid once per buffer.
"""

from __future__ import annotations

import math

__all__ = ["Quantiles"]

_COMPRESSION = 25.0
"""Larger keeps more centroids (about 6x this many): more accuracy, more memory."""

_BUFFER = 2048


class Quantiles:
    """Centroids summarising every value added so far. Not thread-safe by itself."""

    __slots__ = ("_buffer", "_counts", "_max", "_means", "_min", "_total")

    def __init__(self) -> None:
        self._buffer: list[float] = []
        self._means: list[float] = []
        self._counts: list[float] = []
        self._total = 0.0
        self._min = math.inf
        self._max = -math.inf

    @property
    def count(self) -> int:
        """How many values were added."""
        return int(self._total) + len(self._buffer)

    def add(self, value: float) -> None:
        """Add one observation."""
        buffer = self._buffer
        buffer.append(value)
        if len(buffer) >= _BUFFER:
            self._merge()

    def quantile(self, q: float) -> float:
        """Estimate the value below which a fraction *q* (0 to 1) of observations fall.

        NaN when nothing was added.
        """
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile must be between 0 and 1, got {q!r}")
        self._merge()
        if not self._total:
            return math.nan
        target = q * self._total
        previous_center, previous_mean = 0.0, self._min
        cumulative = 0.0
        for mean, count in zip(self._means, self._counts, strict=True):
            center = cumulative + count / 2
            if target <= center:
                span = center - previous_center
                fraction = (target - previous_center) / span if span else 1.0
                return previous_mean + fraction * (mean - previous_mean)
            previous_center, previous_mean = center, mean
            cumulative += count
        span = self._total - previous_center
        fraction = (target - previous_center) / span if span else 1.0
        return previous_mean + fraction * (self._max - previous_mean)

    def _merge(self) -> None:
        """Fold the buffer into the centroids, keeping each within the size rule.

        The sorted buffer is first cut into runs by the same rule, each averaged with
        the C ``sum``, so the Python-level loop runs once per centroid, not per value.
        """
        buffer = self._buffer
        if not buffer:
            return
        self._buffer = []
        buffer.sort()
        self._min = min(self._min, buffer[0])
        self._max = max(self._max, buffer[-1])
        size = len(buffer)
        points = list(zip(self._means, self._counts, strict=True))
        start = 0
        while start < size:
            q = start / size
            run = buffer[start : start + max(1, int(4 * size * q * (1 - q) / _COMPRESSION))]
            points.append((sum(run) / len(run), float(len(run))))
            start += len(run)
        points.sort()
        total = self._total + size
        means: list[float] = []
        counts: list[float] = []
        mean, count = points[0]
        before = 0.0
        for next_mean, next_count in points[1:]:
            q = (before + count + next_count / 2) / total
            if count + next_count <= 4 * total * q * (1 - q) / _COMPRESSION:
                count += next_count
                mean += (next_mean - mean) * next_count / count
            else:
                means.append(mean)
                counts.append(count)
                before += count
                mean, count = next_mean, next_count
        means.append(mean)
        counts.append(count)
        self._means, self._counts, self._total = means, counts, total
