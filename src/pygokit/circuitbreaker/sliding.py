"""`SlidingWindowBreaker`: Resilience4j's failure-rate and slow-call-rate breaker.

It keeps the outcomes of the last N calls (a count window) or of the last N seconds
(a time window of one-second buckets), and opens when the failure rate or the rate of
slow calls reaches its threshold, once the window holds enough calls for a rate to
mean something. After a wait it lets a fixed number of probes through, and their
rates alone decide whether it closes or opens again.

Example::

    breaker = SlidingWindowBreaker(
        "sum", window_type=WindowType.TIME, window_size=30, minimum_number_of_calls=20,
        slow_call_duration_threshold=0.5, slow_call_rate_threshold=80.0,
    )
    sum_endpoint = circuit_breaker(breaker)(sum_endpoint)
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

from pygokit.circuitbreaker._base import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerBase,
    at_least_one,
    percentage,
    positive,
)
from pygokit.circuitbreaker._window import CountWindow, TimeWindow, Window
from pygokit.circuitbreaker.common import (
    CircuitOpen,
    State,
    StateListener,
    TooManyRequests,
    always_failure,
)
from pygokit.clock import Clock

__all__ = ["SlidingWindowBreaker", "WindowType"]


class WindowType(enum.Enum):
    """How a `SlidingWindowBreaker` bounds the calls its rates are computed over."""

    COUNT = "count"
    """The last ``window_size`` calls."""
    TIME = "time"
    """The calls of the last ``window_size`` seconds, in one-second buckets."""


class SlidingWindowBreaker(BreakerBase):
    """A breaker with Resilience4j's ``CircuitBreaker`` semantics (its defaults too).

    ========== ==================================================================
    state      behaviour
    ========== ==================================================================
    CLOSED     every call passes; its outcome, and whether it was slow (took
               longer than ``slow_call_duration_threshold`` on the clock), go into
               the window. Once the window holds ``minimum_number_of_calls`` calls
               (capped at ``window_size`` for a count window), the circuit opens
               when the failure rate reaches ``failure_rate_threshold`` percent or
               the slow-call rate reaches ``slow_call_rate_threshold`` percent.
    OPEN       calls are refused with `CircuitOpen` until more than
               ``wait_duration_in_open_state`` seconds have passed.
    HALF_OPEN  ``permitted_number_of_calls_in_half_open_state`` probes pass
               (`TooManyRequests` for the rest). When all of them have ended, the
               same two thresholds applied to the probes alone decide: open again,
               or close with an empty window.
    ========== ==================================================================

    A call that was cancelled, or raised an error for which ``is_failure`` is false
    (Resilience4j's ignored exceptions), counts neither way and frees its probe
    permit. A call admitted before a state change is ignored when it ends.
    Resilience4j's ``maxWaitDurationInHalfOpenState`` and its automatic transition
    from open to half-open are not provided: the breaker moves to half-open when it
    is next asked (a call, or reading `state`).

    Args:
        name: Names the breaker in errors and state-change callbacks.
        window_type: `WindowType.COUNT` (calls) or `WindowType.TIME` (seconds).
        window_size: The window's size, in calls or in seconds.
        minimum_number_of_calls: Fewest calls in the window for the rates to count.
        failure_rate_threshold: Failure percentage, in (0, 100], that opens the circuit.
        slow_call_rate_threshold: Slow-call percentage, in (0, 100], that opens it.
        slow_call_duration_threshold: Seconds beyond which a call is slow.
        wait_duration_in_open_state: Seconds to stay open before probing.
        permitted_number_of_calls_in_half_open_state: How many probes decide.
        is_failure: Whether an exception counts as a failure (default: every one).
        on_state_change: Called as ``(name, from_state, to_state)`` on each change.
        clock: Monotonic seconds, which also time the calls; pass a
            `pygokit.testing.FakeClock` in tests.
    """

    __slots__ = (
        "_closed_window",
        "_expiry",
        "_failure_threshold",
        "_minimum_calls",
        "_permits",
        "_permitted",
        "_probe_window",
        "_slow_duration",
        "_slow_threshold",
        "_wait",
    )

    def __init__(
        self,
        name: str,
        *,
        window_type: WindowType = WindowType.COUNT,
        window_size: int = 100,
        minimum_number_of_calls: int = 100,
        failure_rate_threshold: float = 50.0,
        slow_call_rate_threshold: float = 100.0,
        slow_call_duration_threshold: float = 60.0,
        wait_duration_in_open_state: float = 60.0,
        permitted_number_of_calls_in_half_open_state: int = 10,
        is_failure: Callable[[Exception], bool] = always_failure,
        on_state_change: StateListener | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(name, is_failure=is_failure, on_state_change=on_state_change, clock=clock)
        size = at_least_one("window_size", window_size)
        minimum = at_least_one("minimum_number_of_calls", minimum_number_of_calls)
        self._closed_window: Window
        if window_type is WindowType.COUNT:
            self._closed_window = CountWindow(size)
            minimum = min(minimum, size)  # a count window never holds more than size
        elif window_type is WindowType.TIME:
            self._closed_window = TimeWindow(size, 1.0)
        else:
            raise ValueError(f"window_type must be a WindowType; got {window_type!r}")
        self._minimum_calls = minimum
        self._failure_threshold = percentage("failure_rate_threshold", failure_rate_threshold)
        self._slow_threshold = percentage("slow_call_rate_threshold", slow_call_rate_threshold)
        self._slow_duration = positive("slow_call_duration_threshold", slow_call_duration_threshold)
        self._wait = positive("wait_duration_in_open_state", wait_duration_in_open_state)
        self._permitted = at_least_one(
            "permitted_number_of_calls_in_half_open_state",
            permitted_number_of_calls_in_half_open_state,
        )
        self._probe_window = CountWindow(self._permitted)
        self._permits = 0  # probes admitted and not released (HALF_OPEN)
        self._expiry = 0.0  # when the open period ends (meaningful while OPEN)

    @property
    def failure_rate(self) -> float | None:
        """The failure percentage of the current window, or None while not computed.

        The window is the closed-state one (kept as it was while open) or, while
        half-open, the probes'. None until it holds enough calls (Resilience4j's -1).
        """
        window, minimum = self._current_window()
        return 100.0 * window.failures / window.calls if window.calls >= minimum else None

    @property
    def slow_call_rate(self) -> float | None:
        """The slow-call percentage of the current window, or None while not computed."""
        window, minimum = self._current_window()
        return 100.0 * window.slow / window.calls if window.calls >= minimum else None

    @property
    def buffered_calls(self) -> int:
        """How many call outcomes the current window holds."""
        return self._current_window()[0].calls

    def allow(self) -> tuple[int, float]:
        """Admit a call and return its ticket (generation and start time), or refuse it.

        Raises:
            CircuitOpen: The circuit is open; ``retry_in`` says when probes may pass.
            TooManyRequests: Half-open, with every probe permit taken.
        """
        now = self._clock()
        if self._state is not CLOSED:
            state = self._refresh(now)
            if state is OPEN:
                raise CircuitOpen(self._name, self._expiry - now)
            if self._permits >= self._permitted:  # HALF_OPEN
                raise TooManyRequests(self._name, 0.0)
            self._permits += 1
        self._requests += 1
        return (self._generation, now)

    def on_success(self, ticket: tuple[int, float]) -> None:
        """Record a success for the call admitted with *ticket*, unless it is stale."""
        self._record(ticket, False)

    def on_error(self, ticket: tuple[int, float], error: Exception) -> None:
        """Record a failure for *ticket* if ``is_failure(error)``, else `release` it."""
        if self._is_failure(error):
            self._record(ticket, True)
        else:
            self.release(ticket)

    def release(self, ticket: tuple[int, float]) -> None:
        """Forget the call admitted with *ticket*: it counts neither way."""
        state = self._refresh(self._clock())
        if ticket[0] != self._generation:
            return
        self._requests -= 1
        if state is HALF_OPEN:
            self._permits -= 1

    def _record(self, ticket: tuple[int, float], failed: bool) -> None:
        generation, started = ticket
        now = self._clock()
        state = self._state
        if state is OPEN:  # _refresh, inlined: closed is the path of every call
            state = self._refresh(now)
        if generation != self._generation:
            return
        if failed:
            self._count_failure()
        else:
            self._count_success()
        slow = now - started > self._slow_duration
        if state is CLOSED:
            window = self._closed_window
            window.record(now, failed, slow)
            # With no failure and no slow call in the window no rate can reach a threshold
            # (both are above 0): the check is skipped on the path of every healthy call.
            if (window.failures or window.slow) and self._exceeded(window, self._minimum_calls):
                self._set_state(OPEN, now)
        else:  # HALF_OPEN
            self._probe_window.record(now, failed, slow)
            if self._probe_window.calls >= self._permitted:
                exceeded = self._exceeded(self._probe_window, self._permitted)
                self._set_state(OPEN if exceeded else CLOSED, now)

    def _exceeded(self, window: Window, minimum: int) -> bool:
        calls = window.calls
        return calls >= minimum and (
            window.failures * 100 >= self._failure_threshold * calls
            or window.slow * 100 >= self._slow_threshold * calls
        )

    def _current_window(self) -> tuple[Window, int]:
        now = self._clock()
        if self._refresh(now) is HALF_OPEN:
            return self._probe_window, self._permitted
        self._closed_window.refresh(now)
        return self._closed_window, self._minimum_calls

    def _refresh(self, now: float) -> State:
        if self._state is OPEN and self._expiry < now:
            self._set_state(HALF_OPEN, now)
        return self._state

    def _enter(self, state: State, now: float) -> None:
        if state is OPEN:
            self._expiry = now + self._wait
        elif state is HALF_OPEN:
            self._permits = 0
            self._probe_window.clear()
        else:
            self._closed_window.clear()

    def _peek(self, now: float) -> State:
        if self._state is OPEN and self._expiry < now:
            return HALF_OPEN
        return self._state
