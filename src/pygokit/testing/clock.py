"""A fake monotonic clock and the sleep that goes with it."""

from __future__ import annotations

import asyncio
import heapq
import itertools

from pygokit.testing._waiters import Waiters

__all__ = ["FakeClock"]


class FakeClock:
    """Monotonic time that only moves when a test says so.

    Pass the clock itself as ``clock=`` (calling it returns the current time) and its
    `sleep` as ``sleep=``. A sleeping task wakes when `advance` moves time to or past
    its deadline. With ``auto_advance=True``, `sleep` instead moves the clock to its
    own deadline at once, which suits code that sleeps between attempts.

    Example::

        clock = FakeClock()
        task = asyncio.create_task(clock.sleep(5))
        await clock.wait_for_sleepers(1)
        clock.advance(5)
        await task
        assert clock() == 5
    """

    def __init__(self, start: float = 0.0, *, auto_advance: bool = False) -> None:
        self._now = float(start)
        self._auto_advance = auto_advance
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._waiters = Waiters()

    def __call__(self) -> float:
        """Return the current fake time in seconds."""
        return self._now

    @property
    def sleepers(self) -> int:
        """How many tasks are parked in `sleep`, waiting for time to pass."""
        return sum(1 for _, _, future in self._sleepers if not future.done())

    def advance(self, seconds: float) -> None:
        """Move time forward by *seconds* and wake every sleeper whose deadline passed.

        Raises:
            ValueError: *seconds* is negative; monotonic time never goes back.
        """
        if seconds < 0:
            raise ValueError(f"a monotonic clock cannot go back; got advance({seconds})")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def sleep(self, seconds: float) -> None:
        """Wait until the fake time has moved *seconds* forward (the fake `asyncio.sleep`)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        if self._auto_advance:
            self.advance(seconds)
            await asyncio.sleep(0)
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        self._waiters.notify()
        await future

    async def wait_for_sleepers(self, count: int = 1) -> None:
        """Return once at least *count* tasks are parked in `sleep`."""
        await self._waiters.until(lambda: self.sleepers >= count)

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r}, sleepers={self.sleepers})"
