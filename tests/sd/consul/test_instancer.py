"""ConsulInstancer against the fake agent: snapshots, blocking, filters, faults, recovery."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.retry import Exponential
from pygokit.sd import Event
from pygokit.sd.consul import ConsulClient, ConsulError, ConsulInstancer
from pygokit.testing import CapturingLogger, FakeClock
from tests.sd.consul.fake import FakeConsul, FakeService, Fault
from tests.sd.helpers import EventRecorder

HEALTH = "/v1/health/service/web"
NO_JITTER = Exponential(initial=0.01, maximum=60.0, jitter=0)


class Sleeps:
    """A sleep that records each delay asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        """Record *seconds*, then only yield to the loop."""
        self.delays.append(seconds)
        await asyncio.sleep(0)


def instancer_for(client: ConsulClient, sleeps: Sleeps, **kwargs: object) -> ConsulInstancer:
    """An instancer of service 'web' with deterministic backoff and recorded sleeps."""
    options: dict[str, object] = {"backoff": NO_JITTER, "clock": FakeClock(), "wait": 30.0}
    options.update(kwargs)
    return ConsulInstancer(client, "web", sleep=sleeps, **options)  # type: ignore[arg-type]


async def test_entering_publishes_the_passing_instances(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """After entering, the state is the passing instances as address:port, sorted."""
    consul.add(FakeService("b", "web", "10.0.0.2", 80), status="passing")
    consul.add(FakeService("a", "web", "", 81), status="passing")
    consul.add(FakeService("c", "web", "10.0.0.3", 80), status="critical")

    async with instancer_for(client, Sleeps()) as instancer:
        assert instancer.state == Event(["10.0.0.2:80", "127.0.0.1:81"])


async def test_changes_arrive_through_blocking_queries(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """A registration and a failing check each wake the blocked query: no polling."""
    consul.add(FakeService("a", "web", "10.0.0.1", 80), status="passing")
    recorder = EventRecorder()
    async with instancer_for(client, Sleeps()) as instancer:
        instancer.register(recorder)
        first_index = consul.index
        await consul.wait_for(lambda: consul.count("GET", HEALTH) == 2)

        consul.add(FakeService("b", "web", "10.0.0.2", 80), status="passing")
        await recorder.wait_for(lambda event: len(event.instances) == 2)
        consul.set_status("a", "critical")
        await recorder.wait_for(lambda event: event.instances == ("10.0.0.2:80",))

    assert recorder.events == [
        Event(["10.0.0.1:80"]),
        Event(["10.0.0.1:80", "10.0.0.2:80"]),
        Event(["10.0.0.2:80"]),
    ]
    queries = [r.query for r in consul.requests if r.path == HEALTH]
    assert queries[0] == {"passing": "true"}
    assert queries[1] == {"passing": "true", "index": str(first_index), "wait": "30000ms"}
    assert len(queries) <= 4


async def test_the_first_tag_goes_to_consul_and_all_tags_are_required(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """Consul filters on the first tag; the instancer keeps only instances with every tag."""
    consul.add(FakeService("a", "web", "10.0.0.1", 80, ["v1", "eu"]), status="passing")
    consul.add(FakeService("b", "web", "10.0.0.2", 80, ["v1"]), status="passing")
    consul.add(FakeService("c", "web", "10.0.0.3", 80, ["eu"]), status="passing")

    async with instancer_for(client, Sleeps(), tags=["v1", "eu"]) as instancer:
        assert instancer.state == Event(["10.0.0.1:80"])
        assert instancer.tags == ("v1", "eu")
    assert consul.requests[0].query == {"tag": "v1", "passing": "true"}


async def test_without_passing_only_every_instance_counts(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """passing_only=False asks for and keeps instances whatever their health."""
    consul.add(FakeService("a", "web", "10.0.0.1", 80), status="critical")

    async with instancer_for(client, Sleeps(), passing_only=False) as instancer:
        assert instancer.state == Event(["10.0.0.1:80"])
    assert consul.requests[0].query == {}


async def test_passing_only_also_filters_what_consul_sends(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """An entry with a failing check is dropped even if Consul (here: a proxy) sent it."""
    body = (
        b'[{"Node": {"Address": "n"}, "Service": {"Address": "a", "Port": 1},'
        b' "Checks": [{"CheckID": "c", "Status": "warning"}]}]'
    )
    consul.inject("GET /v1/health", Fault(body=body))
    async with instancer_for(client, Sleeps()) as instancer:
        assert instancer.state == Event([])


async def test_errors_are_published_backed_off_and_recovered_from(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """F9: 500s become one error event and a doubling backoff; the next answer recovers."""
    consul.add(FakeService("a", "web", "10.0.0.1", 80), status="passing")
    consul.inject("GET /v1/health", *[Fault(status=500, body=b"rpc error")] * 5)
    sleeps, recorder, logger = Sleeps(), EventRecorder(), CapturingLogger()

    instancer = instancer_for(client, sleeps, logger=logger)
    instancer.register(recorder)
    async with instancer:
        await recorder.wait_for(lambda event: event.instances == ("10.0.0.1:80",))

    error = recorder.events[1].error
    assert isinstance(error, ConsulError)
    assert error.status == 500
    assert recorder.events == [Event(), Event(error=error), Event(["10.0.0.1:80"])]
    assert sleeps.delays[:5] == [0.01, 0.02, 0.04, 0.08, 0.16]
    assert consul.count("GET", HEALTH) >= 6
    assert len(logger.events) == 5
    assert logger.events[0]["service"] == "web"
    assert logger.events[0]["err"] is error


async def test_a_hanging_query_times_out_into_an_error_event(consul: FakeConsul) -> None:
    """F9: a query Consul never answers ends at the client timeout as an error, then recovers."""
    consul.add(FakeService("a", "web", "10.0.0.1", 80), status="passing")
    consul.inject("GET /v1/health", Fault(hang=True))
    recorder = EventRecorder()
    async with ConsulClient(consul.url, timeout=0.2) as client:
        instancer = instancer_for(client, Sleeps())
        instancer.register(recorder)
        async with instancer:
            assert instancer.state.error is not None
            assert "did not answer" in str(instancer.state.error)
            await recorder.wait_for(lambda event: event.instances == ("10.0.0.1:80",))


async def test_index_zero_backs_off_and_waits_on_index_one(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """F9: an index of 0 (or none) is not sane: back off, then block on index 1."""
    consul.add(FakeService("a", "web", "10.0.0.1", 80), status="passing")
    consul.inject("GET /v1/health", Fault(index=0), Fault(no_index=True))
    sleeps, logger = Sleeps(), CapturingLogger()

    async with instancer_for(client, sleeps, logger=logger) as instancer:
        assert instancer.state == Event(["10.0.0.1:80"])
        await consul.wait_for(lambda: consul.count("GET", HEALTH) == 4)

    queries = [r.query.get("index") for r in consul.requests]
    assert queries[:4] == [None, "1", "1", str(consul.index)]
    assert sleeps.delays[:2] == [0.01, 0.02]
    assert logger.events[0]["err"] == "index 0 is not sane; waiting on index 1"


async def test_an_index_going_backwards_starts_over(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """F9: an index lower than the last one resets the query, after a backoff."""
    consul.add(FakeService("a", "web", "10.0.0.1", 80), status="passing")
    start = consul.index
    consul.inject("GET /v1/health", Fault(), Fault(index=3))
    sleeps, logger = Sleeps(), CapturingLogger()

    async with instancer_for(client, sleeps, logger=logger) as instancer:
        await consul.wait_for(lambda: consul.count("GET", HEALTH) == 3)
        assert instancer.state == Event(["10.0.0.1:80"])

    queries = [r.query.get("index") for r in consul.requests]
    assert queries[:3] == [None, str(start), "1"]
    assert logger.events == [
        {
            "service": "web",
            "tags": [],
            "err": f"index went backwards from {start} to 3; starting over",
        }
    ]
    assert sleeps.delays[:2] == [0.1, 0.01]  # min_interval after a good answer, then backoff


async def test_answers_that_come_at_once_are_spaced_by_min_interval(
    consul: FakeConsul, client: ConsulClient
) -> None:
    """Never spins: even when every answer is immediate, queries start min_interval apart."""
    consul.inject("GET /v1/health", *[Fault()] * 3)  # answered at once, sane index
    sleeps = Sleeps()

    async with instancer_for(client, sleeps, min_interval=0.25):
        await consul.wait_for(lambda: consul.count("GET", HEALTH) == 4)

    assert sleeps.delays[:3] == [0.25, 0.25, 0.25]


async def test_leaving_stops_the_blocked_query(consul: FakeConsul, client: ConsulClient) -> None:
    """Leaving cancels the query Consul is holding; nothing is left running."""
    instancer = instancer_for(client, Sleeps())
    async with instancer:
        await consul.wait_for(lambda: consul.count("GET", HEALTH) == 2)
    requests = len(consul.requests)
    await asyncio.sleep(0.05)
    assert len(consul.requests) == requests
    assert repr(instancer) == "ConsulInstancer(\"consul instancer 'web' tags=[]\", Event([]))"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"service": ""}, ValueError, "service must be"),
        ({"tags": "v1"}, TypeError, "tags must be"),
        ({"wait": 0}, ValueError, "wait must be"),
        ({"wait": 601}, ValueError, "wait must be"),
        ({"min_interval": -1}, ValueError, "min_interval must be"),
    ],
)
def test_bad_arguments_are_refused(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    """The constructor checks its arguments and does no I/O."""
    options: dict[str, object] = {"service": "web"}
    options.update(kwargs)
    with pytest.raises(error, match=message):
        ConsulInstancer(ConsulClient(), **options)  # type: ignore[arg-type]
