"""Balancers: pick the endpoint for the next call (Go kit's ``sd/lb``).

A `Balancer` asks its endpointer for the current endpoints on every pick, so it follows
discovery without being told, and raises `pygokit.sd.NoEndpoints` at once when there are
none: a request never waits for an instance to appear (retry decides whether to try
again). `RoundRobin` takes the endpoints in turn; `Random` picks one uniformly, from a
seedable generator so tests are repeatable. Both are safe to share between any number of
tasks: a pick never awaits, so asyncio runs it whole, and the round-robin counter is an
`itertools.count`, whose ``next`` is atomic under the GIL even across threads.

Example::

    balancer = RoundRobin(endpointer)
    response = await balancer.endpoint()(request)
"""

from __future__ import annotations

import itertools
import random
from typing import Generic, Protocol, TypeVar

from pygokit.endpoint import Endpoint
from pygokit.sd.endpointer import Endpointer
from pygokit.sd.errors import NoEndpoints

__all__ = ["Balancer", "Random", "RoundRobin"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Req_contra = TypeVar("Req_contra", contravariant=True)
Resp_co = TypeVar("Resp_co", covariant=True)


class Balancer(Protocol[Req_contra, Resp_co]):
    """Picks one endpoint per call from a changing set (Go kit's ``lb.Balancer``)."""

    def endpoint(self) -> Endpoint[Req_contra, Resp_co]:
        """Return the endpoint to call now; raise `pygokit.sd.NoEndpoints` if there is none."""
        ...


class RoundRobin(Generic[Req, Resp]):
    """Takes the endpoints in turn: the n-th pick gets endpoint ``n mod len(endpoints)``.

    As in Go kit, the counter is shared by every caller and the length is read afresh on
    each pick, so when the set changes the rotation simply continues over the new set.
    """

    __slots__ = ("_counter", "_endpointer")

    def __init__(self, endpointer: Endpointer[Req, Resp]) -> None:
        self._endpointer = endpointer
        self._counter = itertools.count()

    def endpoint(self) -> Endpoint[Req, Resp]:
        """Return the next endpoint in turn."""
        endpoints = self._endpointer.endpoints()
        if not endpoints:
            raise NoEndpoints()
        return endpoints[next(self._counter) % len(endpoints)]

    def __repr__(self) -> str:
        return f"RoundRobin({self._endpointer!r})"


class Random(Generic[Req, Resp]):
    """Picks an endpoint uniformly at random.

    Args:
        endpointer: Where the endpoints come from.
        seed: Seeds the balancer's own generator, for repeatable picks in tests; None
            seeds it from the operating system.
    """

    __slots__ = ("_endpointer", "_random")

    def __init__(self, endpointer: Endpointer[Req, Resp], *, seed: int | None = None) -> None:
        self._endpointer = endpointer
        self._random = random.Random(seed).random

    def endpoint(self) -> Endpoint[Req, Resp]:
        """Return a uniformly chosen endpoint."""
        endpoints = self._endpointer.endpoints()
        if not endpoints:
            raise NoEndpoints()
        return endpoints[int(self._random() * len(endpoints))]  # < len: see LeastLoaded

    def __repr__(self) -> str:
        return f"Random({self._endpointer!r})"
