"""Retry budgets: Finagle's RetryBudget and Envoy's ConcurrencyRetryBudget (R10)."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.retry import (
    Budget,
    ConcurrencyRetryBudget,
    Constant,
    RetriesExhausted,
    RetryBudget,
    TokenThrottle,
    retry,
)
from pygokit.testing import FakeClock, RecordingEndpoint


def drain(budget: RetryBudget) -> int:
    """Withdraw until the budget refuses; return how many retries it granted."""
    granted = 0
    while budget.try_withdraw():
        granted += 1
    return granted


def test_the_reserve_alone_allows_min_retries_per_second_times_ttl() -> None:
    """With no calls at all, the defaults allow 10/s * 10 s = 100 retries, then refuse."""
    budget = RetryBudget(clock=FakeClock())

    assert budget.balance == 100
    assert drain(budget) == 100
    assert not budget.can_retry()
    assert budget.balance == 0


def test_each_call_adds_a_fifth_of_a_retry() -> None:
    """Five deposits buy exactly one retry beyond the reserve at 20 %."""
    budget = RetryBudget(min_retries_per_second=0, clock=FakeClock())

    for _ in range(4):
        budget.deposit()
    assert not budget.can_retry()
    budget.deposit()
    assert budget.can_retry()
    assert budget.can_retry()  # asking spends nothing
    assert budget.try_withdraw()
    assert not budget.try_withdraw()


def test_deposits_expire_after_ttl() -> None:
    """A deposit counts for ttl seconds (to the one-second bucket), then falls out."""
    clock = FakeClock()
    budget = RetryBudget(clock=clock)
    for _ in range(1000):
        budget.deposit()
    assert budget.balance == 300

    clock.advance(9.5)
    assert budget.balance == 300
    clock.advance(0.5)
    assert budget.balance == 100


def test_withdrawals_expire_too_so_the_reserve_refills() -> None:
    """Retries spent now stop counting against the budget ttl seconds later."""
    clock = FakeClock()
    budget = RetryBudget(clock=clock)
    assert drain(budget) == 100

    clock.advance(5.0)
    assert budget.balance == 0
    clock.advance(5.0)
    assert budget.balance == 100


def test_buckets_roll_one_at_a_time() -> None:
    """Deposits made a second apart expire a second apart."""
    clock = FakeClock()
    budget = RetryBudget(min_retries_per_second=0, clock=clock)
    for _ in range(3):
        for _ in range(5):
            budget.deposit()
        clock.advance(1.0)
    assert budget.balance == 3  # made at t=0, 1, 2; now t=3

    clock.advance(7.0)  # t=10: the t=0 bucket is gone
    assert budget.balance == 2
    clock.advance(1.0)
    assert budget.balance == 1
    clock.advance(100.0)
    assert budget.balance == 0


def test_a_zero_budget_never_allows_a_retry() -> None:
    """percent=0 and no reserve: Finagle's empty budget, nothing is ever allowed."""
    budget = RetryBudget(percent=0, min_retries_per_second=0, clock=FakeClock())
    for _ in range(100):
        budget.deposit()

    assert not budget.try_withdraw()
    assert budget.balance == 0


def test_a_percent_only_reserve_budget_allows_only_the_reserve() -> None:
    """percent=0 with a reserve: calls buy nothing, the reserve still allows retries."""
    budget = RetryBudget(percent=0, min_retries_per_second=1, ttl=3.0, clock=FakeClock())
    for _ in range(100):
        budget.deposit()

    assert drain(budget) == 3


