"""Test doubles for service discovery: a recording subscriber and a counting factory.

Backend tests use `EventRecorder` to wait, without polling, for the event a change
should produce; endpointer and balancer tests use `CountingFactory` to count the
endpoints made and closed per instance.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Container

from pygokit.endpoint import Endpoint
from pygokit.sd import Closer, Event
from pygokit.testing._waiters import Waiters


class EventRecorder:
    """A `pygokit.sd.Subscriber` that keeps every event it receives, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._waiters = Waiters()

    def __call__(self, event: Event) -> None:
        """Record *event* and wake the tasks waiting in `wait_for`."""
        self.events.append(event)
        self._waiters.notify()

    @property
    def last(self) -> Event:
        """The latest event received."""
        return self.events[-1]

    async def wait_for(self, matches: Callable[[Event], bool], *, after: int = 0) -> Event:
        """Return the first event from index *after* on that *matches*, waiting for it.

        Bound the wait with ``asyncio.timeout``. Pass ``after=len(recorder.events)`` to
        ignore what was received before the change under test.
        """
        await self._waiters.until(lambda: any(map(matches, self.events[after:])))
        return next(event for event in self.events[after:] if matches(event))


class CountingFactory:
    """A `pygokit.sd.Factory` whose endpoints answer with their instance string.

    It counts the endpoints it makes and the closes of each instance's closer; instances
    in *fail* make it raise, and with *async_close* the closers are coroutines that wait
    for *close_gate* (when given) before counting.
    """

    def __init__(
        self,
        *,
        fail: Container[str] = (),
        async_close: bool = False,
        close_gate: asyncio.Event | None = None,
    ) -> None:
        self.made: list[str] = []
        self.closed: Counter[str] = Counter()
        self._fail = fail
        self._async_close = async_close
        self._close_gate = close_gate

    def __call__(self, instance: str) -> tuple[Endpoint[object, str], Closer]:
        """Make the endpoint for *instance*, or raise ConnectionError if it is in *fail*."""
        if instance in self._fail:
            raise ConnectionError(f"cannot connect to {instance}")
        self.made.append(instance)

        async def endpoint(request: object) -> str:
            return instance

        if not self._async_close:
            return endpoint, lambda: self.closed.update([instance])

        async def close() -> None:
            if self._close_gate is not None:
                await self._close_gate.wait()
            self.closed.update([instance])

        return endpoint, close
