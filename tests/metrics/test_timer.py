"""Timer and timed: durations into a histogram, in the chosen unit."""

from __future__ import annotations

import pytest

from pygokit.metrics import MILLISECOND, Timer, generic, timed
from pygokit.testing import FakeClock


def test_timer_observes_time_since_it_started() -> None:
    """observe_duration records the seconds since construction and returns them."""
    clock = FakeClock(start=100)
    histogram = generic.Histogram("t")
    timer = Timer(histogram, clock=clock)
    clock.advance(1.5)

    assert timer.observe_duration() == 1.5
    assert (histogram.count(), histogram.sum()) == (1, 1.5)


def test_timer_as_context_manager_times_the_block_in_milliseconds() -> None:
    """As a with block, the timer starts on entry and observes on exit, in its unit."""
    clock = FakeClock()
    histogram = generic.Histogram("t")
    timer = Timer(histogram, unit=MILLISECOND, clock=clock)
    clock.advance(10)  # before the block: not counted
    with timer:
        clock.advance(0.25)
    assert histogram.sum() == pytest.approx(250)


def test_timer_never_observes_a_negative_duration() -> None:
    """A clock that goes backwards yields 0, not a negative duration."""
    readings = iter([5.0, 4.0])
    histogram = generic.Histogram("t")
    assert Timer(histogram, clock=lambda: next(readings)).observe_duration() == 0.0


def test_timer_refuses_a_non_positive_unit() -> None:
    """unit=0 is a ValueError at construction."""
    with pytest.raises(ValueError, match="unit must be a positive"):
        Timer(generic.Histogram("t"), unit=0)
    with pytest.raises(ValueError, match="unit must be a positive"):
        timed(generic.Histogram("t"), unit=-1)


async def test_timed_wraps_async_and_plain_functions_and_times_failures() -> None:
    """timed records one observation per call, for coroutines, functions and raising calls."""
    clock = FakeClock()
    histogram = generic.Histogram("t")

    @timed(histogram, clock=clock)
    async def slow(seconds: float) -> str:
        clock.advance(seconds)
        return "done"

    @timed(histogram, clock=clock)
    def failing() -> None:
        clock.advance(0.5)
        raise RuntimeError("boom")

    assert await slow(2) == "done"
    with pytest.raises(RuntimeError):
        failing()
    assert (histogram.count(), histogram.sum()) == (2, 2.5)
    assert slow.__name__ == "slow"
