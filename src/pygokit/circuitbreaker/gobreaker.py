"""`Breaker`: sony/gobreaker's state machine, the breaker Go kit recommends starting with.

It counts consecutive and total outcomes and trips when ``ready_to_trip(counts)``
says so (by default after more than 5 consecutive failures). Open, it refuses calls
for ``timeout`` seconds; then it is half-open and lets ``max_requests`` probes
through: a failing probe opens it again, ``max_requests`` consecutive successes close
it. Each state change starts a new generation and clears the counts, and so does
every ``interval`` while closed, when one is set.

Example::

    breaker = Breaker("sum", timeout=30.0)
    sum_endpoint = circuit_breaker(breaker)(sum_endpoint)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pygokit.circuitbreaker._base import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerBase,
    at_least_one,
    positive,
)
from pygokit.circuitbreaker.common import (
    CircuitOpen,
    Counts,
    State,
    StateListener,
    TooManyRequests,
    always_failure,
)
from pygokit.clock import Clock

__all__ = ["Breaker", "default_ready_to_trip"]


def default_ready_to_trip(counts: Counts) -> bool:
    """gobreaker's default: trip when more than 5 calls in a row have failed."""
    return counts.consecutive_failures > 5


class Breaker(BreakerBase):
    """A circuit breaker with gobreaker's semantics (``gobreaker.CircuitBreaker``).

    ========== ==================================================================
    state      behaviour
    ========== ==================================================================
    CLOSED     every call passes; after each failure ``ready_to_trip(counts)``
               decides whether to open. With an ``interval``, the counts are
               cleared when a call comes more than ``interval`` seconds after the
               last clearing.
    OPEN       every call is refused with `CircuitOpen` until more than
               ``timeout`` seconds have passed since it opened (at exactly
               ``timeout`` it is still open, as in gobreaker).
    HALF_OPEN  up to ``max_requests`` calls pass at once; more are refused with
               `TooManyRequests`. A failure opens the circuit again;
               ``max_requests`` consecutive successes close it.
    ========== ==================================================================

    A call that was cancelled, or raised an error for which ``is_failure`` is false,
    counts neither way and frees its half-open slot. A call admitted before a state
    change (or an interval's clearing) is ignored when it ends.

    The methods are synchronous and take no lock: use a breaker from one event loop.

    Args:
        name: Names the breaker in errors and state-change callbacks.
        max_requests: How many probes may be in flight while half-open, and how many
            consecutive successes close the circuit (gobreaker's ``MaxRequests``).
        interval: Seconds between clearings of the counts while closed; 0 never clears.
        timeout: Seconds the circuit stays open before it lets probes through.
        ready_to_trip: Called with the counts after each failure while closed; the
            circuit opens when it returns True.
        is_failure: Whether an exception the endpoint raised counts as a failure;
            when false, the call counts neither way. Defaults to every `Exception`.
        on_state_change: Called as ``(name, from_state, to_state)`` on each change.
        clock: Monotonic seconds; pass a `pygokit.testing.FakeClock` in tests.

    Example::

        breaker = Breaker("sum", max_requests=3, timeout=10.0,
                          ready_to_trip=lambda c: c.requests >= 10
                          and c.total_failures / c.requests >= 0.6)
        endpoint = circuit_breaker(breaker)(endpoint)
    """

    __slots__ = ("_expiry", "_interval", "_max_requests", "_ready_to_trip", "_timeout")

    def __init__(
        self,
        name: str,
        *,
        max_requests: int = 1,
        interval: float = 0.0,
        timeout: float = 60.0,
        ready_to_trip: Callable[[Counts], bool] = default_ready_to_trip,
        is_failure: Callable[[Exception], bool] = always_failure,
        on_state_change: StateListener | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(name, is_failure=is_failure, on_state_change=on_state_change, clock=clock)
        self._max_requests = at_least_one("max_requests", max_requests)
        if interval != 0:
            positive("interval", interval)
        self._interval = float(interval)
        self._timeout = positive("timeout", timeout)
        self._ready_to_trip = ready_to_trip
        # When the current period ends: the open timeout, or the closed interval.
        # None: no time-based transition is pending, so calls need not read the clock.
        self._expiry: float | None = None
        self._enter(CLOSED, self._clock())

    def allow(self) -> int:
        """Admit a call and return its ticket (the generation), or raise `CircuitOpen`.

        Raises:
            CircuitOpen: The circuit is open; ``retry_in`` says when it lets a probe through.
            TooManyRequests: Half-open, with ``max_requests`` probes already in flight.
        """
        if self._state is CLOSED and self._expiry is None:  # the fast path
            self._requests += 1
            return self._generation
        now = self._clock()
        state = self._refresh(now)
        if state is OPEN:
            raise CircuitOpen(self._name, 0.0 if self._expiry is None else self._expiry - now)
        if state is HALF_OPEN and self._requests >= self._max_requests:
            raise TooManyRequests(self._name, 0.0)
        self._requests += 1
        return self._generation

    def on_success(self, ticket: int) -> None:
        """Count a success for the call admitted with *ticket*, unless it is stale."""
        if self._state is CLOSED and self._expiry is None:  # the fast path
            if ticket == self._generation:
                self._count_success()
            return
        now = self._clock()
        state = self._refresh(now)
        if ticket != self._generation:
            return
        self._count_success()
        if state is HALF_OPEN and self._consecutive_successes >= self._max_requests:
            self._set_state(CLOSED, now)

    def on_error(self, ticket: int, error: Exception) -> None:
        """Count a failure for *ticket* if ``is_failure(error)``, else `release` it."""
        if not self._is_failure(error):
            self.release(ticket)
            return
        now = self._clock()
        state = self._refresh(now)
        if ticket != self._generation:
            return
        if state is CLOSED:
            self._count_failure()
            if self._ready_to_trip(self.counts):
                self._set_state(OPEN, now)
        else:  # HALF_OPEN: a ticket of this generation cannot be OPEN's
            self._set_state(OPEN, now)

    def release(self, ticket: int) -> None:
        """Forget the call admitted with *ticket*: it counts neither way."""
        self._refresh(self._clock())
        if ticket == self._generation:
            self._requests -= 1

    def _refresh(self, now: float) -> State:
        expiry = self._expiry
        if expiry is not None and expiry < now:
            if self._state is CLOSED:
                self._new_generation()
                self._expiry = now + self._interval
            else:  # OPEN; HALF_OPEN has no expiry
                self._set_state(HALF_OPEN, now)
        return self._state

    def _enter(self, state: State, now: float) -> None:
        if state is OPEN:
            self._expiry = now + self._timeout
        elif state is CLOSED and self._interval:
            self._expiry = now + self._interval
        else:
            self._expiry = None

    def _peek(self, now: float) -> State:
        if self._state is OPEN and self._expiry is not None and self._expiry < now:
            return HALF_OPEN
        return self._state
