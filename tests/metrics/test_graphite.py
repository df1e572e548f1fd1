"""Graphite: exact plaintext lines, per-interval quantiles, conformance and TCP faults."""

from __future__ import annotations

import asyncio
import math

import pytest

from pygokit.metrics import Counter, Gauge, Histogram
from pygokit.metrics.graphite import DEFAULT_QUANTILES, Graphite
from pygokit.metrics.push import PushLoop, TCPSender
from pygokit.testing import FakeClock
from pygokit.testing.metrics import QUANTILES, check_counter, check_gauge, check_histogram
from pygokit.transport import ErrorHandlerFunc
from pygokit.util.conn import ConnectionUnavailable, Manager, tcp
from tests.metrics.receivers import (
    WAIT,
    CountingSender,
    TCPReceiver,
    free_port,
    tcp_pipe,
    udp_pipe,
)

NOW = 1767225600.75
"""The fixed wall-clock time of these tests; lines carry it in whole seconds."""


def graphite(prefix: str = "") -> Graphite:
    """A Graphite backend whose clock always says `NOW`."""
    return Graphite(prefix, time_s=lambda: NOW)


def values(lines: list[str]) -> dict[str, float]:
    """Name to value, checking each line is ``name value 1767225600``."""
    parsed: dict[str, float] = {}
    for line in lines:
        name, value, timestamp = line.split(" ")
        assert timestamp == "1767225600"
        parsed[name] = float(value)
    return parsed


def test_metrics_implement_the_interfaces_and_ignore_labels() -> None:
    """Counter, gauge and histogram fit the protocols; labels return the metric itself."""
    backend = graphite()
    counter, gauge, histogram = backend.counter("c"), backend.gauge("g"), backend.histogram("h")
    assert isinstance(counter, Counter)
    assert isinstance(gauge, Gauge)
    assert isinstance(histogram, Histogram)
    assert counter.labels(a="1") is counter
    assert gauge.with_("a", "1") is gauge
    assert histogram.labels(a="1").with_("b") is histogram
    assert backend.counter("c") is counter
    assert backend.histogram("h") is histogram
    assert histogram.quantiles == DEFAULT_QUANTILES
    assert repr(counter) == "Counter('c')"
    assert repr(backend) == "Graphite(prefix='', metrics=3)"


async def test_push_loop_over_tcp_ships_exact_lines_each_interval() -> None:
    """Every interval: counter deltas (0 when idle), gauges once set, and quantiles of the
    interval's observations; the timestamp is the drain's wall-clock second."""
    clock = FakeClock()
    backend = graphite("svc.")
    hits, temp, latency = backend.counter("hits"), backend.gauge("temp"), backend.histogram("lat")
    async with (
        TCPReceiver() as receiver,
        Manager(tcp("127.0.0.1", receiver.port), clock=clock, sleep=clock.sleep) as manager,
    ):
        sender = CountingSender(TCPSender(manager))
        async with PushLoop(backend, sender, interval=10, sleep=clock.sleep):
            hits.add(3)
            for _ in range(10):
                latency.observe(7)
            await clock.wait_for_sleepers(1)
            clock.advance(10)
            await clock.wait_for_sleepers(1)
            await receiver.wait_for_bytes(sender.bytes_sent)
            assert receiver.take_lines() == [
                "svc.hits 3 1767225600",
                "svc.lat.p50 7 1767225600",
                "svc.lat.p90 7 1767225600",
                "svc.lat.p95 7 1767225600",
                "svc.lat.p99 7 1767225600",
            ]

            temp.set(-21.5)
            clock.advance(10)
            await clock.wait_for_sleepers(1)
            await receiver.wait_for_bytes(sender.bytes_sent)
            assert receiver.take_lines() == ["svc.hits 0 1767225600", "svc.temp -21.5 1767225600"]
        await receiver.wait_for_bytes(sender.bytes_sent)
        assert receiver.take_lines() == ["svc.hits 0 1767225600", "svc.temp -21.5 1767225600"]


async def test_histograms_describe_their_own_interval() -> None:
    """Each drain starts a fresh histogram (Go kit keeps one forever); an empty interval
    writes nothing for it."""
    backend = graphite()
    latency = backend.histogram("lat", quantiles=(0.5,))
    async with tcp_pipe(backend) as pipe:
        for _ in range(100):
            latency.observe(10)
        assert await pipe.flush() == ["lat.p50 10 1767225600"]
        for _ in range(100):
            latency.observe(20)
        assert await pipe.flush() == ["lat.p50 20 1767225600"]
        assert await pipe.flush() == []


async def test_quantile_names_keep_graphite_paths_intact() -> None:
    """A quantile's decimals use '_' rather than '.', which would start a new path level."""
    backend = graphite()
    latency = backend.histogram("lat", quantiles=(0.05, 0.5, 0.999, 1.0))
    async with tcp_pipe(backend) as pipe:
        for value in range(1, 1001):
            latency.observe(value)
        names = list(values(await pipe.flush()))
    assert names == ["lat.p5", "lat.p50", "lat.p99_9", "lat.p100"]


@pytest.mark.parametrize(
    ("quantiles", "message"),
    [((), "at least one"), ((0.5, 1.5), "between 0 and 1"), ((0.5, 0.5), "repeated")],
)
def test_bad_quantiles_are_refused(quantiles: tuple[float, ...], message: str) -> None:
    """No quantiles, quantiles outside [0, 1] and repeated ones raise ValueError."""
    with pytest.raises(ValueError, match=message):
        graphite().histogram("lat", quantiles=quantiles)


