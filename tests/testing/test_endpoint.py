"""RecordingEndpoint: records requests, replays a script."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.errors import GoKitError
from pygokit.testing import RecordingEndpoint, ScriptExhausted


async def test_replays_script_in_order_and_records_requests() -> None:
    """Responses are returned and exceptions raised in script order; requests are kept."""
    down = ConnectionError("down")
    endpoint = RecordingEndpoint[str, int](1, down, 3)

    assert await endpoint("a") == 1
    with pytest.raises(ConnectionError) as caught:
        await endpoint("b")
    assert caught.value is down
    assert await endpoint("c") == 3
    assert endpoint.requests == ["a", "b", "c"]
    assert endpoint.calls == 3


async def test_exhausted_script_raises_a_clear_error() -> None:
    """A call past the end of the script raises ScriptExhausted, a GoKitError."""
    endpoint = RecordingEndpoint[None, str]("only")
    await endpoint(None)

    with pytest.raises(ScriptExhausted, match="called 2 times") as caught:
        await endpoint(None)
    assert isinstance(caught.value, GoKitError)
    assert caught.value.calls == 2


async def test_then_answers_every_call_after_the_script() -> None:
    """With then=, calls past the script all get the same result."""
    endpoint = RecordingEndpoint[int, str]("first", then="rest")
    assert [await endpoint(i) for i in range(3)] == ["first", "rest", "rest"]

    failing = RecordingEndpoint[int, str](then=TimeoutError("slow"))
    with pytest.raises(TimeoutError):
        await failing(0)


async def test_gate_holds_calls_in_flight_until_set() -> None:
    """With a gate, calls wait after recording and finish once the gate is set."""
    gate = asyncio.Event()
    endpoint = RecordingEndpoint[int, str](then="done", gate=gate)

    tasks = [asyncio.create_task(endpoint(i)) for i in range(3)]
    await endpoint.wait_for_calls(3)
    assert endpoint.in_flight == 3
    assert not any(task.done() for task in tasks)

    gate.set()
    assert await asyncio.gather(*tasks) == ["done"] * 3
    assert endpoint.in_flight == 0
    assert repr(endpoint) == "RecordingEndpoint(calls=3, scripted=0)"


async def test_cancelled_wait_for_calls_leaves_no_waiter_behind() -> None:
    """A call right after a waiter was cancelled does not trip over it; the cancel propagates."""
    endpoint = RecordingEndpoint[int, str](then="ok")
    abandoned = asyncio.create_task(endpoint.wait_for_calls(1))
    await asyncio.sleep(0)
    abandoned.cancel()
    with pytest.raises(asyncio.CancelledError):
        await abandoned

    waiting = asyncio.create_task(endpoint.wait_for_calls(1))
    await asyncio.sleep(0)
    waiting.cancel()
    await endpoint(1)  # notifies before the cancelled waiter has run again

    with pytest.raises(asyncio.CancelledError):
        await waiting
    await endpoint.wait_for_calls(1)
    assert endpoint.calls == 1
