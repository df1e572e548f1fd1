"""Adaptive concurrency: Netflix's AIMD and Vegas vectors, and the limiter middleware."""

from __future__ import annotations

import asyncio
import random

import pytest

from pygokit.resilience import (
    AdaptiveLimiter,
    AIMDLimit,
    BulkheadFull,
    DeadlineExceeded,
    Overloaded,
    VegasLimit,
    adaptive_limiter,
    is_drop,
)
from pygokit.testing import FakeClock, RecordingEndpoint

MS = 0.001


class RecordingLimit:
    """A Limit with a fixed limit that records every sample it is fed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.samples: list[tuple[float, int, bool]] = []

    def on_sample(self, rtt: float, inflight: int, dropped: bool) -> None:
        self.samples.append((rtt, inflight, dropped))


# --- AIMD (Netflix AIMDLimitTest) ---------------------------------------------------------


def test_aimd_increases_by_one_on_success() -> None:
    """AIMD: limit 20 becomes 21 after a good sample with 10 in flight."""
    aimd = AIMDLimit(initial_limit=20)
    aimd.on_sample(1 * MS, 10, False)
    assert aimd.limit == 21


def test_aimd_backs_off_on_a_drop() -> None:
    """AIMD: limit 30 becomes 27 after a drop (backoff ratio 0.9)."""
    aimd = AIMDLimit(initial_limit=30)
    aimd.on_sample(0.0, 0, True)
    assert aimd.limit == 27


def test_aimd_never_exceeds_max_limit() -> None:
    """AIMD: however many good samples come, the limit stops at max_limit."""
    aimd = AIMDLimit(initial_limit=20, max_limit=25)
    for _ in range(100):
        aimd.on_sample(1 * MS, 100, False)
    assert aimd.limit == 25


def test_aimd_never_goes_below_min_limit() -> None:
    """AIMD: however many drops come, the limit stops at min_limit."""
    aimd = AIMDLimit(initial_limit=20, min_limit=3)
    for _ in range(100):
        aimd.on_sample(1 * MS, 20, True)
    assert aimd.limit == 3


def test_aimd_treats_a_call_slower_than_timeout_as_a_drop() -> None:
    """AIMD: a latency above `timeout` backs off like a drop."""
    aimd = AIMDLimit(initial_limit=20, timeout=0.5)
    aimd.on_sample(0.6, 20, False)
    assert aimd.limit == 18


def test_aimd_does_not_grow_when_under_half_busy() -> None:
    """AIMD: a good sample with fewer than limit/2 in flight leaves the limit alone."""
    aimd = AIMDLimit(initial_limit=20)
    aimd.on_sample(1 * MS, 9, False)
    assert aimd.limit == 20
    assert repr(aimd) == "AIMDLimit(limit=20)"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial_limit": 0}, "limits must satisfy"),
        ({"initial_limit": 5, "min_limit": 6}, "limits must satisfy"),
        ({"initial_limit": 300}, "limits must satisfy"),
        ({"backoff_ratio": 1.0}, r"backoff_ratio must be in \[0.5, 1\)"),
        ({"backoff_ratio": 0.4}, r"backoff_ratio must be in \[0.5, 1\)"),
        ({"timeout": 0}, "timeout must be positive"),
    ],
)
def test_aimd_refuses_bad_settings(kwargs: dict[str, float], message: str) -> None:
    """Inconsistent limits, a backoff outside [0.5, 1) or a non-positive timeout raise."""
    with pytest.raises(ValueError, match=message):
        AIMDLimit(**kwargs)  # type: ignore[arg-type]


# --- Vegas (Netflix VegasLimitTest) -------------------------------------------------------


def vegas() -> VegasLimit:
    """Netflix's VegasLimitTest.create(): alpha 3, beta 6, smoothing 1, limit 10, max 20."""
    return VegasLimit(initial_limit=10, max_limit=20, alpha=3, beta=6, smoothing=1.0)


def test_vegas_increases_when_there_is_no_queue() -> None:
    """Vegas: RTT 10 ms twice with 11 in flight raises the limit 10 -> 16."""
    limit = vegas()
    limit.on_sample(10 * MS, 10, False)
    assert limit.limit == 10
    limit.on_sample(10 * MS, 11, False)
    assert limit.limit == 16


def test_vegas_decreases_when_latency_rises() -> None:
    """Vegas: RTT 10 ms then 50 ms lowers the limit 10 -> 9."""
    limit = vegas()
    limit.on_sample(10 * MS, 10, False)
    limit.on_sample(50 * MS, 11, False)
    assert limit.limit == 9


def test_vegas_holds_within_the_thresholds() -> None:
    """Vegas: a queue between alpha and beta leaves the limit unchanged."""
    limit = vegas()
    limit.on_sample(10 * MS, 10, False)
    limit.on_sample(14 * MS, 14, False)
    assert limit.limit == 10