async def test_r10_budget_caps_retries_at_20_percent_plus_the_reserve() -> None:
    """R10: 1000 calls to a 100 % failing upstream retry exactly 0.2 * 1000 + 10 * 10 = 300 times.

    The clock stands still, so no deposit expires: the budget holds the reserve (100
    retries) plus a fifth of a retry per call. Every call wants 2 retries; the budget
    grants 300 in all, and the upstream sees 1300 requests (ratio 1.3).
    """
    clock = FakeClock()
    budget = RetryBudget(clock=clock)
    upstream = RecordingEndpoint[int, int](then=ConnectionError("503"))
    endpoint = retry(max_attempts=3, backoff=Constant(0), budget=budget, clock=clock)(upstream)
    refused = 0

    for n in range(1000):
        with pytest.raises(RetriesExhausted) as caught:
            await endpoint(n)
        refused += caught.value.budget_exhausted

    assert upstream.calls - 1000 == 300
    assert refused > 0
    assert budget.balance == 0


@pytest.mark.parametrize(("rate", "seconds"), [(200, 10.0), (100, 60.0)])
async def test_r10_budget_bounds_retries_over_time(rate: int, seconds: float) -> None:
    """R10 over fake time: retries stay within 20 % of calls + 10/s, and use that allowance.

    At 200 calls/s for 10 s (reliability.md's R10 load) that is 400 + 100 retries:
    the upstream sees 1.25 requests per call.
    """
    clock = FakeClock()
    budget = RetryBudget(clock=clock)
    upstream = RecordingEndpoint[int, int](then=ConnectionError("503"))
    endpoint = retry(max_attempts=3, backoff=Constant(0), budget=budget, clock=clock)(upstream)
    calls = int(rate * seconds)

    for n in range(calls):
        with pytest.raises(RetriesExhausted):
            await endpoint(n)
        clock.advance(1 / rate)

    retries = upstream.calls - calls
    # Calls and the reserve both count for ttl = 10 s, so over `seconds` the reserve
    # adds 10/s for the run plus, at most, one extra window's worth.
    assert retries <= 0.2 * calls + 10 * (seconds + 10)
    assert retries >= 0.2 * calls + 10 * seconds - 10
    if seconds == 10.0:
        assert upstream.calls / calls <= 1.25


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"percent": -0.1}, "percent must be a fraction"),
        ({"percent": 1001}, "percent must be a fraction"),
        ({"min_retries_per_second": -1}, "min_retries_per_second must be a whole number"),
        ({"min_retries_per_second": 1.5}, "min_retries_per_second must be a whole number"),
        ({"ttl": 0}, "ttl must be a positive number"),
        ({"ttl": float("inf")}, "ttl must be a positive number"),
    ],
)
def test_retry_budget_refuses_bad_settings(kwargs: dict[str, float], message: str) -> None:
    """Bad settings raise ValueError at construction, naming the parameter."""
    with pytest.raises(ValueError, match=message):
        RetryBudget(**kwargs)  # type: ignore[arg-type]


def test_retry_budget_repr_shows_settings_and_balance() -> None:
    """repr shows the settings and the retries currently allowed."""
    assert repr(RetryBudget(clock=FakeClock())) == (
        "RetryBudget(percent=0.2, min_retries_per_second=10, ttl=10.0, balance=100)"
    )


def test_concurrency_budget_limit_is_a_share_of_active_calls_or_the_minimum() -> None:
    """The limit is max(floor(percent * active), min_retry_concurrency)."""
    budget = ConcurrencyRetryBudget(percent=0.2, min_retry_concurrency=3)
    assert budget.limit == 3
    for _ in range(20):
        budget.deposit()
    assert budget.limit == 4

    assert [budget.try_withdraw() for _ in range(5)] == [True, True, True, True, False]
    assert not budget.can_retry()
    budget.release(2)
    assert (budget.active, budget.active_retries) == (19, 2)
    assert budget.can_retry()


