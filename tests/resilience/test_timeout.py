"""timeout: cancel overrunning calls, raise DeadlineExceeded, leave nothing behind."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from pygokit.errors import GoKitError
from pygokit.resilience import DeadlineExceeded, timeout
from pygokit.testing import RecordingEndpoint

BUDGET_S = 0.05
GENEROUS_S = 0.5  # overshoot is measured by the benchmark; here only sanity is asserted


class Stuck:
    """An endpoint that never finishes on its own and notes how it ended."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.ended_by: list[str] = []

    async def __call__(self, request: str) -> str:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.ended_by.append("cancelled")
            raise
        return request  # pragma: no cover - never reached


async def test_r6_overrun_cancels_the_work_and_raises_deadline_exceeded() -> None:
    """R6: past the budget the endpoint sees CancelledError and the caller DeadlineExceeded."""
    baseline = asyncio.all_tasks()
    stuck = Stuck()
    limited = timeout(BUDGET_S)(stuck)

    began = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"within its 0\.05s time limit") as caught:
        await limited("a")
    took = time.monotonic() - began

    assert stuck.ended_by == ["cancelled"]
    assert BUDGET_S <= took < BUDGET_S + GENEROUS_S
    assert caught.value.timeout == BUDGET_S
    assert isinstance(caught.value, TimeoutError)
    assert isinstance(caught.value, GoKitError)
    assert caught.value.__cause__ is None
    assert asyncio.all_tasks() == baseline


async def test_a_call_within_the_budget_returns_its_result() -> None:
    """A call that finishes in time returns its result unchanged."""
    endpoint = RecordingEndpoint[str, str](then="ok")

    assert await timeout(10)(endpoint)("a") == "ok"


async def test_endpoint_errors_pass_through() -> None:
    """An error raised by the endpoint within the budget reaches the caller as is."""
    endpoint = RecordingEndpoint[str, str](ValueError("bad"))

    with pytest.raises(ValueError, match="bad"):
        await timeout(10)(endpoint)("a")


async def test_the_endpoints_own_timeout_error_is_not_converted() -> None:
    """A TimeoutError the endpoint raises before the budget is spent stays a plain TimeoutError."""
    endpoint = RecordingEndpoint[str, str](TimeoutError("socket timed out"))

    with pytest.raises(TimeoutError, match="socket timed out") as caught:
        await timeout(10)(endpoint)("a")
    assert not isinstance(caught.value, DeadlineExceeded)


async def test_the_callers_cancellation_passes_through_untouched() -> None:
    """Cancelling the caller's task raises CancelledError, not DeadlineExceeded."""
    stuck = Stuck()
    call = asyncio.create_task(timeout(10)(stuck)("a"))
    await stuck.started.wait()

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert call.cancelled()
    assert stuck.ended_by == ["cancelled"]


async def test_an_earlier_caller_deadline_wins() -> None:
    """When the caller's asyncio.timeout expires first, the caller sees its own TimeoutError."""
    stuck = Stuck()
    limited = timeout(10)(stuck)
    deadlines: list[asyncio.Timeout] = []

    async def caller() -> str:
        async with asyncio.timeout(10) as deadline:
            deadlines.append(deadline)
            return await limited("a")

    call = asyncio.create_task(caller())
    await stuck.started.wait()
    deadlines[0].reschedule(asyncio.get_running_loop().time())

    with pytest.raises(TimeoutError) as caught:
        await call
    assert not isinstance(caught.value, DeadlineExceeded)
    assert stuck.ended_by == ["cancelled"]


async def test_many_overruns_leave_no_tasks_behind() -> None:
    """R6: a hundred concurrent overrunning calls all end, and no task outlives them."""
    baseline = asyncio.all_tasks()
    limited = timeout(0.01)(Stuck())

    results = await asyncio.gather(*(limited(str(i)) for i in range(100)), return_exceptions=True)

    assert all(isinstance(result, DeadlineExceeded) for result in results)
    assert asyncio.all_tasks() == baseline


@pytest.mark.parametrize("seconds", [0, -1.0, math.nan, math.inf])
def test_seconds_must_be_positive_and_finite(seconds: float) -> None:
    """A budget that is not a positive, finite number is refused at construction."""
    with pytest.raises(ValueError, match="seconds must be a positive, finite number"):
        timeout(seconds)


async def test_calls_expire_in_turn_and_fast_ones_are_not_touched() -> None:
    """With several calls in flight, only the overrunning ones are cancelled, each at its time."""
    limited = timeout(BUDGET_S)(Stuck())

    async def quick(x: str) -> str:
        return x

    fast = timeout(BUDGET_S)(quick)
    results = await asyncio.gather(
        limited("a"), fast("b"), limited("c"), fast("d"), return_exceptions=True
    )

    assert [type(r) for r in results] == [DeadlineExceeded, str, DeadlineExceeded, str]
    assert await fast("again") == "again"


async def test_a_call_that_swallows_the_cancellation_leaves_its_task_usable() -> None:
    """If the endpoint ignores our cancellation and returns, the task is not left cancelled."""

    async def stubborn(x: str) -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return "ignored the deadline"
        return x

    assert await timeout(BUDGET_S)(stubborn)("x") == "ignored the deadline"
    await asyncio.sleep(0)  # would raise CancelledError if our request were still pending
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_call_outside_any_task_is_refused() -> None:
    """Driven from a loop callback (no task to cancel), the middleware says what is wrong."""

    async def quick(x: str) -> str:
        return x

    loop = asyncio.get_running_loop()
    message: asyncio.Future[str] = loop.create_future()

    def drive_by_hand() -> None:
        coroutine = timeout(1.0)(quick)("x")
        try:
            coroutine.send(None)
        except RuntimeError as exc:
            message.set_result(str(exc))
        finally:
            coroutine.close()

    loop.call_soon(drive_by_hand)
    assert "inside an asyncio task" in await message
