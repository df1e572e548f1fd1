"""Timing code into a histogram: Go kit's Timer, plus a decorator.

`Timer` starts when it is made (or when its ``with`` block is entered) and
`Timer.observe_duration` records the time since, in the chosen unit. `timed` wraps a
function, sync or async, so that every call is timed.

Example::

    with Timer(request_duration.labels(method="sum")):
        await handle(request)

    @timed(db_latency, unit=MILLISECOND)
    async def query(sql: str) -> Rows: ...
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar, cast

from pygokit.clock import Clock
from pygokit.metrics.metric import Histogram

__all__ = ["MICROSECOND", "MILLISECOND", "SECOND", "Timer", "timed"]

SECOND = 1.0
"""Observe durations in seconds (the default, and Prometheus's convention)."""

MILLISECOND = 1e-3
"""Observe durations in milliseconds (StatsD's convention)."""

MICROSECOND = 1e-6
"""Observe durations in microseconds."""

P = ParamSpec("P")
R = TypeVar("R")


def _check_unit(unit: float) -> None:
    if not unit > 0:
        raise ValueError(f"unit must be a positive number of seconds, got {unit!r}")


class Timer:
    """Measures the time since it started and records it in a histogram.

    Args:
        histogram: Where durations go.
        unit: The unit of the observed value, in seconds: `SECOND`, `MILLISECOND`...
        clock: Monotonic seconds; pass a `pygokit.testing.FakeClock` in tests.
    """

    __slots__ = ("_began", "_clock", "_histogram", "_unit")

    def __init__(
        self, histogram: Histogram, *, unit: float = SECOND, clock: Clock = time.perf_counter
    ) -> None:
        _check_unit(unit)
        self._histogram = histogram
        self._unit = unit
        self._clock = clock
        self._began = clock()

    def observe_duration(self) -> float:
        """Record the time since the timer started (never negative) and return it."""
        duration = max(0.0, self._clock() - self._began) / self._unit
        self._histogram.observe(duration)
        return duration

    def __enter__(self) -> Self:
        self._began = self._clock()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.observe_duration()


def timed(
    histogram: Histogram, *, unit: float = SECOND, clock: Clock = time.perf_counter
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Return a decorator that records how long each call of a function takes.

    Works on plain and ``async`` functions; an async function is timed until its
    coroutine finishes. Calls that raise are timed too.
    """
    _check_unit(unit)

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(function):
            coroutine_function = cast(Callable[P, Awaitable[Any]], function)

            @functools.wraps(function)
            async def timed_coroutine(*args: P.args, **kwargs: P.kwargs) -> Any:
                with Timer(histogram, unit=unit, clock=clock):
                    return await coroutine_function(*args, **kwargs)

            return cast(Callable[P, R], timed_coroutine)

        @functools.wraps(function)
        def timed_function(*args: P.args, **kwargs: P.kwargs) -> R:
            with Timer(histogram, unit=unit, clock=clock):
                return function(*args, **kwargs)

        return timed_function

    return decorate
