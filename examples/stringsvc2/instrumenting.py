"""A service middleware that counts and times every call: Go kit's stringsvc2/instrumenting.go.

Each call adds 1 to ``request_count`` and observes its duration in
``request_latency``, both labelled with ``method`` and ``error`` (``"true"`` when
the call raised, such as ``uppercase("")``); ``count`` also observes its result in
``count_result``. The metrics are pygokit's interfaces, so any backend fits;
``__main__`` wires Prometheus, with Go kit's metric names.

Go kit observes the latency in seconds into a metric it names
``request_latency_microseconds``; here the value is in microseconds, as the name says.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from examples.stringsvc2.service import StringService
from pygokit.clock import Clock
from pygokit.metrics import MICROSECOND, Counter, Histogram

__all__ = ["InstrumentingMiddleware"]

T = TypeVar("T")


class InstrumentingMiddleware:
    """A `StringService` that records metrics about each call of the one it wraps.

    Args:
        request_count: Calls, labelled ``method`` and ``error``.
        request_latency: Call durations in microseconds, labelled ``method`` and ``error``.
        count_result: The result of each ``count`` call.
        next_: The service that does the work.
        clock: Monotonic seconds; a `pygokit.testing.FakeClock` in tests.
    """

    def __init__(
        self,
        request_count: Counter,
        request_latency: Histogram,
        count_result: Histogram,
        next_: StringService,
        *,
        clock: Clock = time.perf_counter,
    ) -> None:
        self._request_count = request_count
        self._request_latency = request_latency
        self._count_result = count_result
        self._next = next_
        self._clock = clock

    def uppercase(self, s: str) -> str:
        """Uppercase *s* with the wrapped service, counting and timing the call."""
        return self._measured("uppercase", self._next.uppercase, s)

    def count(self, s: str) -> int:
        """Count the characters of *s* with the wrapped service; record the call and result."""
        n = self._measured("count", self._next.count, s)
        self._count_result.observe(n)
        return n

    def _measured(self, method: str, call: Callable[[str], T], s: str) -> T:
        """Return ``call(s)``, counting and timing it under *method* (error="true" if it raised)."""
        began = self._clock()
        error = "true"
        try:
            result = call(s)
            error = "false"
        finally:
            took = (self._clock() - began) / MICROSECOND
            self._request_count.labels(method=method, error=error).add(1)
            self._request_latency.labels(method=method, error=error).observe(took)
        return result
