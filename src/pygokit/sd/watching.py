"""`WatchingInstancer`: the base class of instancers fed by a background watch.

A backend (etcd, ZooKeeper, Consul, DNS SRV, Eureka) subclasses it and writes one
coroutine, `WatchingInstancer._watch`, which follows the service and calls
`WatchingInstancer._publish` with a full snapshot after every change, or with
``Event(error=exc)`` when it loses track (then backs off, retries, and publishes the next
good snapshot). The base class provides the rest: the `InstanceCache` subscribers register
with, the lifecycle as an async context manager, and what happens when the watch dies.

- Entering starts ``_watch`` in a `Background` and returns once it has published its
  first event, good or bad, so that an endpointer registered afterwards starts from what
  the backend actually knows.
- Leaving cancels ``_watch`` and waits for it.
- If ``_watch`` raises, subscribers receive ``Event(error=WatcherDied(...))``, the task
  that entered the instancer is cancelled, and leaving raises that `WatcherDied`.

Example::

    class StaticFileInstancer(WatchingInstancer):
        async def _watch(self) -> None:
            while True:
                try:
                    self._publish(Event(Path(self.path).read_text().split()))
                except OSError as exc:
                    self._publish(Event(error=exc))
                await self._sleep(self.interval)
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from pygokit.sd.background import Background
from pygokit.sd.errors import WatcherDied
from pygokit.sd.event import Event
from pygokit.sd.instancer import InstanceCache, Subscriber

__all__ = ["WatchingInstancer"]


class WatchingInstancer(ABC):
    """An `pygokit.sd.Instancer` whose events come from a background ``_watch`` loop.

    Args:
        name: The instancer in messages, e.g. ``"etcd instancer /services/sum/"``.
    """

    def __init__(self, *, name: str) -> None:
        self.name = name
        """How messages name this instancer."""
        self._cache = InstanceCache()
        self._background = Background(name, on_death=self._died)
        self._published = asyncio.Event()

    @property
    def state(self) -> Event:
        """The latest event; ``Event()`` until the watch publishes."""
        return self._cache.state

    def register(self, subscriber: Subscriber) -> None:
        """Add *subscriber*; it is called with the current state before this returns."""
        self._cache.register(subscriber)

    def deregister(self, subscriber: Subscriber) -> None:
        """Stop calling *subscriber*; one that is not registered is ignored."""
        self._cache.deregister(subscriber)

    def _publish(self, event: Event) -> None:
        """Publish a full snapshot, or an error event; call it from `_watch`."""
        self._published.set()
        self._cache.update(event)

    @abstractmethod
    async def _watch(self) -> None:
        """Follow the service and `_publish` what it finds, until cancelled.

        Publish promptly after starting (entering waits for it), retry transient
        failures with backoff after publishing them as error events, and never catch
        `asyncio.CancelledError`: cancellation is how the instancer stops. An exception
        that escapes kills the instancer (see the module docstring).
        """

    def _died(self, died: WatcherDied) -> None:
        self._publish(Event(error=died))

    async def __aenter__(self) -> Self:
        await self._background.start()
        self._published.clear()
        self._background.spawn(self._watch(), what="watch")
        try:
            await self._published.wait()
        except BaseException:
            await self._background.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop watching and wait for the watch to end.

        Raises:
            WatcherDied: The watch died while the instancer ran.
        """
        await self._background.stop()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.state!r})"
