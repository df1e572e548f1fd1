"""SlidingWindowBreaker: Resilience4j's rate-based breaker (R3, R4)."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.circuitbreaker import (
    CircuitOpen,
    Counts,
    SlidingWindowBreaker,
    State,
    TooManyRequests,
    WindowType,
    circuit_breaker,
)
from pygokit.endpoint import Endpoint
from pygokit.testing import FakeClock, RecordingEndpoint
from tests.circuitbreaker.harness import Changes, Tragedy, failing_endpoint_harness, settle

CLOSED, OPEN, HALF_OPEN = State.CLOSED, State.OPEN, State.HALF_OPEN
OK, FAIL = "ok", "fail"


async def call(
    breaker: SlidingWindowBreaker,
    outcome: str,
    *,
    clock: FakeClock | None = None,
    took: float = 0.0,
) -> None:
    """One call through the middleware that ends in *outcome* after *took* seconds of *clock*."""

    async def endpoint(request: int) -> str:
        if clock is not None:
            clock.advance(took)
        if outcome == FAIL:
            raise Tragedy("fail")
        return OK

    if outcome == FAIL:
        with pytest.raises(Tragedy):
            await circuit_breaker(breaker)(endpoint)(0)
    else:
        assert await circuit_breaker(breaker)(endpoint)(0) == OK


def sliding(clock: FakeClock, **settings: object) -> SlidingWindowBreaker:
    """A SlidingWindowBreaker named 'r4j' on *clock*."""
    return SlidingWindowBreaker("r4j", clock=clock, **settings)  # type: ignore[arg-type]


async def test_go_kit_harness_with_resilience4j_defaults() -> None:
    """R1 adapted: prime 100 (the window), failures pass until 50% fail, then 10 calls leak 0."""
    passed = await failing_endpoint_harness(
        circuit_breaker(SlidingWindowBreaker("harness", clock=FakeClock())),
        prime_with=100,
        should_pass=lambda n: n * 100 < 50 * 100,
    )
    assert passed == 50


async def test_three_failures_of_five_open_a_count_window_at_sixty_percent() -> None:
    """R3: count window 5, threshold 50%: the rate is not computed until 5 calls, then 60% opens."""
    changes = Changes()
    breaker = sliding(
        FakeClock(), window_size=5, minimum_number_of_calls=5, on_state_change=changes
    )
    table = [
        (FAIL, None, CLOSED),
        (OK, None, CLOSED),
        (FAIL, None, CLOSED),
        (OK, None, CLOSED),
        (FAIL, 60.0, OPEN),
    ]
    for outcome, rate, state in table:
        await call(breaker, outcome)
        assert (breaker.failure_rate, breaker.state) == (rate, state)
    assert breaker.buffered_calls == 5
    assert changes.seen == [("r4j", CLOSED, OPEN)]


async def test_a_count_window_forgets_the_oldest_call() -> None:
    """R3: once full, each call pushes the oldest out; the rate follows the last N calls."""
    breaker = sliding(
        FakeClock(), window_size=4, minimum_number_of_calls=2, failure_rate_threshold=100.0
    )
    table = [
        (OK, None),
        (FAIL, 50.0),
        (OK, 100 / 3),
        (OK, 25.0),
        (OK, 25.0),  # the first OK leaves
        (OK, 0.0),  # the FAIL leaves
        (FAIL, 25.0),
    ]
    for outcome, rate in table:
        await call(breaker, outcome)
        assert breaker.failure_rate == pytest.approx(rate)
        assert breaker.state is CLOSED
    assert breaker.buffered_calls == 4


async def test_a_minimum_above_the_count_window_is_capped_at_its_size() -> None:
    """For a count window, minimum_number_of_calls larger than the window means the window."""
    breaker = sliding(FakeClock(), window_size=3, minimum_number_of_calls=100)
    await call(breaker, OK)
    await call(breaker, OK)
    assert breaker.failure_rate is None
    await call(breaker, FAIL)
    assert breaker.failure_rate == pytest.approx(100 / 3)


async def test_a_time_window_evicts_whole_seconds_as_the_clock_advances() -> None:
    """R3: a 3-second window in 1-second buckets; the rate after each step matches the table."""
    clock = FakeClock(100.0)
    breaker = sliding(
        clock,
        window_type=WindowType.TIME,
        window_size=3,
        minimum_number_of_calls=2,
        failure_rate_threshold=100.0,
    )
    # (time, the call's outcome or None to only look, failure rate, calls in the window)
    table: list[tuple[float, str | None, float | None, int]] = [
        (100.0, FAIL, None, 1),  # second 100: F; below the minimum
        (100.5, OK, 50.0, 2),  # second 100: F O
        (101.0, OK, 100 / 3, 3),  # F O | O
        (102.0, FAIL, 50.0, 4),  # F O | O | F
        (102.9, None, 50.0, 4),  # still seconds 100-102
        (103.0, None, 50.0, 2),  # second 100 leaves: O | F
        (103.0, OK, 100 / 3, 3),  # O | F | O
        (104.0, None, 50.0, 2),  # second 101 leaves: F | O
        (105.0, None, None, 1),  # second 102 leaves: O
        (106.0, None, None, 0),  # second 103 leaves
        (206.0, FAIL, None, 1),  # a long quiet spell later, a fresh start
    ]
    for when, outcome, rate, buffered in table:
        clock.advance(when - clock())
        if outcome is not None:
            await call(breaker, outcome)
        assert breaker.buffered_calls == buffered, when
        assert breaker.failure_rate == (None if rate is None else pytest.approx(rate)), when
        assert breaker.state is CLOSED


async def test_slow_calls_open_the_circuit_at_the_slow_call_rate() -> None:
    """Calls slower than the duration threshold (on the injected clock) trip the slow-call rate."""
    clock = FakeClock()
    breaker = sliding(
        clock,
        window_size=4,
        minimum_number_of_calls=4,
        slow_call_duration_threshold=2.0,
        slow_call_rate_threshold=50.0,
    )
    await call(breaker, OK, clock=clock, took=2.0)  # exactly the threshold is not slow
    await call(breaker, OK, clock=clock, took=3.0)
    await call(breaker, OK, clock=clock, took=0.1)
    assert (breaker.slow_call_rate, breaker.failure_rate) == (None, None)
    await call(breaker, FAIL, clock=clock, took=5.0)  # slow and failed: counts in both rates
    assert breaker.state is OPEN
    assert breaker.slow_call_rate == 50.0
    assert breaker.failure_rate == 25.0


@pytest.mark.parametrize(
    ("probes", "state"),
    [
        ([OK, OK, OK, FAIL], CLOSED),  # 25% < 50%
        ([OK, FAIL, OK, FAIL], OPEN),  # 50% >= 50%
        ([FAIL, FAIL, FAIL, FAIL], OPEN),
    ],
)
async def test_the_probes_rates_decide_once_all_have_ended(probes: list[str], state: State) -> None:
    """Half-open lets 4 probes through; after the 4th, their failure rate closes or reopens."""
    clock = FakeClock()
    breaker = sliding(
        clock,
        window_size=2,
        minimum_number_of_calls=2,
        wait_duration_in_open_state=30.0,
        permitted_number_of_calls_in_half_open_state=4,
    )
    await call(breaker, FAIL)
    await call(breaker, FAIL)
    assert breaker.state is OPEN
    with pytest.raises(CircuitOpen) as info:
        await call(breaker, OK)
    assert info.value.retry_in == 30.0
    clock.advance(30.0)
    assert breaker.state is OPEN
    clock.advance(1e-9)
    assert breaker.state is HALF_OPEN
    assert breaker.failure_rate is None

    for probe in probes[:-1]:
        await call(breaker, probe)
        assert breaker.state is HALF_OPEN
    await call(breaker, probes[-1])
    assert breaker.state is state


async def test_half_open_admits_exactly_four_of_a_hundred_and_a_cancelled_probe_frees_one() -> None:
    """R4: at half-open with 4 permitted calls, 100 concurrent tasks run exactly 4 probes."""
    clock = FakeClock()
    breaker = sliding(
        clock,
        window_size=5,
        minimum_number_of_calls=5,
        permitted_number_of_calls_in_half_open_state=4,
    )
    for _ in range(5):
        await call(breaker, FAIL)
    clock.advance(61.0)

    gate = asyncio.Event()
    probe = RecordingEndpoint[int, str](then="ok", gate=gate)
    guarded: Endpoint[int, str] = circuit_breaker(breaker)(probe)
    tasks = [asyncio.create_task(guarded(i)) for i in range(100)]
    await settle(tasks, done=96)
    admitted = [task for task in tasks if not task.done()]
    assert len(admitted) == 4
    assert probe.in_flight == 4
    assert all(isinstance(t.exception(), TooManyRequests) for t in tasks if t.done())

    admitted[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await admitted[0]
    assert breaker.state is HALF_OPEN
    assert breaker.counts == Counts(3, 0, 0, 0, 0)
    replacement = asyncio.create_task(guarded(100))
    await probe.wait_for_calls(5)
    with pytest.raises(TooManyRequests):
        await guarded(101)

    gate.set()
    assert await asyncio.gather(*admitted[1:], replacement) == ["ok"] * 4
    assert breaker.state is CLOSED
    assert breaker.failure_rate is None  # a fresh, empty window


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"window_size": 0}, "window_size must be an integer >= 1"),
        ({"minimum_number_of_calls": 0}, "minimum_number_of_calls must be an integer >= 1"),
        ({"failure_rate_threshold": 0.0}, r"failure_rate_threshold must be a percentage in \(0"),
        ({"slow_call_rate_threshold": 101.0}, "slow_call_rate_threshold must be a percentage"),
        ({"slow_call_duration_threshold": -1.0}, "slow_call_duration_threshold must be a pos"),
        ({"wait_duration_in_open_state": 0}, "wait_duration_in_open_state must be a positive"),
        ({"permitted_number_of_calls_in_half_open_state": 0}, "permitted_number_of_calls_in_"),
        ({"window_type": "count"}, "window_type must be a WindowType; got 'count'"),
    ],
)
def test_bad_settings_are_refused_at_construction(
    settings: dict[str, object], message: str
) -> None:
    """Out-of-range settings raise ValueError naming the setting."""
    with pytest.raises(ValueError, match=message):
        SlidingWindowBreaker("bad", **settings)  # type: ignore[arg-type]
