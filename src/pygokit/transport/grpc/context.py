"""Request-scoped facts of the gRPC transport, as context variables, and the deadline.

Go kit puts the full method name in the ``context.Context`` under
``ContextKeyRequestMethod``. Here it is `request_method`, which a `Server`'s
handler sets for the method it serves (and `Interceptor` sets for every method,
pygokit's or not). The server sets `request_id` on the error path, before the
error handler runs, so a log entry carries the id the client got. grpc.aio runs
every RPC in its own task, so none of these values leak from one request into
another.

**Deadlines.** asyncio has no way to ask for the deadline of an enclosing
``asyncio.timeout`` (trio has ``current_effective_deadline``; asyncio's
``Timeout`` is known only to the code that entered it). So the deadline that
gRPC propagates lives in the `deadline` variable, in event-loop time:

* a `Server` sets it from the incoming RPC's deadline, so a `Client` called
  inside the endpoint sends the *remaining* time downstream (and sends nothing
  once it has passed);
* `rpc_timeout` is ``asyncio.timeout`` that also narrows `deadline`: use it
  where the caller's budget should travel with the RPC.

A plain ``asyncio.timeout`` still bounds a call: when it fires the client
cancels the RPC and the server's handler is cancelled; the server just does not
learn the deadline in advance.

Example::

    async with rpc_timeout(0.5):
        reply = await sum_client(SumRequest(a=1, b=2))  # the server sees ~0.5 s left
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar

__all__ = ["deadline", "request_id", "request_method", "rpc_timeout", "time_remaining"]

request_method: ContextVar[str] = ContextVar("pygokit.grpc.request_method", default="")
"""The full method of the RPC being served, such as ``"/pb.Add/Sum"``."""

request_id: ContextVar[str] = ContextVar("pygokit.grpc.request_id", default="")
"""The id sent in an error status (details and ``x-request-id`` trailer); set on the error path."""

deadline: ContextVar[float | None] = ContextVar("pygokit.grpc.deadline", default=None)
"""When the current work must be done, in ``loop.time()`` seconds; None for no deadline."""


def time_remaining() -> float | None:
    """Seconds left until `deadline` (0.0 once it passed), or None when there is none."""
    when = deadline.get()
    if when is None:
        return None
    return max(when - asyncio.get_running_loop().time(), 0.0)


@contextlib.asynccontextmanager
async def rpc_timeout(delay: float | None) -> AsyncIterator[asyncio.Timeout]:
    """``asyncio.timeout(delay)`` whose deadline gRPC clients inside it send downstream.

    The new deadline never extends an outer one: inside ``rpc_timeout(5)`` entered
    under a 1-second deadline, clients still send what is left of the second. None
    adds no limit (the outer deadline, if any, still holds).
    """
    loop = asyncio.get_running_loop()
    outer = deadline.get()
    when = None if delay is None else loop.time() + delay
    if outer is not None and (when is None or outer < when):
        when = outer
    token = deadline.set(when)
    try:
        async with asyncio.timeout_at(when) as scope:
            yield scope
    finally:
        deadline.reset(token)
