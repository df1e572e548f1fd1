"""The state machine of breakers that trip on a time window and probe with one trial call.

`RatioBreaker` (handy) and `HystrixBreaker` share it; each says when to trip.
"""

from __future__ import annotations

from collections.abc import Callable

from pygokit.circuitbreaker._base import CLOSED, HALF_OPEN, OPEN, BreakerBase
from pygokit.circuitbreaker._window import TimeWindow
from pygokit.circuitbreaker.common import CircuitOpen, State, StateListener, TooManyRequests
from pygokit.clock import Clock

__all__ = ["SingleTrialBreaker"]


class SingleTrialBreaker(BreakerBase):
    """Closed: outcomes go to a time window. Open for *cooldown*. Half-open: one trial.

    The trial's success closes the circuit (with an empty window), its failure opens
    it again. While the trial is in flight other calls get `TooManyRequests`, but once
    it has been in flight for more than *cooldown* another trial is let through, so a
    trial that hangs cannot keep the circuit half-open forever; the first trial to
    answer decides. Subclasses implement `_should_trip`.
    """

    __slots__ = ("_cooldown", "_expiry", "_trial_at", "_trials", "_window")

    def __init__(
        self,
        name: str,
        *,
        cooldown: float,
        window: TimeWindow,
        is_failure: Callable[[Exception], bool],
        on_state_change: StateListener | None,
        clock: Clock,
    ) -> None:
        super().__init__(name, is_failure=is_failure, on_state_change=on_state_change, clock=clock)
        self._cooldown = cooldown
        self._window = window
        self._expiry = 0.0  # when the open period ends (meaningful while OPEN)
        self._trials = 0  # trial calls in flight (HALF_OPEN)
        self._trial_at = 0.0  # when the last trial was admitted (HALF_OPEN)

    def _should_trip(self, failed: bool) -> bool:
        """Whether the window, which has just recorded an outcome, trips the circuit."""
        raise NotImplementedError  # pragma: no cover

    def allow(self) -> int:
        """Admit a call and return its ticket (the generation), or raise `CircuitOpen`.

        Raises:
            CircuitOpen: The circuit is open; ``retry_in`` says when it lets a trial through.
            TooManyRequests: Half-open, and the trial call is in flight.
        """
        if self._state is CLOSED:  # no time-based transition leaves CLOSED
            self._requests += 1
            return self._generation
        now = self._clock()
        state = self._refresh(now)
        if state is OPEN:
            raise CircuitOpen(self._name, self._expiry - now)
        if self._trials and now <= self._trial_at + self._cooldown:
            raise TooManyRequests(self._name, self._trial_at + self._cooldown - now)
        self._trials += 1
        self._trial_at = now
        self._requests += 1
        return self._generation

    def on_success(self, ticket: int) -> None:
        """Count a success for the call admitted with *ticket*, unless it is stale."""
        now = self._clock()
        state = self._refresh(now)
        if ticket != self._generation:
            return
        self._count_success()
        if state is CLOSED:
            self._window.record(now, False, False)
            if self._should_trip(False):
                self._set_state(OPEN, now)
        else:  # the trial succeeded
            self._set_state(CLOSED, now)

    def on_error(self, ticket: int, error: Exception) -> None:
        """Count a failure for *ticket* if ``is_failure(error)``, else release it."""
        if self._is_failure(error):
            self._fail(ticket)
        else:
            self._release(ticket)

    def _fail(self, ticket: int) -> None:
        now = self._clock()
        state = self._refresh(now)
        if ticket != self._generation:
            return
        self._count_failure()
        if state is CLOSED:
            self._window.record(now, True, False)
            if self._should_trip(True):
                self._set_state(OPEN, now)
        else:  # the trial failed
            self._set_state(OPEN, now)

    def release(self, ticket: int) -> None:
        """Forget the call admitted with *ticket*: it counts neither way."""
        self._release(ticket)

    def _release(self, ticket: int) -> None:
        state = self._refresh(self._clock())
        if ticket != self._generation:
            return
        self._requests -= 1
        if state is HALF_OPEN:
            self._trials -= 1

    def _refresh(self, now: float) -> State:
        if self._state is OPEN and self._expiry < now:
            self._set_state(HALF_OPEN, now)
        return self._state

    def _enter(self, state: State, now: float) -> None:
        if state is OPEN:
            self._expiry = now + self._cooldown
        elif state is HALF_OPEN:
            self._trials = 0
        else:
            self._window.clear()

    def _peek(self, now: float) -> State:
        if self._state is OPEN and self._expiry < now:
            return HALF_OPEN
        return self._state
