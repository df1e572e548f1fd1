"""TokenBucket: x/time/rate semantics on a fake clock."""

from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygokit.ratelimit import RateLimited, TokenBucket
from pygokit.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at 0."""
    return FakeClock()


def test_starts_full_and_admits_the_burst(clock: FakeClock) -> None:
    """A new bucket admits exactly `burst` calls at once, then refuses."""
    bucket = TokenBucket(10, 3, clock=clock)

    assert [bucket.allow() for _ in range(4)] == [True, True, True, False]


def test_refills_at_the_rate_up_to_the_burst(clock: FakeClock) -> None:
    """Tokens come back at `rate` per second and never beyond `burst`."""
    bucket = TokenBucket(2, 3, clock=clock)
    for _ in range(3):
        bucket.allow()

    clock.advance(0.5)
    assert bucket.tokens == pytest.approx(1)
    clock.advance(100)
    assert bucket.tokens == 3


def test_try_take_says_when_to_retry(clock: FakeClock) -> None:
    """A refused try_take takes nothing and returns the seconds until the tokens are there."""
    bucket = TokenBucket(2.5, 1, clock=clock)

    assert bucket.try_take() == 0.0
    assert bucket.try_take() == pytest.approx(0.4)
    assert bucket.retry_in() == pytest.approx(0.4)
    clock.advance(0.4)
    assert bucket.retry_in() == 0.0
    assert bucket.allow()


def test_cost_takes_several_tokens(clock: FakeClock) -> None:
    """allow(cost) takes `cost` tokens at once, or none."""
    bucket = TokenBucket(1, 5, clock=clock)

    assert bucket.allow(3)
    assert not bucket.allow(3)
    assert bucket.tokens == 2
    assert bucket.allow(2)


@pytest.mark.parametrize("cost", [0, -1, 6])
async def test_cost_outside_one_to_burst_is_a_value_error(clock: FakeClock, cost: int) -> None:
    """A cost that could never be admitted is refused with ValueError by every method."""
    bucket = TokenBucket(1, 5, clock=clock)

    with pytest.raises(ValueError, match="could never be admitted"):
        bucket.allow(cost)
    with pytest.raises(ValueError, match="could never be admitted"):
        bucket.retry_in(cost)
    with pytest.raises(ValueError, match="could never be admitted"):
        await bucket.wait(cost)


@pytest.mark.parametrize("rate", [0, -1.0, math.nan])
def test_rate_must_be_positive(rate: float) -> None:
    """A rate that is not positive is refused at construction."""
    with pytest.raises(ValueError, match="rate must be a positive number"):
        TokenBucket(rate, 1)


def test_burst_must_be_a_positive_int() -> None:
    """A burst below 1, or not an int, is refused at construction."""
    with pytest.raises(ValueError, match="burst must be at least 1, got 0"):
        TokenBucket(1, 0)
    with pytest.raises(TypeError, match="burst must be an int, got float"):
        TokenBucket(1, 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="burst must be an int, got bool"):
        TokenBucket(1, True)


async def test_infinite_rate_admits_everything_at_once(clock: FakeClock) -> None:
    """With rate=inf every call passes at once and wait() never sleeps, whatever the burst."""
    bucket = TokenBucket(math.inf, 1, clock=clock)

    assert all(bucket.allow() for _ in range(1000))
    assert bucket.retry_in(1000) == 0.0
    await bucket.wait(1000)
    assert clock.sleepers == 0


def test_rate_and_burst_and_repr(clock: FakeClock) -> None:
    """The bucket reports its settings and current tokens."""
    bucket = TokenBucket(4, 2, clock=clock)
    bucket.allow()

    assert (bucket.rate, bucket.burst) == (4.0, 2)
    assert repr(bucket) == "TokenBucket(rate=4.0, burst=2, tokens=1)"


def test_r7_thousand_calls_at_ten_times_the_rate(clock: FakeClock) -> None:
    """R7: 1,000 calls at 10x the rate admit burst + rate * elapsed calls, within 1."""
    rate, burst, interval = 10.0, 5, 0.01
    bucket = TokenBucket(rate, burst, clock=clock)

    admitted = 0
    for _ in range(1000):
        admitted += bucket.allow()
        clock.advance(interval)

    elapsed = 999 * interval
    expected = burst + math.floor(rate * elapsed)
    assert abs(admitted - expected) <= 1, f"want {expected} admitted, have {admitted}"


@given(
    steps=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=5, allow_nan=False),
            st.integers(min_value=1, max_value=4),
        ),
        max_size=60,
    ),
    rate=st.floats(min_value=0.01, max_value=1000, allow_nan=False),
    burst=st.integers(min_value=4, max_value=50),
)
def test_tokens_stay_within_zero_and_burst(
    steps: list[tuple[float, int]], rate: float, burst: int
) -> None:
    """R7: after any sequence of advances and allows, 0 <= tokens <= burst and no over-admission."""
    clock = FakeClock()
    bucket = TokenBucket(rate, burst, clock=clock)
    admitted = 0
    for seconds, cost in steps:
        clock.advance(seconds)
        if bucket.allow(cost):
            admitted += cost
        assert 0 <= bucket.tokens <= burst
        assert admitted <= burst + rate * clock() + 1e-6


async def test_wait_sleeps_until_the_token_is_due(clock: FakeClock) -> None:
    """wait() on an empty bucket reserves the next token and sleeps exactly until it is due."""
    bucket = TokenBucket(2, 1, clock=clock, sleep=clock.sleep)
    await bucket.wait()  # the initial token: no sleep

    waiter = asyncio.create_task(bucket.wait())
    await clock.wait_for_sleepers(1)
    assert bucket.tokens == -1
    clock.advance(0.49)
    await asyncio.sleep(0)
    assert not waiter.done()
    clock.advance(0.01)
    await waiter
    assert bucket.tokens == pytest.approx(0)


async def test_waiters_are_served_in_arrival_order(clock: FakeClock) -> None:
    """Each waiter's token is due after the one before it, so they finish in FIFO order."""
    bucket = TokenBucket(1, 1, clock=clock, sleep=clock.sleep)
    bucket.allow()
    finished: list[int] = []

    async def waiter(n: int) -> None:
        await bucket.wait()
        finished.append(n)

    tasks = [asyncio.create_task(waiter(n)) for n in range(3)]
    await clock.wait_for_sleepers(3)
    for n, task in enumerate(tasks):
        clock.advance(1)
        await task
        assert finished == list(range(n + 1))
        assert not any(later.done() for later in tasks[n + 1 :])


