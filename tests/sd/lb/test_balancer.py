"""RoundRobin and Random: Go kit's balancer tests, fairness (R12) and concurrent picking."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygokit.endpoint import Endpoint
from pygokit.sd import DefaultEndpointer, DiscoveryError, Event, FixedEndpointer, InstanceCache
from pygokit.sd.lb import Balancer, LeastLoaded, NoEndpoints, Random, RoundRobin
from pygokit.testing import FakeClock
from tests.sd.helpers import CountingFactory


def named(name: str) -> Endpoint[object, str]:
    """An endpoint that answers with *name*."""

    async def endpoint(request: object) -> str:
        return name

    endpoint.__name__ = name
    return endpoint


def fixed(count: int) -> FixedEndpointer[object, str]:
    """A fixed endpointer of *count* endpoints named 0, 1, 2, ..."""
    return FixedEndpointer(named(str(n)) for n in range(count))


def pick_counts(balancer: Balancer[object, str], picks: int) -> Counter[str]:
    """How often each endpoint (by name) was picked in *picks* picks."""
    return Counter(balancer.endpoint().__name__ for _ in range(picks))


def test_round_robin_takes_the_endpoints_in_turn() -> None:
    """Go kit's TestRoundRobin: each endpoint in order, then around again."""
    balancer = RoundRobin(fixed(3))
    assert [balancer.endpoint().__name__ for _ in range(7)] == list("0120120")


async def test_round_robin_follows_the_endpointer() -> None:
    """Every pick reads the current set, so the rotation continues over a changed set."""
    cache = InstanceCache()
    cache.update(Event(["a", "b"]))
    async with DefaultEndpointer(cache, CountingFactory()) as endpointer:
        balancer = RoundRobin(endpointer)
        assert [await balancer.endpoint()(None) for _ in range(3)] == ["a", "b", "a"]
        cache.update(Event(["a", "b", "c"]))
        assert [await balancer.endpoint()(None) for _ in range(3)] == ["a", "b", "c"]


@pytest.mark.parametrize("make", [RoundRobin, Random, LeastLoaded], ids=lambda m: m.__name__)
def test_no_endpoints_raises_at_once(make: type[RoundRobin[object, str]]) -> None:
    """With nothing to pick from, every balancer raises NoEndpoints immediately (F2)."""
    balancer = make(FixedEndpointer([]))
    with pytest.raises(NoEndpoints, match="no endpoints available"):
        balancer.endpoint()


@pytest.mark.parametrize("make", [RoundRobin, Random, LeastLoaded], ids=lambda m: m.__name__)
async def test_a_discovery_error_reaches_the_caller(make: type[RoundRobin[object, str]]) -> None:
    """After invalidation, the endpointer's DiscoveryError comes out of the pick."""
    cache, clock = InstanceCache(), FakeClock()
    cache.update(Event(["a"]))
    async with DefaultEndpointer(
        cache, CountingFactory(), invalidate_on_error=1.0, clock=clock
    ) as endpointer:
        balancer = make(endpointer)
        balancer.endpoint()
        cache.update(Event(error=ConnectionError("etcd down")))
        clock.advance(1.0)
        with pytest.raises(DiscoveryError):
            balancer.endpoint()


def test_random_is_repeatable_with_a_seed() -> None:
    """Two Random balancers with the same seed pick the same sequence."""
    endpointer = fixed(5)
    first, second = Random(endpointer, seed=42), Random(endpointer, seed=42)
    assert [first.endpoint() for _ in range(50)] == [second.endpoint() for _ in range(50)]


def test_reprs_name_the_endpointer() -> None:
    """Each balancer's repr shows its endpointer."""
    endpointer = fixed(1)
    assert repr(RoundRobin(endpointer)) == "RoundRobin(FixedEndpointer(1 endpoints))"
    assert repr(Random(endpointer)) == "Random(FixedEndpointer(1 endpoints))"
    assert repr(LeastLoaded(endpointer)) == "LeastLoaded(FixedEndpointer(1 endpoints))"


@settings(deadline=None)
@given(count=st.integers(1, 20), picks=st.integers(0, 500))
def test_round_robin_counts_differ_by_at_most_one(count: int, picks: int) -> None:
    """R12: round robin is exactly fair: after any number of picks, counts differ by <= 1."""
    counts = pick_counts(RoundRobin(fixed(count)), picks)
    spread = [counts[str(n)] for n in range(count)]
    assert max(spread) - min(spread) <= (1 if picks else 0)


@settings(max_examples=3, deadline=None)
@given(count=st.integers(2, 8), seed=st.integers(0, 2**32))
@pytest.mark.parametrize("make", [Random, LeastLoaded], ids=lambda m: m.__name__)
def test_random_picks_are_fair_within_one_percent(
    make: type[Random[object, str]], count: int, seed: int
) -> None:
    """R12, Go kit's TestRandom: every endpoint gets within 1 % of its share.

    With no call in flight LeastLoaded picks like Random. The 250,000 expected picks per
    endpoint put 1 % at five standard deviations, so a fair balancer does not fail by chance.
    """
    want = 250_000
    balancer = make(fixed(count), seed=seed)
    counts = Counter(id(balancer.endpoint()) for _ in range(want * count))
    assert len(counts) == count
    for picked in counts.values():
        assert abs(picked - want) <= want / 100, counts


@pytest.mark.parametrize("make", [RoundRobin, Random, LeastLoaded], ids=lambda m: m.__name__)
async def test_one_hundred_concurrent_pickers(make: type[RoundRobin[object, str]]) -> None:
    """R12: 100 tasks picking and calling at once all succeed; round robin stays exact."""
    balancer = make(fixed(4))
    answers: Counter[str] = Counter()

    async def picker() -> None:
        for _ in range(100):
            answers[await balancer.endpoint()(None)] += 1
            await asyncio.sleep(0)

    async with asyncio.TaskGroup() as group:
        for _ in range(100):
            group.create_task(picker())

    assert answers.total() == 10_000
    assert set(answers) == {"0", "1", "2", "3"}
    if make is RoundRobin:
        assert set(answers.values()) == {2500}
