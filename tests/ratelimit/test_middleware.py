"""erroring_limiter and delaying_limiter: Go kit's token_bucket_test vectors and more."""

from __future__ import annotations

import asyncio
import math

import pytest

from pygokit.endpoint import Endpoint
from pygokit.ratelimit import (
    AllowerFunc,
    RateLimited,
    TokenBucket,
    delaying_limiter,
    erroring_limiter,
)
from pygokit.testing import FakeClock, RecordingEndpoint


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at 0."""
    return FakeClock()


def one_a_minute(clock: FakeClock) -> TokenBucket:
    """Go kit's test limiter: rate.NewLimiter(rate.Every(time.Minute), 1)."""
    return TokenBucket(1 / 60, 1, clock=clock, sleep=clock.sleep)


async def test_erroring_limiter_passes_the_first_and_refuses_the_second(clock: FakeClock) -> None:
    """R7 (Go kit TestXRateErroring): one token a minute, burst 1: the second call is limited."""
    endpoint = RecordingEndpoint[str, str](then="ok")
    limited = erroring_limiter(one_a_minute(clock))(endpoint)

    assert await limited("a") == "ok"
    with pytest.raises(RateLimited, match=r"^rate limit exceeded; retry in 60s$") as caught:
        await limited("b")

    assert caught.value.retry_in == pytest.approx(60)
    assert endpoint.requests == ["a"]


async def test_erroring_limiter_admits_again_after_the_refill(clock: FakeClock) -> None:
    """Once the bucket has refilled, calls pass again."""
    endpoint = RecordingEndpoint[str, str](then="ok")
    limited = erroring_limiter(TokenBucket(2.5, 1, clock=clock))(endpoint)
    await limited("a")

    with pytest.raises(RateLimited, match=r"retry in 0\.4s"):
        await limited("b")
    clock.advance(0.4)
    assert await limited("c") == "ok"
    assert endpoint.requests == ["a", "c"]


async def test_delaying_limiter_gives_up_at_the_callers_deadline(clock: FakeClock) -> None:
    """R7 (Go kit TestXRateDelaying): the second call waits, and the caller's timeout ends it."""
    bucket = one_a_minute(clock)
    endpoint = RecordingEndpoint[str, str](then="ok")
    limited = delaying_limiter(bucket)(endpoint)
    assert await limited("a") == "ok"
    deadlines: list[asyncio.Timeout] = []

    async def call_with_deadline() -> str:
        async with asyncio.timeout(60) as deadline:
            deadlines.append(deadline)
            return await limited("b")

    call = asyncio.create_task(call_with_deadline())
    await clock.wait_for_sleepers(1)
    deadlines[0].reschedule(asyncio.get_running_loop().time())  # the deadline passes now

    with pytest.raises(TimeoutError):
        await call
    assert endpoint.requests == ["a"]
    assert bucket.tokens == pytest.approx(0)  # the reservation went back
    assert clock.sleepers == 0


async def test_delaying_limiter_fails_fast_beyond_max_wait(clock: FakeClock) -> None:
    """With max_wait shorter than the wait, the call fails at once with RateLimited."""
    endpoint = RecordingEndpoint[str, str](then="ok")
    limited = delaying_limiter(one_a_minute(clock), max_wait=0.5)(endpoint)
    await limited("a")

    with pytest.raises(RateLimited, match="retry in 60s"):
        await limited("b")
    assert endpoint.requests == ["a"]
    assert clock.sleepers == 0


async def test_delaying_limiter_calls_once_the_token_is_due(clock: FakeClock) -> None:
    """A delayed call reaches the endpoint when its token is due, not before."""
    endpoint = RecordingEndpoint[str, str](then="ok")
    limited = delaying_limiter(TokenBucket(1, 1, clock=clock, sleep=clock.sleep))(endpoint)
    await limited("a")

    call = asyncio.create_task(limited("b"))
    await clock.wait_for_sleepers(1)
    assert endpoint.requests == ["a"]
    clock.advance(1)
    assert await call == "ok"
    assert endpoint.requests == ["a", "b"]


