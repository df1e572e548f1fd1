"""The retry loop and middleware: attempts, deadline, backoff, cancellation (R8).

Time is a `FakeClock`. With ``auto_advance=True`` every backoff sleep moves the clock
at once, so a test reads how long the retries took from ``clock()``.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygokit.retry import (
    Constant,
    Exponential,
    RetriesExhausted,
    RetryPolicy,
    retry,
    retry_calls,
)
from pygokit.testing import FakeClock, RecordingEndpoint

# Exercise both code paths of the middleware: the plain one (no deadline, no budget)
# and the general one (a deadline far away).
TIMEOUTS = pytest.mark.parametrize("deadline", [None, 1000.0], ids=["plain", "deadline"])


class Sleeps:
    """A fake clock's sleep that notes every wait it is asked for."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        """Note *seconds*, then sleep on the fake clock."""
        self.waits.append(seconds)
        await self.clock.sleep(seconds)


def down(n: int) -> ConnectionError:
    """The error of the n-th failing attempt."""
    return ConnectionError(f"down {n}")


@TIMEOUTS
async def test_a_success_is_never_retried(deadline: float | None) -> None:
    """A response returns at once: one call, no sleep."""
    clock = FakeClock(auto_advance=True)
    upstream = RecordingEndpoint[str, str]("ok")
    endpoint = retry(timeout=deadline, clock=clock, sleep=clock.sleep)(upstream)

    assert await endpoint("req") == "ok"
    assert upstream.requests == ["req"]
    assert clock() == 0


@dataclass
class Reply:
    """A response carrying a business error, as Go kit's Failer."""

    err: Exception | None

    def failed(self) -> Exception | None:
        """Report the business error."""
        return self.err


async def test_a_failer_business_error_is_a_success() -> None:
    """A response whose failed() reports an error is returned as is, not retried."""
    reply = Reply(ValueError("insufficient funds"))
    upstream = RecordingEndpoint[str, Reply](reply)

    assert await retry()(upstream)("pay") is reply
    assert upstream.calls == 1


@TIMEOUTS
async def test_attempts_stop_at_max_attempts(deadline: float | None) -> None:
    """R8: an always-failing call is tried max_attempts times, then RetriesExhausted."""
    clock = FakeClock(auto_advance=True)
    errors = [down(n) for n in range(1, 4)]
    upstream = RecordingEndpoint[str, str](*errors, then="late")
    endpoint = retry(max_attempts=3, timeout=deadline, clock=clock, sleep=clock.sleep)(upstream)

    with pytest.raises(RetriesExhausted) as caught:
        await endpoint("req")

    assert upstream.calls == 3
    assert caught.value.attempts == tuple(errors)
    assert caught.value.final is errors[-1]
    assert caught.value.__cause__ is errors[-1]
    assert not caught.value.deadline_exceeded
    assert not caught.value.budget_exhausted


@TIMEOUTS
async def test_success_on_the_last_attempt_is_returned(deadline: float | None) -> None:
    """R8: two failures then a response: the caller gets the response."""
    clock = FakeClock(auto_advance=True)
    upstream = RecordingEndpoint[str, str](down(1), down(2), "ok")
    endpoint = retry(max_attempts=3, timeout=deadline, clock=clock, sleep=clock.sleep)(upstream)

    assert await endpoint("req") == "ok"
    assert upstream.requests == ["req", "req", "req"]


async def test_one_attempt_means_no_retry() -> None:
    """max_attempts=1 calls once and reports the failure as 1 attempt."""
    upstream = RecordingEndpoint[str, str](down(1))

    with pytest.raises(RetriesExhausted, match=r"^gave up after 1 attempt: "):
        await retry(max_attempts=1)(upstream)("req")
    assert upstream.calls == 1


@TIMEOUTS
async def test_should_retry_false_raises_the_error_unchanged(deadline: float | None) -> None:
    """An error should_retry rejects stops at once and reaches the caller as the same object."""
    seen: list[tuple[int, Exception]] = []
    invalid = ValueError("bad request")

    def transient(attempt: int, exc: Exception) -> bool:
        seen.append((attempt, exc))
        return isinstance(exc, ConnectionError)

    first = down(1)
    upstream = RecordingEndpoint[str, str](first, invalid, then="ok")
    clock = FakeClock(auto_advance=True)
    endpoint = retry(timeout=deadline, should_retry=transient, clock=clock, sleep=clock.sleep)(
        upstream
    )

    with pytest.raises(ValueError, match="bad request") as caught:
        await endpoint("req")

    assert caught.value is invalid
    assert upstream.calls == 2
    assert seen == [(1, first), (2, invalid)]


