"""Breaker: gobreaker's state machine, Go kit's harness, generations, concurrency (R1, R2, R4)."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.circuitbreaker import (
    Breaker,
    CircuitOpen,
    Counts,
    State,
    TooManyRequests,
    circuit_breaker,
)
from pygokit.endpoint import Endpoint
from pygokit.testing import FakeClock, RecordingEndpoint
from tests.circuitbreaker.harness import Changes, Tragedy, failing_endpoint_harness, settle

CLOSED, OPEN, HALF_OPEN = State.CLOSED, State.OPEN, State.HALF_OPEN
NS = 1e-9


def succeed_and_fail(breaker: Breaker) -> tuple[Endpoint[int, str], Endpoint[int, str]]:
    """Two endpoints behind *breaker*: one always succeeds, one always raises Tragedy."""
    ok = circuit_breaker(breaker)(RecordingEndpoint[int, str](then="ok"))
    bad = circuit_breaker(breaker)(RecordingEndpoint[int, str](then=Tragedy("fail")))
    return ok, bad


async def fail(endpoint: Endpoint[int, str]) -> None:
    """Call *endpoint* and expect the endpoint's own failure to come through."""
    with pytest.raises(Tragedy):
        await endpoint(0)


async def test_go_kit_harness_with_gobreaker_defaults() -> None:
    """R1: Go kit's TestGobreaker: prime 100, failing calls n <= 5 pass, then 10 leak 0."""
    passed = await failing_endpoint_harness(
        circuit_breaker(Breaker("harness", clock=FakeClock())),
        prime_with=100,
        should_pass=lambda n: n <= 5,
    )
    assert passed == 6


async def test_default_breaker_walks_the_whole_state_machine() -> None:
    """R1: gobreaker's TestDefaultCircuitBreaker, with exact counts and time boundaries."""
    clock = FakeClock(1000.0)
    changes = Changes()
    breaker = Breaker("", clock=clock, on_state_change=changes)
    ok, bad = succeed_and_fail(breaker)
    assert breaker.name == ""

    for _ in range(5):
        await fail(bad)
    assert breaker.state is CLOSED
    assert breaker.counts == Counts(5, 0, 5, 0, 5)

    assert await ok(0) == "ok"
    assert breaker.state is CLOSED
    assert breaker.counts == Counts(6, 1, 5, 1, 0)

    await fail(bad)
    assert breaker.state is CLOSED
    assert breaker.counts == Counts(7, 1, 6, 0, 1)

    for i in range(4):
        await fail(bad)
        assert breaker.state is CLOSED
        assert breaker.counts == Counts(8 + i, 1, 7 + i, 0, 2 + i)
    await fail(bad)  # the 6th consecutive failure trips it
    assert breaker.state is OPEN
    assert breaker.counts == Counts(0, 0, 0, 0, 0)
    opened_at = clock()

    with pytest.raises(CircuitOpen) as refused:
        await ok(0)
    assert refused.value.retry_in == 60.0
    with pytest.raises(CircuitOpen):
        await bad(0)
    assert breaker.counts == Counts(0, 0, 0, 0, 0)

    clock.advance(59.0)
    assert breaker.state is OPEN
    clock.advance(1.0 - 0.001)  # timeout - 1ms
    assert breaker.state is OPEN
    clock.advance(opened_at + 60.0 - clock())  # exactly timeout: still open, as gobreaker
    assert clock() == opened_at + 60.0
    assert breaker.state is OPEN

    clock.advance(NS)  # timeout + 1ns
    assert breaker.state is HALF_OPEN

    await fail(bad)  # a failing probe reopens it
    assert breaker.state is OPEN
    assert breaker.counts == Counts(0, 0, 0, 0, 0)

    clock.advance(60.0 + NS)
    assert breaker.state is HALF_OPEN
    assert await ok(0) == "ok"  # a successful probe closes it
    assert breaker.state is CLOSED
    assert breaker.counts == Counts(0, 0, 0, 0, 0)

    assert changes.seen == [
        ("", CLOSED, OPEN),
        ("", OPEN, HALF_OPEN),
        ("", HALF_OPEN, OPEN),
        ("", OPEN, HALF_OPEN),
        ("", HALF_OPEN, CLOSED),
    ]


def failure_ratio_at_least_60_percent(counts: Counts) -> bool:
    """gobreaker's custom ReadyToTrip: 3 or more requests, 60% or more failed."""
    return counts.requests >= 3 and counts.total_failures / counts.requests >= 0.6


def custom_breaker(clock: FakeClock, changes: Changes) -> Breaker:
    """gobreaker's newCustom(): 3 probes, 30 s interval, 90 s timeout, ratio trip."""
    return Breaker(
        "cb",
        max_requests=3,
        interval=30.0,
        timeout=90.0,
        ready_to_trip=failure_ratio_at_least_60_percent,
        on_state_change=changes,
        clock=clock,
    )