def test_one_name_is_one_metric() -> None:
    """A name already used by another kind, or with other quantiles, raises ValueError."""
    backend = graphite()
    backend.counter("x")
    backend.histogram("h", quantiles=(0.5,))
    with pytest.raises(ValueError, match="'x' is already a Counter"):
        backend.gauge("x")
    with pytest.raises(ValueError, match=r"already writes quantiles \(0\.5,\)"):
        backend.histogram("h", quantiles=(0.9,))


@pytest.mark.parametrize("name", ["", "a b", "a\nb", "a\tb", "a\x00b"])
def test_names_that_would_break_a_line_are_refused(name: str) -> None:
    """Empty names and names with whitespace or controls raise ValueError."""
    with pytest.raises(ValueError, match="Graphite metric name"):
        graphite().counter(name)
    with pytest.raises(ValueError, match="Graphite metric name"):
        Graphite(prefix="svc " + name)


async def test_numbers_that_cannot_be_written_are_skipped() -> None:
    """NaN and infinities never reach the wire; the rest of the flush does."""
    backend = graphite()
    backend.counter("c").add(math.inf)
    backend.gauge("g").set(math.nan)
    backend.gauge("ok").add(2)
    backend.gauge("ok").add(0.5)
    async with tcp_pipe(backend) as pipe:
        assert await pipe.flush() == ["ok 2.5 1767225600"]


async def test_it_works_over_udp_too() -> None:
    """The same lines go out as datagrams, for a Carbon with its UDP listener on."""
    backend = graphite()
    backend.counter("hits").add(2)
    async with udp_pipe(backend) as pipe:
        assert await pipe.flush() == ["hits 2 1767225600"]


async def test_counter_conforms_through_the_receiver() -> None:
    """Go kit's teststat counter check passes on what the TCP receiver got."""
    backend = graphite()
    async with tcp_pipe(backend) as pipe:

        async def read() -> float:
            return values(await pipe.flush())["hits"]

        await check_counter(backend.counter("hits"), read)


async def test_gauge_conforms_through_the_receiver() -> None:
    """The gauge check passes on what the TCP receiver got."""
    backend = graphite()
    async with tcp_pipe(backend) as pipe:

        async def read() -> float:
            return values(await pipe.flush())["temp"]

        for seed in range(1, 4):
            await check_gauge(backend.gauge("temp"), read, seed=seed)


async def test_histogram_conforms_through_the_receiver() -> None:
    """The pNN lines the receiver got are within 1% of the normal distribution's quantiles."""
    backend = graphite()
    async with tcp_pipe(backend) as pipe:

        async def read() -> dict[float, float]:
            got = values(await pipe.flush())
            return {q: got[f"lat.p{round(q * 100)}"] for q in QUANTILES}

        await check_histogram(backend.histogram("lat"), read)


async def test_a_receiver_down_at_start_costs_drops_and_is_reached_later() -> None:
    """Refused at start: the flush drops its payload (ConnectionUnavailable to the error
    handler, nothing raised); once the receiver is up and the backoff ends, lines arrive."""
    clock = FakeClock()
    port = free_port()
    backend = graphite()
    hits = backend.counter("hits")
    errors: list[Exception] = []
    receiver = TCPReceiver()
    async with Manager(
        tcp("127.0.0.1", port), clock=clock, sleep=clock.sleep, rng=lambda: 0.5
    ) as manager:
        loop = PushLoop(backend, TCPSender(manager), error_handler=ErrorHandlerFunc(errors.append))
        hits.add(1)
        await loop.flush()
        assert (loop.sent, loop.dropped) == (0, 1)
        assert isinstance(errors[0], ConnectionUnavailable)
        assert errors[0].retry_in == 1.0

        await receiver.start(port)
        await clock.wait_for_sleepers(1)
        clock.advance(1)
        async with asyncio.timeout(WAIT):
            await manager.wait_connected()
        hits.add(2)
        await loop.flush()
        await receiver.wait_for_bytes(len("hits 2 1767225600\n"))
        await loop.aclose()  # a last flush
        await receiver.wait_for_bytes(2 * len("hits 2 1767225600\n"))
    await receiver.stop()
    assert receiver.lines == ["hits 2 1767225600", "hits 0 1767225600"]
    assert (loop.sent, loop.dropped) == (2, 1)


async def test_a_receiver_restarted_on_its_port_gets_lines_again() -> None:
    """Killed mid-run and restarted on the same port, the receiver gets the next flushes:
    the manager reconnects, and only the flush while it was down is dropped."""
    clock = FakeClock()
    backend = graphite()
    hits = backend.counter("hits")
    async with (
        TCPReceiver() as receiver,
        Manager(
            tcp("127.0.0.1", receiver.port), clock=clock, sleep=clock.sleep, rng=lambda: 0.5
        ) as manager,
    ):
        loop = PushLoop(backend, CountingSender(TCPSender(manager)))
        hits.add(1)
        await loop.flush()
        await receiver.wait_for_bytes(len("hits 1 1767225600\n"))
        clock.advance(60)

        await receiver.stop()
        await clock.wait_for_sleepers(1)  # noticed, redialled, refused: backing off
        hits.add(2)
        await loop.flush()
        assert loop.dropped == 1

        await receiver.start(receiver.port)
        clock.advance(1)
        async with asyncio.timeout(WAIT):
            await manager.wait_connected()
        hits.add(3)
        await loop.flush()
        await loop.aclose()  # a last flush
        await receiver.wait_for_bytes(3 * len("hits 1 1767225600\n"))
    assert receiver.lines == ["hits 1 1767225600", "hits 3 1767225600", "hits 0 1767225600"]
