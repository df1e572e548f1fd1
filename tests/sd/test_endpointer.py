"""DefaultEndpointer: Go kit's endpoint cache, ported in spirit with a fake clock (F8)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygokit.endpoint import Endpoint
from pygokit.sd import (
    DefaultEndpointer,
    DiscoveryError,
    Event,
    FixedEndpointer,
    FixedInstancer,
    InstanceCache,
    NoEndpoints,
    Subscriber,
)
from pygokit.testing import CapturingLogger, FakeClock
from tests.sd.helpers import CountingFactory

SD_ERROR = ConnectionError("sd error")


async def answers(endpointer: DefaultEndpointer[object, str]) -> list[str]:
    """What each current endpoint answers: its instance string, in endpoint order."""
    return [await endpoint(None) for endpoint in endpointer.endpoints()]


async def test_endpoint_cache() -> None:
    """F8: surviving endpoints are kept, duplicates and errors change nothing, removed close."""
    cache, factory = InstanceCache(), CountingFactory()
    async with DefaultEndpointer(cache, factory) as endpointer:
        cache.update(Event(["a", "b"]))
        assert await answers(endpointer) == ["a", "b"]
        assert not factory.closed

        cache.update(Event(["b", "a"]))  # the same set
        cache.update(Event(error=SD_ERROR))  # default: keep serving
        assert await answers(endpointer) == ["a", "b"]
        assert factory.made == ["a", "b"]

        cache.update(Event(["a"]))
        assert await answers(endpointer) == ["a"]
        assert factory.closed == {"b": 1}

        cache.update(Event([]))
        assert endpointer.endpoints() == ()
        assert factory.closed == {"a": 1, "b": 1}


async def test_surviving_instances_keep_their_endpoint_objects() -> None:
    """An instance present before and after a change keeps the very same endpoint."""
    cache, factory = InstanceCache(), CountingFactory()
    cache.update(Event(["a", "b"]))
    async with DefaultEndpointer(cache, factory) as endpointer:
        a, b = endpointer.endpoints()
        cache.update(Event(["c", "b", "a"]))
        assert endpointer.endpoints()[:2] == (a, b)
        assert factory.made == ["a", "b", "c"]
        assert endpointer.instances == ("a", "b", "c")


async def test_endpoints_are_read_from_one_immutable_tuple() -> None:
    """Reads between changes return the same tuple object, so balancers can cache on it."""
    cache = InstanceCache()
    cache.update(Event(["a"]))
    async with DefaultEndpointer(cache, CountingFactory()) as endpointer:
        first = endpointer.endpoints()
        assert endpointer.endpoints() is first
        cache.update(Event(["a", "b"]))
        assert endpointer.endpoints() is not first


async def test_errors_keep_the_last_endpoints_forever_by_default() -> None:
    """F8: without invalidate_on_error an error never takes the endpoints away; it is logged."""
    clock, cache, logger = FakeClock(), InstanceCache(), CapturingLogger()
    cache.update(Event(["a"]))
    async with DefaultEndpointer(cache, CountingFactory(), logger=logger, clock=clock) as e:
        cache.update(Event(error=SD_ERROR))
        clock.advance(10**9)
        assert len(e.endpoints()) == 1
    assert logger.events == [{"err": SD_ERROR}]


async def test_endpoint_cache_error_and_timeout() -> None:
    """F8: old endpoints until the timeout, then closed and the first error; a good event heals."""
    clock, cache, factory = FakeClock(), InstanceCache(), CountingFactory()
    cache.update(Event(["a"]))
    endpointer = DefaultEndpointer(cache, factory, invalidate_on_error=10.0, clock=clock)
    async with endpointer:
        cache.update(Event(error=SD_ERROR))
        clock.advance(5.0)  # timeout / 2
        assert await answers(endpointer) == ["a"]
        assert not factory.closed

        clock.advance(10.0)  # 1.5 * timeout
        with pytest.raises(DiscoveryError) as info:
            endpointer.endpoints()
        assert info.value.error is SD_ERROR
        assert info.value.__cause__ is SD_ERROR
        assert isinstance(info.value, NoEndpoints)
        assert factory.closed == {"a": 1}

        cache.update(Event(error=ConnectionError("another sd error")))
        with pytest.raises(DiscoveryError) as info:
            endpointer.endpoints()
        assert info.value.error is SD_ERROR
        assert factory.closed == {"a": 1}  # closed exactly once, however often it is read

        cache.update(Event(["a"]))
        assert await answers(endpointer) == ["a"]
        assert factory.made == ["a", "a"]


async def test_later_errors_do_not_move_the_deadline() -> None:
    """The deadline is set by the first error; errors before it do not extend it."""
    clock, cache = FakeClock(), InstanceCache()
    cache.update(Event(["a"]))
    endpointer = DefaultEndpointer(cache, CountingFactory(), invalidate_on_error=10.0, clock=clock)
    async with endpointer:
        cache.update(Event(error=SD_ERROR))
        clock.advance(8.0)
        cache.update(Event(error=TimeoutError("still down")))
        assert len(endpointer.endpoints()) == 1
        clock.advance(2.0)  # exactly the first deadline
        with pytest.raises(DiscoveryError, match="after 10s"):
            endpointer.endpoints()


async def test_a_zero_timeout_invalidates_on_the_next_read() -> None:
    """invalidate_on_error=0 drops the endpoints at the first read after an error."""
    cache, factory = InstanceCache(), CountingFactory()
    cache.update(Event(["a"]))
    async with DefaultEndpointer(cache, factory, invalidate_on_error=0) as endpointer:
        cache.update(Event(error=SD_ERROR))
        with pytest.raises(DiscoveryError):
            endpointer.endpoints()
        assert factory.closed == {"a": 1}


async def test_a_good_event_before_the_deadline_cancels_the_invalidation() -> None:
    """Recovering before the timeout keeps the endpoints, which are never closed."""
    clock, cache, factory = FakeClock(), InstanceCache(), CountingFactory()
    cache.update(Event(["a"]))
    async with DefaultEndpointer(
        cache, factory, invalidate_on_error=10.0, clock=clock
    ) as endpointer:
        cache.update(Event(error=SD_ERROR))
        clock.advance(5.0)
        cache.update(Event(["a"]))
        clock.advance(100.0)
        assert await answers(endpointer) == ["a"]
        assert factory.made == ["a"]
        assert not factory.closed


async def test_bad_factory() -> None:
    """F8: a factory that raises skips only its instance, logs it, and is tried again later."""
    cache, logger = InstanceCache(), CapturingLogger()
    failing = {"b"}
    factory = CountingFactory(fail=failing)
    async with DefaultEndpointer(cache, factory, logger=logger) as endpointer:
        cache.update(Event(["a", "b", "c"]))
        assert await answers(endpointer) == ["a", "c"]
        assert [event["instance"] for event in logger.events] == ["b"]
        assert isinstance(logger.events[0]["err"], ConnectionError)

        failing.clear()
        cache.update(Event(["a", "b"]))
        assert await answers(endpointer) == ["a", "b"]


async def test_a_factory_returning_a_bare_endpoint_is_logged_not_raised() -> None:
    """A factory that forgets the closer is logged per instance instead of breaking updates."""
    logger = CapturingLogger()

    def forgetful(instance: str) -> Endpoint[object, str]:
        return CountingFactory()(instance)[0]

    endpointer: DefaultEndpointer[object, str] = DefaultEndpointer(
        FixedInstancer(["a"]),
        forgetful,  # type: ignore[arg-type]
        logger=logger,
    )
    async with endpointer:
        assert endpointer.endpoints() == ()
    assert logger.events[0]["instance"] == "a"
    assert isinstance(logger.events[0]["err"], TypeError)


async def test_a_factory_failing_for_every_instance_leaves_no_endpoints() -> None:
    """Go kit's TestBadFactory: nothing could be made, so there are 0 endpoints."""
    instancer = FixedInstancer(["a", "b"])
    factory = CountingFactory(fail={"a", "b"})
    async with DefaultEndpointer(instancer, factory) as endpointer:
        assert endpointer.endpoints() == ()