async def test_custom_breaker_clears_counts_each_interval_and_needs_max_requests() -> None:
    """R1: gobreaker's TestCustomCircuitBreaker: interval clearing, ratio trip, 3 probes."""
    clock = FakeClock(1000.0)
    changes = Changes()
    breaker = custom_breaker(clock, changes)
    ok, bad = succeed_and_fail(breaker)

    for _ in range(5):
        assert await ok(0) == "ok"
        await fail(bad)
    assert breaker.state is CLOSED
    assert breaker.counts == Counts(10, 5, 5, 0, 1)

    clock.advance(29.0)
    assert await ok(0) == "ok"
    assert breaker.counts == Counts(11, 6, 5, 1, 0)

    clock.advance(1.0 + NS)  # over the interval: counts start again
    await fail(bad)
    assert breaker.state is CLOSED
    assert breaker.counts == Counts(1, 0, 1, 0, 1)

    assert await ok(0) == "ok"
    await fail(bad)  # failure ratio 2/3 >= 0.6
    assert breaker.state is OPEN
    assert breaker.counts == Counts(0, 0, 0, 0, 0)
    assert changes.seen[-1] == ("cb", CLOSED, OPEN)

    clock.advance(90.0 + NS)
    assert breaker.state is HALF_OPEN
    assert changes.seen[-1] == ("cb", OPEN, HALF_OPEN)

    assert await ok(0) == "ok"
    assert await ok(0) == "ok"
    assert breaker.state is HALF_OPEN
    assert breaker.counts == Counts(2, 2, 0, 2, 0)

    gate = asyncio.Event()
    later = asyncio.create_task(
        circuit_breaker(breaker)(RecordingEndpoint[int, str](then="late", gate=gate))(0)
    )
    await asyncio.sleep(0)
    assert breaker.counts == Counts(3, 2, 0, 2, 0)
    with pytest.raises(TooManyRequests):  # over max_requests
        await ok(0)
    gate.set()
    assert await later == "late"  # the third consecutive success closes it
    assert breaker.state is CLOSED
    assert breaker.counts == Counts(0, 0, 0, 0, 0)
    assert changes.seen[-1] == ("cb", HALF_OPEN, CLOSED)


async def test_a_call_straddling_an_interval_is_ignored() -> None:
    """R2: gobreaker's TestGeneration: a call admitted before the counts cleared is not counted."""
    clock = FakeClock(1000.0)
    breaker = custom_breaker(clock, Changes())
    ok, _ = succeed_and_fail(breaker)
    gate = asyncio.Event()
    slow = circuit_breaker(breaker)(RecordingEndpoint[int, str](then="slow", gate=gate))

    clock.advance(29.0)
    assert await ok(0) == "ok"
    assert breaker.counts == Counts(1, 1, 0, 1, 0)

    task = asyncio.create_task(slow(0))
    await asyncio.sleep(0)
    assert breaker.counts == Counts(2, 1, 0, 1, 0)

    clock.advance(1.0 + NS)  # over the interval
    assert breaker.state is CLOSED
    assert breaker.counts == Counts(0, 0, 0, 0, 0)

    gate.set()
    assert await task == "slow"
    assert breaker.counts == Counts(0, 0, 0, 0, 0)


async def test_a_late_result_from_before_a_state_change_is_ignored() -> None:
    """R2: a call admitted while closed that ends after the circuit opened changes nothing."""
    clock = FakeClock()
    breaker = Breaker("gen", clock=clock)
    _, bad = succeed_and_fail(breaker)
    gate = asyncio.Event()
    slow_ok = asyncio.create_task(
        circuit_breaker(breaker)(RecordingEndpoint[int, str](then="ok", gate=gate))(0)
    )
    slow_bad = asyncio.create_task(
        circuit_breaker(breaker)(RecordingEndpoint[int, str](then=Tragedy("x"), gate=gate))(0)
    )
    await asyncio.sleep(0)
    for _ in range(6):
        await fail(bad)
    assert breaker.state is OPEN

    clock.advance(60.0 + NS)
    assert breaker.state is HALF_OPEN
    gate.set()
    assert await slow_ok == "ok"  # would close a half-open breaker if it counted
    with pytest.raises(Tragedy):  # would reopen it if it counted
        await slow_bad
    assert breaker.state is HALF_OPEN
    assert breaker.counts == Counts(0, 0, 0, 0, 0)


async def test_a_late_result_after_the_circuit_closed_again_is_ignored() -> None:
    """R2: a call from an old closed period that ends in a new closed period changes nothing."""
    clock = FakeClock()
    breaker = Breaker("gen", clock=clock)
    ok, bad = succeed_and_fail(breaker)
    gate = asyncio.Event()
    slow = asyncio.create_task(
        circuit_breaker(breaker)(RecordingEndpoint[int, str](then="ok", gate=gate))(0)
    )
    await asyncio.sleep(0)
    for _ in range(6):
        await fail(bad)
    clock.advance(60.0 + NS)
    assert await ok(0) == "ok"
    assert breaker.state is CLOSED
    gate.set()
    assert await slow == "ok"
    assert breaker.counts == Counts(0, 0, 0, 0, 0)


