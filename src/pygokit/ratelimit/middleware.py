"""Rate-limiting middleware: Go kit's erroring and delaying limiters.

`erroring_limiter` asks an `Allower` before each call and rejects the call with
`RateLimited` when the limiter says no (Go kit's ``NewErroringLimiter``).
`delaying_limiter` asks a `Waiter` to wait until the call may proceed (Go kit's
``NewDelayingLimiter``). Both work with any limiter that has the right method:
`pygokit.ratelimit.TokenBucket` is both an Allower and a Waiter, and
`pygokit.ratelimit.redis.RedisTokenBucket` is an `AsyncAllower`, since asking
Redis takes a round trip.

Example::

    bucket = TokenBucket(rate=100, burst=20)
    endpoint = erroring_limiter(bucket)(sum_endpoint)           # fail fast when over
    endpoint = delaying_limiter(bucket, max_wait=0.5)(sum_endpoint)  # queue briefly
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar, cast

from pygokit.endpoint import AnyMiddleware, Endpoint
from pygokit.errors import GoKitError

__all__ = [
    "Allower",
    "AllowerFunc",
    "AsyncAllower",
    "RateLimited",
    "Waiter",
    "delaying_limiter",
    "erroring_limiter",
]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class RateLimited(GoKitError):
    """A call was refused because it would exceed a rate limit (Go kit's ``ErrLimited``).

    Attributes:
        retry_in: Seconds until the limiter expects to admit a call again, or None
            when the limiter cannot tell. Transports may turn it into ``Retry-After``.
    """

    def __init__(self, retry_in: float | None = None) -> None:
        message = "rate limit exceeded"
        if retry_in is not None:
            message += f"; retry in {retry_in:.3g}s"
        super().__init__(message)
        self.retry_in = retry_in


class Allower(Protocol):
    """Says whether one more call may go ahead now (Go kit's ``Allower``)."""

    def allow(self) -> bool:
        """Take a permit and return True, or return False if none is available."""


class AsyncAllower(Protocol):
    """An `Allower` that has to await something (a Redis round trip) to decide."""

    def allow(self) -> Awaitable[bool]:
        """Take a permit and return True, or return False if none is available."""


class Waiter(Protocol):
    """Waits until one more call may go ahead (Go kit's ``Waiter``).

    ``wait`` returns once the call may proceed. It raises `RateLimited` instead of
    waiting when the permit would come later than *max_wait* seconds from now. The
    caller's own deadline (``asyncio.timeout``) cancels the wait as usual; a waiter
    must then give its reserved permit back.
    """

    def wait(self, *, max_wait: float | None = None) -> Awaitable[None]:
        """Return when a permit is available; raise `RateLimited` if it is too far off."""


class AllowerFunc:
    """Adapt a plain function to the `Allower` protocol (Go kit's ``AllowerFunc``).

    Example::

        maintenance = False
        endpoint = erroring_limiter(AllowerFunc(lambda: not maintenance))(endpoint)
    """

    __slots__ = ("_allow",)

    def __init__(self, allow: Callable[[], bool]) -> None:
        self._allow = allow

    def allow(self) -> bool:
        """Return what the wrapped function returns."""
        return self._allow()


def erroring_limiter(limiter: Allower | AsyncAllower) -> AnyMiddleware:
    """Return a middleware that refuses calls the limiter does not allow.

    Each call first asks *limiter*; when it says no, the call raises `RateLimited`
    and the endpoint is not called. ``allow()`` may return a bool (`Allower`) or an
    awaitable of one (`AsyncAllower`); both are handled on every call.

    When the limiter also has a ``try_take()`` method (as `TokenBucket` and
    ``RedisTokenBucket`` do), that is called instead of ``allow()``: it returns 0.0
    when it took a permit, else the seconds until one will be available, so the
    error carries `RateLimited.retry_in` at no extra cost.

    Example::

        endpoint = erroring_limiter(TokenBucket(rate=100, burst=20))(endpoint)
    """
    try_take = getattr(limiter, "try_take", None)
    if callable(try_take):
        return _taking_middleware(cast("Callable[[], float | Awaitable[float]]", try_take))
    allow = limiter.allow

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            allowed = allow()
            if not isinstance(allowed, bool):
                allowed = await allowed
            if not allowed:
                raise RateLimited()
            return await next_(request)

        return endpoint

    return middleware


_NUMBER = (float, int)
"""A tuple, not ``float | int``: isinstance checks a tuple four times faster."""


def _taking_middleware(try_take: Callable[[], float | Awaitable[float]]) -> AnyMiddleware:
    """`erroring_limiter` for limiters that say how long to wait when they refuse."""

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            retry_in = try_take()
            if not isinstance(retry_in, _NUMBER):
                retry_in = await retry_in
            if retry_in > 0:
                raise RateLimited(retry_in)
            return await next_(request)

        return endpoint

    return middleware


def delaying_limiter(waiter: Waiter, *, max_wait: float | None = None) -> AnyMiddleware:
    """Return a middleware that waits for the limiter before each call.

    Each call waits until *waiter* lets it proceed, then calls the endpoint. The
    wait gives up in two ways:

    - the caller's deadline: a call wrapped in ``asyncio.timeout`` is cancelled there
      like any other await, its reserved permit goes back to the limiter, and
      `TimeoutError` reaches the caller. Python offers no way to read the running
      timeout's deadline, so the limiter cannot know it in advance.
    - *max_wait*: when the permit would come later than *max_wait* seconds from now,
      the call fails at once with `RateLimited` instead of sleeping, and reserves
      nothing. Set it to (at most) the time your callers are prepared to wait, so
      doomed calls fail fast rather than sleep into a certain timeout.

    Args:
        waiter: The limiter; `TokenBucket` is one.
        max_wait: The longest wait, in seconds, worth starting; None waits as long as
            it takes (or until the caller's deadline).

    Raises:
        ValueError: *max_wait* is negative or not a number.
    """
    if max_wait is not None and not max_wait >= 0:
        raise ValueError(f"max_wait must be zero or more seconds (or None), got {max_wait!r}")
    wait = waiter.wait

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            await wait(max_wait=max_wait)
            return await next_(request)

        return endpoint

    return middleware
