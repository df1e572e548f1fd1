"""DNSSRVInstancer against a real DNS server on loopback whose records the tests change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import dns.asyncresolver
import dns.exception
import dns.resolver
import pytest
from dnslib import QTYPE, RCODE, RR, SRV, DNSRecord

from pygokit.retry import Constant, Exponential
from pygokit.sd import Event
from pygokit.sd.dnssrv import DNSSRVInstancer, SRVPortZero
from pygokit.testing import CapturingLogger, FakeClock
from tests.sd.helpers import EventRecorder

NAME = "_http._tcp.sum.test"
TIMEOUT_S = 10


class SRVServer(asyncio.DatagramProtocol):
    """An authoritative DNS server for SRV names, on a free UDP port of 127.0.0.1.

    ``records`` maps an SRV name (no trailing dot) to its ``(target, port)`` pairs; a
    name that is missing gets NXDOMAIN. With ``silent`` set, queries go unanswered.
    """

    def __init__(self) -> None:
        self.records: dict[str, list[tuple[str, int]]] = {}
        self.ttl = 30
        self.silent = False
        self.queries = 0
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport to answer on."""
        self._transport = cast(asyncio.DatagramTransport, transport)

    @property
    def port(self) -> int:
        """The UDP port the server listens on."""
        assert self._transport is not None
        port: int = self._transport.get_extra_info("sockname")[1]
        return port

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        """Answer one query from ``records``."""
        self.queries += 1
        if self.silent or self._transport is None:
            return
        request = DNSRecord.parse(data)
        reply = request.reply()
        name = str(request.q.qname).rstrip(".")
        if name not in self.records:
            reply.header.rcode = RCODE.NXDOMAIN
        for target, port in self.records.get(name, []):
            rdata = SRV(priority=10, weight=5, port=port, target=target)
            reply.add_answer(RR(request.q.qname, QTYPE.SRV, ttl=self.ttl, rdata=rdata))
        self._transport.sendto(reply.pack(), addr)


@pytest.fixture
async def server() -> AsyncIterator[SRVServer]:
    """A running SRVServer, closed after the test."""
    loop = asyncio.get_running_loop()
    transport, server = await loop.create_datagram_endpoint(SRVServer, local_addr=("127.0.0.1", 0))
    yield server
    transport.close()


@pytest.fixture
def resolver(server: SRVServer) -> dns.asyncresolver.Resolver:
    """A dnspython resolver that asks only the test server."""
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = server.port
    return resolver


class Sleeps:
    """A FakeClock sleep that also records how long each wait was."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        """Record *seconds*, then wait for the fake clock to pass them."""
        self.waits.append(seconds)
        await self.clock.sleep(seconds)

    async def next_wait(self, advance: float) -> float:
        """Advance the clock by *advance* and return the wait the instancer starts next."""
        count = len(self.waits)
        self.clock.advance(advance)
        await self.clock.wait_for_sleepers(1)
        assert len(self.waits) == count + 1
        return self.waits[-1]


async def test_publishes_each_target_and_port_without_the_trailing_dot(
    server: SRVServer, resolver: dns.asyncresolver.Resolver
) -> None:
    """Entering returns with target:port of every record, as Go kit's net.LookupSRV gives them."""
    server.records[NAME] = [("b.sum.test.", 8081), ("a.sum.test.", 8080)]
    async with asyncio.timeout(TIMEOUT_S), DNSSRVInstancer(NAME, resolver=resolver) as instancer:
        assert instancer.state == Event(["a.sum.test:8080", "b.sum.test:8081"])
        assert instancer.srv_name == NAME


async def test_polling_sees_additions_and_removals(
    server: SRVServer, resolver: dns.asyncresolver.Resolver
) -> None:
    """Each poll, one interval after the last, publishes the records as they are now."""
    server.records[NAME] = [("a.sum.test", 8080)]
    sleeps, recorder = Sleeps(), EventRecorder()
    instancer = DNSSRVInstancer(NAME, interval=10, resolver=resolver, sleep=sleeps)
    async with asyncio.timeout(TIMEOUT_S), instancer:
        instancer.register(recorder)
        await sleeps.clock.wait_for_sleepers(1)
        assert sleeps.waits == [10]

        server.records[NAME].append(("b.sum.test", 8081))
        assert await sleeps.next_wait(10) == 10
        assert recorder.last == Event(["a.sum.test:8080", "b.sum.test:8081"])

        server.records[NAME] = [("b.sum.test", 8081)]
        await sleeps.next_wait(10)
        assert recorder.events == [
            Event(["a.sum.test:8080"]),
            Event(["a.sum.test:8080", "b.sum.test:8081"]),
            Event(["b.sum.test:8081"]),
        ]
        assert server.queries == 3


async def test_nxdomain_publishes_an_error_backs_off_and_recovers(
    server: SRVServer, resolver: dns.asyncresolver.Resolver
) -> None:
    """NXDOMAIN: one error event, retries at growing intervals, then the records once back."""
    sleeps, recorder, logger = Sleeps(), EventRecorder(), CapturingLogger()
    backoff = Exponential(initial=1, multiplier=2, maximum=8, jitter=0)
    instancer = DNSSRVInstancer(
        NAME, interval=8, resolver=resolver, backoff=backoff, sleep=sleeps, logger=logger
    )
    async with asyncio.timeout(TIMEOUT_S), instancer:
        instancer.register(recorder)
        assert isinstance(instancer.state.error, dns.resolver.NXDOMAIN)
        await sleeps.clock.wait_for_sleepers(1)
        assert await sleeps.next_wait(1) == 2
        assert await sleeps.next_wait(2) == 4
        assert len(recorder.events) == 1  # the same error is not published again

        server.records[NAME] = [("a.sum.test", 8080)]
        assert await sleeps.next_wait(4) == 8
        assert recorder.events[1:] == [Event(["a.sum.test:8080"])]
    assert sleeps.waits == [1, 2, 4, 8]
    assert [event["name"] for event in logger.events] == [NAME] * 3
    assert all(isinstance(event["err"], dns.resolver.NXDOMAIN) for event in logger.events)


