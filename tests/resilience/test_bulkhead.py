"""Bulkhead and the bulkhead middleware: a hard cap on calls in flight."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from pygokit.resilience import Bulkhead, BulkheadFull, bulkhead
from pygokit.testing import FakeClock, RecordingEndpoint


class Held:
    """An endpoint whose every call runs until the test releases that request."""

    def __init__(self) -> None:
        self.releases: dict[str, asyncio.Event] = {}
        self.started: list[str] = []

    async def __call__(self, request: str) -> str:
        self.started.append(request)
        release = self.releases.setdefault(request, asyncio.Event())
        await release.wait()
        return request

    def release(self, request: str) -> None:
        """Let the call for *request* finish."""
        self.releases.setdefault(request, asyncio.Event()).set()


async def settle() -> None:
    """Let every ready task run until nothing more happens without the clock moving."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_refuses_calls_beyond_the_cap() -> None:
    """With N calls in flight the next is refused at once with BulkheadFull and counted."""
    held = Held()
    heads = Bulkhead(2, name="payments")
    endpoint = bulkhead(heads)(held)
    calls = [asyncio.create_task(endpoint(r)) for r in ("a", "b")]
    await settle()

    with pytest.raises(BulkheadFull, match=r"bulkhead 'payments' is full: 2 calls in flight;"):
        await endpoint("c")

    assert (heads.in_flight, heads.rejected) == (2, 1)
    assert held.started == ["a", "b"]
    held.release("a")
    held.release("b")
    assert await asyncio.gather(*calls) == ["a", "b"]
    assert heads.in_flight == 0


async def test_the_slot_comes_back_however_the_call_ends() -> None:
    """A result, an error and a cancellation each give the slot back."""
    heads = Bulkhead(1)
    endpoint = bulkhead(heads)(RecordingEndpoint[str, str]("ok", ValueError("bad")))
    assert await endpoint("a") == "ok"
    with pytest.raises(ValueError, match="bad"):
        await endpoint("b")
    assert heads.in_flight == 0

    held = Held()
    call = asyncio.create_task(bulkhead(heads)(held)("c"))
    await settle()
    assert heads.in_flight == 1
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert heads.in_flight == 0


async def test_zero_slots_refuse_everything() -> None:
    """max_concurrent=0 refuses every call (Resilience4j's 0 max calls case)."""
    heads = Bulkhead(0)
    endpoint = bulkhead(heads)(RecordingEndpoint[str, str](then="ok"))

    for _ in range(3):
        with pytest.raises(BulkheadFull):
            await endpoint("a")
    assert heads.rejected == 3


async def test_waiting_calls_get_slots_in_arrival_order() -> None:
    """With max_wait, calls beyond the cap queue and get freed slots first come, first served."""
    clock = FakeClock()
    held = Held()
    heads = Bulkhead(1, max_wait=10, sleep=clock.sleep)
    endpoint = bulkhead(heads)(held)
    calls = [asyncio.create_task(endpoint(r)) for r in ("a", "b", "c", "d")]
    await settle()
    assert (held.started, heads.waiting) == (["a"], 3)

    for finished, expected in (("a", ["a", "b"]), ("b", ["a", "b", "c"]), ("c", list("abcd"))):
        held.release(finished)
        await settle()
        assert held.started == expected
        assert heads.in_flight == 1
    held.release("d")
    assert await asyncio.gather(*calls) == ["a", "b", "c", "d"]
    assert (heads.in_flight, heads.waiting, heads.rejected) == (0, 0, 0)


async def test_a_newcomer_cannot_overtake_the_queue() -> None:
    """While calls wait, try_acquire refuses even at the instant a slot is handed over."""
    clock = FakeClock()
    heads = Bulkhead(1, max_wait=10, sleep=clock.sleep)
    await heads.acquire()
    waiter = asyncio.create_task(heads.acquire())
    await settle()

    heads.release()  # handed to the waiter, not to the pool
    assert not heads.try_acquire()
    await waiter
    assert heads.in_flight == 1


