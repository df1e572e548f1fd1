"""StatsD: exact wire lines, sampling, conformance and faults, against a real UDP receiver."""

from __future__ import annotations

import asyncio
import math
import random
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygokit.metrics import Counter, Gauge, Histogram
from pygokit.metrics.push import Emitter, PushLoop, UDPSender
from pygokit.metrics.statsd import Statsd, format_value
from pygokit.testing import FakeClock
from pygokit.testing.metrics import check_counter, check_gauge, check_histogram
from tests.metrics.receivers import (
    WAIT,
    CountingSender,
    StatsdAggregate,
    UDPReceiver,
    free_port,
    quantiles_of,
    udp_pipe,
)


def test_metrics_implement_the_interfaces_and_ignore_labels() -> None:
    """Counter, gauge and timing fit the metric protocols; labels return the metric itself."""
    statsd = Statsd()
    counter, gauge, timing = statsd.counter("c"), statsd.gauge("g"), statsd.timing("t")
    assert isinstance(statsd, Emitter)
    assert isinstance(counter, Counter)
    assert isinstance(gauge, Gauge)
    assert isinstance(timing, Histogram)
    assert counter.labels(method="sum") is counter
    assert gauge.with_("method", "sum") is gauge
    assert timing.labels(a="1").with_("b") is timing
    assert statsd.counter("c") is counter
    assert statsd.timing("t") is timing
    assert counter.name == "c"
    assert repr(counter) == "Counter(c:<value>|c)"
    assert repr(statsd) == "Statsd(prefix='', series=3)"


async def test_push_loop_ships_exact_lines_each_interval() -> None:
    """Every interval: summed counters, touched gauges, one line per timing; idle series
    stay silent, and closing the loop sends what is left."""
    clock = FakeClock()
    statsd = Statsd(prefix="svc.")
    hits, temp, latency = statsd.counter("hits"), statsd.gauge("temp"), statsd.timing("lat")
    async with UDPReceiver() as receiver:
        sender = CountingSender(UDPSender("127.0.0.1", receiver.port))
        async with PushLoop(statsd, sender, interval=10, sleep=clock.sleep):
            hits.add(1)
            hits.add(2)
            temp.set(21.5)
            latency.observe(12)
            latency.observe(0.25)
            await clock.wait_for_sleepers(1)
            clock.advance(10)
            await clock.wait_for_sleepers(1)
            await receiver.wait_for_bytes(sender.bytes_sent)
            assert receiver.take_lines() == [
                "svc.hits:3|c",
                "svc.temp:21.5|g",
                "svc.lat:12|ms",
                "svc.lat:0.25|ms",
            ]

            temp.add(-0.5)
            clock.advance(10)
            await clock.wait_for_sleepers(1)
            await receiver.wait_for_bytes(sender.bytes_sent)
            assert receiver.take_lines() == ["svc.temp:21|g"]

            hits.add(4)
        await receiver.wait_for_bytes(sender.bytes_sent)
        assert receiver.take_lines() == ["svc.hits:4|c"]


async def test_a_negative_gauge_is_set_through_zero_in_one_datagram() -> None:
    """StatsD reads "-5|g" as a decrement, so a negative value goes as 0 then -5, together."""
    statsd = Statsd()
    gauge = statsd.gauge("balance")
    async with udp_pipe(statsd, max_payload=16) as pipe:
        gauge.set(10)
        assert await pipe.flush() == ["balance:10|g"]
        gauge.set(-5)
        assert await pipe.flush() == ["balance:0|g", "balance:-5|g"]
        assert pipe.receiver.datagrams[-1] == b"balance:0|g\nbalance:-5|g\n"
        gauge.add(2)
        assert StatsdAggregate().feed(await pipe.flush()).gauges == {"balance": -3.0}


