"""HystrixBreaker and the hystrix middleware: trip rule, timeout, concurrency limit, fallback."""

from __future__ import annotations

import asyncio
import contextlib
import pickle
from collections.abc import Iterator

import pytest

from pygokit.circuitbreaker import (
    CallTimedOut,
    CircuitOpen,
    ConcurrencyLimitReached,
    Counts,
    HystrixBreaker,
    State,
    TooManyRequests,
    circuit_breaker,
    hystrix,
)
from pygokit.endpoint import Endpoint
from pygokit.testing import FakeClock, RecordingEndpoint
from tests.circuitbreaker.harness import Tragedy, failing_endpoint_harness

CLOSED, OPEN, HALF_OPEN = State.CLOSED, State.OPEN, State.HALF_OPEN


@contextlib.contextmanager
def loop_time(clock: FakeClock) -> Iterator[None]:
    """Run the event loop's timers (asyncio.timeout) on *clock* instead of real time."""
    loop = asyncio.get_running_loop()
    setattr(loop, "time", clock)  # noqa: B010  # an instance attribute shadows the method
    try:
        yield
    finally:
        delattr(loop, "time")


async def succeed(breaker: HystrixBreaker) -> None:
    """One successful call through the hystrix middleware."""
    assert await hystrix(breaker)(RecordingEndpoint[int, str](then="ok"))(0) == "ok"


async def fail(breaker: HystrixBreaker) -> None:
    """One failing call through the hystrix middleware."""
    with pytest.raises(Tragedy):
        await hystrix(breaker)(RecordingEndpoint[int, str](then=Tragedy("x")))(0)


@pytest.mark.parametrize("middleware", [hystrix, circuit_breaker])
async def test_go_kit_harness_with_hystrix_defaults(middleware: object) -> None:
    """R1 adapted: Go kit's Hystrix test: prime 2x the volume threshold, 5% errors, leak 0."""
    breaker = HystrixBreaker("harness", error_threshold_percentage=5, clock=FakeClock())
    prime_with = 2 * 20  # 2 x hystrix's DefaultVolumeThreshold
    passed = await failing_endpoint_harness(
        hystrix(breaker) if middleware is hystrix else circuit_breaker(breaker),
        prime_with=prime_with,
        should_pass=lambda n: n * 100 < 5 * (prime_with + n),
    )
    assert passed == 3  # 3 of 43 is the first share at or above 5%


async def test_it_needs_the_request_volume_before_it_trips() -> None:
    """Nineteen failures in the window stay closed; the twentieth opens the circuit."""
    breaker = HystrixBreaker("h", clock=FakeClock())
    for _ in range(19):
        await fail(breaker)
    assert breaker.state is CLOSED
    assert breaker.error_percentage == 100.0
    await fail(breaker)
    assert breaker.state is OPEN


async def test_it_trips_at_exactly_the_error_threshold_checked_after_every_outcome() -> None:
    """50% errors over 20 calls trips it, even when the 20th call is a success."""
    breaker = HystrixBreaker("h", clock=FakeClock())
    for _ in range(10):
        await fail(breaker)
    for _ in range(9):
        await succeed(breaker)
    assert breaker.state is CLOSED
    await succeed(breaker)
    assert breaker.state is OPEN


async def test_old_buckets_leave_the_rolling_window() -> None:
    """A 10 s window in 10 buckets forgets a bucket once 10 s have passed since it began."""
    clock = FakeClock()
    breaker = HystrixBreaker("h", clock=clock)
    for _ in range(15):
        await fail(breaker)
    clock.advance(9.5)
    assert breaker.error_percentage == 100.0
    await succeed(breaker)
    clock.advance(0.5)  # t=10: bucket [0, 1) leaves
    assert breaker.error_percentage == 0.0
    for _ in range(5):
        await fail(breaker)
    assert breaker.state is CLOSED
    assert breaker.error_percentage == pytest.approx(500 / 6)


async def test_a_timeout_cancels_the_call_and_counts_as_a_failure() -> None:
    """Past `timeout` the call is cancelled and counted as a failure; no task is left behind."""
    clock = FakeClock()
    breaker = HystrixBreaker("slow", timeout=1.0, clock=clock, is_failure=lambda e: False)
    seen: list[str] = []
    started = asyncio.Event()

    async def hangs(request: int) -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return "never"

    baseline = asyncio.all_tasks()
    with loop_time(clock):
        task = asyncio.create_task(hystrix(breaker)(hangs)(0))
        await started.wait()
        clock.advance(0.999)
        await asyncio.sleep(0)
        assert not task.done()
        clock.advance(0.001)
        with pytest.raises(CallTimedOut) as info:
            await task
    assert seen == ["cancelled"]
    assert isinstance(info.value.__cause__, TimeoutError)
    assert isinstance(info.value, TimeoutError)
    assert str(info.value) == (
        "call through circuit 'slow' took longer than 1s and was cancelled;"
        " the endpoint is slow or the timeout too short"
    )
    assert (info.value.name, info.value.timeout) == ("slow", 1.0)
    assert breaker.counts == Counts(1, 0, 1, 0, 1)  # counted although is_failure says no
    assert breaker.in_flight == 0
    assert asyncio.all_tasks() == baseline


