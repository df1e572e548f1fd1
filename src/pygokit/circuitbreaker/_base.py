"""The machinery the breakers share: counts, generations, state changes, validation."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

from pygokit.circuitbreaker.common import Counts, State, StateListener
from pygokit.clock import Clock

__all__ = ["BreakerBase", "at_least_one", "percentage", "positive"]

CLOSED = State.CLOSED
OPEN = State.OPEN
HALF_OPEN = State.HALF_OPEN


def positive(name: str, value: float) -> float:
    """Return *value* as a float, or raise ValueError unless it is finite and > 0."""
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number of seconds; got {value!r}")
    return float(value)


def at_least_one(name: str, value: int) -> int:
    """Return *value*, or raise ValueError unless it is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    return value


def percentage(name: str, value: float) -> float:
    """Return *value* as a float, or raise ValueError unless 0 < value <= 100."""
    if not (math.isfinite(value) and 0 < value <= 100):
        raise ValueError(f"{name} must be a percentage in (0, 100]; got {value!r}")
    return float(value)


class BreakerBase:
    """State, generation and gobreaker-style counts, and the state-change protocol.

    Subclasses implement the admission and reporting methods, `_refresh` (apply the
    time-based transitions due at *now*) and `_enter` (set up a state on entry).
    """

    __slots__ = (
        "_clock",
        "_consecutive_failures",
        "_consecutive_successes",
        "_failures",
        "_generation",
        "_is_failure",
        "_name",
        "_on_state_change",
        "_requests",
        "_state",
        "_successes",
    )

    def __init__(
        self,
        name: str,
        *,
        is_failure: Callable[[Exception], bool],
        on_state_change: StateListener | None,
        clock: Clock,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str; got {type(name).__name__}")
        self._name = name
        self._clock = clock
        self._is_failure = is_failure
        self._on_state_change = on_state_change
        self._state = CLOSED
        self._generation = 0
        self._requests = 0
        self._successes = 0
        self._failures = 0
        self._consecutive_successes = 0
        self._consecutive_failures = 0

    @property
    def name(self) -> str:
        """The breaker's name, used in errors and state-change callbacks."""
        return self._name

    @property
    def state(self) -> State:
        """The current state, after any time-based transition that is due.

        Reading it after the open period has passed moves the breaker to HALF_OPEN
        (and calls ``on_state_change``), as gobreaker's ``State()`` does.
        """
        return self._refresh(self._clock())

    @property
    def counts(self) -> Counts:
        """A snapshot of the counts since they were last cleared (see `Counts`)."""
        return Counts(
            self._requests,
            self._successes,
            self._failures,
            self._consecutive_successes,
            self._consecutive_failures,
        )

    def _refresh(self, now: float) -> State:
        """Apply the time-based transitions due at *now* and return the state."""
        raise NotImplementedError  # pragma: no cover

    def _enter(self, state: State, now: float) -> None:
        """Set up *state*, which the breaker has just entered at *now*."""
        raise NotImplementedError  # pragma: no cover

    def _peek(self, now: float) -> State:
        """The state `_refresh` would report at *now*, without changing anything."""
        raise NotImplementedError  # pragma: no cover

    def _set_state(self, to: State, now: float) -> None:
        """Move to *to*, another state, start a new generation and tell the listener."""
        previous = self._state
        self._state = to
        self._new_generation()
        self._enter(to, now)
        if self._on_state_change is not None:
            with contextlib.suppress(Exception):  # a listener must not change the outcome
                self._on_state_change(self._name, previous, to)

    def _new_generation(self) -> None:
        """Forget every admitted call: their reports will carry an old generation."""
        self._generation += 1
        self._requests = 0
        self._successes = 0
        self._failures = 0
        self._consecutive_successes = 0
        self._consecutive_failures = 0

    def _count_success(self) -> None:
        self._successes += 1
        self._consecutive_successes += 1
        self._consecutive_failures = 0

    def _count_failure(self) -> None:
        self._failures += 1
        self._consecutive_failures += 1
        self._consecutive_successes = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r}, state={self._peek(self._clock())})"
