"""How long to wait before the next attempt: exponential and constant backoff.

A backoff policy is a pure function of the attempt number: ``delay(1)`` is the wait
after the first attempt failed (before the second), ``delay(2)`` the wait before the
third, and so on. Policies never sleep; the retry loop sleeps with its injected
``sleep``, so a policy can be sampled a million times in a test without waiting.

`Exponential` waits ``min(initial * multiplier ** (attempt - 1), maximum)`` seconds,
jittered one of three ways so that clients that failed together do not retry
together:

- ``jitter=0.2`` (any fraction *j* in [0, 1]): gRPC's multiplicative jitter, the
  nominal delay times U(1 - j, 1 + j). gRPC's own settings are `grpc_backoff`.
- ``jitter="full"``: U(0, nominal), the "full jitter" of the AWS architecture blog
  and Envoy's retry backoff; the best at spreading out a thundering herd.
- ``jitter="equal"``: nominal/2 + U(0, nominal/2), Finagle's ``equalJittered``;
  never shorter than half the nominal delay.

Example::

    backoff = Exponential(initial=0.05, maximum=2.0, jitter="full")
    waits = [backoff.delay(n) for n in range(1, 6)]  # each within [0, 0.05 * 2**(n-1)]
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeAlias

__all__ = ["Backoff", "Constant", "Exponential", "Jitter", "grpc_backoff"]

Jitter: TypeAlias = float | Literal["full", "equal"]
"""A fraction in [0, 1] for multiplicative jitter, or ``"full"`` / ``"equal"``."""


class Backoff(Protocol):
    """A backoff policy: the seconds to wait before each retry."""

    def delay(self, attempt: int) -> float:
        """Return the seconds to wait after failed attempt *attempt* (1 = the first)."""
        ...


def _check_attempt(attempt: int) -> None:
    if attempt < 1:
        raise ValueError(f"attempts are numbered from 1 (the first try), got {attempt}")


@dataclass(frozen=True, slots=True)
class Exponential:
    """Exponential backoff with a cap and jitter; see the module docstring for the formulas.

    Args:
        initial: Nominal seconds to wait after the first failure; must be positive.
        multiplier: Factor between consecutive nominal delays; at least 1.
        maximum: Cap on the nominal delay, in seconds; at least *initial*. With
            multiplicative jitter an actual delay may exceed it by the jitter fraction,
            as in gRPC.
        jitter: A fraction *j* in [0, 1] (delay times U(1 - j, 1 + j); 0 disables jitter),
            ``"full"`` (U(0, nominal)) or ``"equal"`` (nominal/2 + U(0, nominal/2)).
        rng: Returns a float in [0, 1); `random.random` unless a test fixes it.

    Example::

        Exponential(initial=1.0, multiplier=2.0, maximum=8.0, jitter=0).delay(3)  # 4.0
    """

    initial: float = 0.1
    multiplier: float = 2.0
    maximum: float = 10.0
    jitter: Jitter = 0.2
    rng: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 < self.initial < math.inf:
            raise ValueError(f"initial must be a positive number of seconds, got {self.initial!r}")
        if not 1 <= self.multiplier < math.inf:
            raise ValueError(f"multiplier must be at least 1, got {self.multiplier!r}")
        if not self.initial <= self.maximum < math.inf:
            raise ValueError(
                f"maximum must be at least initial ({self.initial!r}), got {self.maximum!r}"
            )
        if isinstance(self.jitter, str):
            if self.jitter not in ("full", "equal"):
                raise ValueError(
                    f"jitter must be a fraction in [0, 1], 'full' or 'equal', got {self.jitter!r}"
                )
        elif not 0 <= self.jitter <= 1:
            raise ValueError(f"a jitter fraction must be in [0, 1], got {self.jitter!r}")

    def nominal(self, attempt: int) -> float:
        """Return the delay before jitter: ``min(initial * multiplier ** (attempt-1), maximum)``."""
        _check_attempt(attempt)
        try:
            return min(self.initial * self.multiplier ** (attempt - 1), self.maximum)
        except OverflowError:
            return self.maximum

    def delay(self, attempt: int) -> float:
        """Return the jittered seconds to wait after failed attempt *attempt* (1 = the first)."""
        nominal = self.nominal(attempt)
        jitter = self.jitter
        if jitter == "full":
            return nominal * self.rng()
        if jitter == "equal":
            return nominal / 2 + nominal / 2 * self.rng()
        if jitter == 0:
            return nominal
        return nominal * (1 - jitter + 2 * jitter * self.rng())


@dataclass(frozen=True, slots=True)
class Constant:
    """The same wait before every retry; ``Constant(0)`` retries at once, as Go kit's lb.Retry.

    Args:
        seconds: The wait; zero or more.
    """

    seconds: float

    def __post_init__(self) -> None:
        if not 0 <= self.seconds < math.inf:
            raise ValueError(f"seconds must be zero or a positive number, got {self.seconds!r}")

    def delay(self, attempt: int) -> float:
        """Return `seconds`, whatever the attempt (which must still be at least 1)."""
        _check_attempt(attempt)
        return self.seconds


def grpc_backoff(*, rng: Callable[[], float] = random.random) -> Exponential:
    """Return gRPC's connection backoff: 1 s, times 1.6 per attempt, up to 120 s, jitter 0.2.

    These are the defaults of gRPC's connection-backoff spec, used by grpc-go's
    ``backoff.DefaultConfig``; attempt *n* waits within
    ``min(1.6 ** (n-1), 120) * [0.8, 1.2]`` seconds.
    """
    return Exponential(initial=1.0, multiplier=1.6, maximum=120.0, jitter=0.2, rng=rng)