async def test_the_endpoints_own_timeout_error_is_not_a_breaker_timeout() -> None:
    """A TimeoutError the endpoint raises itself propagates as it is (and counts as a failure)."""
    breaker = HystrixBreaker("h", clock=FakeClock())
    own = TimeoutError("database")
    with pytest.raises(TimeoutError) as info:
        await hystrix(breaker)(RecordingEndpoint[int, str](then=own))(0)
    assert info.value is own
    assert breaker.counts.total_failures == 1


async def test_without_a_timeout_calls_run_as_long_as_they_take() -> None:
    """timeout=None applies no deadline."""
    clock = FakeClock()
    breaker = HystrixBreaker("h", timeout=None, clock=clock)
    assert breaker.timeout is None

    async def slow(request: int) -> str:
        await asyncio.sleep(0)
        return "done"

    with loop_time(clock):
        clock.advance(3600.0)
        assert await hystrix(breaker)(slow)(0) == "done"


async def test_calls_beyond_the_concurrency_limit_are_refused_and_not_counted() -> None:
    """With max_concurrent_requests=2 a third call in flight is refused; nothing is counted."""
    breaker = HystrixBreaker("h", max_concurrent_requests=2, clock=FakeClock())
    gate = asyncio.Event()
    held = RecordingEndpoint[int, str](then="ok", gate=gate)
    guarded = hystrix(breaker)(held)
    first = asyncio.create_task(guarded(1))
    second = asyncio.create_task(guarded(2))
    await held.wait_for_calls(2)
    assert breaker.in_flight == 2

    with pytest.raises(ConcurrencyLimitReached) as info:
        await guarded(3)
    assert str(info.value) == (
        "circuit 'h' already has 2 calls in flight, its limit;"
        " retry later or raise max_concurrent_requests"
    )
    assert (info.value.name, info.value.limit) == ("h", 2)
    assert breaker.counts == Counts(2, 0, 0, 0, 0)
    assert held.calls == 2

    gate.set()
    assert [await first, await second] == ["ok", "ok"]
    assert breaker.in_flight == 0
    assert await guarded(4) == "ok"
    assert breaker.counts == Counts(3, 3, 0, 3, 0)


async def test_a_replacement_trial_refused_for_concurrency_gives_its_slot_back() -> None:
    """A trial admitted and then refused by the concurrency limit leaves the trial slot free."""
    clock = FakeClock()
    breaker = HystrixBreaker(
        "h", request_volume_threshold=1, max_concurrent_requests=2, clock=clock
    )
    old = breaker.allow()  # still in flight from the closed state
    breaker.on_error(breaker.allow(), Tragedy("x"))
    assert breaker.state is OPEN
    clock.advance(5.5)
    trial = breaker.allow()
    clock.advance(5.5)  # the trial is hung: a replacement may go, but the limit is reached
    with pytest.raises(ConcurrencyLimitReached):
        breaker.allow()
    assert breaker.counts.requests == 1
    breaker.on_success(trial)
    assert breaker.state is CLOSED
    breaker.on_success(old)  # from an old generation: ignored
    assert breaker.counts == Counts(0, 0, 0, 0, 0)
    assert breaker.in_flight == 0


