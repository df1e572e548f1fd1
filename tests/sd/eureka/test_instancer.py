"""EurekaInstancer against the fake server: UP instances, polling, faults, recovery."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.retry import Exponential
from pygokit.sd import Event
from pygokit.sd.eureka import EurekaClient, EurekaError, EurekaInstancer
from pygokit.testing import CapturingLogger, FakeClock
from tests.sd.eureka.fake import FakeEureka, Fault
from tests.sd.helpers import EventRecorder

LISTING = "/eureka/apps/ADDSVC"


def instancer_for(
    client: EurekaClient, clock: FakeClock, logger: CapturingLogger | None = None
) -> EurekaInstancer:
    """An instancer of app 'addsvc' polling every 30 s of *clock*, backoff without jitter."""
    backoff = Exponential(initial=0.01, maximum=60.0, jitter=0)
    return EurekaInstancer(client, "addsvc", backoff=backoff, logger=logger, sleep=clock.sleep)


async def poll(clock: FakeClock, eureka: FakeEureka, seconds: float = 30.0) -> None:
    """Let the instancer's sleep run out, and wait until it fetched again and sleeps."""
    fetches = eureka.count("GET", LISTING)
    await clock.wait_for_sleepers(1)
    clock.advance(seconds)
    await eureka.wait_for(lambda: eureka.count("GET", LISTING) == fetches + 1)
    await clock.wait_for_sleepers(1)


async def test_only_up_instances_are_published_as_ip_and_port(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """After entering, the state is the UP instances as ipAddr:port."""
    eureka.add("addsvc", "10.0.0.1", 80)
    eureka.add("addsvc", "10.0.0.2", 80, status="STARTING")
    eureka.add("other", "10.0.0.3", 80)

    async with instancer_for(client, FakeClock()) as instancer:
        assert instancer.state == Event(["10.0.0.1:80"])


async def test_each_poll_publishes_the_changes(eureka: FakeEureka, client: EurekaClient) -> None:
    """Every interval the app is fetched again; changes reach subscribers, repeats do not."""
    clock, recorder = FakeClock(), EventRecorder()
    eureka.add("addsvc", "10.0.0.1", 80)
    async with instancer_for(client, clock) as instancer:
        instancer.register(recorder)
        eureka.add("addsvc", "10.0.0.2", 80)
        await poll(clock, eureka)
        await poll(clock, eureka)
        eureka.set_status("addsvc", "10.0.0.1:80", "OUT_OF_SERVICE")
        await poll(clock, eureka)
        eureka.evict("addsvc", "10.0.0.2:80")
        await poll(clock, eureka)

    assert recorder.events == [
        Event(["10.0.0.1:80"]),
        Event(["10.0.0.1:80", "10.0.0.2:80"]),
        Event(["10.0.0.2:80"]),
        Event([]),
    ]


async def test_errors_are_published_backed_off_and_recovered_from(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """500s become one error event and a doubling backoff; the next good fetch recovers."""
    clock, recorder, logger = FakeClock(auto_advance=True), EventRecorder(), CapturingLogger()
    eureka.add("addsvc", "10.0.0.1", 80)
    eureka.inject("GET", *[Fault(status=500, body=b"down")] * 3)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if seconds < 30:
            await clock.sleep(seconds)
        else:
            await asyncio.Event().wait()  # the regular interval: stop here

    instancer = EurekaInstancer(
        client, "addsvc", backoff=Exponential(initial=0.01, jitter=0), logger=logger, sleep=sleep
    )
    instancer.register(recorder)
    async with instancer:
        await recorder.wait_for(lambda event: event == Event(["10.0.0.1:80"]))

    error = recorder.events[1].error
    assert isinstance(error, EurekaError)
    assert error.status == 500
    assert recorder.events == [Event(), Event(error=error), Event(["10.0.0.1:80"])]
    assert sleeps == [0.01, 0.02, 0.04, 30.0]
    assert [str(event["err"]) for event in logger.events] == [str(error)] * 3
    assert logger.events[0]["app"] == "addsvc"


async def test_a_hanging_fetch_times_out_into_an_error_event(eureka: FakeEureka) -> None:
    """A fetch Eureka never answers is an error event at the client's timeout."""
    eureka.inject("GET", Fault(hang=True))
    client = EurekaClient(eureka.url, timeout=0.1)
    async with client, instancer_for(client, FakeClock()) as instancer:
        assert "did not answer GET /apps/ADDSVC" in str(instancer.state.error)


async def test_the_backoff_never_exceeds_the_interval(
    eureka: FakeEureka, client: EurekaClient
) -> None:
    """After many failures the retries come no slower than the regular polls."""
    clock = FakeClock()
    eureka.inject("GET", *[Fault(status=500)] * 20)
    instancer = EurekaInstancer(client, "addsvc", interval=0.5, sleep=clock.sleep)
    async with instancer:
        for _ in range(12):
            await poll(clock, eureka, seconds=0.5)
        assert instancer.state.error is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"app": ""}, "app must be"), ({"app": "a", "interval": 0}, "interval must be")],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    """The constructor checks its arguments and does no I/O."""
    with pytest.raises(ValueError, match=message):
        EurekaInstancer(EurekaClient("http://e/eureka"), **kwargs)  # type: ignore[arg-type]
