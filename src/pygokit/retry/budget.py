"""Retry budgets: cap how much extra load retries may add when an upstream is failing.

Retrying a failed call is good for one unlucky call and terrible for an upstream that
is down: every client multiplies its load by ``max_attempts`` just when the upstream
can least take it. A budget lets retries through only while they are a small share
of the traffic.

- `RetryBudget` is Finagle's: every call deposits, every retry withdraws, and a retry
  is allowed while the deposits of the last *ttl* seconds cover it. With the defaults
  (20 %, 10 retries per second, 10 s) retries never exceed 20 % of the calls plus 10
  per second, however badly the upstream fails.
- `ConcurrencyRetryBudget` is Envoy's: at most 20 % of the calls in flight (and at
  least 3) may be retrying at once. It needs no clock.
- `pygokit.retry.TokenThrottle` is gRPC's retry throttling, which reacts to outcomes
  instead of counting calls.

All three satisfy `Budget`, the protocol through which `pygokit.retry.retry` talks to
them. A budget is shared state: give every retry middleware that calls the same
upstream the same budget. Budgets are meant for one event loop and take no locks.

Example::

    budget = RetryBudget(clock=clock)
    endpoint = retry(max_attempts=3, budget=budget)(client)
"""

from __future__ import annotations

import math
import time
from typing import Protocol

from pygokit.clock import Clock

__all__ = ["Budget", "ConcurrencyRetryBudget", "RetryBudget"]

# Finagle's fixed-point scale: a call deposits this many units and a retry costs
# this divided by the percentage, so 20 % makes a retry cost five deposits exactly.
_SCALE = 1000
_SLICES = 10


class Budget(Protocol):
    """What the retry loop tells a budget, and the one question it asks it.

    For each call the loop calls `deposit` once, then `record_success` or
    `record_failure` after each attempt (failures only for errors it would retry),
    `try_withdraw` before each retry, and `release` once when the call is over,
    however it ends (cancellation included). A budget implements the hooks it needs
    and leaves the others empty.
    """

    def deposit(self) -> None:
        """A new call (not a retry) starts."""
        ...

    def try_withdraw(self) -> bool:
        """Return whether a retry may start now; True spends (or reserves) it."""
        ...

    def record_success(self) -> None:
        """An attempt returned a response."""
        ...

    def record_failure(self) -> None:
        """An attempt raised an error that the retry policy deems retryable."""
        ...

    def release(self, retries: int) -> None:
        """A call is over; *retries* of its attempts were retries `try_withdraw` granted."""
        ...