async def test_cancelled_calls_free_their_slots_and_are_not_counted() -> None:
    """Cancelling a caller under the hystrix middleware counts nothing and frees the slot."""
    clock = FakeClock()
    breaker = HystrixBreaker("h", max_concurrent_requests=1, clock=clock)
    held = RecordingEndpoint[int, str](then="ok", gate=asyncio.Event())
    with loop_time(clock):
        task = asyncio.create_task(hystrix(breaker)(held)(0))
        await held.wait_for_calls(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert breaker.in_flight == 0
    assert breaker.counts == Counts(0, 0, 0, 0, 0)
    await succeed(breaker)


async def test_a_cancelled_trial_does_not_leave_the_circuit_stuck_half_open() -> None:
    """R4: Hystrix's testUnsubscriptionDoesNotLeaveCircuitStuckHalfOpen, without sleeping."""
    clock = FakeClock()
    breaker = HystrixBreaker("h", request_volume_threshold=1, clock=clock)
    await fail(breaker)
    clock.advance(5.0 + 1e-9)
    held = RecordingEndpoint[int, str](then="ok", gate=asyncio.Event())
    with loop_time(clock):
        trial = asyncio.create_task(hystrix(breaker)(held)(0))
        await held.wait_for_calls(1)
        with pytest.raises(TooManyRequests):
            await succeed(breaker)
        trial.cancel()
        with pytest.raises(asyncio.CancelledError):
            await trial
    assert breaker.state is HALF_OPEN
    await succeed(breaker)
    assert breaker.state is CLOSED


async def test_the_fallback_answers_for_refusals_failures_and_timeouts() -> None:
    """The fallback answers for open circuits, failures, timeouts and the concurrency limit."""
    clock = FakeClock()
    breaker = HystrixBreaker(
        "h", request_volume_threshold=2, timeout=1.0, max_concurrent_requests=1, clock=clock
    )
    errors: list[Exception] = []

    async def fallback(error: Exception) -> str:
        errors.append(error)
        return "fallback"

    gate = asyncio.Event()
    held = RecordingEndpoint[int, str](then="ok", gate=gate)
    with loop_time(clock):
        slow = asyncio.create_task(hystrix(breaker, fallback=fallback)(held)(0))
        await held.wait_for_calls(1)
        busy: Endpoint[int, str] = hystrix(breaker, fallback=fallback)(held)
        assert await busy(1) == "fallback"  # the concurrency limit
        clock.advance(1.0)
        assert await slow == "fallback"  # the timeout
    failing = hystrix(breaker, fallback=fallback)(RecordingEndpoint[int, str](then=Tragedy("x")))
    assert await failing(2) == "fallback"  # a failure, which opens the circuit
    assert breaker.state is OPEN
    assert await failing(3) == "fallback"  # the open circuit

    assert [type(e) for e in errors] == [
        ConcurrencyLimitReached,
        CallTimedOut,
        Tragedy,
        CircuitOpen,
    ]
    assert held.calls == 1


async def test_excluded_errors_and_fallback_errors_propagate() -> None:
    """An error is_failure excludes skips the fallback; an error the fallback raises propagates."""
    breaker = HystrixBreaker(
        "h", is_failure=lambda e: not isinstance(e, KeyError), clock=FakeClock()
    )

    async def fallback(error: Exception) -> str:
        raise LookupError("no fallback either") from error

    missing = KeyError("bad request")
    with pytest.raises(KeyError) as excluded:
        await hystrix(breaker, fallback=fallback)(RecordingEndpoint[int, str](then=missing))(0)
    assert excluded.value is missing
    with pytest.raises(LookupError, match="no fallback either"):
        await hystrix(breaker, fallback=fallback)(RecordingEndpoint[int, str](then=Tragedy("x")))(0)
    assert breaker.counts == Counts(1, 0, 1, 0, 1)


def test_hystrix_errors_survive_pickling() -> None:
    """CallTimedOut and ConcurrencyLimitReached pickle with their attributes."""
    for error in (CallTimedOut("h", 0.5), ConcurrencyLimitReached("h", 10)):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"rolling_window": 0}, "rolling_window must be a positive number of seconds"),
        ({"buckets": 0}, "buckets must be an integer >= 1"),
        ({"request_volume_threshold": 0}, "request_volume_threshold must be an integer >= 1"),
        ({"error_threshold_percentage": 0}, "error_threshold_percentage must be a percentage"),
        ({"sleep_window": -5}, "sleep_window must be a positive number of seconds"),
        ({"timeout": 0}, "timeout must be a positive number of seconds"),
        ({"max_concurrent_requests": 0}, "max_concurrent_requests must be an integer >= 1"),
    ],
)
def test_bad_settings_are_refused_at_construction(
    settings: dict[str, object], message: str
) -> None:
    """Out-of-range settings raise ValueError naming the setting."""
    with pytest.raises(ValueError, match=message):
        HystrixBreaker("bad", **settings)  # type: ignore[arg-type]


def test_no_concurrency_limit_when_none() -> None:
    """max_concurrent_requests=None admits any number of calls at once."""
    breaker = HystrixBreaker("h", max_concurrent_requests=None, clock=FakeClock())
    tickets = [breaker.allow() for _ in range(1000)]
    assert breaker.in_flight == 1000
    for ticket in tickets:
        breaker.release(ticket)
    assert breaker.in_flight == 0
