"""Endpointers: turn the instances that discovery finds into endpoints to call.

A `Factory` makes an endpoint for one instance string (``"10.0.0.1:8080"`` becomes an HTTP
client of that address) and may return a closer that releases what the endpoint holds.
`DefaultEndpointer` subscribes to an `pygokit.sd.Instancer` and keeps one endpoint per
instance, with Go kit's endpoint-cache semantics:

- On a snapshot, endpoints of instances that are still there are kept (their connections
  survive), new instances go through the factory, and the endpoints of instances that
  left are closed, each exactly once. A factory that raises is logged and only that
  instance is skipped. `DefaultEndpointer.endpoints` lists the endpoints ordered by
  instance string.
- On an error event the error is logged and the last endpoints keep being served, for
  ever by default: a discovery outage should not take down calls to instances that are
  still up (gRPC does the same). With ``invalidate_on_error=t`` the first error starts a
  clock: for *t* seconds the old endpoints are served, then they are closed and
  `DefaultEndpointer.endpoints` raises `pygokit.sd.DiscoveryError` (a
  `pygokit.sd.NoEndpoints`) with that first error; later errors change neither the error
  nor the deadline. The next snapshot restores normal service. ``t = 0`` invalidates at
  the next read.

`DefaultEndpointer.endpoints` is the hot path of every balanced call, so it only reads an
immutable tuple that updates replace whole; no lock is needed in asyncio and readers never
see a half-made set. `FixedEndpointer` serves endpoints you built yourself.

A closer may be synchronous or return an awaitable; awaitables are awaited in a task the
endpointer owns, and leaving the endpointer's ``async with`` block waits for them. Errors
from closers are logged, never raised.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Generic, Protocol, Self, TypeAlias, TypeVar

from pygokit.clock import Clock
from pygokit.endpoint import Endpoint
from pygokit.log import Logger, NopLogger
from pygokit.sd.background import Background
from pygokit.sd.errors import DiscoveryError
from pygokit.sd.event import Event
from pygokit.sd.instancer import Instancer

__all__ = ["Closer", "DefaultEndpointer", "Endpointer", "Factory", "FixedEndpointer"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Req_contra = TypeVar("Req_contra", contravariant=True)
Resp_co = TypeVar("Resp_co", covariant=True)

Closer: TypeAlias = Callable[[], Awaitable[None] | None]
"""Releases what an endpoint holds (a connection, a channel); sync, or returning an awaitable."""

Factory: TypeAlias = Callable[[str], tuple[Endpoint[Req, Resp], Closer | None]]
"""Makes the endpoint for one instance string and its closer (or None); raises if it cannot.