async def test_allow_cannot_overtake_waiters(clock: FakeClock) -> None:
    """Tokens reserved by waiters are not available to allow()."""
    bucket = TokenBucket(1, 1, clock=clock, sleep=clock.sleep)
    bucket.allow()
    waiter = asyncio.create_task(bucket.wait())
    await clock.wait_for_sleepers(1)

    clock.advance(1)  # the waiter's token is due now, not a free one
    assert not bucket.allow()
    await waiter


async def test_a_cancelled_wait_gives_its_token_back(clock: FakeClock) -> None:
    """Cancelling a waiter returns its reservation, so the token is not lost."""
    bucket = TokenBucket(1, 1, clock=clock, sleep=clock.sleep)
    bucket.allow()
    first = asyncio.create_task(bucket.wait())
    second = asyncio.create_task(bucket.wait())
    await clock.wait_for_sleepers(2)
    assert bucket.tokens == -2

    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert bucket.tokens == -1

    clock.advance(2)
    await second
    assert bucket.allow()  # the token the first waiter gave back
    assert not bucket.allow()


async def test_wait_fails_fast_beyond_max_wait(clock: FakeClock) -> None:
    """A wait longer than max_wait raises RateLimited at once and reserves nothing."""
    bucket = TokenBucket(1 / 60, 1, clock=clock, sleep=clock.sleep)
    bucket.allow()

    with pytest.raises(RateLimited, match=r"rate limit exceeded; retry in 60s") as caught:
        await bucket.wait(max_wait=0.5)

    assert caught.value.retry_in == pytest.approx(60)
    assert clock.sleepers == 0
    assert bucket.tokens == pytest.approx(0)


async def test_wait_within_max_wait_sleeps(clock: FakeClock) -> None:
    """A wait no longer than max_wait sleeps for the token as usual."""
    bucket = TokenBucket(2, 1, clock=clock, sleep=clock.sleep)
    bucket.allow()

    waiter = asyncio.create_task(bucket.wait(max_wait=0.5))
    await clock.wait_for_sleepers(1)
    clock.advance(0.5)
    await waiter


def test_a_clock_going_back_adds_no_tokens(clock: FakeClock) -> None:
    """If the clock reads earlier than before, the bucket waits rather than refill."""
    times = iter([10.0, 5.0, 5.5])
    bucket = TokenBucket(1, 1, clock=lambda: next(times))

    assert bucket.allow()  # at 5.0: no refill from going back
    assert bucket.tokens == pytest.approx(0.5)
