"""`RatioBreaker`: trips on the failure ratio over a time window (Go kit's HandyBreaker).

Go kit's ``HandyBreaker`` wraps streadway/handy's breaker, which counts successes and
failures in one-second buckets over a sliding window, trips when, after a failure,
more than ``min_observations`` calls are in the window and more than
``failure_ratio`` of them failed, then waits a ``cooldown`` before letting a single
trial call through. This is that breaker, with the same defaults (5% over 5 seconds,
10 observations, 1 second cooldown).

Example::

    breaker = RatioBreaker("sum", failure_ratio=0.05)
    sum_endpoint = circuit_breaker(breaker)(sum_endpoint)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from pygokit.circuitbreaker._base import positive
from pygokit.circuitbreaker._trial import SingleTrialBreaker
from pygokit.circuitbreaker._window import TimeWindow
from pygokit.circuitbreaker.common import StateListener, always_failure
from pygokit.clock import Clock

__all__ = ["RatioBreaker"]


class RatioBreaker(SingleTrialBreaker):
    """A breaker that opens when too large a share of recent calls failed (handy's).

    ========== ==================================================================
    state      behaviour
    ========== ==================================================================
    CLOSED     every call passes and its outcome goes into one-second buckets
               covering the last ``window`` seconds. After a failure, the circuit
               opens if the window holds more than ``min_observations`` calls and
               ``failures / calls > failure_ratio``.
    OPEN       calls are refused with `CircuitOpen` until more than ``cooldown``
               seconds have passed.
    HALF_OPEN  one trial call passes; others get `TooManyRequests`. The trial's
               success closes the circuit with an empty window; its failure opens
               it for another ``cooldown``. A trial still in flight after
               ``cooldown`` no longer blocks the next one (handy's behaviour).
    ========== ==================================================================

    Differences from handy, on purpose: a call admitted before a state change is
    ignored when it ends (handy lets any late success close an open circuit); a
    cancelled trial, or one that raised an error ``is_failure`` rejects, frees the
    trial slot at once; and handy's manual ``Trip``/``Reset`` are not provided.

    Args:
        name: Names the breaker in errors and state-change callbacks.
        failure_ratio: The share of failures, in [0, 1], above which it trips.
        window: Seconds of one-second buckets to observe; a whole number >= 1.
        min_observations: The window must hold more calls than this to trip.
        cooldown: Seconds to stay open before a trial call.
        is_failure: Whether an exception counts as a failure (default: every one).
        on_state_change: Called as ``(name, from_state, to_state)`` on each change.
        clock: Monotonic seconds; pass a `pygokit.testing.FakeClock` in tests.
    """

    __slots__ = ("_failure_ratio", "_min_observations")

    def __init__(
        self,
        name: str,
        *,
        failure_ratio: float = 0.05,
        window: float = 5.0,
        min_observations: int = 10,
        cooldown: float = 1.0,
        is_failure: Callable[[Exception], bool] = always_failure,
        on_state_change: StateListener | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        if not (math.isfinite(failure_ratio) and 0.0 <= failure_ratio <= 1.0):
            raise ValueError(f"failure_ratio must be in [0, 1]; got {failure_ratio!r}")
        if not (math.isfinite(window) and window >= 1 and float(window).is_integer()):
            raise ValueError(f"window must be a whole number of seconds >= 1; got {window!r}")
        if isinstance(min_observations, bool) or not isinstance(min_observations, int):
            raise ValueError(f"min_observations must be an int; got {min_observations!r}")
        if min_observations < 0:
            raise ValueError(f"min_observations must be >= 0; got {min_observations!r}")
        super().__init__(
            name,
            cooldown=positive("cooldown", cooldown),
            window=TimeWindow(int(window), 1.0),
            is_failure=is_failure,
            on_state_change=on_state_change,
            clock=clock,
        )
        self._failure_ratio = float(failure_ratio)
        self._min_observations = min_observations

    @property
    def observed_ratio(self) -> float:
        """The share of the calls now in the window that failed, in [0, 1]; 0 when empty."""
        window = self._window
        window.refresh(self._clock())
        return window.failures / window.calls if window.calls else 0.0

    @property
    def observations(self) -> int:
        """How many calls the window holds now."""
        self._window.refresh(self._clock())
        return self._window.calls

    def _should_trip(self, failed: bool) -> bool:
        window = self._window
        return (
            failed
            and window.calls > self._min_observations
            and window.failures / window.calls > self._failure_ratio
        )
