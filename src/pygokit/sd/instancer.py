"""Instancers: where service discovery publishes the instances of a service.

An `Instancer` pushes `Event` snapshots to its subscribers: the current state the
moment a subscriber registers, then every change. Go kit does this over channels; here a
subscriber is a plain synchronous callback, on purpose:

- events are complete snapshots, so a subscriber only needs the latest one; a callback
  receives it with no queue to size, no task per subscriber and no wake-up to lose;
- the new state is applied before ``update`` returns, so a balancer never picks from a
  set the instancer has already replaced, and tests observe changes without sleeping;
- a subscriber with slow or asynchronous work to do (closing connections) starts it in a
  task it owns, as `pygokit.sd.DefaultEndpointer` does, instead of blocking the others.

A subscriber must therefore be quick and must not raise: its exception propagates out of
``update`` into the backend's watch loop. The cache belongs to one event loop and is not
thread-safe; a backend whose client calls back on another thread (kazoo) hops to the loop
with ``loop.call_soon_threadsafe`` first.

`InstanceCache` is the broadcaster every backend publishes through (Go kit's
``internal/instance.Cache``); `FixedInstancer` serves a static list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeAlias

from pygokit.sd.event import Event

__all__ = ["FixedInstancer", "InstanceCache", "Instancer", "Subscriber"]

Subscriber: TypeAlias = Callable[[Event], None]
"""Receives every `Event` an instancer publishes; must return quickly and not raise."""


class Instancer(Protocol):
    """A source of instance snapshots for one service (Go kit's ``sd.Instancer``)."""

    def register(self, subscriber: Subscriber) -> None:
        """Add *subscriber*; it is called with the current state before this returns."""

    def deregister(self, subscriber: Subscriber) -> None:
        """Stop calling *subscriber*; a subscriber that is not registered is ignored."""


class InstanceCache:
    """The current `Event` of a service and the subscribers to tell when it changes.

    Backends call `update` with every snapshot or error they see; the cache drops an event
    equal to the current state and passes any other one to each subscriber, in the order
    they registered. Events are immutable, so every subscriber gets the same object.

    Example::

        cache = InstanceCache()
        seen: list[Event] = []
        cache.register(seen.append)            # gets Event() at once
        cache.update(Event(["a:80"]))
        cache.update(Event(["a:80"]))          # the same state: not broadcast again
        assert seen == [Event(), Event(["a:80"])]
    """

    __slots__ = ("_state", "_subscribers")

    def __init__(self) -> None:
        self._state = Event()
        self._subscribers: list[Subscriber] = []

    @property
    def state(self) -> Event:
        """The latest event; ``Event()`` (no instances) until the first update."""
        return self._state

    def update(self, event: Event) -> None:
        """Make *event* the current state and broadcast it, unless nothing changed."""
        if event == self._state:
            return
        self._state = event
        for subscriber in tuple(self._subscribers):  # a subscriber may deregister itself
            subscriber(event)

    def register(self, subscriber: Subscriber) -> None:
        """Add *subscriber* and call it with the current state at once."""
        if subscriber not in self._subscribers:
            self._subscribers.append(subscriber)
        subscriber(self._state)

    def deregister(self, subscriber: Subscriber) -> None:
        """Remove *subscriber*; one that is not registered is ignored."""
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    def __repr__(self) -> str:
        return f"InstanceCache({self._state!r}, subscribers={len(self._subscribers)})"


class FixedInstancer:
    """An instancer for a list of instances that never changes (Go kit's ``FixedInstancer``).

    Use it when the addresses come from configuration, or in tests.

    Example::

        endpointer = DefaultEndpointer(FixedInstancer(["10.0.0.1:80", "10.0.0.2:80"]), factory)
    """

    __slots__ = ("_event",)

    def __init__(self, instances: Iterable[str]) -> None:
        self._event = Event(instances)

    def register(self, subscriber: Subscriber) -> None:
        """Call *subscriber* with the fixed instances; there will be no further events."""
        subscriber(self._event)

    def deregister(self, subscriber: Subscriber) -> None:
        """Do nothing: a fixed instancer keeps no subscribers."""

    def __repr__(self) -> str:
        return f"FixedInstancer({list(self._event.instances)!r})"
