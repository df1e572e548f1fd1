"""`HystrixBreaker` and the `hystrix` middleware: Netflix Hystrix's command semantics.

Go kit's ``Hystrix(commandName)`` runs each call as a hystrix-go command: a circuit
that trips on the error percentage of a rolling window, a per-call timeout, a limit
on concurrent calls, and an optional fallback. Here the configuration lives in a
`HystrixBreaker` object instead of a global command registry, and `hystrix` is the
middleware that applies all of it.

Example::

    breaker = HystrixBreaker("sum", timeout=0.5, max_concurrent_requests=50)

    async def cached_sum(error: Exception) -> SumResponse:
        return SumResponse(v=0, err="sum is unavailable")

    sum_endpoint = hystrix(breaker, fallback=cached_sum)(sum_endpoint)
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, cast, overload

from pygokit.circuitbreaker._base import CLOSED, OPEN, at_least_one, percentage, positive
from pygokit.circuitbreaker._trial import SingleTrialBreaker
from pygokit.circuitbreaker._window import TimeWindow
from pygokit.circuitbreaker.common import CircuitOpen, StateListener, always_failure
from pygokit.clock import Clock
from pygokit.endpoint import AnyMiddleware, Endpoint
from pygokit.errors import GoKitError
from pygokit.resilience.timeout import DeadlineExceeded
from pygokit.resilience.timeout import timeout as time_limit

__all__ = [
    "CallTimedOut",
    "ConcurrencyLimitReached",
    "FallbackMiddleware",
    "HystrixBreaker",
    "hystrix",
]

Req = TypeVar("Req")
Resp = TypeVar("Resp")
FallbackResp = TypeVar("FallbackResp")


class CallTimedOut(GoKitError, TimeoutError):
    """A call through a `hystrix` middleware ran past the breaker's timeout and was cancelled.

    It counts as a failure. Attributes: ``name`` (the breaker's) and ``timeout`` (seconds).
    """

    def __init__(self, name: str, timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        super().__init__(
            f"call through circuit {name!r} took longer than {timeout:g}s and was cancelled;"
            " the endpoint is slow or the timeout too short"
        )

    def __reduce__(self) -> tuple[type[CallTimedOut], tuple[str, float]]:
        return type(self), (self.name, self.timeout)


class ConcurrencyLimitReached(GoKitError):
    """The breaker refused a call: ``limit`` calls are already in flight through it.

    It does not count as a failure. Attributes: ``name`` (the breaker's) and ``limit``.
    """

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        super().__init__(
            f"circuit {name!r} already has {limit} calls in flight, its limit;"
            " retry later or raise max_concurrent_requests"
        )

    def __reduce__(self) -> tuple[type[ConcurrencyLimitReached], tuple[str, int]]:
        return type(self), (self.name, self.limit)


class HystrixBreaker(SingleTrialBreaker):
    """A breaker with Hystrix's defaults: error percentage over a rolling window.

    ========== ==================================================================
    state      behaviour
    ========== ==================================================================
    CLOSED     calls pass while fewer than ``max_concurrent_requests`` are in
               flight (beyond: `ConcurrencyLimitReached`, not a failure). Each
               outcome goes into a rolling window of ``buckets`` buckets spanning
               ``rolling_window`` seconds; after each one the circuit opens if the
               window holds at least ``request_volume_threshold`` calls and at
               least ``error_threshold_percentage`` percent of them failed.
    OPEN       calls are refused with `CircuitOpen` until more than
               ``sleep_window`` seconds have passed.
    HALF_OPEN  a single trial call passes (`TooManyRequests` for the others); its
               success closes the circuit and empties the window, its failure
               opens it for another ``sleep_window``. A cancelled trial frees the
               slot; one still in flight after ``sleep_window`` no longer blocks
               the next.
    ========== ==================================================================

    ``timeout`` is applied by the `hystrix` middleware, which cancels a call that runs
    longer and counts a `CallTimedOut` failure. Used with the plain
    `pygokit.circuitbreaker.circuit_breaker` instead, the breaker still limits
    concurrency but applies no timeout and no fallback.

    Differences from Hystrix, on purpose: rejections for concurrency do not count
    as errors in the window (Hystrix counts them); the trip rule is checked after
    every outcome rather than on a 500 ms health snapshot; and the error
    percentage is compared exactly rather than truncated to an integer.

    Args:
        name: Names the breaker (Hystrix's command name) in errors and callbacks.
        rolling_window: Seconds of history the trip rule looks at.
        buckets: How many buckets the window is divided into; they leave it one at a time.
        request_volume_threshold: Fewest calls in the window for the circuit to trip.
        error_threshold_percentage: The failure percentage, in (0, 100], that trips it.
        sleep_window: Seconds to stay open before a trial call.
        timeout: Seconds a call may run under `hystrix`; None for no limit.
        max_concurrent_requests: Most calls in flight at once; None for no limit.
        is_failure: Whether an exception counts as a failure (default: every one);
            `CallTimedOut` always does.
        on_state_change: Called as ``(name, from_state, to_state)`` on each change.
        clock: Monotonic seconds; pass a `pygokit.testing.FakeClock` in tests.
    """

    __slots__ = (
        "_error_threshold",
        "_in_flight",
        "_max_concurrent",
        "_timeout",
        "_volume_threshold",
    )

    def __init__(
        self,
        name: str,
        *,
        rolling_window: float = 10.0,
        buckets: int = 10,
        request_volume_threshold: int = 20,
        error_threshold_percentage: float = 50.0,
        sleep_window: float = 5.0,
        timeout: float | None = 1.0,
        max_concurrent_requests: int | None = 10,
        is_failure: Callable[[Exception], bool] = always_failure,
        on_state_change: StateListener | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        width = positive("rolling_window", rolling_window) / at_least_one("buckets", buckets)
        super().__init__(
            name,
            cooldown=positive("sleep_window", sleep_window),
            window=TimeWindow(buckets, width),
            is_failure=is_failure,
            on_state_change=on_state_change,
            clock=clock,
        )
        self._volume_threshold = at_least_one("request_volume_threshold", request_volume_threshold)
        self._error_threshold = percentage("error_threshold_percentage", error_threshold_percentage)
        self._timeout = None if timeout is None else positive("timeout", timeout)
        self._max_concurrent = (
            math.inf
            if max_concurrent_requests is None
            else at_least_one("max_concurrent_requests", max_concurrent_requests)
        )
        self._in_flight = 0

    @property
    def timeout(self) -> float | None:
        """Seconds a call may run under the `hystrix` middleware; None for no limit."""
        return self._timeout

    @property
    def in_flight(self) -> int:
        """How many admitted calls have not ended yet."""
        return self._in_flight

    @property
    def error_percentage(self) -> float:
        """The percentage of the calls now in the window that failed; 0 when empty."""
        window = self._window
        window.refresh(self._clock())
        return 100.0 * window.failures / window.calls if window.calls else 0.0

    def is_failure(self, error: Exception) -> bool:
        """Whether *error* counts as a failure: a timeout, or what ``is_failure`` says."""
        return isinstance(error, CallTimedOut) or self._is_failure(error)

    def allow(self) -> int:
        """Admit a call and return its ticket, or refuse it.

        Raises:
            CircuitOpen: The circuit is open; ``retry_in`` says when a trial may pass.
            TooManyRequests: Half-open, and the trial call is in flight.
            ConcurrencyLimitReached: ``max_concurrent_requests`` calls are in flight.
        """
        ticket = super().allow()
        if self._in_flight >= self._max_concurrent:
            self._release(ticket)
            raise ConcurrencyLimitReached(self._name, int(self._max_concurrent))
        self._in_flight += 1
        return ticket

    def on_success(self, ticket: int) -> None:
        """Count a success for the call admitted with *ticket*, unless it is stale."""
        self._in_flight -= 1
        if self._state is CLOSED and ticket == self._generation:
            # The common case, inlined: nothing time-based can leave CLOSED.
            now = self._clock()
            self._count_success()
            window = self._window
            window.record(now, False, False)
            # No failure in the window, no error percentage above the threshold (> 0).
            if window.failures and self._should_trip(False):
                self._set_state(OPEN, now)
            return
        super().on_success(ticket)

    def on_error(self, ticket: int, error: Exception) -> None:
        """Count a failure for *ticket* if `is_failure` (*error*), else release it."""
        self._in_flight -= 1
        if self.is_failure(error):
            self._fail(ticket)
        else:
            self._release(ticket)

    def release(self, ticket: int) -> None:
        """Forget the call admitted with *ticket*: it counts neither way."""
        self._in_flight -= 1
        self._release(ticket)

    def _should_trip(self, failed: bool) -> bool:
        window = self._window
        return (
            window.calls >= self._volume_threshold
            and window.failures * 100 >= self._error_threshold * window.calls
        )


class FallbackMiddleware(Protocol[FallbackResp]):
    """A middleware for endpoints of any request type that return *FallbackResp*.

    `hystrix` returns one when given a fallback, whose response type it must match.
    """

    def __call__(self, next_: Endpoint[Req, FallbackResp], /) -> Endpoint[Req, FallbackResp]: ...


@overload
def hystrix(breaker: HystrixBreaker, *, fallback: None = None) -> AnyMiddleware: ...
@overload
def hystrix(
    breaker: HystrixBreaker, *, fallback: Callable[[Exception], Awaitable[FallbackResp]]
) -> FallbackMiddleware[FallbackResp]: ...
def hystrix(
    breaker: HystrixBreaker, *, fallback: Callable[[Exception], Awaitable[Any]] | None = None
) -> AnyMiddleware | FallbackMiddleware[Any]:
    """Run each call as a Hystrix command: breaker, concurrency limit, timeout, fallback.

    A call the breaker refuses raises `CircuitOpen` (or `TooManyRequests`) or
    `ConcurrencyLimitReached`. An admitted call runs under the breaker's time limit
    (`pygokit.resilience.timeout`, on the event loop's clock): past it, the call is
    cancelled (the endpoint sees `asyncio.CancelledError`), counted as a failure and
    raises `CallTimedOut`, chained from the `DeadlineExceeded`. An exception the
    endpoint raises is reported to the breaker and re-raised as it is. Cancellation of
    the caller is never counted and frees the call's slots.

    With a *fallback*, the refusals, the timeouts and every exception that counts as a
    failure are passed to ``await fallback(error)`` instead of being raised, and what
    it returns is the response (what it raises propagates). Exceptions that
    ``is_failure`` excludes are raised as they are, without the fallback, as Hystrix
    does with ``HystrixBadRequestException``.

    Example::

        endpoint = hystrix(HystrixBreaker("sum", timeout=0.25))(endpoint)
    """
    allow = breaker.allow
    on_success = breaker.on_success
    on_error = breaker.on_error
    release = breaker.release
    is_failure = breaker.is_failure
    timeout = breaker.timeout
    name = breaker.name

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        limited = next_ if timeout is None else time_limit(timeout)(next_)

        async def endpoint(request: Req) -> Resp:
            try:
                ticket = allow()
            except (CircuitOpen, ConcurrencyLimitReached) as refused:
                if fallback is None:
                    raise
                return cast("Resp", await fallback(refused))
            try:
                try:
                    response = await limited(request)
                except DeadlineExceeded as exc:
                    raise CallTimedOut(name, exc.timeout) from exc
            except Exception as exc:
                on_error(ticket, exc)
                if fallback is None or not is_failure(exc):
                    raise
                return cast("Resp", await fallback(exc))
            except BaseException:  # cancelled: free the slots, count nothing, re-raise
                release(ticket)
                raise
            on_success(ticket)
            return response

        return endpoint

    return middleware
