"""A time limit per call: cancel the work when it overruns, and say so.

`timeout` runs each call under ``asyncio.timeout``. When the budget runs out the
endpoint's coroutine is cancelled (it sees `asyncio.CancelledError` at its current
``await``, so its ``finally`` blocks and context managers run) and the caller gets
`DeadlineExceeded`, which is a `TimeoutError` too. Nothing runs in the background:
the work runs in the caller's task, so nothing is left behind.

Two things pass through untouched: the caller's own cancellation (including an
outer ``asyncio.timeout`` that expires first), and a `TimeoutError` the endpoint
raises itself before the budget is spent.

Example::

    endpoint = chain(
        circuit_breaker(breaker),   # counts DeadlineExceeded as a failure
        timeout(0.5),
    )(slow_endpoint)
"""

from __future__ import annotations

import asyncio
import math
from typing import TypeVar

from pygokit.endpoint import AnyMiddleware, Endpoint
from pygokit.errors import GoKitError

__all__ = ["DeadlineExceeded", "timeout"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class DeadlineExceeded(GoKitError, TimeoutError):
    """A call ran past its time limit and was cancelled.

    It is a `TimeoutError`, so code that handles timeouts in general handles it,
    and it is chained (``__cause__``) to the `TimeoutError` of ``asyncio.timeout``.

    Attributes:
        timeout: The time limit, in seconds.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__(
            f"call did not finish within its {timeout:.3g}s time limit and was cancelled;"
            " raise the limit or make the call faster"
        )
        self.timeout = timeout


def timeout(seconds: float) -> AnyMiddleware:
    """Return a middleware that cancels a call after *seconds* and raises `DeadlineExceeded`.

    The limit is measured on the event loop's clock, like every ``asyncio.timeout``.
    It adds to the caller's deadline rather than replacing it: whichever comes first
    ends the call, and when the caller's comes first the caller sees its own
    `TimeoutError` (or cancellation), not `DeadlineExceeded`.

    Raises:
        ValueError: *seconds* is not a positive, finite number.
    """
    if not 0 < seconds < math.inf:
        raise ValueError(f"seconds must be a positive, finite number, got {seconds!r}")
    limit = float(seconds)

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            deadline = asyncio.timeout(limit)
            try:
                async with deadline:
                    return await next_(request)
            except TimeoutError as exc:
                if deadline.expired():
                    raise DeadlineExceeded(limit) from exc
                raise

        return endpoint

    return middleware
