"""ConsulRegistrar against the fake agent: register, heartbeat, re-register, deregister."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from pygokit.retry import Exponential
from pygokit.sd import WatcherDied
from pygokit.sd.consul import (
    ConsulClient,
    ConsulError,
    ConsulRegistrar,
    HTTPCheck,
    ServiceRegistration,
    TTLCheck,
)
from pygokit.testing import CapturingLogger, FakeClock
from tests.sd.consul.fake import FakeConsul, Fault

TTL = ServiceRegistration(name="web", address="10.0.0.1", port=80, check=TTLCheck(ttl=3.0))
PASS = "/v1/agent/check/pass/service:web-10.0.0.1-80"
REGISTER = "/v1/agent/service/register"


async def beat_until(clock: FakeClock, condition: Callable[[], bool]) -> None:
    """Let the registrar's loop take one step after another until *condition* holds."""
    async with asyncio.timeout(10):
        while not condition():
            await clock.wait_for_sleepers(1)
            clock.advance(60)


def registrar_for(
    client: ConsulClient,
    clock: FakeClock,
    registration: ServiceRegistration = TTL,
    logger: CapturingLogger | None = None,
) -> ConsulRegistrar:
    """A registrar that sleeps on *clock*, with backoff that does not jitter."""
    backoff = Exponential(initial=0.01, maximum=60.0, jitter=0)
    return ConsulRegistrar(client, registration, backoff=backoff, logger=logger, sleep=clock.sleep)