async def test_counting_is_exact_under_concurrent_tasks() -> None:
    """R2: 10 tasks x 10,000 calls through one breaker are all counted, exactly."""
    breaker = Breaker("parallel", ready_to_trip=lambda counts: False, clock=FakeClock())

    async def flaky(request: int) -> int:
        if request % 97 == 0:
            await asyncio.sleep(0)  # interleave the tasks
        if request % 2:
            raise Tragedy("odd")
        return request

    guarded = circuit_breaker(breaker)(flaky)

    async def worker(offset: int) -> int:
        failures = 0
        for i in range(10_000):
            try:
                await guarded(offset + i)
            except Tragedy:
                failures += 1
        return failures

    failures = await asyncio.gather(*(worker(k * 10_000) for k in range(10)))
    assert sum(failures) == 50_000
    counts = breaker.counts
    assert counts.requests == 100_000
    assert counts.total_successes == 50_000
    assert counts.total_failures == 50_000


async def test_half_open_admits_exactly_max_requests_and_a_cancelled_probe_frees_its_slot() -> None:
    """R4: of 100 concurrent calls at half-open, max_requests=4 admits 4; a cancel frees one."""
    clock = FakeClock()
    breaker = Breaker("r4", max_requests=4, timeout=10.0, clock=clock)
    _, bad = succeed_and_fail(breaker)
    for _ in range(6):
        await fail(bad)
    clock.advance(10.0 + NS)
    assert breaker.state is HALF_OPEN

    gate = asyncio.Event()
    probe = RecordingEndpoint[int, str](then="ok", gate=gate)
    guarded = circuit_breaker(breaker)(probe)
    tasks = [asyncio.create_task(guarded(i)) for i in range(100)]
    await settle(tasks, done=96)

    admitted = [task for task in tasks if not task.done()]
    rejected = [task for task in tasks if task.done()]
    assert len(admitted) == 4
    assert probe.calls == 4
    assert probe.in_flight == 4
    assert all(isinstance(task.exception(), TooManyRequests) for task in rejected)
    assert breaker.counts.requests == 4

    admitted[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await admitted[0]
    assert breaker.counts == Counts(3, 0, 0, 0, 0)
    assert breaker.state is HALF_OPEN

    replacement = asyncio.create_task(guarded(100))
    await probe.wait_for_calls(5)
    with pytest.raises(TooManyRequests):
        await guarded(101)

    gate.set()
    assert await asyncio.gather(*admitted[1:], replacement) == ["ok"] * 4
    assert breaker.state is CLOSED


async def test_counts_are_cleared_only_after_the_interval_has_passed() -> None:
    """At exactly `interval` the counts stand; just after, the next call starts afresh."""
    clock = FakeClock(5.0)
    breaker = Breaker("iv", interval=10.0, clock=clock)
    ok, bad = succeed_and_fail(breaker)
    await fail(bad)
    clock.advance(10.0)
    assert await ok(0) == "ok"
    assert breaker.counts == Counts(2, 1, 1, 1, 0)
    clock.advance(10.0 + NS)  # the last clearing was at 5.0, so 15.0 < now
    assert await ok(0) == "ok"
    assert breaker.counts == Counts(1, 1, 0, 1, 0)


async def test_reading_state_moves_an_expired_open_breaker_to_half_open_once() -> None:
    """Reading state after the timeout reports HALF_OPEN and fires the callback exactly once."""
    clock = FakeClock()
    changes = Changes()
    breaker = Breaker("s", timeout=5.0, on_state_change=changes, clock=clock)
    _, bad = succeed_and_fail(breaker)
    for _ in range(6):
        await fail(bad)
    clock.advance(6.0)
    assert repr(breaker) == "Breaker(name='s', state=half-open)"  # repr changes nothing
    assert changes.seen == [("s", CLOSED, OPEN)]
    assert breaker.state is HALF_OPEN
    assert breaker.state is HALF_OPEN
    assert changes.seen == [("s", CLOSED, OPEN), ("s", OPEN, HALF_OPEN)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_requests": 0}, "max_requests must be an integer >= 1; got 0"),
        ({"max_requests": True}, "max_requests must be an integer >= 1; got True"),
        ({"interval": -1.0}, "interval must be a positive number of seconds; got -1.0"),
        ({"timeout": 0.0}, "timeout must be a positive number of seconds; got 0.0"),
        ({"timeout": float("inf")}, "timeout must be a positive number of seconds; got inf"),
    ],
)
def test_bad_settings_are_refused_at_construction(kwargs: dict[str, float], message: str) -> None:
    """Out-of-range settings raise ValueError naming the setting and the value."""
    with pytest.raises(ValueError, match=message):
        Breaker("bad", **kwargs)  # type: ignore[arg-type]


def test_a_name_must_be_a_string() -> None:
    """A breaker's name is a str; anything else is a TypeError."""
    with pytest.raises(TypeError, match="name must be a str; got int"):
        Breaker(42)  # type: ignore[arg-type]