It runs inside the instancer's update, so it must not block: build the client, do not
connect it (clients connect lazily on their first call).
"""


class Endpointer(Protocol[Req_contra, Resp_co]):
    """Something that lists the endpoints to balance over (Go kit's ``sd.Endpointer``)."""

    def endpoints(self) -> Sequence[Endpoint[Req_contra, Resp_co]]:
        """Return the current endpoints; raise `pygokit.sd.NoEndpoints` if they are unknown."""
        ...


class DefaultEndpointer(Generic[Req, Resp]):
    """Keeps one endpoint per discovered instance; an async context manager.

    Entering registers with the instancer, which hands over its current state at once;
    leaving deregisters, closes every endpoint and waits for asynchronous closers. See the
    module docstring for what happens on each event.

    Args:
        instancer: Where the instances come from.
        factory: Makes the endpoint (and closer) for an instance.
        logger: Receives factory, closer and discovery errors (``instance=``, ``err=``).
        invalidate_on_error: Seconds to keep serving the last endpoints after discovery
            fails, after which `endpoints` raises `pygokit.sd.DiscoveryError`; None (the
            default) serves them until discovery recovers, however long that takes.
        clock: Monotonic seconds for the invalidation deadline; a
            `pygokit.testing.FakeClock` in tests.

    Example::

        async with DefaultEndpointer(instancer, factory, invalidate_on_error=30.0) as endpointer:
            balancer = RoundRobin(endpointer)
            response = await balancer.endpoint()(request)
    """

    def __init__(
        self,
        instancer: Instancer,
        factory: Factory[Req, Resp],
        *,
        logger: Logger | None = None,
        invalidate_on_error: float | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        if not callable(factory):
            raise TypeError(f"factory must be callable, got {factory!r}")
        if invalidate_on_error is not None and not 0 <= invalidate_on_error < math.inf:
            raise ValueError(
                "invalidate_on_error must be zero or more seconds, or None to keep serving"
                f" the last endpoints while discovery fails; got {invalidate_on_error!r}"
            )
        self._instancer = instancer
        self._factory = factory
        self._logger = logger if logger is not None else NopLogger()
        self._timeout = invalidate_on_error
        self._clock = clock
        self._subscriber = self._update
        self._background = Background(f"endpointer of {instancer!r}")
        self._closing: set[asyncio.Task[None]] = set()  # awaiting asynchronous closers
        self._running = False
        self._cache: dict[str, tuple[Endpoint[Req, Resp], Closer | None]] = {}
        self._endpoints: tuple[Endpoint[Req, Resp], ...] = ()
        # What endpoints() returns without a second look: the endpoints while running with
        # no discovery error pending; None sends readers to _stale().
        self._fast: tuple[Endpoint[Req, Resp], ...] | None = None
        self._pending: tuple[Exception, float, float] | None = None  # error, deadline, timeout

    @property
    def instances(self) -> tuple[str, ...]:
        """The instances that have an endpoint now, sorted; for status pages and logs."""
        return tuple(self._cache)

    def endpoints(self) -> tuple[Endpoint[Req, Resp], ...]:
        """Return the endpoints, ordered by instance; possibly empty.

        Raises:
            pygokit.sd.DiscoveryError: Discovery has failed for *invalidate_on_error*
                seconds; the endpoints were closed.
            RuntimeError: The endpointer is not inside its ``async with`` block.
        """
        fast = self._fast
        if fast is not None:
            return fast
        return self._stale()

    def _stale(self) -> tuple[Endpoint[Req, Resp], ...]:
        pending = self._pending
        if pending is None:
            raise RuntimeError(
                "the endpointer is not running; use it inside 'async with DefaultEndpointer(...)'"
            )
        error, deadline, timeout = pending
        if self._clock() < deadline:
            return self._endpoints
        self._refresh(())
        raise DiscoveryError(error, timeout) from error

    def _update(self, event: Event) -> None:
        """Apply one event from the instancer (the subscriber callback)."""
        if not self._running:
            return
        error = event.error
        if error is None:
            self._pending = None
            self._refresh(event.instances)
            self._fast = self._endpoints
            return
        self._logger.log(err=error)
        if self._timeout is not None and self._pending is None:
            self._pending = (error, self._clock() + self._timeout, self._timeout)
            self._fast = None

    def _refresh(self, instances: tuple[str, ...]) -> None:
        """Keep surviving endpoints, make new ones, close the rest."""
        removed = self._cache
        cache: dict[str, tuple[Endpoint[Req, Resp], Closer | None]] = {}
        for instance in instances:
            entry = removed.pop(instance, None)
            if entry is None:
                try:
                    endpoint, closer = self._factory(instance)  # a bad shape fails here too
                except Exception as exc:
                    self._logger.log(instance=instance, err=exc)
                    continue
                entry = (endpoint, closer)
            cache[instance] = entry
        self._cache = cache
        self._endpoints = tuple(endpoint for endpoint, _ in cache.values())
        for instance, (_, closer) in removed.items():
            if closer is not None:
                self._close(instance, closer)

    def _close(self, instance: str, closer: Closer) -> None:
        try:
            result = closer()
        except Exception as exc:
            self._logger.log(instance=instance, err=exc)
            return
        if inspect.isawaitable(result):
            task = self._background.spawn(self._await_close(instance, result), what="close")
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _await_close(self, instance: str, closing: Awaitable[None]) -> None:
        try:
            await closing
        except Exception as exc:
            self._logger.log(instance=instance, err=exc)

    async def __aenter__(self) -> Self:
        if self._running:
            raise RuntimeError("the endpointer is already running")
        await self._background.start()
        self._running = True
        try:
            self._instancer.register(self._subscriber)
        except BaseException:
            await self.aclose()
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
        """Deregister, close every endpoint and wait for the closers; idempotent."""
        if not self._running:
            return
        self._running = False
        self._instancer.deregister(self._subscriber)
        self._fast = self._pending = None
        self._refresh(())
        if self._closing:
            await asyncio.wait(self._closing)
        await self._background.stop()

    def __repr__(self) -> str:
        return f"DefaultEndpointer({self._instancer!r}, instances={len(self._cache)})"


class FixedEndpointer(Generic[Req, Resp]):
    """Endpoints you built yourself, served as they are (Go kit's ``FixedEndpointer``).

    Example::

        balancer = RoundRobin(FixedEndpointer([client_a, client_b]))
    """

    __slots__ = ("_endpoints",)

    def __init__(self, endpoints: Iterable[Endpoint[Req, Resp]]) -> None:
        self._endpoints = tuple(endpoints)

    def endpoints(self) -> tuple[Endpoint[Req, Resp], ...]:
        """Return the endpoints given at construction, in that order."""
        return self._endpoints

    def __repr__(self) -> str:
        return f"FixedEndpointer({len(self._endpoints)} endpoints)"