async def test_register_passes_the_ttl_check_heartbeats_and_deregisters_on_exit(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """The instance is passing at once, the check is passed every TTL/3, and leaving removes it."""
    clock, logger = FakeClock(), CapturingLogger()
    async with registrar_for(client, clock, logger=logger) as registrar:
        await registrar.register()
        await registrar.register()
        service = consul.services[TTL.id]
        assert service.check is not None
        assert service.check["Status"] == "passing"
        assert consul.count("PUT", REGISTER) == 1

        await clock.wait_for_sleepers(1)
        assert clock.sleepers == 1
        clock.advance(1.0)
        await consul.wait_for(lambda: consul.count("PUT", PASS) == 2)

    assert consul.services == {}
    assert logger.events == [
        {"service": "web", "instance": "web-10.0.0.1-80", "action": "register"},
        {"service": "web", "instance": "web-10.0.0.1-80", "action": "deregister"},
    ]


async def test_a_reaped_instance_is_registered_again(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """The agent forgot the service (the pass gets 404): the loop registers it again."""
    clock, logger = FakeClock(), CapturingLogger()
    async with registrar_for(client, clock, logger=logger) as registrar:
        await registrar.register()
        consul.remove(TTL.id)  # reaped after deregister_critical_after
        await beat_until(clock, lambda: consul.count("PUT", REGISTER) == 2)
        await consul.wait_for(lambda: consul.count("PUT", PASS) == 3)
        service = consul.services[TTL.id]
        assert service.check is not None
        assert service.check["Status"] == "passing"

    actions = [(event["action"], type(event.get("err"))) for event in logger.events]
    assert actions == [
        ("register", type(None)),
        ("heartbeat", ConsulError),
        ("register", type(None)),
        ("deregister", type(None)),
    ]
    error = logger.events[1]["err"]
    assert isinstance(error, ConsulError)
    assert error.status == 404


async def test_an_error_answer_to_the_pass_also_registers_again(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """Older agents answer 500 for an unknown check: that re-registers too."""
    clock = FakeClock()
    async with registrar_for(client, clock) as registrar:
        await registrar.register()
        consul.inject("PUT /v1/agent/check/pass", Fault(status=500, body=b"CheckID unknown"))
        await beat_until(clock, lambda: consul.count("PUT", REGISTER) == 2)


async def test_an_unreachable_agent_is_retried_without_registering_again(
    consul: FakeConsul,
) -> None:
    """A pass that gets no answer is retried with backoff; the registration is left alone."""
    clock, logger = FakeClock(), CapturingLogger()
    client = ConsulClient(consul.url, timeout=0.1)
    async with client, registrar_for(client, clock, logger=logger) as registrar:
        await registrar.register()
        consul.inject("PUT /v1/agent/check/pass", Fault(hang=True), Fault(hang=True))
        await beat_until(clock, lambda: consul.count("PUT", PASS) == 4)
        await clock.wait_for_sleepers(1)

    assert consul.count("PUT", REGISTER) == 1
    assert [event["action"] for event in logger.events] == [
        "register",
        "heartbeat",
        "heartbeat",
        "deregister",
    ]


async def test_a_failed_first_registration_is_retried(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """register() logs a failure instead of raising, and the loop registers once it can."""
    clock, logger = FakeClock(), CapturingLogger()
    consul.inject("PUT /v1/agent/service/register", Fault(status=500), Fault(status=500))
    async with registrar_for(client, clock, logger=logger) as registrar:
        await registrar.register()
        assert consul.services == {}
        await beat_until(clock, lambda: TTL.id in consul.services)
        await consul.wait_for(lambda: consul.count("PUT", PASS) == 1)

    assert [event["action"] for event in logger.events] == [
        "register",
        "register",
        "register",
        "deregister",
    ]
    assert [bool(event.get("err")) for event in logger.events] == [True, True, False, False]


async def test_without_a_ttl_the_loop_checks_the_agent_still_knows_the_service(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """With an HTTP check there is nothing to pass: the loop looks the service up instead."""
    clock = FakeClock()
    registration = ServiceRegistration(
        name="web", id="w1", port=80, check=HTTPCheck(url="http://10.0.0.1/health")
    )
    async with registrar_for(client, clock, registration) as registrar:
        await registrar.register()
        await beat_until(clock, lambda: consul.count("GET", "/v1/agent/service/w1") == 1)
        consul.remove("w1")
        await beat_until(clock, lambda: "w1" in consul.services)

    assert consul.count("PUT", REGISTER) == 2
    assert not any(r.path.startswith("/v1/agent/check/pass") for r in consul.requests)


async def test_deregister_is_idempotent_and_register_works_again(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """Deregister twice removes once; a later register starts over."""
    clock = FakeClock()
    async with registrar_for(client, clock) as registrar:
        await registrar.deregister()
        await registrar.register()
        await registrar.deregister()
        await registrar.deregister()
        assert consul.services == {}
        await registrar.register()
        assert TTL.id in consul.services

    assert consul.count("PUT", "/v1/agent/service/deregister/web-10.0.0.1-80") == 2


async def test_a_failed_deregistration_is_logged_not_raised(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """Leaving while the agent refuses the deregistration logs the error and still stops."""
    clock, logger = FakeClock(), CapturingLogger()
    async with registrar_for(client, clock, logger=logger) as registrar:
        await registrar.register()
        consul.inject("PUT /v1/agent/service/deregister", Fault(status=500, body=b"boom"))

    assert logger.events[-1]["action"] == "deregister"
    assert "HTTP 500: boom" in str(logger.events[-1]["err"])


async def test_register_needs_the_async_with_block(client: ConsulClient) -> None:
    """Registering outside ``async with`` is a RuntimeError, before any request."""
    registrar = ConsulRegistrar(client, TTL)
    with pytest.raises(RuntimeError, match="enter it with 'async with'"):
        await registrar.register()
    assert repr(registrar) == f"ConsulRegistrar('web-10.0.0.1-80', {client!r})"


async def test_a_heartbeat_loop_that_dies_surfaces_on_exit(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """A bug in the loop (here: its client was closed under it) is a WatcherDied for the owner."""
    clock = FakeClock()
    registered = asyncio.Event()

    async def serve() -> None:
        async with registrar_for(client, clock) as registrar:
            await registrar.register()
            registered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(serve())
    await registered.wait()
    await client.aclose()
    await clock.wait_for_sleepers(1)
    clock.advance(60)
    with pytest.raises(WatcherDied, match="heartbeat loop of consul registrar") as caught:
        await task
    assert isinstance(caught.value.__cause__, RuntimeError)


@pytest.mark.parametrize(
    ("registration", "interval"),
    [(TTL, 3.0), (TTL, 0), (ServiceRegistration(name="web"), float("inf"))],
)
def test_an_interval_must_be_positive_and_below_the_ttl(
    client: ConsulClient, registration: ServiceRegistration, interval: float
) -> None:
    """A heartbeat no more often than the TTL would let the check go critical: refused."""
    with pytest.raises(ValueError, match="interval must be"):
        ConsulRegistrar(client, registration, interval=interval)