async def test_a_name_without_srv_records_is_an_error(
    server: SRVServer, resolver: dns.asyncresolver.Resolver
) -> None:
    """A name that exists but has no SRV record publishes NoAnswer (Go kit publishes the error)."""
    server.records[NAME] = []
    async with asyncio.timeout(TIMEOUT_S), DNSSRVInstancer(NAME, resolver=resolver) as instancer:
        assert isinstance(instancer.state.error, dns.resolver.NoAnswer)


async def test_a_server_that_does_not_answer_times_out_then_recovers(
    server: SRVServer, resolver: dns.asyncresolver.Resolver
) -> None:
    """No answer within timeout: a timeout error event; the next retry finds the records."""
    server.records[NAME] = [("a.sum.test", 8080)]
    server.silent = True
    sleeps = Sleeps()
    instancer = DNSSRVInstancer(
        NAME, resolver=resolver, timeout=0.2, backoff=Constant(1), sleep=sleeps
    )
    async with asyncio.timeout(TIMEOUT_S), instancer:
        assert isinstance(instancer.state.error, dns.exception.Timeout)
        assert server.queries >= 1

        server.silent = False
        await sleeps.clock.wait_for_sleepers(1)
        await sleeps.next_wait(1)
        assert instancer.state == Event(["a.sum.test:8080"])


@pytest.mark.parametrize(
    ("respect_ttl", "ttl", "wait"),
    [(False, 60, 10), (True, 60, 60), (True, 0, 10)],
    ids=["ignored", "longer-than-interval", "zero"],
)
async def test_the_wait_after_a_lookup_respects_the_ttl_only_when_asked(
    server: SRVServer,
    resolver: dns.asyncresolver.Resolver,
    respect_ttl: bool,
    ttl: int,
    wait: float,
) -> None:
    """The next lookup comes after interval, or after max(interval, TTL) with respect_ttl."""
    server.records[NAME] = [("a.sum.test", 8080)]
    server.ttl = ttl
    sleeps = Sleeps()
    instancer = DNSSRVInstancer(
        NAME, interval=10, respect_ttl=respect_ttl, resolver=resolver, sleep=sleeps
    )
    async with asyncio.timeout(TIMEOUT_S), instancer:
        await sleeps.clock.wait_for_sleepers(1)
        assert sleeps.waits == [wait]
        sleeps.clock.advance(wait - 1)
        await asyncio.sleep(0)
        assert server.queries == 1
        await sleeps.next_wait(1)
        assert server.queries == 2


async def test_a_record_with_port_zero_fails_the_lookup(
    server: SRVServer, resolver: dns.asyncresolver.Resolver
) -> None:
    """Port 0 is Go kit's ErrPortZero: an error event naming the record, not an instance."""
    server.records[NAME] = [("a.sum.test", 8080), ("b.sum.test", 0)]
    async with asyncio.timeout(TIMEOUT_S), DNSSRVInstancer(NAME, resolver=resolver) as instancer:
        error = instancer.state.error
    assert isinstance(error, SRVPortZero)
    assert (error.name, error.target) == (NAME, "b.sum.test")
    assert str(error) == (
        f"SRV record of {NAME} points at b.sum.test with port 0; fix the record in the zone"
    )


async def test_a_root_target_means_no_instances(
    server: SRVServer, resolver: dns.asyncresolver.Resolver
) -> None:
    """A target of '.' is RFC 2782's "service not available": no instances, and no error."""
    server.records[NAME] = [(".", 0)]
    async with asyncio.timeout(TIMEOUT_S), DNSSRVInstancer(NAME, resolver=resolver) as instancer:
        assert instancer.state == Event([])
        assert server.queries == 1


async def test_without_a_resolver_the_default_one_is_used(
    server: SRVServer, resolver: dns.asyncresolver.Resolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With resolver=None the instancer asks dnspython's default (system) resolver."""
    monkeypatch.setattr(dns.asyncresolver, "default_resolver", resolver)
    server.records[NAME] = [("a.sum.test", 8080)]
    async with asyncio.timeout(TIMEOUT_S), DNSSRVInstancer(NAME) as instancer:
        assert instancer.state == Event(["a.sum.test:8080"])


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("", {}, "must be an SRV name"),
        ("..", {}, "must be an SRV name"),
        ("a..b", {}, "is not a valid DNS name"),
        ("x" * 64 + ".test", {}, "is not a valid DNS name"),
        (NAME, {"interval": 0}, "interval must be a positive number of seconds"),
        (NAME, {"timeout": float("inf")}, "timeout must be a positive number of seconds"),
    ],
)
def test_bad_arguments_are_refused(name: str, options: dict[str, Any], message: str) -> None:
    """The constructor rejects names that are not DNS names and non-positive durations."""
    with pytest.raises(ValueError, match=message):
        DNSSRVInstancer(name, **options)