class FirstTryFails:
    """An upstream whose first attempts fail together and whose retries wait on a gate.

    Each request's first attempt waits until *callers* first attempts are in flight,
    then fails; a retry is held until `gate` opens, then succeeds.
    """

    def __init__(self, callers: int) -> None:
        self.callers = callers
        self.all_in = asyncio.Event()
        self.gate = asyncio.Event()
        self.seen: set[int] = set()
        self.retrying = 0
        self.most_retrying = 0

    async def __call__(self, request: int) -> str:
        """Fail the first attempt once every caller is in; hold a retry until the gate opens."""
        if request not in self.seen:
            self.seen.add(request)
            if len(self.seen) == self.callers:
                self.all_in.set()
            await self.all_in.wait()
            raise ConnectionError("first try fails")
        self.retrying += 1
        self.most_retrying = max(self.most_retrying, self.retrying)
        try:
            await self.gate.wait()
        finally:
            self.retrying -= 1
        return "ok"

    async def wait_for_retrying(self, count: int) -> None:
        """Let the event loop run until *count* retries are held at the gate."""
        for _ in range(1000):
            if self.retrying >= count:
                return
            await asyncio.sleep(0)
        raise AssertionError(f"{self.retrying} retries in flight, expected {count}")


async def test_concurrency_budget_caps_concurrent_retries() -> None:
    """R10 (Envoy): of 20 concurrent failing calls, max(20 % of 20, 3) = 4 may retry at once."""
    budget = ConcurrencyRetryBudget()
    upstream = FirstTryFails(callers=20)
    endpoint = retry(max_attempts=3, backoff=Constant(0), budget=budget)(upstream)

    tasks = [asyncio.create_task(endpoint(n)) for n in range(20)]
    await upstream.wait_for_retrying(4)
    for _ in range(10):
        await asyncio.sleep(0)
    assert budget.active_retries == 4
    upstream.gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert results.count("ok") == 4
    refused = [r for r in results if isinstance(r, RetriesExhausted)]
    assert len(refused) == 16
    assert all(r.budget_exhausted for r in refused)
    assert upstream.most_retrying == 4
    assert (budget.active, budget.active_retries) == (0, 0)


async def test_concurrency_budget_is_released_on_cancellation() -> None:
    """A call cancelled during its retry frees its active call and its retry."""
    budget = ConcurrencyRetryBudget()
    upstream = FirstTryFails(callers=1)
    endpoint = retry(backoff=Constant(0), budget=budget)(upstream)

    task = asyncio.create_task(endpoint(1))
    await upstream.wait_for_retrying(1)
    assert (budget.active, budget.active_retries) == (1, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert (budget.active, budget.active_retries) == (0, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"percent": -1}, "percent must be a fraction"),
        ({"percent": float("nan")}, "percent must be a fraction"),
        ({"min_retry_concurrency": -1}, "min_retry_concurrency must be a whole number"),
        ({"min_retry_concurrency": 2.5}, "min_retry_concurrency must be a whole number"),
    ],
)
def test_concurrency_budget_refuses_bad_settings(kwargs: dict[str, float], message: str) -> None:
    """Bad settings raise ValueError at construction."""
    with pytest.raises(ValueError, match=message):
        ConcurrencyRetryBudget(**kwargs)  # type: ignore[arg-type]


def test_concurrency_budget_repr_shows_its_counts() -> None:
    """repr shows the settings and how many calls and retries are active."""
    assert repr(ConcurrencyRetryBudget()) == (
        "ConcurrencyRetryBudget(percent=0.2, min_retry_concurrency=3, active=0, active_retries=0)"
    )


def test_every_budget_satisfies_the_protocol_and_ignores_foreign_hooks() -> None:
    """All three budgets are Budgets; hooks they do not need change nothing."""
    clock = FakeClock()
    budgets: list[Budget] = [RetryBudget(clock=clock), ConcurrencyRetryBudget(), TokenThrottle()]
    finagle, envoy, grpc = budgets
    assert isinstance(finagle, RetryBudget)
    assert isinstance(envoy, ConcurrencyRetryBudget)
    assert isinstance(grpc, TokenThrottle)

    for budget in (finagle, envoy):
        budget.record_success()
        budget.record_failure()
    finagle.release(3)
    grpc.deposit()
    grpc.release(3)

    assert finagle.balance == 100
    assert (envoy.active, envoy.active_retries) == (0, 0)
    assert grpc.tokens == 10
