"""A bulkhead: a fixed cap on how many calls run at once.

A `Bulkhead` lets at most *max_concurrent* calls through at a time, so one slow
dependency cannot tie up every task a service has. A call beyond the cap is refused
with `BulkheadFull` at once, or, with *max_wait*, waits up to that long for a slot;
waiting calls get slots in the order they arrived. A finished call hands its slot
straight to the next waiter, so a newcomer can never overtake the queue.

A cancelled call always gives its slot back, whether it was running or waiting.

Example::

    payments = Bulkhead(10, max_wait=0.05, name="payments")
    endpoint = bulkhead(payments)(payments_endpoint)
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import TypeVar

from pygokit.clock import Sleep
from pygokit.endpoint import AnyMiddleware, Endpoint
from pygokit.errors import GoKitError

__all__ = ["Bulkhead", "BulkheadFull", "bulkhead"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class BulkheadFull(GoKitError):
    """A call was refused because its bulkhead had no free slot.

    Attributes:
        name: The bulkhead's name.
        max_concurrent: Its cap on calls in flight.
        max_wait: How long the call waited for a slot, in seconds (0 if it did not).
    """

    def __init__(self, name: str, max_concurrent: int, max_wait: float) -> None:
        waited = f" after waiting {max_wait:.3g}s" if max_wait > 0 else ""
        super().__init__(
            f"bulkhead {name!r} is full: {max_concurrent} calls in flight{waited};"
            " retry later, or raise max_concurrent if the dependency can take more"
        )
        self.name = name
        self.max_concurrent = max_concurrent
        self.max_wait = max_wait


class Bulkhead:
    """At most *max_concurrent* calls at once; the rest wait up to *max_wait* or are refused.

    Use it through `bulkhead`, or directly: ``async with payments: ...`` holds a
    slot for the block. It belongs to one event loop and is not thread-safe.

    Args:
        max_concurrent: The most calls in flight at once; 0 refuses everything.
        max_wait: Seconds a call may wait for a slot; 0 (the default) never waits.
        name: Names the bulkhead in errors.
        sleep: How a waiting call measures *max_wait*; pass ``FakeClock.sleep`` in tests.

    Raises:
        ValueError: *max_concurrent* is negative, or *max_wait* is negative or not a number.
    """

    __slots__ = ("_in_flight", "_max", "_max_wait", "_name", "_rejected", "_sleep", "_waiters")

    def __init__(
        self,
        max_concurrent: int,
        *,
        max_wait: float = 0.0,
        name: str = "bulkhead",
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int):
            raise TypeError(f"max_concurrent must be an int, got {type(max_concurrent).__name__}")
        if max_concurrent < 0:
            raise ValueError(f"max_concurrent must be 0 or more, got {max_concurrent}")
        if not max_wait >= 0:
            raise ValueError(f"max_wait must be 0 or more seconds, got {max_wait!r}")
        self._max = max_concurrent
        self._max_wait = float(max_wait)
        self._name = name
        self._sleep = sleep
        self._in_flight = 0
        self._rejected = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def max_concurrent(self) -> int:
        """The most calls in flight at once."""
        return self._max

    @property
    def in_flight(self) -> int:
        """How many slots are taken now."""
        return self._in_flight

    @property
    def waiting(self) -> int:
        """How many calls are waiting for a slot."""
        return len(self._waiters)

    @property
    def rejected(self) -> int:
        """How many calls were refused since the bulkhead was made."""
        return self._rejected

    def try_acquire(self) -> bool:
        """Take a slot if one is free and nobody is waiting; never waits, counts nothing."""
        if self._in_flight < self._max and not self._waiters:
            self._in_flight += 1
            return True
        return False

    async def acquire(self) -> None:
        """Take a slot, waiting up to *max_wait* for one.

        Raises:
            BulkheadFull: No slot came free in time; the refusal is counted.
        """
        if self.try_acquire():
            return
        if self._max_wait <= 0:
            self._rejected += 1
            raise BulkheadFull(self._name, self._max, 0.0)
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(slot)
        # The timer is a task of this call's own, cancelled before the call returns.
        timer = asyncio.ensure_future(self._sleep(self._max_wait))
        got_slot = False
        try:
            await asyncio.wait((slot, timer), return_when=asyncio.FIRST_COMPLETED)
            got_slot = slot.done()
        finally:
            timer.cancel()
            if not slot.done():  # timed out, or cancelled while waiting
                self._waiters.remove(slot)
                slot.cancel()
            elif not got_slot:  # handed a slot just as this call was cancelled: pass it on
                self.release()
        if not got_slot:
            self._rejected += 1
            raise BulkheadFull(self._name, self._max, self._max_wait)

    def release(self) -> None:
        """Give a slot back: to the longest-waiting call if any, else to the pool."""
        if self._waiters:
            # The slot moves over and in_flight is unchanged. Every queued future is
            # pending: a waiter that gives up removes its own before it returns.
            self._waiters.popleft().set_result(None)
        else:
            self._in_flight -= 1

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return (
            f"Bulkhead({self._name!r}, max_concurrent={self._max}, in_flight={self._in_flight},"
            f" waiting={self.waiting}, rejected={self._rejected})"
        )


def bulkhead(bulkhead: Bulkhead) -> AnyMiddleware:
    """Return a middleware that holds a slot of *bulkhead* for the length of each call.

    A call that gets no slot raises `BulkheadFull` and the endpoint is not called.
    The slot is given back however the call ends: a result, an error or cancellation.

    Example::

        endpoint = bulkhead(Bulkhead(10))(endpoint)
    """
    try_acquire = bulkhead.try_acquire
    acquire = bulkhead.acquire
    release = bulkhead.release

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            if not try_acquire():
                await acquire()
            try:
                return await next_(request)
            finally:
                release()

        return endpoint

    return middleware