async def test_cancelling_a_delayed_call_passes_through_and_returns_the_token(
    clock: FakeClock,
) -> None:
    """Cancellation of a waiting call propagates as CancelledError and frees its token."""
    bucket = TokenBucket(1, 1, clock=clock, sleep=clock.sleep)
    endpoint = RecordingEndpoint[str, str](then="ok")
    limited = delaying_limiter(bucket)(endpoint)
    await limited("a")

    call = asyncio.create_task(limited("b"))
    await clock.wait_for_sleepers(1)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert bucket.tokens == pytest.approx(0)
    assert endpoint.calls == 1


@pytest.mark.parametrize("max_wait", [-1.0, math.nan])
def test_delaying_limiter_refuses_a_bad_max_wait(clock: FakeClock, max_wait: float) -> None:
    """max_wait must be zero or more seconds."""
    with pytest.raises(ValueError, match="max_wait must be zero or more seconds"):
        delaying_limiter(one_a_minute(clock), max_wait=max_wait)


async def test_erroring_limiter_with_a_plain_allower() -> None:
    """An Allower without try_take gives RateLimited with no retry_in."""
    allowed = [True, False]
    endpoint = RecordingEndpoint[int, int](then=0)
    limited = erroring_limiter(AllowerFunc(lambda: allowed.pop(0)))(endpoint)

    assert await limited(1) == 0
    with pytest.raises(RateLimited, match=r"^rate limit exceeded$") as caught:
        await limited(2)
    assert caught.value.retry_in is None
    assert endpoint.requests == [1]


class AsyncGate:
    """An AsyncAllower whose allow() must be awaited, like a limiter asking a server."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)

    async def allow(self) -> bool:
        await asyncio.sleep(0)
        return self.answers.pop(0)


class AsyncTaker:
    """An async limiter with try_take(), like RedisTokenBucket."""

    def __init__(self, *answers: float) -> None:
        self.answers = list(answers)

    async def allow(self) -> bool:
        return await self.try_take() == 0.0

    async def try_take(self) -> float:
        await asyncio.sleep(0)
        return self.answers.pop(0)


async def test_erroring_limiter_awaits_an_async_allower() -> None:
    """allow() returning an awaitable is awaited, and its answer obeyed."""
    endpoint = RecordingEndpoint[int, int](then=0)
    limited = erroring_limiter(AsyncGate(True, False))(endpoint)

    await limited(1)
    with pytest.raises(RateLimited):
        await limited(2)
    assert endpoint.requests == [1]


async def test_erroring_limiter_awaits_an_async_try_take() -> None:
    """An async try_take() is awaited and its wait becomes retry_in."""
    endpoint = RecordingEndpoint[int, int](then=0)
    limited = erroring_limiter(AsyncTaker(0.0, 1.5))(endpoint)

    await limited(1)
    with pytest.raises(RateLimited, match=r"retry in 1\.5s") as caught:
        await limited(2)
    assert caught.value.retry_in == 1.5
    assert endpoint.requests == [1]


async def test_cancellation_passes_through_the_erroring_limiter(clock: FakeClock) -> None:
    """A call cancelled inside the endpoint raises CancelledError, untouched by the limiter."""
    gate = asyncio.Event()
    endpoint = RecordingEndpoint[int, int](then=0, gate=gate)
    limited: Endpoint[int, int] = erroring_limiter(TokenBucket(1, 1, clock=clock))(endpoint)

    call = asyncio.create_task(limited(1))
    await endpoint.wait_for_calls(1)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert call.cancelled()


async def test_endpoint_errors_pass_through_both_limiters(clock: FakeClock) -> None:
    """The endpoint's own error reaches the caller unchanged."""
    bucket = TokenBucket(10, 10, clock=clock, sleep=clock.sleep)
    endpoint = RecordingEndpoint[int, int](ValueError("bad"), ValueError("worse"))

    with pytest.raises(ValueError, match="bad"):
        await erroring_limiter(bucket)(endpoint)(1)
    with pytest.raises(ValueError, match="worse"):
        await delaying_limiter(bucket)(endpoint)(2)
