"""RatioBreaker: streadway/handy's failure-ratio breaker, as Go kit's HandyBreaker uses it."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.circuitbreaker import (
    CircuitOpen,
    Counts,
    RatioBreaker,
    State,
    TooManyRequests,
    circuit_breaker,
)
from pygokit.testing import FakeClock, RecordingEndpoint
from tests.circuitbreaker.harness import Tragedy, failing_endpoint_harness

CLOSED, OPEN, HALF_OPEN = State.CLOSED, State.OPEN, State.HALF_OPEN


async def succeed(breaker: RatioBreaker) -> None:
    """One successful call through the middleware."""
    assert await circuit_breaker(breaker)(RecordingEndpoint[int, str](then="ok"))(0) == "ok"


async def fail(breaker: RatioBreaker) -> None:
    """One failing call through the middleware; the endpoint's error comes through."""
    with pytest.raises(Tragedy):
        await circuit_breaker(breaker)(RecordingEndpoint[int, str](then=Tragedy("x")))(0)


async def test_go_kit_harness_with_handy_defaults() -> None:
    """R1 adapted: Go kit's TestHandyBreaker: prime 100, pass while n/(100+n) <= 5%, leak 0."""
    failure_ratio = 0.05
    prime_with = 10 * 10  # handy's DefaultMinObservations * 10, as Go kit's test
    passed = await failing_endpoint_harness(
        circuit_breaker(RatioBreaker("handy", failure_ratio=failure_ratio, clock=FakeClock())),
        prime_with=prime_with,
        should_pass=lambda n: n / (prime_with + n) <= failure_ratio,
    )
    assert passed == 6


async def test_it_trips_only_with_more_than_min_observations() -> None:
    """With min_observations=10, ten failures stay closed and the eleventh opens the circuit."""
    breaker = RatioBreaker("r", failure_ratio=0.5, min_observations=10, clock=FakeClock())
    for _ in range(10):
        await fail(breaker)
    assert breaker.state is CLOSED
    assert breaker.observations == 10
    await fail(breaker)
    assert breaker.state is OPEN


async def test_the_ratio_must_exceed_the_threshold() -> None:
    """A failure ratio equal to failure_ratio does not trip; above it does."""
    breaker = RatioBreaker("r", failure_ratio=0.5, min_observations=0, clock=FakeClock())
    await succeed(breaker)
    await fail(breaker)
    assert breaker.observed_ratio == 0.5
    assert breaker.state is CLOSED
    await fail(breaker)
    assert breaker.state is OPEN


async def test_successes_never_trip_it() -> None:
    """Only a failure checks the ratio, as in handy."""
    breaker = RatioBreaker("r", failure_ratio=0.0, min_observations=0, clock=FakeClock())
    for _ in range(20):
        await succeed(breaker)
    assert breaker.observed_ratio == 0.0
    assert breaker.state is CLOSED


async def test_failures_older_than_the_window_are_forgotten() -> None:
    """One-second buckets over `window` seconds: old failures leave, and cannot trip it."""
    clock = FakeClock()
    breaker = RatioBreaker("r", failure_ratio=0.5, window=5, min_observations=10, clock=clock)
    assert breaker.observed_ratio == 0.0
    for _ in range(10):
        await fail(breaker)
    clock.advance(4.0)
    await succeed(breaker)
    assert (breaker.observations, breaker.observed_ratio) == (11, 10 / 11)
    clock.advance(1.0)  # second 0 leaves the window
    assert (breaker.observations, breaker.observed_ratio) == (1, 0.0)
    await fail(breaker)
    assert breaker.state is CLOSED


async def test_after_the_cooldown_one_trial_decides() -> None:
    """Open for `cooldown`; then one trial: failure reopens, success closes with an empty window."""
    clock = FakeClock()
    breaker = RatioBreaker("r", min_observations=0, cooldown=1.0, clock=clock)
    await fail(breaker)
    assert breaker.state is OPEN
    clock.advance(1.0)
    with pytest.raises(CircuitOpen) as info:
        await succeed(breaker)
    assert info.value.retry_in == 0.0
    clock.advance(1e-9)
    assert breaker.state is HALF_OPEN

    await fail(breaker)
    assert breaker.state is OPEN
    clock.advance(1.5)
    await succeed(breaker)
    assert breaker.state is CLOSED
    assert breaker.observations == 0
    assert breaker.counts == Counts(0, 0, 0, 0, 0)


async def test_a_hung_trial_stops_blocking_after_another_cooldown() -> None:
    """While the trial hangs others are refused; after a cooldown a new trial decides."""
    clock = FakeClock()
    breaker = RatioBreaker("r", min_observations=0, cooldown=2.0, clock=clock)
    await fail(breaker)
    clock.advance(2.5)

    gate = asyncio.Event()
    hung = RecordingEndpoint[int, str](then="late", gate=gate)
    trial = asyncio.create_task(circuit_breaker(breaker)(hung)(0))
    await hung.wait_for_calls(1)
    clock.advance(0.5)
    with pytest.raises(TooManyRequests) as info:
        await succeed(breaker)
    assert info.value.retry_in == 1.5
    assert str(info.value) == (
        "circuit 'r' is half-open and its probe calls are in flight; next probe in 1.5s"
    )

    clock.advance(1.5 + 1e-9)
    await succeed(breaker)  # the second trial closes the circuit
    assert breaker.state is CLOSED
    gate.set()
    assert await trial == "late"  # from the half-open generation: ignored
    assert breaker.counts == Counts(0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"failure_ratio": 1.5}, r"failure_ratio must be in \[0, 1\]; got 1.5"),
        ({"failure_ratio": float("nan")}, "failure_ratio must be in"),
        ({"window": 0.5}, "window must be a whole number of seconds >= 1; got 0.5"),
        ({"window": 2.5}, "window must be a whole number of seconds >= 1; got 2.5"),
        ({"min_observations": -1}, "min_observations must be >= 0; got -1"),
        ({"min_observations": 1.0}, "min_observations must be an int; got 1.0"),
        ({"cooldown": 0}, "cooldown must be a positive number of seconds; got 0"),
    ],
)
def test_bad_settings_are_refused_at_construction(
    settings: dict[str, object], message: str
) -> None:
    """Out-of-range settings raise ValueError naming the setting and the value."""
    with pytest.raises(ValueError, match=message):
        RatioBreaker("bad", **settings)  # type: ignore[arg-type]
