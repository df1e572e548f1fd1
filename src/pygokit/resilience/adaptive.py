"""Adaptive concurrency limits, after Netflix's concurrency-limits.

A static cap (`Bulkhead`) needs someone to know the right number. An adaptive
limiter finds it: it measures each call's latency and whether it was dropped, and a
*limit algorithm* turns those samples into the number of calls allowed in flight,
the way TCP finds a congestion window. When latency rises (queueing downstream) or
calls time out, the limit falls and the excess is refused at once with
`Overloaded`; when latency falls again, the limit climbs back.

The algorithms take samples as plain arguments and read no clock, so they are
tested by feeding them numbers:

- `AIMDLimit`: loss-based. Each good sample while the limiter is at least half busy
  adds 1; a drop (or a latency over *timeout*) multiplies the limit by 0.9.
- `VegasLimit`: delay-based (TCP Vegas). It keeps the lowest latency seen as the
  no-load latency and estimates the queue as ``limit * (1 - rtt_noload / rtt)``:
  a short queue raises the limit, a long one lowers it.

Example::

    limiter = AdaptiveLimiter(VegasLimit(initial_limit=20, max_limit=200), name="search")
    endpoint = chain(adaptive_limiter(limiter), timeout(1.0))(search_endpoint)

Put `timeout` *inside* `adaptive_limiter`, as above, so that calls that overrun count
as drops.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from pygokit.clock import Clock
from pygokit.endpoint import AnyMiddleware, Endpoint
from pygokit.errors import GoKitError
from pygokit.resilience.bulkhead import BulkheadFull

__all__ = [
    "AIMDLimit",
    "AdaptiveLimiter",
    "Limit",
    "Overloaded",
    "VegasLimit",
    "adaptive_limiter",
    "is_drop",
]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class Overloaded(GoKitError):
    """A call was refused because its adaptive limiter was at its current limit.

    Attributes:
        name: The limiter's name.
        limit: The limit at the time.
        in_flight: Calls in flight at the time.
    """

    def __init__(self, name: str, limit: int, in_flight: int) -> None:
        super().__init__(
            f"concurrency limit {name!r} reached: {in_flight} calls in flight, limit {limit};"
            " the service is shedding load, retry later or on another instance"
        )
        self.name = name
        self.limit = limit
        self.in_flight = in_flight


class Limit(Protocol):
    """A limit algorithm: turns samples of calls into a concurrency limit."""

    @property
    def limit(self) -> int:
        """The number of calls currently allowed in flight."""

    def on_sample(self, rtt: float, inflight: int, dropped: bool) -> None:
        """Learn from one finished call.

        Args:
            rtt: The call's latency in seconds.
            inflight: Calls in flight when it started, itself included.
            dropped: Whether it timed out or was refused downstream.
        """


class AIMDLimit:
    """Additive increase, multiplicative decrease, as Netflix's ``AIMDLimit``.

    A drop, or a latency above *timeout*, sets the limit to ``int(limit *
    backoff_ratio)``. Any other sample adds 1, but only when at least half the limit
    was in use (``inflight * 2 >= limit``), so an idle service does not drift upwards.
    The limit stays within [*min_limit*, *max_limit*].

    Unlike Netflix (whose ``minLimit`` defaults to 20), *min_limit* defaults to 1 so
    that the limiter can shed almost all load.

    Raises:
        ValueError: the limits are not ``1 <= min_limit <= initial_limit <= max_limit``,
            *backoff_ratio* is outside [0.5, 1), or *timeout* is not positive.

    Example::

        aimd = AIMDLimit(initial_limit=20)
        aimd.on_sample(0.001, inflight=10, dropped=False)
        assert aimd.limit == 21
    """

    __slots__ = ("_backoff", "_limit", "_max", "_min", "_timeout")

    def __init__(
        self,
        initial_limit: int = 20,
        *,
        min_limit: int = 1,
        max_limit: int = 200,
        backoff_ratio: float = 0.9,
        timeout: float = 5.0,
    ) -> None:
        _check_limits(min_limit, initial_limit, max_limit)
        if not 0.5 <= backoff_ratio < 1:
            raise ValueError(f"backoff_ratio must be in [0.5, 1), got {backoff_ratio!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive seconds, got {timeout!r}")
        self._limit = initial_limit
        self._min = min_limit
        self._max = max_limit
        self._backoff = backoff_ratio
        self._timeout = timeout

    @property
    def limit(self) -> int:
        """The number of calls currently allowed in flight."""
        return self._limit

    def on_sample(self, rtt: float, inflight: int, dropped: bool) -> None:
        """Back off on a drop or a slow call; otherwise grow by one when half busy."""
        limit = self._limit
        if dropped or rtt > self._timeout:
            limit = int(limit * self._backoff)
        elif inflight * 2 >= limit:
            limit += 1
        self._limit = min(self._max, max(self._min, limit))

    def __repr__(self) -> str:
        return f"AIMDLimit(limit={self._limit})"


def _log10(limit: int) -> int:
    """Netflix's ``Log10RootIntFunction``: ``int(log10(limit))``, at least 1."""
    return max(1, int(math.log10(limit))) if limit > 0 else 1


