"""Sliding windows of call outcomes: the last N calls, or the last N buckets of time.

Both keep running totals (``calls``, ``failures``, ``slow``), so reading them costs
nothing; the time window evicts whole buckets as the clock moves on.
"""

from __future__ import annotations

import math
from typing import TypeAlias

__all__ = ["CountWindow", "TimeWindow", "Window"]

_FAILED = 1
_SLOW = 2
_LONG_AGO = -(2**62)  # a bucket number so old that the first refresh clears everything


class CountWindow:
    """The outcomes of the last *size* calls, in a ring."""

    __slots__ = ("_next", "_outcomes", "_size", "calls", "failures", "slow")

    def __init__(self, size: int) -> None:
        self._size = size
        self._outcomes = bytearray(size)
        self._next = 0
        self.calls = 0
        self.failures = 0
        self.slow = 0

    def refresh(self, now: float) -> None:
        """Nothing to evict: only new calls push old ones out."""

    def record(self, now: float, failed: bool, slow: bool) -> None:
        """Add one outcome, evicting the oldest once the ring is full."""
        index = self._next
        if self.calls == self._size:
            old = self._outcomes[index]
            self.failures -= old & _FAILED
            self.slow -= (old & _SLOW) >> 1
        else:
            self.calls += 1
        outcome = (_FAILED if failed else 0) | (_SLOW if slow else 0)
        self._outcomes[index] = outcome
        self.failures += failed
        self.slow += slow
        self._next = (index + 1) % self._size

    def clear(self) -> None:
        """Forget every outcome."""
        self._outcomes = bytearray(self._size)
        self._next = 0
        self.calls = self.failures = self.slow = 0


class TimeWindow:
    """Outcomes in the last *buckets* buckets of *width* seconds each.

    Bucket ``k`` holds the calls whose time ``t`` has ``floor(t / width) == k``; the
    window is the current bucket and the ``buckets - 1`` before it. A bucket leaves
    the window, all at once, when the clock reaches the bucket ``buckets`` after it.
    """

    __slots__ = (
        "_buckets",
        "_calls",
        "_epoch",
        "_failures",
        "_slow",
        "_width",
        "calls",
        "failures",
        "slow",
    )

    def __init__(self, buckets: int, width: float) -> None:
        self._buckets = buckets
        self._width = width
        self._calls = [0] * buckets
        self._failures = [0] * buckets
        self._slow = [0] * buckets
        self._epoch = _LONG_AGO  # the bucket number of the newest bucket
        self.calls = 0
        self.failures = 0
        self.slow = 0

    def refresh(self, now: float) -> None:
        """Evict the buckets that fell out of the window by *now*."""
        epoch = math.floor(now / self._width)
        last = self._epoch
        if epoch - last >= self._buckets:
            if self.calls:
                self.clear()
            self._epoch = epoch
            return
        while last < epoch:  # at most buckets - 1 steps
            last += 1
            i = last % self._buckets
            self.calls -= self._calls[i]
            self.failures -= self._failures[i]
            self.slow -= self._slow[i]
            self._calls[i] = self._failures[i] = self._slow[i] = 0
        self._epoch = last

    def record(self, now: float, failed: bool, slow: bool) -> None:
        """Add one outcome to the bucket of *now*."""
        self.refresh(now)
        i = self._epoch % self._buckets
        self._calls[i] += 1
        self.calls += 1
        if failed:
            self._failures[i] += 1
            self.failures += 1
        if slow:
            self._slow[i] += 1
            self.slow += 1

    def clear(self) -> None:
        """Forget every outcome."""
        buckets = self._buckets
        self._calls = [0] * buckets
        self._failures = [0] * buckets
        self._slow = [0] * buckets
        self.calls = self.failures = self.slow = 0


Window: TypeAlias = CountWindow | TimeWindow