def test_vegas_increases_gently_on_a_short_queue() -> None:
    """Vegas: a queue above the threshold but below alpha adds log10(limit): 10 -> 11."""
    limit = vegas()
    limit.on_sample(10 * MS, 10, False)
    limit.on_sample(12 * MS, 10, False)  # queue = ceil(10 x (1 - 10/12)) = 2
    assert limit.limit == 11


def test_vegas_large_limit_increase() -> None:
    """Vegas: at limit 10,000 with no queue the limit grows by 6 x log10 = 24."""
    limit = VegasLimit(initial_limit=10000, max_limit=20000)
    limit.on_sample(10.0, 5000, False)
    assert limit.limit == 10000
    limit.on_sample(10.0, 6000, False)
    assert limit.limit == 10024


def test_vegas_decrease_with_smoothing() -> None:
    """Vegas: with a halving decrease and smoothing 0.5, 100 -> 75 -> 56."""
    limit = VegasLimit(
        initial_limit=100, max_limit=200, smoothing=0.5, decrease=lambda current: current / 2
    )
    limit.on_sample(10 * MS, 100, False)
    assert limit.limit == 100
    limit.on_sample(20 * MS, 100, False)
    assert limit.limit == 75
    limit.on_sample(20 * MS, 100, False)
    assert limit.limit == 56


def test_vegas_decrease_without_smoothing() -> None:
    """Vegas: with a halving decrease and no smoothing, 100 -> 50 -> 25."""
    limit = VegasLimit(initial_limit=100, max_limit=200, decrease=lambda current: current / 2)
    limit.on_sample(10 * MS, 100, False)
    limit.on_sample(20 * MS, 100, False)
    assert limit.limit == 50
    limit.on_sample(20 * MS, 100, False)
    assert limit.limit == 25


def test_vegas_decreases_on_a_drop_and_ignores_idle_samples() -> None:
    """Vegas: a drop lowers the limit by log10; a sample under half busy changes nothing."""
    limit = vegas()
    limit.on_sample(10 * MS, 10, False)
    limit.on_sample(10 * MS, 4, False)
    assert limit.limit == 10
    limit.on_sample(10 * MS, 4, True)
    assert limit.limit == 9


def test_vegas_ignores_non_positive_latency() -> None:
    """Vegas: a zero latency (a coarse clock) is ignored rather than raising."""
    limit = vegas()
    limit.on_sample(0.0, 10, False)
    assert (limit.limit, limit.rtt_noload) == (10, 0.0)


def test_vegas_probes_for_a_new_no_load_latency() -> None:
    """Vegas: after about probe_multiplier x limit samples the next latency becomes rtt_noload."""
    limit = VegasLimit(initial_limit=10, probe_multiplier=1, rng=random.Random(7))
    limit.on_sample(10 * MS, 10, False)
    for _ in range(10):
        limit.on_sample(12 * MS, 1, False)  # idle samples: the limit stays 10
    assert limit.rtt_noload == 12 * MS
    assert repr(limit) == "VegasLimit(limit=10, rtt_noload=0.012s)"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial_limit": 0}, "limits must satisfy"),
        ({"initial_limit": 50, "max_limit": 20}, "limits must satisfy"),
        ({"smoothing": 0}, r"smoothing must be in \(0, 1\]"),
        ({"probe_multiplier": 0}, "probe_multiplier must be at least 1"),
    ],
)
def test_vegas_refuses_bad_settings(kwargs: dict[str, float], message: str) -> None:
    """Inconsistent limits, smoothing outside (0, 1] or a zero probe multiplier raise."""
    with pytest.raises(ValueError, match=message):
        VegasLimit(**kwargs)  # type: ignore[arg-type]


# --- AdaptiveLimiter and the middleware ---------------------------------------------------


async def test_refuses_at_the_limit_with_overloaded() -> None:
    """With limit calls in flight the next is refused with Overloaded, endpoint untouched."""
    gate = asyncio.Event()
    endpoint = RecordingEndpoint[int, int](then=0, gate=gate)
    limiter = AdaptiveLimiter(RecordingLimit(2), name="search", clock=FakeClock())
    limited = adaptive_limiter(limiter)(endpoint)
    calls = [asyncio.create_task(limited(i)) for i in range(2)]
    await endpoint.wait_for_calls(2)

    with pytest.raises(Overloaded, match=r"'search' reached: 2 calls in flight, limit 2") as err:
        await limited(3)

    assert (err.value.limit, err.value.in_flight, err.value.name) == (2, 2, "search")
    assert (limiter.in_flight, limiter.rejected, endpoint.calls) == (2, 1, 2)
    gate.set()
    await asyncio.gather(*calls)
    assert limiter.in_flight == 0
    assert repr(limiter) == "AdaptiveLimiter('search', limit=2, in_flight=0, rejected=1)"


