"""FakeClock: time that moves only when the test says so."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.clock import Clock, Sleep
from pygokit.testing import FakeClock


def test_clock_reads_start_and_advances() -> None:
    """Calling the clock returns the start time plus every advance."""
    clock = FakeClock(start=100.0)
    clock.advance(1.5)
    clock.advance(0.5)
    assert clock() == 102.0


def test_clock_refuses_to_go_back() -> None:
    """advance() with a negative amount raises ValueError and leaves time unchanged."""
    clock = FakeClock()
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1)
    assert clock() == 0.0


async def test_sleep_waits_until_time_reaches_its_deadline() -> None:
    """A sleeper wakes only once the clock has advanced past its whole delay."""
    clock = FakeClock()
    task = asyncio.create_task(clock.sleep(5))
    await clock.wait_for_sleepers(1)

    clock.advance(4.9)
    await asyncio.sleep(0)
    assert not task.done()

    clock.advance(0.1)
    await task
    assert clock.sleepers == 0


async def test_sleepers_wake_in_deadline_order() -> None:
    """Sleepers whose deadlines pass in one advance wake earliest deadline first."""
    clock = FakeClock()
    woke: list[float] = []

    async def sleeper(delay: float) -> None:
        await clock.sleep(delay)
        woke.append(delay)

    tasks = [asyncio.create_task(sleeper(d)) for d in (3, 1, 2)]
    await clock.wait_for_sleepers(3)
    clock.advance(10)
    await asyncio.gather(*tasks)

    assert woke == [1, 2, 3]


async def test_cancelled_sleeper_is_not_counted() -> None:
    """Cancelling a sleeping task propagates CancelledError and frees its place."""
    clock = FakeClock()
    task = asyncio.create_task(clock.sleep(1))
    await clock.wait_for_sleepers(1)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.sleepers == 0
    clock.advance(1)


async def test_non_positive_sleep_returns_at_once() -> None:
    """sleep(0) and negative delays yield once and do not park or move time."""
    clock = FakeClock()
    await clock.sleep(0)
    await clock.sleep(-3)
    assert (clock(), clock.sleepers) == (0.0, 0)


async def test_auto_advance_moves_time_to_the_deadline() -> None:
    """With auto_advance, sleep returns at once and the clock shows the time slept."""
    clock = FakeClock(auto_advance=True)
    await clock.sleep(2)
    await clock.sleep(0.5)
    assert clock() == 2.5


def test_fake_clock_fits_the_clock_and_sleep_types() -> None:
    """A FakeClock and its sleep are accepted where components take clock= and sleep=."""
    clock = FakeClock()
    as_clock: Clock = clock
    as_sleep: Sleep = clock.sleep
    assert as_clock() == 0.0
    assert as_sleep == clock.sleep
    assert repr(clock) == "FakeClock(now=0.0, sleepers=0)"