async def test_a_wait_gives_up_after_max_wait() -> None:
    """A call that gets no slot within max_wait is refused with BulkheadFull after that long."""
    clock = FakeClock()
    held = Held()
    heads = Bulkhead(1, max_wait=0.05, sleep=clock.sleep)
    endpoint = bulkhead(heads)(held)
    first = asyncio.create_task(endpoint("a"))
    second = asyncio.create_task(endpoint("b"))
    await clock.wait_for_sleepers(1)

    clock.advance(0.049)
    await settle()
    assert not second.done()
    clock.advance(0.001)
    with pytest.raises(BulkheadFull, match=r"after waiting 0\.05s") as caught:
        await second

    assert caught.value.max_wait == 0.05
    assert (heads.waiting, heads.rejected) == (0, 1)
    held.release("a")
    await first
    assert heads.in_flight == 0


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    """Cancelling a waiting call removes it; the next freed slot goes to the one behind it."""
    baseline = asyncio.all_tasks()
    clock = FakeClock()
    held = Held()
    heads = Bulkhead(1, max_wait=10, sleep=clock.sleep)
    endpoint = bulkhead(heads)(held)
    first = asyncio.create_task(endpoint("a"))
    second = asyncio.create_task(endpoint("b"))
    third = asyncio.create_task(endpoint("c"))
    await clock.wait_for_sleepers(2)

    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    assert heads.waiting == 1
    held.release("a")
    held.release("c")
    assert [await first, await third] == ["a", "c"]
    assert (heads.in_flight, heads.rejected) == (0, 0)
    await settle()
    assert asyncio.all_tasks() == baseline
    assert clock.sleepers == 0


async def test_a_slot_handed_to_a_cancelled_waiter_is_passed_on() -> None:
    """A waiter cancelled just after being handed a slot passes the slot to the next waiter."""
    clock = FakeClock()
    heads = Bulkhead(1, max_wait=10, sleep=clock.sleep)
    await heads.acquire()
    second = asyncio.create_task(heads.acquire())
    third = asyncio.create_task(heads.acquire())
    await clock.wait_for_sleepers(2)

    heads.release()  # the slot goes to `second`...
    second.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await second
    await third
    assert (heads.in_flight, heads.waiting) == (1, 0)
    heads.release()
    assert heads.in_flight == 0


async def test_async_with_holds_a_slot_for_the_block() -> None:
    """`async with bulkhead:` takes a slot on entry and gives it back on exit."""
    heads = Bulkhead(1)
    async with heads:
        assert heads.in_flight == 1
        assert not heads.try_acquire()
    assert heads.in_flight == 0
    assert repr(heads) == (
        "Bulkhead('bulkhead', max_concurrent=1, in_flight=0, waiting=0, rejected=0)"
    )
    assert heads.max_concurrent == 1


async def test_r5_the_cap_holds_and_every_attempt_is_counted() -> None:
    """R5: 100 tasks x 1,000 calls, cap 10: never more than 10 in flight; 100,000 accounted."""
    heads = Bulkhead(10)
    in_flight = 0
    most = 0

    async def work(request: int) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1

    endpoint = bulkhead(heads)(work)
    succeeded = 0

    async def worker() -> None:
        nonlocal succeeded
        for i in range(1000):
            try:
                await endpoint(i)
            except BulkheadFull:
                await asyncio.sleep(0)  # a refused task yields too, so all tasks interleave
                continue
            succeeded += 1

    began = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for _ in range(100):
            group.create_task(worker())
    took = time.monotonic() - began

    assert most <= 10
    assert most == 10
    assert succeeded + heads.rejected == 100_000
    assert succeeded >= 10_000  # every round, the 10 slots are used
    assert heads.in_flight == 0
    assert took < 10


def test_bad_arguments_are_refused() -> None:
    """A negative cap or max_wait, or a cap that is not an int, is refused at construction."""
    with pytest.raises(ValueError, match="max_concurrent must be 0 or more, got -1"):
        Bulkhead(-1)
    with pytest.raises(TypeError, match="max_concurrent must be an int, got float"):
        Bulkhead(1.5)  # type: ignore[arg-type]
    for max_wait in (-1.0, math.nan):
        with pytest.raises(ValueError, match="max_wait must be 0 or more seconds"):
            Bulkhead(1, max_wait=max_wait)