async def test_async_closers_run_in_the_endpointer_and_exit_waits_for_them() -> None:
    """A closer returning a coroutine is awaited in an owned task; leaving waits for it."""
    gate = asyncio.Event()
    cache = InstanceCache()
    factory = CountingFactory(async_close=True, close_gate=gate)
    cache.update(Event(["a", "b"]))
    endpointer = DefaultEndpointer(cache, factory)
    async with endpointer:
        cache.update(Event(["a"]))
        await asyncio.sleep(0)
        assert not factory.closed  # still waiting for the gate
        gate.set()
    assert factory.closed == {"a": 1, "b": 1}


async def test_closer_errors_are_logged_and_never_raised() -> None:
    """Sync and async closers that raise are logged with their instance."""
    logger = CapturingLogger()

    async def endpoint(request: object) -> str:
        return "x"

    def sync_close() -> None:
        raise OSError("sync close failed")

    async def async_close() -> None:
        raise OSError("async close failed")

    def factory(instance: str) -> tuple[Endpoint[object, str], object]:
        return endpoint, sync_close if instance == "sync" else async_close

    cache = InstanceCache()
    cache.update(Event(["async", "sync"]))
    async with DefaultEndpointer(cache, factory, logger=logger):  # type: ignore[arg-type]
        cache.update(Event([]))
    logged = {event["instance"]: str(event["err"]) for event in logger.events}
    assert logged == {"sync": "sync close failed", "async": "async close failed"}


async def test_endpoints_without_a_closer_are_simply_dropped() -> None:
    """A factory may return None as closer; removing that instance closes nothing."""
    made: list[str] = []

    def factory(instance: str) -> tuple[Endpoint[object, str], None]:
        made.append(instance)
        return CountingFactory()(instance)[0], None

    cache = InstanceCache()
    cache.update(Event(["a"]))
    async with DefaultEndpointer(cache, factory) as endpointer:
        cache.update(Event(["b"]))
        assert await answers(endpointer) == ["b"]
    assert made == ["a", "b"]


