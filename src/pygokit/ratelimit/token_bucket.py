"""An in-process token bucket with the semantics of Go's ``golang.org/x/time/rate``.

A bucket holds up to *burst* tokens and gains *rate* tokens per second. It starts
full. Each admitted call spends one token (or *cost* tokens), so over any period
of length t at most ``burst + rate * t`` calls get through.

`TokenBucket.allow` takes a token if one is there. `TokenBucket.wait` reserves a
token even if it is not there yet and sleeps until it is due, so waiters are served
in the order they arrived; a wait that is cancelled (for instance by the caller's
``asyncio.timeout``) gives its token back.

Example::

    bucket = TokenBucket(rate=10, burst=5)        # 10 calls/s, bursts of 5
    endpoint = erroring_limiter(bucket)(endpoint)
"""

from __future__ import annotations

import asyncio
import math
import time

from pygokit.clock import Clock, Sleep
from pygokit.ratelimit.middleware import RateLimited

__all__ = ["TokenBucket"]

# A refused try_take must never return 0.0, which means "taken", even when the
# deficit divided by a huge rate underflows.
_MIN_RETRY_IN = 1e-9


class TokenBucket:
    """A token bucket: *rate* tokens per second, at most *burst* of them, starting full.

    It is an `Allower` (`allow`) and a `Waiter` (`wait`), so it works with both
    `erroring_limiter` and `delaying_limiter`. With ``rate=math.inf`` every call is
    allowed at once and *burst* is ignored, as in ``x/time/rate``.

    The bucket belongs to one event loop and is not thread-safe; it needs no lock
    because none of its methods suspends while it updates its state.

    Args:
        rate: Tokens added per second; positive, or `math.inf` for no limit.
        burst: The most tokens the bucket holds, so the largest burst it admits.
        clock: Monotonic seconds; pass a `pygokit.testing.FakeClock` in tests.
        sleep: How `wait` sleeps; pass ``FakeClock.sleep`` in tests.

    Raises:
        ValueError: *rate* is not positive, or *burst* is less than 1.
        TypeError: *burst* is not an int.

    Example::

        bucket = TokenBucket(rate=1 / 60, burst=1)    # one call a minute
        assert bucket.allow()
        assert not bucket.allow()
        assert bucket.retry_in() == pytest.approx(60)
    """

    __slots__ = ("_burst", "_clock", "_last", "_rate", "_sleep", "_tokens", "_unlimited")

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(
                f"rate must be a positive number of tokens per second (or math.inf), got {rate!r}"
            )
        if isinstance(burst, bool) or not isinstance(burst, int):
            raise TypeError(f"burst must be an int, got {type(burst).__name__}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self._rate = float(rate)
        self._burst = burst
        self._unlimited = math.isinf(rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._last = clock()

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self._rate

    @property
    def burst(self) -> int:
        """The most tokens the bucket holds."""
        return self._burst

    @property
    def tokens(self) -> float:
        """The tokens available now; negative while waiters hold reservations."""
        self._refill()
        return self._tokens

    def allow(self, cost: int = 1) -> bool:
        """Take *cost* tokens and return True if they are there; else take none, return False."""
        return self.try_take(cost) == 0.0

    def try_take(self, cost: int = 1) -> float:
        """Take *cost* tokens if they are there and return 0.0; else the seconds until they are.

        Nothing is taken when the tokens are not there. `erroring_limiter` calls this
        so that `RateLimited` can say when to retry.

        Raises:
            ValueError: *cost* is less than 1 or more than the burst (it could never pass).
        """
        if self._unlimited:
            return 0.0
        if not 1 <= cost <= self._burst:
            raise self._bad_cost(cost)
        # _refill, inlined: this is the hot path of erroring_limiter.
        now = self._clock()
        elapsed = now - self._last
        self._last = now
        tokens = self._tokens
        if elapsed > 0:
            tokens += elapsed * self._rate
            if tokens > self._burst:
                tokens = float(self._burst)
        if tokens >= cost:
            self._tokens = tokens - cost
            return 0.0
        self._tokens = tokens
        return max((cost - tokens) / self._rate, _MIN_RETRY_IN)

    def retry_in(self, cost: int = 1) -> float:
        """Return the seconds until *cost* tokens are available (0.0 if they are now).

        Waiters' reservations count: the time is how long a new `wait` would sleep.
        """
        if self._unlimited:
            return 0.0
        if not 1 <= cost <= self._burst:
            raise self._bad_cost(cost)
        self._refill()
        return max((cost - self._tokens) / self._rate, 0.0)

    async def wait(self, cost: int = 1, *, max_wait: float | None = None) -> None:
        """Reserve *cost* tokens and sleep until they are due.

        Reservations are served in the order they were made. If the wait is
        cancelled before it ends, the tokens go back to the bucket.

        Args:
            cost: Tokens to take.
            max_wait: When the tokens would be due more than *max_wait* seconds from
                now, raise `RateLimited` at once and reserve nothing. None waits as
                long as it takes.

        Raises:
            RateLimited: The tokens would come later than *max_wait*; ``retry_in``
                says when they would.
            ValueError: *cost* is less than 1 or more than the burst.
        """
        if self._unlimited:
            return
        if not 1 <= cost <= self._burst:
            raise self._bad_cost(cost)
        self._refill()
        tokens = self._tokens - cost
        if tokens >= 0:
            self._tokens = tokens
            return
        delay = -tokens / self._rate
        if max_wait is not None and delay > max_wait:
            raise RateLimited(delay)
        self._tokens = tokens
        done = False
        try:
            await self._sleep(delay)
            done = True
        finally:
            if not done:
                self._give_back(cost)

    def _refill(self) -> None:
        """Add the tokens earned since the last update, up to the burst."""
        now = self._clock()
        elapsed = now - self._last
        self._last = now
        if elapsed > 0:
            tokens = self._tokens + elapsed * self._rate
            self._tokens = tokens if tokens < self._burst else float(self._burst)

    def _give_back(self, cost: int) -> None:
        """Return the tokens of a reservation that will not be used."""
        self._refill()
        self._tokens = min(self._tokens + cost, float(self._burst))

    def _bad_cost(self, cost: int) -> ValueError:
        return ValueError(
            f"cost must be between 1 and the burst ({self._burst}); got {cost},"
            " which could never be admitted"
        )

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self._rate!r}, burst={self._burst}, tokens={self.tokens:.3g})"