def _alpha(limit: int) -> int:
    return 3 * _log10(limit)


def _beta(limit: int) -> int:
    return 6 * _log10(limit)


def _increase(limit: float) -> float:
    return limit + _log10(int(limit))


def _decrease(limit: float) -> float:
    return limit - _log10(int(limit))


class VegasLimit:
    """Delay-based limit after TCP Vegas, as Netflix's ``VegasLimit``.

    The lowest latency seen is taken as the no-load latency, and the queue as
    ``queue = ceil(limit * (1 - rtt_noload / rtt))``. With the defaults
    (``L = log10(limit)``, at least 1): a drop lowers the limit by L; otherwise, if at
    least half the limit was in use, a queue ≤ L raises it by ``beta`` (6·L), a queue
    below ``alpha`` (3·L) raises it by L, a queue above ``beta`` lowers it by L, and
    anything between leaves it. Every ``probe_multiplier * limit`` samples or so
    (jittered), the next latency becomes the new no-load latency, so the limiter
    notices when the service got permanently slower.

    Samples with a latency of zero or less are ignored (Netflix raises on them) so
    that a coarse clock cannot break the limiter.

    Args:
        initial_limit: The limit before any sample.
        max_limit: The highest the limit may go.
        smoothing: Weight of a new limit against the old one, in (0, 1].
        alpha, beta, threshold: Queue sizes, as numbers or functions of the limit.
        increase, decrease: Functions from the current limit to the next.
        probe_multiplier: How rarely (in samples per unit of limit) to re-probe.
        rng: Randomness for the probe jitter; pass a seeded `random.Random` in tests.

    Example::

        vegas = VegasLimit(initial_limit=10, max_limit=20, alpha=3, beta=6)
        vegas.on_sample(0.010, inflight=10, dropped=False)   # learns rtt_noload
        vegas.on_sample(0.010, inflight=11, dropped=False)   # no queue: +beta
        assert vegas.limit == 16
    """

    def __init__(
        self,
        initial_limit: int = 20,
        *,
        max_limit: int = 1000,
        smoothing: float = 1.0,
        alpha: int | Callable[[int], int] = _alpha,
        beta: int | Callable[[int], int] = _beta,
        threshold: int | Callable[[int], int] = _log10,
        increase: Callable[[float], float] = _increase,
        decrease: Callable[[float], float] = _decrease,
        probe_multiplier: int = 30,
        rng: random.Random | None = None,
    ) -> None:
        _check_limits(1, initial_limit, max_limit)
        if not 0 < smoothing <= 1:
            raise ValueError(f"smoothing must be in (0, 1], got {smoothing!r}")
        if probe_multiplier < 1:
            raise ValueError(f"probe_multiplier must be at least 1, got {probe_multiplier}")
        self._estimate = float(initial_limit)
        self._max = max_limit
        self._smoothing = smoothing
        self._alpha = _as_function(alpha)
        self._beta = _as_function(beta)
        self._threshold = _as_function(threshold)
        self._increase = increase
        self._decrease = decrease
        self._probe_multiplier = probe_multiplier
        self._rng = rng if rng is not None else random.Random()
        self._probe_jitter = self._rng.uniform(0.5, 1.0)
        self._probe_count = 0
        self._rtt_noload = 0.0

    @property
    def limit(self) -> int:
        """The number of calls currently allowed in flight."""
        return int(self._estimate)

    @property
    def rtt_noload(self) -> float:
        """The latency taken as the no-load latency, in seconds (0.0 before any sample)."""
        return self._rtt_noload

    def on_sample(self, rtt: float, inflight: int, dropped: bool) -> None:
        """Compare the latency with the no-load latency and move the limit."""
        if rtt <= 0:
            return
        self._probe_count += 1
        if self._probe_jitter * self._probe_multiplier * self._estimate <= self._probe_count:
            self._probe_jitter = self._rng.uniform(0.5, 1.0)
            self._probe_count = 0
            self._rtt_noload = rtt
            return
        if self._rtt_noload == 0 or rtt < self._rtt_noload:
            self._rtt_noload = rtt
            return
        self._update(rtt, inflight, dropped)

    def _update(self, rtt: float, inflight: int, dropped: bool) -> None:
        estimate = self._estimate
        queue = math.ceil(estimate * (1 - self._rtt_noload / rtt))
        if dropped:
            new = self._decrease(estimate)
        elif inflight * 2 < estimate:
            return  # not busy enough for the latency to mean anything
        else:
            limit = int(estimate)
            beta = self._beta(limit)
            if queue <= self._threshold(limit):
                new = estimate + beta
            elif queue < self._alpha(limit):
                new = self._increase(estimate)
            elif queue > beta:
                new = self._decrease(estimate)
            else:
                return
        new = max(1.0, min(float(self._max), new))
        self._estimate = (1 - self._smoothing) * estimate + self._smoothing * new

    def __repr__(self) -> str:
        return f"VegasLimit(limit={self.limit}, rtt_noload={self._rtt_noload:.3g}s)"