@TIMEOUTS
async def test_backoff_delays_are_slept_between_attempts(deadline: float | None) -> None:
    """The loop sleeps backoff.delay(1), delay(2), ... between attempts, and only there."""
    clock = FakeClock(auto_advance=True)
    sleeps = Sleeps(clock)
    upstream = RecordingEndpoint[str, str](down(1), down(2), down(3), "ok")
    backoff = Exponential(initial=1.0, multiplier=2.0, maximum=10.0, jitter=0)
    endpoint = retry(max_attempts=4, timeout=deadline, backoff=backoff, clock=clock, sleep=sleeps)(
        upstream
    )

    assert await endpoint("req") == "ok"
    assert sleeps.waits == [1.0, 2.0, 4.0]
    assert clock() == 7.0


async def test_zero_backoff_retries_without_sleeping() -> None:
    """Constant(0) retries at once, as Go kit's lb.Retry: sleep is never called."""
    clock = FakeClock(auto_advance=True)
    sleeps = Sleeps(clock)
    upstream = RecordingEndpoint[str, str](down(1), "ok")

    assert await retry(backoff=Constant(0), sleep=sleeps)(upstream)("req") == "ok"
    assert sleeps.waits == []


async def test_the_default_backoff_is_exponential_with_jitter() -> None:
    """Without a backoff, waits follow Exponential(): 0.1 s, then 0.2 s, each +/-20 %."""
    clock = FakeClock(auto_advance=True)
    sleeps = Sleeps(clock)
    upstream = RecordingEndpoint[str, str](down(1), down(2), "ok")

    await retry(sleep=sleeps)(upstream)("req")

    first, second = sleeps.waits
    assert 0.08 <= first <= 0.12
    assert 0.16 <= second <= 0.24


async def test_deadline_smaller_than_the_retries_cuts_them_short() -> None:
    """R8: a 1 s deadline with 0.4 s backoffs allows 3 of 5 attempts, then deadline_exceeded."""
    clock = FakeClock(auto_advance=True)
    sleeps = Sleeps(clock)
    upstream = RecordingEndpoint[str, str](then=ConnectionError("down"))
    endpoint = retry(max_attempts=5, timeout=1.0, backoff=Constant(0.4), clock=clock, sleep=sleeps)(
        upstream
    )

    with pytest.raises(RetriesExhausted, match=r"after 3 attempts \(deadline exceeded\)") as caught:
        await endpoint("req")

    assert caught.value.deadline_exceeded
    assert len(caught.value.attempts) == upstream.calls == 3
    assert sleeps.waits == [0.4, 0.4]
    assert clock() == pytest.approx(0.8)


@given(
    seconds=st.floats(min_value=0.01, max_value=60.0),
    initial=st.floats(min_value=0.001, max_value=10.0),
    multiplier=st.floats(min_value=1.0, max_value=3.0),
    max_attempts=st.integers(min_value=1, max_value=30),
)
async def test_total_fake_time_never_exceeds_the_deadline(
    seconds: float, initial: float, multiplier: float, max_attempts: int
) -> None:
    """R8: retries never sleep past the deadline, and stop only when the next wait would."""
    clock = FakeClock(start=100.0, auto_advance=True)
    backoff = Exponential(initial, multiplier, initial * 100, jitter=0)
    upstream = RecordingEndpoint[int, int](then=ConnectionError("down"))
    endpoint = retry(
        max_attempts=max_attempts, timeout=seconds, backoff=backoff, clock=clock, sleep=clock.sleep
    )(upstream)

    with pytest.raises(RetriesExhausted) as caught:
        await endpoint(0)

    elapsed = clock() - 100.0
    assert elapsed <= seconds
    assert len(caught.value.attempts) == upstream.calls
    if caught.value.deadline_exceeded:
        assert elapsed + backoff.delay(upstream.calls) >= seconds * (1 - 1e-9)
    else:
        assert upstream.calls == max_attempts


