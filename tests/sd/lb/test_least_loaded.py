"""LeastLoaded: power of two choices over in-flight calls (beyond Go kit; R12)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from pygokit.endpoint import Endpoint
from pygokit.sd import FixedEndpointer
from pygokit.sd.lb import LeastLoaded, RoundRobin
from pygokit.testing import RecordingEndpoint


def test_a_single_endpoint_is_always_picked() -> None:
    """With one endpoint there is no choice to make."""
    only = RecordingEndpoint[object, str](then="only")
    balancer = LeastLoaded(FixedEndpointer([only]))
    assert {id(balancer.endpoint()) for _ in range(10)} == {id(balancer.endpoint())}


async def test_the_endpoint_with_fewer_calls_in_flight_wins() -> None:
    """With two endpoints, while one holds a call every pick goes to the other."""
    gates = {"a": asyncio.Event(), "b": asyncio.Event()}
    a = RecordingEndpoint[object, str](then="a", gate=gates["a"])
    b = RecordingEndpoint[object, str](then="b", gate=gates["b"])
    balancer = LeastLoaded(FixedEndpointer([a, b]), seed=1)

    held = asyncio.create_task(balancer.endpoint()(None))
    await asyncio.sleep(0)
    busy, free = ("a", "b") if a.in_flight else ("b", "a")
    gates[free].set()

    answers = {await balancer.endpoint()(None) for _ in range(20)}

    assert answers == {free}
    gates[busy].set()
    assert await held == busy


async def test_the_in_flight_count_drops_on_error_and_cancellation() -> None:
    """A call counts as in flight until it returns, raises or is cancelled."""
    gate = asyncio.Event()
    upstream = RecordingEndpoint[object, str]("cancelled", ConnectionError("down"), gate=gate)
    tracked = LeastLoaded(FixedEndpointer([upstream])).endpoint()
    first = asyncio.create_task(tracked(None))
    second = asyncio.create_task(tracked(None))
    await upstream.wait_for_calls(2)
    assert getattr(tracked, "in_flight") == 2  # noqa: B009 - private wrapper, read by name

    first.cancel()
    await asyncio.wait([first])
    assert getattr(tracked, "in_flight") == 1  # noqa: B009
    gate.set()
    with pytest.raises(ConnectionError):
        await second
    assert getattr(tracked, "in_flight") == 0  # noqa: B009
    assert "0 in flight" in repr(tracked)


async def test_survivors_keep_their_wrapper_and_count_across_a_change() -> None:
    """When the set changes, an endpoint still in it keeps its tracked wrapper."""
    a = RecordingEndpoint[object, str](then="a")
    b = RecordingEndpoint[object, str](then="b")
    c = RecordingEndpoint[object, str](then="c")

    class Switchable:
        """An endpointer whose set the test replaces."""

        current: tuple[Endpoint[object, str], ...] = (a, b)

        def endpoints(self) -> tuple[Endpoint[object, str], ...]:
            """The current set."""
            return self.current

    endpointer = Switchable()
    balancer = LeastLoaded(endpointer, seed=7)
    before = {balancer.endpoint() for _ in range(50)}
    endpointer.current = (b, c)
    after = {balancer.endpoint() for _ in range(50)}

    assert len(before) == len(after) == 2
    assert len(before & after) == 1  # b's wrapper survived; a's is gone, c's is new
    assert {await endpoint(None) for endpoint in before & after} == {"b"}


async def test_a_slow_instance_gets_less_than_its_fair_share() -> None:
    """R12: with one instance 20x slower, P2C sends it well under 1/3; round robin 1/3."""

    def instance(name: str, yields: int) -> Endpoint[object, str]:
        async def endpoint(request: object) -> str:
            for _ in range(yields):
                await asyncio.sleep(0)
            return name

        return endpoint

    endpoints = FixedEndpointer([instance("fast1", 1), instance("slow", 20), instance("fast2", 1)])

    async def share_of_slow(balancer: LeastLoaded[object, str] | RoundRobin[object, str]) -> float:
        answers: Counter[str] = Counter()

        async def client() -> None:
            for _ in range(100):
                answers[await balancer.endpoint()(None)] += 1

        async with asyncio.TaskGroup() as group:
            for _ in range(100):
                group.create_task(client())
        assert answers.total() == 10_000
        return answers["slow"] / answers.total()

    p2c = await share_of_slow(LeastLoaded(endpoints, seed=11))
    round_robin = await share_of_slow(RoundRobin(endpoints))

    assert round_robin == pytest.approx(1 / 3, abs=0.001)
    assert p2c < 0.2