async def test_feeds_each_calls_latency_and_in_flight_count() -> None:
    """Each finished call becomes one sample: its latency, the in-flight count at its start."""
    clock = FakeClock()
    algorithm = RecordingLimit(10)

    async def slow(request: float) -> float:
        await clock.sleep(request)
        return request

    limited = adaptive_limiter(AdaptiveLimiter(algorithm, clock=clock))(slow)
    calls = [asyncio.create_task(limited(seconds)) for seconds in (0.1, 0.2)]
    await clock.wait_for_sleepers(2)
    clock.advance(0.1)
    await calls[0]
    clock.advance(0.1)
    await calls[1]

    [(first_rtt, *first), (second_rtt, *second)] = algorithm.samples
    assert first_rtt == pytest.approx(0.1)
    assert second_rtt == pytest.approx(0.2)
    assert (first, second) == ([1, False], [2, False])


async def test_timeouts_and_downstream_refusals_are_drops_business_errors_are_not() -> None:
    """TimeoutError, Overloaded and BulkheadFull count as drops; other errors as good samples."""
    algorithm = RecordingLimit(10)
    errors: list[Exception] = [
        DeadlineExceeded(1.0),
        Overloaded("x", 1, 1),
        BulkheadFull("y", 1, 0.0),
        KeyError("no such user"),
    ]
    limited = adaptive_limiter(AdaptiveLimiter(algorithm, clock=FakeClock()))(
        RecordingEndpoint[int, int](*errors)
    )
    for i, error in enumerate(errors):
        with pytest.raises(type(error)):
            await limited(i)

    assert [dropped for _, _, dropped in algorithm.samples] == [True, True, True, False]
    assert is_drop(TimeoutError())
    assert not is_drop(ValueError())


async def test_a_custom_drop_test() -> None:
    """is_drop= decides which errors count as drops."""
    algorithm = RecordingLimit(10)
    limiter = AdaptiveLimiter(
        algorithm, clock=FakeClock(), is_drop=lambda exc: isinstance(exc, ConnectionError)
    )
    limited = adaptive_limiter(limiter)(
        RecordingEndpoint[int, int](ConnectionError(), TimeoutError())
    )
    with pytest.raises(ConnectionError):
        await limited(0)
    with pytest.raises(TimeoutError):
        await limited(1)

    assert [dropped for _, _, dropped in algorithm.samples] == [True, False]


async def test_cancellation_frees_the_slot_and_teaches_nothing() -> None:
    """A cancelled call gives its slot back, feeds no sample, and its cancellation propagates."""
    gate = asyncio.Event()
    endpoint = RecordingEndpoint[int, int](then=0, gate=gate)
    algorithm = RecordingLimit(1)
    limiter = AdaptiveLimiter(algorithm, clock=FakeClock())
    call = asyncio.create_task(adaptive_limiter(limiter)(endpoint)(1))
    await endpoint.wait_for_calls(1)

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert (limiter.in_flight, algorithm.samples) == (0, [])


async def test_sheds_load_when_latency_rises_and_recovers_when_it_falls() -> None:
    """Under Vegas, rising latency lowers the limit and sheds load; falling latency restores it."""
    clock = FakeClock()
    limiter = AdaptiveLimiter(
        VegasLimit(initial_limit=10, max_limit=50, probe_multiplier=1000, rng=random.Random(1)),
        clock=clock,
    )

    async def backend(latency: float) -> None:
        await clock.sleep(latency)

    limited = adaptive_limiter(limiter)(backend)

    async def wave(latency: float, offered: int = 40) -> int:
        """Offer `offered` concurrent calls of the given latency; return how many were shed."""
        calls = [asyncio.create_task(limited(latency)) for _ in range(offered)]
        await asyncio.sleep(0)
        admitted = offered - sum(1 for call in calls if call.done())
        await clock.wait_for_sleepers(admitted)
        clock.advance(latency)
        results = await asyncio.gather(*calls, return_exceptions=True)
        return sum(isinstance(result, Overloaded) for result in results)

    fast = [await wave(10 * MS) for _ in range(5)]
    assert fast[0] > 0  # the initial limit of 10 sheds most of the 40
    assert (fast[-1], limiter.limit) == (0, 50)

    slow = [await wave(100 * MS) for _ in range(5)]  # 10x the no-load latency: a queue
    assert slow[-1] >= 30
    assert limiter.limit <= 10

    recovered = [await wave(10 * MS) for _ in range(5)]
    assert (recovered[-1], limiter.limit) == (0, 50)