async def test_a_sleep_that_overshoots_the_deadline_ends_the_retries() -> None:
    """If the backoff sleep ends past the deadline, no further attempt is made."""
    clock = FakeClock()

    async def oversleep(seconds: float) -> None:
        clock.advance(seconds * 10)
        await asyncio.sleep(0)

    upstream = RecordingEndpoint[str, str](down(1), then="ok")
    endpoint = retry(timeout=1.0, backoff=Constant(0.5), clock=clock, sleep=oversleep)(upstream)

    with pytest.raises(RetriesExhausted) as caught:
        await endpoint("req")

    assert caught.value.deadline_exceeded
    assert upstream.calls == 1


async def test_a_hanging_attempt_is_cut_at_the_deadline() -> None:
    """The attempt runs under asyncio.timeout(remaining): a hang ends as deadline_exceeded.

    The only test that waits on the real clock: the deadline is 1 ms, which the
    event loop enforces in real time (fake time never moves here).
    """
    clock = FakeClock()
    upstream = RecordingEndpoint[str, str]("never", gate=asyncio.Event())
    endpoint = retry(timeout=0.001, clock=clock, sleep=clock.sleep)(upstream)

    with pytest.raises(RetriesExhausted, match=r"after 1 attempt \(deadline exceeded\)") as caught:
        await endpoint("req")

    (error,) = caught.value.attempts
    assert isinstance(error, TimeoutError)
    assert caught.value.deadline_exceeded
    assert upstream.calls == 1
    assert upstream.in_flight == 0


async def test_an_endpoints_own_timeout_error_is_retried() -> None:
    """A TimeoutError raised by the endpoint (not by the deadline) is an ordinary failure."""
    clock = FakeClock(auto_advance=True)
    upstream = RecordingEndpoint[str, str](TimeoutError("read timed out"), "ok")
    endpoint = retry(timeout=10.0, clock=clock, sleep=clock.sleep)(upstream)

    assert await endpoint("req") == "ok"
    assert upstream.calls == 2


async def test_cancellation_during_backoff_propagates() -> None:
    """Cancelling the call while it sleeps between attempts raises CancelledError; no retry."""
    clock = FakeClock()
    upstream = RecordingEndpoint[str, str](down(1), then="ok")
    endpoint = retry(backoff=Constant(5.0), clock=clock, sleep=clock.sleep)(upstream)

    task = asyncio.create_task(endpoint("req"))
    await clock.wait_for_sleepers(1)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    clock.advance(10.0)
    await asyncio.sleep(0)
    assert upstream.calls == 1


@TIMEOUTS
async def test_cancellation_during_an_attempt_propagates(deadline: float | None) -> None:
    """Cancelling the call mid-attempt raises CancelledError, unwrapped and not retried."""
    clock = FakeClock(auto_advance=True)
    upstream = RecordingEndpoint[str, str]("never", gate=asyncio.Event())
    endpoint = retry(timeout=deadline, clock=clock, sleep=clock.sleep)(upstream)

    task = asyncio.create_task(endpoint("req"))
    await upstream.wait_for_calls(1)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert upstream.calls == 1
    assert upstream.in_flight == 0


async def test_a_callers_own_timeout_is_not_wrapped_or_retried() -> None:
    """The caller's asyncio.timeout reaches the caller as TimeoutError; nothing is retried."""
    upstream = RecordingEndpoint[str, str]("never", gate=asyncio.Event())
    endpoint = retry(timeout=1000.0)(upstream)

    with pytest.raises(TimeoutError) as caught:
        async with asyncio.timeout(0):
            await endpoint("req")

    assert not isinstance(caught.value, RetriesExhausted)
    assert upstream.calls == 1


async def test_retry_calls_makes_a_fresh_call_each_attempt() -> None:
    """R8: lb.Retry style, each attempt asks for a new endpoint, so round-robin moves on."""
    instances = [
        RecordingEndpoint[str, str](then=ConnectionError("a down")),
        RecordingEndpoint[str, str](then=ConnectionError("b down")),
        RecordingEndpoint[str, str](then="c ok"),
    ]
    picks = itertools.cycle(instances)
    policy = RetryPolicy(max_attempts=3, backoff=Constant(0))

    assert await retry_calls(lambda: next(picks)("req"), policy) == "c ok"
    assert [instance.calls for instance in instances] == [1, 1, 1]

    with pytest.raises(RetriesExhausted) as caught:
        await retry_calls(lambda: next(picks)("req"), RetryPolicy(max_attempts=2))
    assert [str(e) for e in caught.value.attempts] == ["a down", "b down"]
