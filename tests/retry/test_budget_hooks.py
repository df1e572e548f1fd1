"""How the retry loop talks to a budget: the Budget protocol's hooks, in order."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.retry import Constant, RetriesExhausted, RetryBudget, retry
from pygokit.testing import FakeClock, RecordingEndpoint


def down(n: int) -> ConnectionError:
    """The error of the n-th failing attempt."""
    return ConnectionError(f"down {n}")


async def test_budget_refusal_gives_up_with_budget_exhausted() -> None:
    """A budget with nothing in it refuses the first retry: budget_exhausted after 1 attempt."""
    clock = FakeClock(auto_advance=True)
    budget = RetryBudget(percent=0, min_retries_per_second=0, clock=clock)
    upstream = RecordingEndpoint[str, str](down(1), then="ok")
    endpoint = retry(budget=budget, clock=clock, sleep=clock.sleep)(upstream)

    with pytest.raises(RetriesExhausted, match=r"after 1 attempt \(retry budget exhausted\)") as c:
        await endpoint("req")

    assert c.value.budget_exhausted
    assert not c.value.deadline_exceeded
    assert upstream.calls == 1


class RecordingBudget:
    """A Budget that notes each hook the retry loop calls and grants *grants* retries."""

    def __init__(self, grants: int = 100) -> None:
        self.events: list[str] = []
        self.grants = grants

    def deposit(self) -> None:
        """Note the call."""
        self.events.append("deposit")

    def try_withdraw(self) -> bool:
        """Grant while grants remain."""
        self.events.append("withdraw")
        self.grants -= 1
        return self.grants >= 0

    def record_success(self) -> None:
        """Note a success."""
        self.events.append("success")

    def record_failure(self) -> None:
        """Note a failure."""
        self.events.append("failure")

    def release(self, retries: int) -> None:
        """Note the end of the call."""
        self.events.append(f"release {retries}")


async def test_the_loop_reports_each_step_to_the_budget() -> None:
    """Deposit once, failure per failed attempt, withdraw before each retry, release once."""
    budget = RecordingBudget()
    upstream = RecordingEndpoint[str, str](down(1), down(2), "ok")

    assert await retry(budget=budget, backoff=Constant(0))(upstream)("req") == "ok"
    assert budget.events == [
        "deposit",
        "failure",
        "withdraw",
        "failure",
        "withdraw",
        "success",
        "release 2",
    ]


async def test_non_retryable_errors_and_the_last_failure_are_reported_sensibly() -> None:
    """A rejected error is not a failure; the last allowed attempt's failure is, unwithdrawn."""
    budget = RecordingBudget()
    upstream = RecordingEndpoint[str, str](down(1), down(2), ValueError("bad"))

    with pytest.raises(RetriesExhausted):
        await retry(max_attempts=2, budget=budget, backoff=Constant(0))(upstream)("a")
    with pytest.raises(ValueError, match="bad"):
        await retry(budget=budget, should_retry=lambda n, exc: not isinstance(exc, ValueError))(
            upstream
        )("b")

    assert budget.events == [
        *["deposit", "failure", "withdraw", "failure", "release 1"],
        *["deposit", "release 0"],
    ]


async def test_no_budget_is_spent_on_a_retry_the_deadline_forbids() -> None:
    """When the backoff would cross the deadline, the loop stops before asking the budget."""
    clock = FakeClock(auto_advance=True)
    budget = RecordingBudget()
    upstream = RecordingEndpoint[str, str](then=down(1))
    endpoint = retry(
        timeout=1.0, backoff=Constant(2.0), budget=budget, clock=clock, sleep=clock.sleep
    )(upstream)

    with pytest.raises(RetriesExhausted) as caught:
        await endpoint("req")

    assert caught.value.deadline_exceeded
    assert budget.events == ["deposit", "failure", "release 0"]


async def test_the_budget_is_released_when_the_call_is_cancelled() -> None:
    """A call cancelled mid-retry still releases the budget, with its granted retries."""
    clock = FakeClock()
    budget = RecordingBudget()
    upstream = RecordingEndpoint[str, str](down(1), then="ok")
    endpoint = retry(budget=budget, backoff=Constant(1.0), clock=clock, sleep=clock.sleep)(upstream)

    task = asyncio.create_task(endpoint("req"))
    await clock.wait_for_sleepers(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert budget.events == ["deposit", "failure", "withdraw", "release 1"]