class RetryBudget:
    """Finagle's retry budget: retries may be *percent* of calls, plus a reserve.

    Each call deposits one unit and each retry withdraws ``1 / percent`` units; a retry
    is allowed while the balance covers it. Deposits and withdrawals are kept in a
    rolling window of *ttl* seconds (ten buckets of ``ttl / 10`` seconds, one-second
    buckets with the default ttl) and fall out of it as time passes, so a burst of
    calls long ago buys no retries now. On top of the window there is a standing
    reserve of ``min_retries_per_second * ttl`` retries, so a service with little
    traffic can still retry. Over any window of *ttl* seconds, then, retries stay at or
    below ``percent`` of the calls plus ``min_retries_per_second * ttl``.

    The arithmetic is Finagle's fixed point (a deposit is 1000 units, a retry
    ``int(1000 / percent)``), so accounting is exact: with the clock standing still,
    1000 calls buy exactly ``0.2 * 1000 + 10 * 10 = 300`` retries under the defaults.

    Args:
        percent: Retries allowed per call, as a fraction (0.2 is 20 %); 0 leaves only
            the reserve. At most 1000.
        min_retries_per_second: The reserve, in retries per second of *ttl*.
        ttl: Seconds a deposit (or withdrawal) counts for.
        clock: Monotonic seconds; pass a `pygokit.testing.FakeClock` in tests.

    Example::

        budget = RetryBudget(percent=0.1, min_retries_per_second=5, clock=clock)
        budget.deposit()
        if budget.try_withdraw():
            ...  # retry
    """

    __slots__ = (
        "_buckets",
        "_clock",
        "_cost",
        "_deposit",
        "_index",
        "_origin",
        "_reserve",
        "_slice",
        "_slot",
        "_sum",
        "min_retries_per_second",
        "percent",
        "ttl",
    )

    def __init__(
        self,
        percent: float = 0.2,
        min_retries_per_second: int = 10,
        ttl: float = 10.0,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        if not 0 <= percent <= 1000:
            raise ValueError(f"percent must be a fraction between 0 and 1000, got {percent!r}")
        if not (isinstance(min_retries_per_second, int) and min_retries_per_second >= 0):
            raise ValueError(
                "min_retries_per_second must be a whole number >= 0,"
                f" got {min_retries_per_second!r}"
            )
        if not 0 < ttl < math.inf:
            raise ValueError(f"ttl must be a positive number of seconds, got {ttl!r}")
        self.percent = percent
        self.min_retries_per_second = min_retries_per_second
        self.ttl = ttl
        # As Finagle: with no percentage nothing is deposited and a retry costs 1 unit.
        self._deposit = _SCALE if percent else 0
        self._cost = int(_SCALE / percent) if percent else 1
        self._reserve = math.floor(min_retries_per_second * ttl) * self._cost
        self._clock = clock
        self._slice = ttl / _SLICES
        self._buckets = [0] * _SLICES
        self._index = 0
        self._origin = clock()
        self._slot = 0
        self._sum = 0

    def _roll(self) -> None:
        """Empty the buckets whose time has passed, making the current one the newest."""
        slot = int((self._clock() - self._origin) // self._slice)
        passed = slot - self._slot
        if passed <= 0:
            return
        self._slot = slot
        buckets = self._buckets
        if passed >= _SLICES:
            buckets[:] = [0] * _SLICES
            self._sum = 0
        else:
            for _ in range(passed):
                self._index = (self._index + 1) % _SLICES
                self._sum -= buckets[self._index]
                buckets[self._index] = 0

    def _add(self, units: int) -> None:
        self._roll()
        self._buckets[self._index] += units
        self._sum += units

    def _units(self) -> int:
        self._roll()
        return self._sum + self._reserve

    @property
    def balance(self) -> int:
        """How many retries the budget would allow right now."""
        return self._units() // self._cost

    def deposit(self) -> None:
        """Record a call: it adds *percent* of a retry to the budget for *ttl* seconds."""
        if self._deposit:
            self._add(self._deposit)

    def can_retry(self) -> bool:
        """Return whether a retry would be allowed now, without spending it."""
        return self._units() >= self._cost

    def try_withdraw(self) -> bool:
        """Spend one retry if the budget covers it; return whether it did."""
        if self._units() < self._cost:
            return False
        self._buckets[self._index] -= self._cost
        self._sum -= self._cost
        return True

    def record_success(self) -> None:
        """Outcomes do not matter to this budget."""

    def record_failure(self) -> None:
        """Outcomes do not matter to this budget."""

    def release(self, retries: int) -> None:
        """Calls ending do not matter to this budget."""

    def __repr__(self) -> str:
        return (
            f"RetryBudget(percent={self.percent!r}, min_retries_per_second="
            f"{self.min_retries_per_second!r}, ttl={self.ttl!r}, balance={self.balance})"
        )


class ConcurrencyRetryBudget:
    """Envoy's retry budget: few of the calls in flight may be retrying at once.

    A retry is allowed while fewer than ``max(percent * active, min_retry_concurrency)``
    retries are active, where *active* counts calls in progress (from `deposit` to
    `release`). It bounds how many retries run concurrently rather than how many
    happen over time, and needs no clock.

    One difference from Envoy: Envoy stops counting a retry when that attempt ends;
    this budget counts it until its call ends, because the retry loop reports only
    the end of the call. A call's retries run one after another, so a call that
    retried twice counts twice until it returns; the limit is slightly stricter than
    Envoy's, never looser.

    Args:
        percent: Share of the active calls that may be retrying (0.2 is 20 %).
        min_retry_concurrency: Retries allowed at once however few calls are active.

    Example::

        budget = ConcurrencyRetryBudget(percent=0.2, min_retry_concurrency=3)
        endpoint = retry(max_attempts=3, budget=budget)(client)
    """

    __slots__ = ("active", "active_retries", "min_retry_concurrency", "percent")

    def __init__(self, percent: float = 0.2, min_retry_concurrency: int = 3) -> None:
        if not 0 <= percent < math.inf:
            raise ValueError(f"percent must be a fraction of at least 0, got {percent!r}")
        if not (isinstance(min_retry_concurrency, int) and min_retry_concurrency >= 0):
            raise ValueError(
                f"min_retry_concurrency must be a whole number >= 0, got {min_retry_concurrency!r}"
            )
        self.percent = percent
        self.min_retry_concurrency = min_retry_concurrency
        self.active = 0
        """Calls in progress."""
        self.active_retries = 0
        """Retries granted to calls that are still in progress."""

    @property
    def limit(self) -> int:
        """How many retries may be active at once, given the calls active now."""
        return max(math.floor(self.percent * self.active), self.min_retry_concurrency)

    def deposit(self) -> None:
        """Count a call as active."""
        self.active += 1

    def can_retry(self) -> bool:
        """Return whether a retry would be allowed now, without reserving it."""
        return self.active_retries < self.limit

    def try_withdraw(self) -> bool:
        """Reserve a retry if fewer than `limit` are active; return whether it did."""
        if self.active_retries < self.limit:
            self.active_retries += 1
            return True
        return False

    def record_success(self) -> None:
        """Outcomes do not matter to this budget."""

    def record_failure(self) -> None:
        """Outcomes do not matter to this budget."""

    def release(self, retries: int) -> None:
        """A call ended: it is no longer active, nor are the *retries* it was granted."""
        self.active -= 1
        self.active_retries -= retries

    def __repr__(self) -> str:
        return (
            f"ConcurrencyRetryBudget(percent={self.percent!r}, min_retry_concurrency="
            f"{self.min_retry_concurrency!r}, active={self.active}, "
            f"active_retries={self.active_retries})"
        )