async def test_leaving_closes_every_endpoint_and_deregisters() -> None:
    """aclose closes all endpoints once, stops listening, and is idempotent."""
    cache, factory = InstanceCache(), CountingFactory()
    cache.update(Event(["a", "b"]))
    endpointer = DefaultEndpointer(cache, factory)
    async with endpointer:
        pass
    await endpointer.aclose()
    cache.update(Event(["c"]))
    assert factory.closed == {"a": 1, "b": 1}
    assert factory.made == ["a", "b"]
    assert endpointer.instances == ()


async def test_endpoints_outside_the_block_is_an_error() -> None:
    """Reading before entering or after leaving raises RuntimeError saying what to do."""
    endpointer = DefaultEndpointer(FixedInstancer(["a"]), CountingFactory())
    with pytest.raises(RuntimeError, match="async with"):
        endpointer.endpoints()
    async with endpointer:
        assert len(endpointer.endpoints()) == 1
    with pytest.raises(RuntimeError, match="not running"):
        endpointer.endpoints()


async def test_entering_twice_is_refused() -> None:
    """A running endpointer cannot be entered again."""
    async with DefaultEndpointer(FixedInstancer([]), CountingFactory()) as endpointer:
        with pytest.raises(RuntimeError, match="already running"):
            await endpointer.__aenter__()


class Stubborn:
    """An instancer that keeps calling a subscriber after it deregistered."""

    def __init__(self) -> None:
        self.subscribers: list[Subscriber] = []

    def register(self, subscriber: Subscriber) -> None:
        """Remember the subscriber and send it one instance."""
        self.subscribers.append(subscriber)
        subscriber(Event(["a"]))

    def deregister(self, subscriber: Subscriber) -> None:
        """Ignore the request."""


async def test_events_after_leaving_are_ignored() -> None:
    """An instancer that calls back after deregistration cannot revive a closed endpointer."""
    instancer, factory = Stubborn(), CountingFactory()
    async with DefaultEndpointer(instancer, factory):
        pass
    instancer.subscribers[0](Event(["b"]))
    assert factory.made == ["a"]


class Broken:
    """An instancer whose register fails."""

    def register(self, subscriber: Subscriber) -> None:
        """Fail."""
        raise RuntimeError("broken instancer")

    def deregister(self, subscriber: Subscriber) -> None:
        """Nothing to undo."""


async def test_a_failing_register_fails_the_entry_cleanly() -> None:
    """If the instancer's register raises, entering raises it and leaves nothing running."""
    endpointer = DefaultEndpointer(Broken(), CountingFactory())
    with pytest.raises(RuntimeError, match="broken instancer"):
        await endpointer.__aenter__()
    with pytest.raises(RuntimeError, match="not running"):
        endpointer.endpoints()


@pytest.mark.parametrize("timeout", [-1.0, float("inf"), float("nan")])
def test_invalidate_on_error_must_be_a_finite_non_negative_number(timeout: float) -> None:
    """A negative, infinite or NaN timeout is a ValueError."""
    with pytest.raises(ValueError, match="invalidate_on_error"):
        DefaultEndpointer(FixedInstancer([]), CountingFactory(), invalidate_on_error=timeout)


def test_the_factory_must_be_callable() -> None:
    """A factory that cannot be called is a TypeError."""
    with pytest.raises(TypeError, match="factory"):
        DefaultEndpointer(FixedInstancer([]), "not a factory")  # type: ignore[arg-type]


async def test_repr_names_the_instancer_and_counts_instances() -> None:
    """The repr shows where instances come from and how many have endpoints."""
    async with DefaultEndpointer(FixedInstancer(["a"]), CountingFactory()) as endpointer:
        assert repr(endpointer) == "DefaultEndpointer(FixedInstancer(['a']), instances=1)"


def test_fixed_endpointer_serves_its_endpoints_in_order() -> None:
    """FixedEndpointer returns the endpoints it was given, as one tuple."""

    async def a(request: object) -> str:
        return "a"

    async def b(request: object) -> str:
        return "b"

    endpointer = FixedEndpointer([b, a])
    assert endpointer.endpoints() == (b, a)
    assert endpointer.endpoints() is endpointer.endpoints()
    assert repr(endpointer) == "FixedEndpointer(2 endpoints)"


snapshots = st.lists(st.sets(st.sampled_from("abcdef")) | st.none(), max_size=30)


@settings(deadline=None)  # a loaded machine must not fail a correct run
@given(snapshots)
async def test_every_endpoint_made_is_closed_exactly_once(events: list[set[str] | None]) -> None:
    """F8: over any run of snapshots and errors, each endpoint made is closed exactly once."""
    cache, factory = InstanceCache(), CountingFactory()
    async with DefaultEndpointer(cache, factory) as endpointer:
        current: set[str] = set()
        for instances in events:
            if instances is None:
                cache.update(Event(error=SD_ERROR))
            else:
                cache.update(Event(instances))
                current = instances
            assert endpointer.instances == tuple(sorted(current))
            open_now = {i for i in factory.made if factory.made.count(i) > factory.closed[i]}
            assert open_now == current
    for instance in set(factory.made):
        assert factory.closed[instance] == factory.made.count(instance)