async def test_numbers_that_cannot_be_written_are_skipped() -> None:
    """NaN and infinities never reach the wire; the rest of the flush does."""
    statsd = Statsd()
    counter, gauge, timing = statsd.counter("c"), statsd.gauge("g"), statsd.timing("t")
    async with udp_pipe(statsd) as pipe:
        counter.add(math.inf)
        gauge.set(math.nan)
        timing.observe(math.inf)
        timing.observe(3)
        assert await pipe.flush() == ["t:3|ms"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (3.0, "3"),
        (-2.0, "-2"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (1e-05, "0.00001"),
        (1.5e-10, "0.00000000015"),
        (1e16, "10000000000000000"),
        (123456.789, "123456.789"),
    ],
)
def test_format_value_writes_plain_exact_numbers(value: float, text: str) -> None:
    """Whole numbers without a point, fractions as the shortest exact decimal, no e-notation."""
    assert format_value(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_value_round_trips_every_finite_float(value: float) -> None:
    """Any finite float is written without an exponent and parses back to itself."""
    text = format_value(value)
    assert "e" not in text.lower()
    assert float(text) == value


async def test_sampled_timings_keep_exactly_the_draws_below_the_rate() -> None:
    """A timing at rate 0.25 keeps the observations whose draw is below 0.25 and writes
    @0.25, so the server's scaling estimates the true count (Go kit only writes @rate)."""
    statsd = Statsd(rng=random.Random(7).random)
    timing = statsd.timing("lat", sample_rate=0.25)
    replica = random.Random(7)
    kept = [i for i in range(2000) if replica.random() < 0.25]
    async with udp_pipe(statsd) as pipe:
        for i in range(2000):
            timing.observe(i)
        lines = await pipe.flush()
    assert lines == [f"lat:{i}|ms|@0.25" for i in kept]
    assert abs(len(lines) / 0.25 - 2000) < 200


async def test_counters_ignore_the_sample_rate_and_stay_exact() -> None:
    """A counter's sample_rate is accepted but not applied: the sum is exact, without @rate."""
    statsd = Statsd(rng=lambda: 0.99)
    counter = statsd.counter("hits", sample_rate=0.1)
    async with udp_pipe(statsd) as pipe:
        for _ in range(10):
            counter.add(1)
        assert await pipe.flush() == ["hits:10|c"]
    assert statsd.counter("hits") is counter


@pytest.mark.parametrize("rate", [0.0, -0.5, 1.5, math.nan])
def test_sample_rates_outside_zero_to_one_are_refused(rate: float) -> None:
    """A sample rate must be in (0, 1]."""
    statsd = Statsd()
    with pytest.raises(ValueError, match="sample_rate"):
        statsd.timing("t", sample_rate=rate)
    with pytest.raises(ValueError, match="sample_rate"):
        statsd.counter("c", sample_rate=rate)


@pytest.mark.parametrize("name", ["", "a:b", "a|b", "a@b", "a b", "a\nb", "a\tb", "a\x85b"])
def test_names_that_would_break_a_line_are_refused(name: str) -> None:
    """Empty names and names with ':', '|', '@', whitespace or controls raise ValueError."""
    statsd = Statsd()
    with pytest.raises(ValueError, match="StatsD metric name"):
        statsd.counter(name)


def test_a_bad_prefix_is_refused_at_construction() -> None:
    """The prefix follows the same rules as names."""
    with pytest.raises(ValueError, match="contains ':'"):
        Statsd(prefix="svc:")


async def test_payloads_respect_max_payload_and_never_split_lines() -> None:
    """Lines are packed into datagrams of at most max_payload bytes, each ending a line."""
    statsd = Statsd()
    timing = statsd.timing("t")
    async with udp_pipe(statsd, max_payload=40) as pipe:
        for i in range(50):
            timing.observe(i)
        lines = await pipe.flush()
        datagrams = pipe.receiver.datagrams
    assert lines == [f"t:{i}|ms" for i in range(50)]
    assert all(len(d) <= 40 and d.endswith(b"\n") for d in datagrams)
    assert len(datagrams) < 50


async def test_counter_conforms_through_the_receiver() -> None:
    """Go kit's teststat counter check passes on what the UDP receiver got."""
    statsd = Statsd()
    async with udp_pipe(statsd) as pipe:

        async def read() -> float:
            return StatsdAggregate().feed(await pipe.flush()).counters["hits"]

        await check_counter(statsd.counter("hits"), read)


async def test_gauge_conforms_through_the_receiver() -> None:
    """The gauge check passes, negative values included, read the way a server reads."""
    statsd = Statsd()
    async with udp_pipe(statsd) as pipe:

        async def read() -> float:
            return StatsdAggregate().feed(await pipe.flush()).gauges["temp"]

        for seed in range(1, 6):
            await check_gauge(statsd.gauge("temp"), read, seed=seed)


async def test_timing_conforms_through_the_receiver() -> None:
    """The quantiles of the received timings match the normal distribution fed in."""
    statsd = Statsd()
    async with udp_pipe(statsd) as pipe:

        async def read() -> dict[float, float]:
            timings = StatsdAggregate().feed(await pipe.flush()).timings["lat"]
            assert len(timings) == 5000
            return dict(quantiles_of(timings))

        await check_histogram(statsd.timing("lat"), read)


async def test_a_receiver_down_at_start_costs_drops_never_errors() -> None:
    """With nothing listening, flushes count dropped payloads and raise nothing; once the
    receiver starts on that port, lines arrive."""
    port = free_port()
    statsd = Statsd()
    hits = statsd.counter("hits")
    loop = PushLoop(statsd, UDPSender("127.0.0.1", port))
    async with asyncio.timeout(WAIT):
        while loop.dropped == 0:
            hits.add(1)
            await loop.flush()
            await asyncio.sleep(0.01)
        async with UDPReceiver() as receiver:
            await receiver.stop()
            await receiver.start(port)
            while not receiver.lines:
                hits.add(1)
                await loop.flush()
                await asyncio.sleep(0.01)
    await loop.aclose()
    assert receiver.lines[0].startswith("hits:")


async def test_a_receiver_restarted_on_its_port_gets_lines_again() -> None:
    """Killed mid-run, the receiver misses lines (counted when refused); restarted on the
    same port, it receives the following flushes."""
    statsd = Statsd()
    hits = statsd.counter("hits")
    async with udp_pipe(statsd) as pipe, asyncio.timeout(WAIT):
        hits.add(1)
        assert await pipe.flush() == ["hits:1|c"]
        receiver = pipe.receiver
        await receiver.stop()
        while pipe.loop.dropped == 0:
            hits.add(1)
            await pipe.loop.flush()
            await asyncio.sleep(0.01)
        await receiver.start(receiver.port)
        while not receiver.take_lines():
            hits.add(1)
            await pipe.loop.flush()
            await asyncio.sleep(0.01)
        hits.add(7)  # (lines lost while it was down: wait for the bytes, not the total)
        await pipe.loop.flush()
        await receiver.wait_for_bytes(receiver.received + len(b"hits:7|c\n"))
        assert receiver.take_lines() == ["hits:7|c"]


def test_threads_updating_while_draining_lose_nothing() -> None:
    """Four threads adding and observing while another drains: every update is sent once."""
    statsd = Statsd()
    counter, timing = statsd.counter("c"), statsd.timing("t")
    drained: list[bytes] = []
    done = threading.Event()

    def work() -> None:
        for _ in range(20_000):
            counter.add(1)
            timing.observe(1)

    def drain() -> None:
        while not done.is_set():
            drained.extend(statsd.drain(1 << 20))
        drained.extend(statsd.drain(1 << 20))

    drainer = threading.Thread(target=drain)
    drainer.start()
    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    drainer.join()
    aggregate = StatsdAggregate().feed(b"".join(drained).decode().splitlines())
    assert aggregate.counters["c"] == 80_000
    assert len(aggregate.timings["t"]) == 80_000