def _as_function(value: int | Callable[[int], int]) -> Callable[[int], int]:
    if callable(value):
        return value
    return lambda _limit: value


def _check_limits(min_limit: int, initial_limit: int, max_limit: int) -> None:
    if not 1 <= min_limit <= initial_limit <= max_limit:
        raise ValueError(
            "limits must satisfy 1 <= min_limit <= initial_limit <= max_limit; got"
            f" min_limit={min_limit}, initial_limit={initial_limit}, max_limit={max_limit}"
        )


def is_drop(exc: Exception) -> bool:
    """The default drop test: a timeout, or a refusal by a limiter or bulkhead downstream.

    Every other error counts as a good sample: the dependency answered, and its
    latency is real. Cancellation is never a sample at all.
    """
    return isinstance(exc, TimeoutError | Overloaded | BulkheadFull)


class AdaptiveLimiter:
    """Admits calls while fewer than ``limit.limit`` are in flight; learns from each one.

    Use it through `adaptive_limiter`, or by hand: `acquire` before the call, and
    `release` after it with the call's latency (None when the call was cancelled or
    should teach the algorithm nothing). It belongs to one event loop and is not
    thread-safe.

    Args:
        limit: The algorithm (`AIMDLimit`, `VegasLimit`, or your own `Limit`).
        name: Names the limiter in errors.
        clock: Monotonic seconds for timing calls; pass a `pygokit.testing.FakeClock`
            in tests.
        is_drop: Which errors count as drops; see `is_drop`.
    """

    __slots__ = ("_clock", "_in_flight", "_is_drop", "_limit", "_name", "_rejected")

    def __init__(
        self,
        limit: Limit,
        *,
        name: str = "adaptive",
        clock: Clock = time.monotonic,
        is_drop: Callable[[Exception], bool] = is_drop,
    ) -> None:
        self._limit = limit
        self._name = name
        self._clock = clock
        self._is_drop = is_drop
        self._in_flight = 0
        self._rejected = 0

    @property
    def limit(self) -> int:
        """The number of calls currently allowed in flight."""
        return self._limit.limit

    @property
    def clock(self) -> Clock:
        """The clock that times calls."""
        return self._clock

    @property
    def in_flight(self) -> int:
        """Calls in flight now."""
        return self._in_flight

    @property
    def rejected(self) -> int:
        """How many calls were refused since the limiter was made."""
        return self._rejected

    def is_drop(self, exc: Exception) -> bool:
        """Whether *exc* counts as a drop for this limiter."""
        return self._is_drop(exc)

    def acquire(self) -> int:
        """Take a slot and return the calls in flight, this one included.

        Raises:
            Overloaded: the limit is reached; the refusal is counted.
        """
        in_flight = self._in_flight
        limit = self._limit.limit
        if in_flight >= limit:
            self._rejected += 1
            raise Overloaded(self._name, limit, in_flight)
        self._in_flight = in_flight + 1
        return in_flight + 1

    def release(self, inflight: int, rtt: float | None, *, dropped: bool = False) -> None:
        """Give the slot back and, unless *rtt* is None, feed the call to the algorithm.

        Args:
            inflight: What `acquire` returned for this call.
            rtt: The call's latency in seconds, or None to learn nothing from it.
            dropped: Whether the call timed out or was refused downstream.
        """
        self._in_flight -= 1
        if rtt is not None:
            self._limit.on_sample(rtt, inflight, dropped)

    def __repr__(self) -> str:
        return (
            f"AdaptiveLimiter({self._name!r}, limit={self.limit}, in_flight={self._in_flight},"
            f" rejected={self._rejected})"
        )


def adaptive_limiter(limiter: AdaptiveLimiter) -> AnyMiddleware:
    """Return a middleware that admits calls through *limiter* and times each one.

    A refused call raises `Overloaded` without calling the endpoint. An admitted
    call's latency is fed to the algorithm as a drop when the endpoint raised
    something the limiter's ``is_drop`` accepts, and as a good sample otherwise
    (business errors included). A cancelled call frees its slot and teaches nothing.
    """
    acquire = limiter.acquire
    release = limiter.release
    clock = limiter.clock
    drop = limiter.is_drop

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            inflight = acquire()
            rtt: float | None = None
            dropped = False
            started = clock()
            try:
                response = await next_(request)
                rtt = clock() - started
            except Exception as exc:
                rtt = clock() - started
                dropped = drop(exc)
                raise
            finally:
                release(inflight, rtt, dropped=dropped)
            return response

        return endpoint

    return middleware
