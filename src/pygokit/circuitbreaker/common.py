"""What every circuit breaker shares: its states, its counts, its errors and its protocol.

A breaker is a plain object whose methods are synchronous. The middleware asks it for
permission before a call (`CircuitBreaker.allow`, which raises `CircuitOpen` to refuse)
and reports how the call ended with the *ticket* that ``allow`` returned:
`CircuitBreaker.on_success`, `CircuitBreaker.on_error` or, when the call ended
without an outcome (it was cancelled), `CircuitBreaker.release`. The ticket
remembers the breaker's *generation* at admission: every state change starts a new
one, and a report carrying an older generation is ignored, so a slow call that
straddles a state change cannot count in a state it was never part of (gobreaker's
generations).

Any object with these methods works with `pygokit.circuitbreaker.circuit_breaker`;
the four breakers in this package are `Breaker`, `RatioBreaker`, `HystrixBreaker`
and `SlidingWindowBreaker`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeAlias, TypeVar

from pygokit.errors import GoKitError

__all__ = [
    "CircuitBreaker",
    "CircuitOpen",
    "Counts",
    "State",
    "StateListener",
    "TooManyRequests",
    "always_failure",
]

Ticket = TypeVar("Ticket")


class State(enum.Enum):
    """Where a breaker's state machine is: CLOSED, OPEN or HALF_OPEN.

    ``str(state)`` is the lower-case name Go's breakers print: ``closed``, ``open``,
    ``half-open``.
    """

    CLOSED = "closed"
    """Calls pass and their outcomes are counted; enough failures open the circuit."""
    OPEN = "open"
    """Calls are refused with `CircuitOpen` until the open period ends."""
    HALF_OPEN = "half-open"
    """A few probe calls pass; their outcomes decide between CLOSED and OPEN."""

    def __str__(self) -> str:
        return self.value


StateListener: TypeAlias = Callable[[str, State, State], None]
"""Called as ``listener(name, from_state, to_state)`` once per state change.

It runs synchronously inside the breaker, right after the change. It must not raise:
an exception it raises is ignored, so that a faulty listener never changes the
outcome of the call that caused the change.
"""


def always_failure(error: Exception) -> bool:
    """The default ``is_failure``: every `Exception` an endpoint raises is a failure."""
    return True


@dataclass(frozen=True, slots=True)
class Counts:
    """How many calls the breaker admitted and how they ended, since the counts were cleared.

    The same five numbers as gobreaker's ``Counts``. They are cleared on every state
    change (and, for `Breaker`, every ``interval`` while closed). A call still in flight
    is in ``requests`` but not yet in a total; a call that ended without an outcome
    (cancelled, or an error that ``is_failure`` rejects) leaves ``requests`` again, so
    once nothing is in flight ``requests == total_successes + total_failures``.
    """

    requests: int = 0
    """Calls admitted and not released."""
    total_successes: int = 0
    """Calls that returned (a `pygokit.endpoint.Failer` business error included)."""
    total_failures: int = 0
    """Calls that raised an exception counted as a failure."""
    consecutive_successes: int = 0
    """Successes since the last failure."""
    consecutive_failures: int = 0
    """Failures since the last success."""


class CircuitOpen(GoKitError):
    """The breaker refused the call: the circuit is open.

    Attributes:
        name: The breaker's name.
        retry_in: Seconds until the breaker lets a probe through; 0 when unknown.
    """

    def __init__(self, name: str, retry_in: float) -> None:
        self.name = name
        self.retry_in = max(retry_in, 0.0)
        super().__init__(self._describe())

    def _describe(self) -> str:
        return f"circuit {self.name!r} is open; next probe in {self.retry_in:.1f}s"

    def __reduce__(self) -> tuple[type[CircuitOpen], tuple[str, float]]:
        return type(self), (self.name, self.retry_in)


class TooManyRequests(CircuitOpen):
    """The breaker is half-open and every probe slot is taken by a call in flight.

    Attributes:
        name: The breaker's name.
        retry_in: Seconds until the breaker admits another probe even if the current
            ones are still in flight; 0 when that happens only as a probe ends.
    """

    def _describe(self) -> str:
        if self.retry_in > 0:
            when = f"next probe in {self.retry_in:.1f}s"
        else:
            when = "retry when a probe completes"
        return f"circuit {self.name!r} is half-open and its probe calls are in flight; {when}"


class CircuitBreaker(Protocol[Ticket]):
    """What `pygokit.circuitbreaker.circuit_breaker` needs from a breaker.

    The methods are synchronous and meant to be called from one event loop; the
    breakers in this package keep exact counts under any interleaving of tasks, but
    they take no lock, so they are not safe to share between threads.
    """

    @property
    def name(self) -> str:
        """The breaker's name, used in errors and state-change callbacks."""
        ...

    @property
    def state(self) -> State:
        """The current state, after any time-based transition that is due."""
        ...

    @property
    def counts(self) -> Counts:
        """A snapshot of the counts since they were last cleared."""
        ...

    def allow(self) -> Ticket:
        """Admit a call and return its ticket, or raise `CircuitOpen` to refuse it."""
        ...

    def on_success(self, ticket: Ticket) -> None:
        """Report that the call admitted with *ticket* returned."""
        ...

    def on_error(self, ticket: Ticket, error: Exception) -> None:
        """Report that the call admitted with *ticket* raised *error*.

        The breaker counts it as a failure when its ``is_failure(error)`` is true, and
        otherwise as if the call had never been made (`release`).
        """
        ...

    def release(self, ticket: Ticket) -> None:
        """Report that the call admitted with *ticket* ended without an outcome.

        Used for cancellation: the call counts neither way and frees its probe slot.
        """
        ...
