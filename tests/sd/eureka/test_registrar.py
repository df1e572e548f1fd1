"""EurekaRegistrar against the fake server: register, heartbeat, re-register on 404, leave."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from pygokit.retry import Exponential
from pygokit.sd import WatcherDied
from pygokit.sd.eureka import EurekaClient, EurekaError, EurekaInstance, EurekaRegistrar
from pygokit.testing import CapturingLogger, FakeClock
from tests.sd.eureka.fake import FakeEureka, Fault

INSTANCE = EurekaInstance(app="addsvc", ip_addr="10.0.0.5", port=8080, renewal_interval=5)
BEAT = "/eureka/apps/ADDSVC/10.0.0.5:addsvc:8080"
REGISTER = "/eureka/apps/ADDSVC"


async def beat_until(clock: FakeClock, condition: Callable[[], bool]) -> None:
    """Let the heartbeat loop take one step after another until *condition* holds."""
    async with asyncio.timeout(10):
        while not condition():
            await clock.wait_for_sleepers(1)
            clock.advance(60)


def registrar_for(
    client: EurekaClient, clock: FakeClock, logger: CapturingLogger | None = None
) -> EurekaRegistrar:
    """A registrar that sleeps on *clock*, with backoff that does not jitter."""
    backoff = Exponential(initial=0.01, maximum=60.0, jitter=0)
    return EurekaRegistrar(client, INSTANCE, backoff=backoff, logger=logger, sleep=clock.sleep)


def registered(eureka: FakeEureka) -> bool:
    """Whether the fake lists INSTANCE."""
    return INSTANCE.instance_id in eureka.apps.get("ADDSVC", {})


async def test_register_heartbeats_every_renewal_interval_and_deregisters_on_exit(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """Registered at once, a heartbeat each renewal interval, and gone after the block."""
    clock, logger = FakeClock(), CapturingLogger()
    async with registrar_for(client, clock, logger) as registrar:
        await registrar.register()
        await registrar.register()
        assert registered(eureka)
        assert eureka.count("POST", REGISTER) == 1
        await clock.wait_for_sleepers(1)
        clock.advance(5)
        await eureka.wait_for(lambda: eureka.count("PUT", BEAT) == 1)
        await clock.wait_for_sleepers(1)
        assert eureka.count("PUT", BEAT) == 1  # nothing before the next interval
        clock.advance(5)
        await eureka.wait_for(lambda: eureka.count("PUT", BEAT) == 2)

    assert not registered(eureka)
    assert eureka.count("DELETE", BEAT) == 1
    assert logger.events == [
        {"service": "addsvc", "instance": "10.0.0.5:addsvc:8080", "action": "register"},
        {"service": "addsvc", "instance": "10.0.0.5:addsvc:8080", "action": "deregister"},
    ]


async def test_a_404_heartbeat_registers_again(eureka: FakeEureka, client: EurekaClient) -> None:
    """Evicted (the heartbeat gets 404): the loop registers the instance again (Go kit)."""
    clock, logger = FakeClock(), CapturingLogger()
    async with registrar_for(client, clock, logger) as registrar:
        await registrar.register()
        eureka.evict("addsvc", INSTANCE.instance_id)
        await beat_until(clock, lambda: registered(eureka))
        await beat_until(clock, lambda: eureka.count("PUT", BEAT) == 2)

    assert eureka.count("POST", REGISTER) == 2
    actions = [(event["action"], "err" in event) for event in logger.events]
    assert actions == [
        ("register", False),
        ("heartbeat", True),
        ("register", False),
        ("deregister", False),
    ]
    error = logger.events[1]["err"]
    assert isinstance(error, EurekaError)
    assert error.status == 404


async def test_other_heartbeat_failures_are_retried_without_registering_again(
    eureka: FakeEureka,
) -> None:
    """A 500 and a hang are logged and retried with backoff; no new registration."""
    clock, logger = FakeClock(), CapturingLogger()
    eureka.inject("PUT", Fault(status=500, body=b"oops"), Fault(hang=True))
    client = EurekaClient(eureka.url, timeout=0.1)
    async with client, registrar_for(client, clock, logger) as registrar:
        await registrar.register()
        await beat_until(clock, lambda: eureka.count("PUT", BEAT) == 3)
        await clock.wait_for_sleepers(1)

    assert eureka.count("POST", REGISTER) == 1
    assert [event["action"] for event in logger.events] == [
        "register",
        "heartbeat",
        "heartbeat",
        "deregister",
    ]
    assert "HTTP 500: oops" in str(logger.events[1]["err"])
    assert "did not answer" in str(logger.events[2]["err"])


async def test_a_failed_first_registration_is_retried(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """register() logs a failure instead of raising, and the loop registers once it can."""
    clock, logger = FakeClock(), CapturingLogger()
    eureka.inject("POST", Fault(status=503), Fault(status=503))
    async with registrar_for(client, clock, logger) as registrar:
        await registrar.register()
        assert not registered(eureka)
        await beat_until(clock, lambda: registered(eureka))

    assert [("err" in event) for event in logger.events] == [True, True, False, False]


async def test_deregister_is_idempotent_and_a_failure_is_logged(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """Deregistering twice removes once; a refused deregistration is logged, not raised."""
    clock, logger = FakeClock(), CapturingLogger()
    async with registrar_for(client, clock, logger) as registrar:
        await registrar.deregister()
        await registrar.register()
        await registrar.deregister()
        await registrar.deregister()
        assert not registered(eureka)
        await registrar.register()
        eureka.inject("DELETE", Fault(status=500, body=b"no"))

    assert eureka.count("DELETE", BEAT) == 2
    assert logger.events[-1]["action"] == "deregister"
    assert "HTTP 500: no" in str(logger.events[-1]["err"])


async def test_register_needs_the_async_with_block(client: EurekaClient) -> None:
    """Registering outside ``async with`` is a RuntimeError, before any request."""
    registrar = EurekaRegistrar(client, INSTANCE)
    with pytest.raises(RuntimeError, match="enter it with 'async with'"):
        await registrar.register()
    assert repr(registrar) == f"EurekaRegistrar('10.0.0.5:addsvc:8080', {client!r})"


async def test_a_heartbeat_loop_that_dies_surfaces_on_exit(client: EurekaClient) -> None:
    """A bug in the loop (here: its client was closed under it) is a WatcherDied."""
    clock = FakeClock()
    ready = asyncio.Event()

    async def serve() -> None:
        async with registrar_for(client, clock) as registrar:
            await registrar.register()
            ready.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(serve())
    await ready.wait()
    await client.aclose()
    await clock.wait_for_sleepers(1)
    clock.advance(60)
    with pytest.raises(WatcherDied, match="heartbeat loop of eureka registrar"):
        await task
