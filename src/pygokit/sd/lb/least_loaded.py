"""`LeastLoaded`: power-of-two-choices over the calls each endpoint has in flight.

Round robin and random spread *picks* evenly, which spreads *load* evenly only when every
instance is equally fast. When one instance slows down (a long GC pause, a noisy
neighbour, a cold cache), the calls it holds pile up while it keeps getting its full
share of new ones. `LeastLoaded` picks two endpoints at random and sends the call to the
one with fewer calls in flight (Finagle's P2C least-loaded, gRPC's and Envoy's
``least_request``): a slow instance has more in flight, so it gets fewer new calls, and the
balancer needs no coordination and no latency history. Picking two at random, rather than
the least loaded of all, keeps callers from all piling on the same idle instance at once.

Go kit has no such balancer. The in-flight count is kept by the endpoint the balancer
returns, a thin wrapper around the endpointer's endpoint: it counts the call from the
moment it is awaited until it returns, raises or is cancelled. The wrappers are made again
only when the endpointer returns a different tuple (`pygokit.sd.DefaultEndpointer` and
`pygokit.sd.FixedEndpointer` return the same tuple until the set changes), and an
endpoint that survives a change keeps its wrapper and count.

Example::

    balancer = LeastLoaded(endpointer)
    response = await balancer.endpoint()(request)
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Generic, TypeVar

from pygokit.endpoint import Endpoint
from pygokit.sd.endpointer import Endpointer
from pygokit.sd.errors import NoEndpoints

__all__ = ["LeastLoaded"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class _Tracked(Generic[Req, Resp]):
    """An endpoint that counts the calls it has in flight."""

    __slots__ = ("endpoint", "in_flight")

    def __init__(self, endpoint: Endpoint[Req, Resp]) -> None:
        self.endpoint = endpoint
        self.in_flight = 0

    async def __call__(self, request: Req) -> Resp:
        self.in_flight += 1
        try:
            return await self.endpoint(request)
        finally:
            self.in_flight -= 1

    def __repr__(self) -> str:
        return f"<{self.endpoint!r}, {self.in_flight} in flight>"


class LeastLoaded(Generic[Req, Resp]):
    """Sends each call to the less busy of two endpoints picked at random.

    Args:
        endpointer: Where the endpoints come from.
        seed: Seeds the balancer's own generator, for repeatable picks in tests; None
            seeds it from the operating system.
    """

    __slots__ = ("_endpointer", "_random", "_source", "_tracked")

    def __init__(self, endpointer: Endpointer[Req, Resp], *, seed: int | None = None) -> None:
        self._endpointer = endpointer
        self._random = random.Random(seed).random
        self._source: Sequence[Endpoint[Req, Resp]] | None = None
        self._tracked: tuple[_Tracked[Req, Resp], ...] = ()

    def endpoint(self) -> Endpoint[Req, Resp]:
        """Return the endpoint with fewer calls in flight of two chosen at random."""
        endpoints = self._endpointer.endpoints()
        if endpoints is not self._source:
            self._track(endpoints)
        tracked = self._tracked
        count = len(tracked)
        if count < 2:
            if not count:
                raise NoEndpoints()
            return tracked[0]
        # One draw picks an ordered pair of distinct endpoints, each pair equally likely
        # (int(random() * m) < m for every m below 2**53).
        first, second = divmod(int(self._random() * (count * (count - 1))), count - 1)
        if second >= first:
            second += 1
        a, b = tracked[first], tracked[second]
        return a if a.in_flight <= b.in_flight else b

    def _track(self, endpoints: Sequence[Endpoint[Req, Resp]]) -> None:
        """Wrap a new set of endpoints, keeping the wrappers (and counts) of survivors."""
        # The old wrappers keep their endpoints alive, so an id found here is that object's.
        previous = {id(tracked.endpoint): tracked for tracked in self._tracked}
        wrapped: list[_Tracked[Req, Resp]] = []
        for endpoint in endpoints:
            tracked = previous.get(id(endpoint))
            wrapped.append(tracked if tracked is not None else _Tracked(endpoint))
        self._tracked = tuple(wrapped)
        self._source = endpoints

    def __repr__(self) -> str:
        return f"LeastLoaded({self._endpointer!r})"
