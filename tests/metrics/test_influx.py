"""The InfluxDB backend: line protocol from Influx, and InfluxHTTPSender against a real InfluxDB.

The unit tests read the lines `Influx.drain` writes. The integration tests (fixture
``influx_url``) send them through `PushLoop` and `InfluxHTTPSender` to the InfluxDB 1.x that
scripts/test-services runs, then query them back, so what counts is what InfluxDB stored.
The sender's handling of replies InfluxDB rarely gives (a 5xx with an HTML body, a server that
never answers) is tested against a small aiohttp server in the test.
"""

from __future__ import annotations

import asyncio
import base64
import math
import socket
import threading
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from pygokit.metrics import metric
from pygokit.metrics.influx import DEFAULT_QUANTILES, Influx, Precision
from pygokit.metrics.influx_http import InfluxHTTPSender, InfluxWriteError
from pygokit.metrics.push import Emitter, PushLoop, Sender
from pygokit.metrics.quantiles import Quantiles
from pygokit.testing import FakeClock
from pygokit.testing.metrics import (
    QUANTILES,
    check_counter,
    check_gauge,
    check_histogram,
    populate_normal,
)
from pygokit.transport import ErrorHandlerFunc

NOW_NS = 1_700_000_000_123_456_789
TIMEOUT_S = 20


def fixed_influx(**tags: str) -> Influx:
    """An Influx with the given global tags whose clock always reads NOW_NS."""
    return Influx(tags=tags, time_ns=lambda: NOW_NS)


def drained(influx: Influx) -> list[str]:
    """Every line one drain writes, without its newline (only b"\\n" ends a line)."""
    lines = b"".join(influx.drain(1_000_000)).split(b"\n")
    assert lines.pop() == b""
    return [line.decode() for line in lines]


def split_unescaped(text: str, separator: str) -> list[str]:
    """Split *text* on *separator* where no backslash precedes it, as InfluxDB 1.x reads lines."""
    parts, start = [], 0
    for i, char in enumerate(text):
        if char == separator and (i == 0 or text[i - 1] != "\\"):
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


# Unit tests: the lines Influx writes.


def test_counter_writes_the_sum_since_the_last_flush_with_sorted_merged_tags() -> None:
    """A counter writes count=<sum>, global tags and labels merged and sorted by key."""
    influx = fixed_influx(service="addsvc", az="eu-1")
    requests = influx.counter("requests")
    requests.labels(method="sum").add(2)
    requests.labels(method="sum").add(3.5)

    assert drained(influx) == [f"requests,az=eu-1,method=sum,service=addsvc count=5.5 {NOW_NS}"]
    assert drained(influx) == []  # untouched since: nothing
    requests.labels(method="sum").add(0)
    assert drained(influx) == [f"requests,az=eu-1,method=sum,service=addsvc count=0.0 {NOW_NS}"]


def test_gauge_writes_its_value_when_changed_and_keeps_it_across_flushes() -> None:
    """A gauge writes value=<last> only when touched; add builds on the value kept."""
    influx = fixed_influx()
    depth = influx.gauge("queue_depth")
    depth.set(7)
    depth.set(4)
    assert drained(influx) == [f"queue_depth value=4.0 {NOW_NS}"]
    assert drained(influx) == []
    depth.add(-1.5)
    assert drained(influx) == [f"queue_depth value=2.5 {NOW_NS}"]


def test_histogram_writes_quantiles_and_count_of_each_flush_alone() -> None:
    """p50..p99 and count come from one flush's observations; the next flush starts afresh."""
    influx = fixed_influx()
    latency = influx.histogram("latency")
    expected = Quantiles()
    for value in range(1, 101):
        latency.observe(value)
        expected.add(value)
    fields = ",".join(f"p{q * 100:g}={expected.quantile(q)!r}" for q in DEFAULT_QUANTILES)
    assert drained(influx) == [f"latency {fields},count=100.0 {NOW_NS}"]
    assert drained(influx) == []
    latency.observe(1000)
    assert drained(influx) == [
        f"latency p50=1000.0,p90=1000.0,p95=1000.0,p99=1000.0,count=1.0 {NOW_NS}"
    ]


def test_histogram_quantiles_name_their_fields_and_are_checked() -> None:
    """0.999 writes p99.9; out-of-range, duplicate or changed quantiles are ValueErrors."""
    influx = fixed_influx()
    latency = influx.histogram("latency", quantiles=(0.5, 0.999))
    latency.labels(route="/a").observe(3)
    assert drained(influx) == [f"latency,route=/a p50=3.0,p99.9=3.0,count=1.0 {NOW_NS}"]
    assert influx.histogram("latency", [0.5, 0.999]) is latency
    with pytest.raises(ValueError, match="same ones"):
        influx.histogram("latency")
    with pytest.raises(ValueError, match="between 0 and 1"):
        influx.histogram("other", quantiles=(1.5,))
    with pytest.raises(ValueError, match="distinct"):
        influx.histogram("other", quantiles=(0.5, 0.50000000000001))


def test_labels_in_any_order_name_one_series() -> None:
    """labels(a, b), labels(b, a), labels(a).labels(b) and with_ all share one series."""
    influx = fixed_influx()
    hits = influx.counter("hits")
    one = hits.labels(a="1", b="2")
    assert hits.labels(b="2", a="1") is one
    assert hits.labels(a="1").labels(b="2") is one
    assert hits.with_("b", "2", "a", "1") is one
    assert influx.counter("hits") is hits
    for counter in (one, hits.labels(b="2", a="1"), hits.with_("b", "2").with_("a", "1")):
        counter.add(1)
    assert drained(influx) == [f"hits,a=1,b=2 count=3.0 {NOW_NS}"]


def test_labels_override_global_tags_and_empty_tags_are_left_out() -> None:
    """A label replaces a global tag; an empty value removes it; an odd with_ gets 'unknown'."""
    influx = fixed_influx(host="h1", region="eu")
    influx.counter("a").labels(host="h2").add(1)
    influx.counter("b").labels(region="", **{"": "x"}).add(1)
    influx.counter("c").with_("odd").add(1)
    assert drained(influx) == [
        f"a,host=h2,region=eu count=1.0 {NOW_NS}",
        f"b,host=h1 count=1.0 {NOW_NS}",
        f"c,host=h1,odd=unknown,region=eu count=1.0 {NOW_NS}",
    ]


def test_names_keys_and_values_are_escaped_as_line_protocol_says() -> None:
    """Commas and spaces in names, and commas, equals signs and spaces in tags, are escaped."""
    influx = fixed_influx(**{"global key": "a=b,c"})
    influx.gauge("disk used,GB").labels(**{"mount=point": "/mnt/my disk"}).set(1)
    assert drained(influx) == [
        rf"disk\ used\,GB,global\ key=a\=b\,c,mount\=point=/mnt/my\ disk value=1.0 {NOW_NS}"
    ]


def test_a_label_value_cannot_inject_a_line_or_a_tag() -> None:
    """A newline and line protocol in a label value stay inside that one tag value."""
    influx = fixed_influx(host="real")
    influx.counter("logins").labels(user="x\nevil,host=a count=999").add(1)
    influx.counter("logins").labels(user="y\r\nbad 1").add(1)

    lines = drained(influx)
    assert lines == [
        rf"logins,host=real,user=x\nevil\,host\=a\ count\=999 count=1.0 {NOW_NS}",
        rf"logins,host=real,user=y\r\nbad\ 1 count=1.0 {NOW_NS}",
    ]
    for line in lines:
        assert len(split_unescaped(line, " ")) == 3


def test_a_trailing_backslash_is_dropped_because_influxdb_cannot_parse_it() -> None:
    """A name or tag ending in backslashes loses them (and an emptied tag is left out)."""
    influx = fixed_influx()
    influx.counter("m\\").labels(k="v\\\\", gone="\\").add(1)
    assert drained(influx) == [f"m,k=v count=1.0 {NOW_NS}"]


@given(
    name=st.text(min_size=1).filter(lambda s: s.strip("\\") and s[0] != "#"),
    labels=st.dictionaries(st.text(), st.text(), max_size=4),
)
def test_any_text_makes_exactly_one_well_formed_line(name: str, labels: dict[str, str]) -> None:
    """Whatever the names and labels, a series is one line: key, fields and time."""
    influx = fixed_influx()
    influx.counter(name).labels(**labels).add(1)

    [line] = drained(influx)
    key, fields, timestamp = split_unescaped(line, " ")
    assert (fields, timestamp) == ("count=1.0", str(NOW_NS))
    for tag in split_unescaped(key, ",")[1:]:
        tag_key, tag_value = split_unescaped(tag, "=")
        for text in (tag_key, tag_value):
            assert text
            assert not text.endswith("\\")


def test_bad_names_and_kind_clashes_are_refused() -> None:
    """An empty name, one starting with '#' and a name used for two kinds are ValueErrors."""
    influx = fixed_influx()
    influx.counter("requests")
    with pytest.raises(ValueError, match="empty or starts with '#'"):
        influx.counter("")
    with pytest.raises(ValueError, match="empty or starts with '#'"):
        influx.gauge("#comment")
    with pytest.raises(ValueError, match="already a counter"):
        influx.gauge("requests")
    with pytest.raises(ValueError, match="already a counter"):
        influx.histogram("requests\\")  # the same measurement once escaped


def test_non_finite_values_are_never_written() -> None:
    """NaN and infinities leave their field out; histograms ignore such observations."""
    influx = fixed_influx()
    influx.counter("c").add(math.inf)
    influx.gauge("g").set(math.nan)
    latency = influx.histogram("h")
    for value in (math.nan, math.inf, -math.inf, 2.0):
        latency.observe(value)
    influx.histogram("empty").observe(math.nan)

    assert drained(influx) == [f"h p50=2.0,p90=2.0,p95=2.0,p99=2.0,count=1.0 {NOW_NS}"]


@pytest.mark.parametrize(
    ("precision", "timestamp"),
    [("ns", NOW_NS), ("u", NOW_NS // 1000), ("ms", NOW_NS // 10**6), ("s", NOW_NS // 10**9)],
)
def test_timestamps_are_written_in_the_chosen_precision(
    precision: Precision, timestamp: int
) -> None:
    """The flush time is written in the precision's units, truncated."""
    influx = Influx(precision=precision, time_ns=lambda: NOW_NS)
    influx.gauge("g").set(1)
    assert influx.precision == precision
    assert drained(influx) == [f"g value=1.0 {timestamp}"]


def test_a_bad_precision_is_refused() -> None:
    """A precision InfluxDB does not know is a ValueError."""
    with pytest.raises(ValueError, match="precision must be one of ns, u, ms, s"):
        Influx(precision="us")  # type: ignore[arg-type]


def test_drain_packs_lines_into_payloads_of_the_senders_size() -> None:
    """Payloads stay within max_payload and never split a line."""
    influx = fixed_influx()
    for i in range(10):
        influx.counter("c").labels(i=str(i)).add(1)
    payloads = influx.drain(100)
    lines = b"".join(payloads).splitlines(keepends=True)
    assert len(lines) == 10
    assert len(payloads) > 1
    assert all(len(payload) <= 100 for payload in payloads)
    assert all(payload.endswith(b"\n") for payload in payloads)


def test_metrics_fit_the_interfaces() -> None:
    """Influx is an Emitter; its metrics are Counter, Gauge and Histogram, bound ones too."""
    influx = fixed_influx(a="b")
    assert isinstance(influx, Emitter)
    assert isinstance(influx.counter("c").labels(x="1"), metric.Counter)
    assert isinstance(influx.gauge("g"), metric.Gauge)
    assert isinstance(influx.histogram("h"), metric.Histogram)
    assert repr(influx) == "Influx(tags={'a': 'b'}, precision='ns')"
    assert repr(influx.counter("c").labels(x="1")) == "Counter('c,a=b,x=1')"


def test_adds_from_many_threads_while_draining_lose_nothing() -> None:
    """Concurrent adds and drains: every add lands in exactly one flush."""
    influx = fixed_influx()
    counter = influx.counter("c").labels(k="v")
    latency = influx.histogram("h")
    flushed: list[str] = []

    def work() -> None:
        """Add to the counter and observe the histogram, 5000 times each."""
        for _ in range(5000):
            counter.add(1)
            latency.observe(1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        flushed += drained(influx)
    flushed += drained(influx)

    def total(prefix: str) -> float:
        """The sum of the count fields of the flushed lines starting with *prefix*."""
        fields = [line.split(" ")[1] for line in flushed if line.startswith(prefix)]
        return sum(float(field.rpartition("count=")[2]) for field in fields)

    assert total("c,") == 20000
    assert total("h ") == 20000


# Integration tests: a real InfluxDB.


class InfluxQL:
    """Runs InfluxQL statements against the test server and returns plain rows."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def run(self, statement: str, database: str | None = None) -> list[dict[str, Any]]:
        """Run *statement*; return one dict per row (columns, plus the series name and tags)."""
        params = {"q": statement, "epoch": "ns"}
        if database is not None:
            params["db"] = database
        async with self.session.post(f"{self.url}/query", params=params) as response:
            body = await response.json()
        assert response.status == 200, body
        [result] = body["results"]
        assert "error" not in result, result["error"]
        rows = []
        for series in result.get("series", []):
            for values in series["values"]:
                row = {"name": series["name"], **series.get("tags", {})}
                row.update(zip(series["columns"], values, strict=True))
                rows.append(row)
        return rows


def quote(identifier: str) -> str:
    """*identifier* as an InfluxQL double-quoted identifier."""
    return '"' + identifier.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
async def influxql(influx_url: str) -> AsyncIterator[InfluxQL]:
    """A client for InfluxQL statements on the test InfluxDB."""
    async with aiohttp.ClientSession() as session:
        yield InfluxQL(session, influx_url)


@pytest.fixture
async def database(influxql: InfluxQL, unique_name: str) -> AsyncIterator[str]:
    """A fresh database of the test's own, dropped afterwards."""
    await influxql.run(f"CREATE DATABASE {quote(unique_name)}")
    yield unique_name
    await influxql.run(f"DROP DATABASE {quote(unique_name)}")


@pytest.fixture
async def sender(influx_url: str, database: str) -> AsyncIterator[InfluxHTTPSender]:
    """A sender to the test's database, closed afterwards."""
    sender = InfluxHTTPSender(influx_url, database)
    yield sender
    await sender.aclose()


@pytest.mark.service("influxdb")
async def test_counter_gauge_and_histogram_reach_influxdb(
    influxql: InfluxQL, database: str, sender: InfluxHTTPSender
) -> None:
    """One flush through PushLoop and the HTTP sender stores every series, fields and tags."""
    influx = Influx(tags={"service": "addsvc"})
    influx.counter("requests").labels(method="sum").add(3)
    influx.gauge("in_flight").set(2)
    latency = influx.histogram("latency")
    for value in (1.0, 2.0, 3.0, 4.0):
        latency.observe(value)
    async with asyncio.timeout(TIMEOUT_S):
        loop = PushLoop(influx, sender)
        await loop.flush()
        await loop.aclose()
        assert (loop.sent, loop.dropped) == (1, 0)

        [requests] = await influxql.run('SELECT * FROM "requests"', database)
        [in_flight] = await influxql.run('SELECT * FROM "in_flight"', database)
        [histogram] = await influxql.run('SELECT * FROM "latency"', database)
    assert (requests["count"], requests["method"], requests["service"]) == (3, "sum", "addsvc")
    assert (in_flight["value"], in_flight["service"]) == (2, "addsvc")
    assert (histogram["count"], histogram["p50"], histogram["service"]) == (4, 2.5, "addsvc")


@pytest.mark.service("influxdb")
async def test_a_running_loop_flushes_each_interval_and_on_exit(
    influxql: InfluxQL, database: str, sender: InfluxHTTPSender
) -> None:
    """Under `async with PushLoop`, each interval's counts land in InfluxDB as separate points."""
    clock = FakeClock()
    influx = Influx()
    hits = influx.counter("hits")
    async with asyncio.timeout(TIMEOUT_S):
        async with PushLoop(influx, sender, interval=10, sleep=clock.sleep) as loop:
            hits.add(5)
            await clock.wait_for_sleepers(1)
            clock.advance(10)
            await clock.wait_for_sleepers(1)  # asleep again: the first flush is done
            hits.add(7)
        rows = await influxql.run('SELECT "count" FROM "hits"', database)
    assert [row["count"] for row in rows] == [5, 7]
    assert (loop.sent, loop.dropped) == (2, 0)


NASTY = [
    "plain",
    "with space",
    "comma,here",
    "equals=here",
    "quote\"s and 'single'",
    "back\\slash",
    "back\\,comma",
    "double\\\\ backslash space",
    "tab\there",
    "unicode ü€ 😀",
    "#hash",
    "x\nevil,host=a count=999",
]


@pytest.mark.service("influxdb")
async def test_awkward_names_and_tags_round_trip_through_influxdb(
    influxql: InfluxQL, database: str, sender: InfluxHTTPSender
) -> None:
    """Every awkward tag value and key comes back as written; nothing else gets written."""
    influx = Influx(tags={"host": "real"})
    counter = influx.counter("odd name, really")
    for i, text in enumerate(NASTY):
        counter.labels(i=str(i), value=text, **{text: "key"}).add(i + 1)
    async with asyncio.timeout(TIMEOUT_S):
        loop = PushLoop(influx, sender)
        await loop.flush()
        assert (loop.sent, loop.dropped) == (1, 0)
        rows = await influxql.run('SELECT "count" FROM "odd name, really" GROUP BY *', database)
        measurements = await influxql.run("SHOW MEASUREMENTS", database)
    stored = {int(row["i"]): row for row in rows}
    assert sorted(stored) == list(range(len(NASTY)))
    for i, text in enumerate(NASTY):
        want = text.replace("\n", "\\n")  # the one documented change
        assert stored[i]["value"] == want
        assert stored[i][want] == "key"
        assert stored[i]["host"] == "real"
        assert stored[i]["count"] == i + 1
    assert [row["name"] for row in measurements] == ["odd name, really"]


@pytest.mark.service("influxdb")
async def test_histogram_quantiles_survive_the_round_trip_exactly(
    influxql: InfluxQL, database: str, sender: InfluxHTTPSender
) -> None:
    """The quantiles InfluxDB stores are the very floats our summary computed."""
    influx = Influx()
    latency = influx.histogram("latency", quantiles=(0.001, 0.5, 0.999))
    expected = Quantiles()
    for value in populate_normal(latency, count=3000, seed=7):
        expected.add(value)
    async with asyncio.timeout(TIMEOUT_S):
        await PushLoop(influx, sender).flush()
        [row] = await influxql.run('SELECT * FROM "latency"', database)
    assert row["p0.1"] == expected.quantile(0.001)
    assert row["p50"] == expected.quantile(0.5)
    assert row["p99.9"] == expected.quantile(0.999)
    assert row["count"] == 3000


@pytest.mark.service("influxdb")
@pytest.mark.parametrize("precision", ["s", "ms"])
async def test_precision_is_agreed_by_emitter_and_sender(
    influxql: InfluxQL, influx_url: str, database: str, precision: Precision
) -> None:
    """With a coarser precision on both sides, InfluxDB stores the flush time at that unit."""
    influx = Influx(precision=precision, time_ns=lambda: NOW_NS)
    influx.gauge("g").set(1)
    sender = InfluxHTTPSender(influx_url, database, precision=precision)
    async with asyncio.timeout(TIMEOUT_S):
        loop = PushLoop(influx, sender)
        await loop.flush()
        await loop.aclose()
        [row] = await influxql.run('SELECT "value" FROM "g"', database)
    unit = {"s": 10**9, "ms": 10**6}[precision]
    assert row["time"] == NOW_NS // unit * unit


@pytest.mark.service("influxdb")
async def test_conformance_counter_through_influxdb(
    influxql: InfluxQL, database: str, sender: InfluxHTTPSender
) -> None:
    """The counter suite passes reading sum("count") back from InfluxDB."""
    influx = Influx(tags={"service": "addsvc"})
    loop = PushLoop(influx, sender)

    async def read() -> float:
        await loop.flush()
        [row] = await influxql.run('SELECT sum("count") FROM "hits"', database)
        return float(row["sum"])

    async with asyncio.timeout(TIMEOUT_S):
        await check_counter(influx.counter("hits").labels(method="sum"), read)
    assert (loop.sent, loop.dropped) == (1, 0)


@pytest.mark.service("influxdb")
async def test_conformance_gauge_through_influxdb(
    influxql: InfluxQL, database: str, sender: InfluxHTTPSender
) -> None:
    """The gauge suite passes reading last("value") back from InfluxDB."""
    influx = Influx()
    loop = PushLoop(influx, sender)

    async def read() -> float:
        await loop.flush()
        [row] = await influxql.run('SELECT last("value") FROM "depth"', database)
        return float(row["last"])

    async with asyncio.timeout(TIMEOUT_S):
        await check_gauge(influx.gauge("depth").labels(queue="q1"), read)


@pytest.mark.service("influxdb")
async def test_conformance_histogram_through_influxdb(
    influxql: InfluxQL, database: str, sender: InfluxHTTPSender
) -> None:
    """The histogram suite passes reading p50..p99 of the last point back from InfluxDB."""
    influx = Influx()
    loop = PushLoop(influx, sender)

    async def read() -> Mapping[float, float]:
        await loop.flush()
        fields = ", ".join(f'"p{q * 100:g}"' for q in QUANTILES)
        [row] = await influxql.run(
            f'SELECT {fields} FROM "latency" ORDER BY time DESC LIMIT 1', database
        )
        return {q: float(row[f"p{q * 100:g}"]) for q in QUANTILES}

    async with asyncio.timeout(TIMEOUT_S):
        await check_histogram(influx.histogram("latency").labels(route="/sum"), read)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_influxdb_is_a_counted_drop() -> None:
    """A closed port: the flush drops the payload, counts it, and hands over the error."""
    influx = Influx()
    influx.counter("c").add(1)
    errors: list[Exception] = []
    sender = InfluxHTTPSender(f"http://127.0.0.1:{closed_port()}", "metrics", timeout=5)
    loop = PushLoop(influx, sender, error_handler=ErrorHandlerFunc(errors.append))
    async with asyncio.timeout(TIMEOUT_S):
        await loop.flush()
        await loop.aclose()
    assert (loop.sent, loop.dropped) == (0, 1)
    [error] = errors
    assert isinstance(error, InfluxWriteError)
    assert error.status is None
    assert "could not reach it" in str(error)
    assert isinstance(error.__cause__, aiohttp.ClientConnectionError)


@pytest.mark.service("influxdb")
async def test_a_missing_database_is_a_counted_drop_with_influxdbs_reason(
    influx_url: str, unique_name: str
) -> None:
    """HTTP 404 'database not found': dropped, and the error says so with the status."""
    influx = Influx()
    influx.counter("c").add(1)
    errors: list[Exception] = []
    loop = PushLoop(
        influx,
        InfluxHTTPSender(influx_url, unique_name),
        error_handler=ErrorHandlerFunc(errors.append),
    )
    async with asyncio.timeout(TIMEOUT_S):
        await loop.flush()
        await loop.aclose()
    assert (loop.sent, loop.dropped) == (0, 1)
    [error] = errors
    assert isinstance(error, InfluxWriteError)
    assert error.status == 404
    assert error.detail == f'database not found: "{unique_name}"'
    assert str(error) == (
        f"InfluxDB at {influx_url} did not take a write to database {unique_name!r}:"
        f' HTTP 404: database not found: "{unique_name}"'
    )


@pytest.mark.service("influxdb")
async def test_a_field_type_conflict_reports_influxdbs_400(
    influxql: InfluxQL, influx_url: str, database: str, sender: InfluxHTTPSender
) -> None:
    """A measurement whose field was an integer refuses our float: HTTP 400 with the reason."""
    async with asyncio.timeout(TIMEOUT_S):
        await InfluxHTTPSender(influx_url, database, session=influxql.session).send(
            b"hits count=1i\n"
        )
        with pytest.raises(InfluxWriteError, match=r"HTTP 400: .*field type conflict") as caught:
            await sender.send(b"hits count=2.0\n")
        await sender.aclose()
    assert caught.value.status == 400


# The sender against replies a real InfluxDB seldom gives: a small aiohttp server.


class FakeReceiver:
    """An HTTP server on loopback that records requests and answers as told."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], str | None, bytes]] = []
        self.status = 204
        self.body = b""
        self.stall = asyncio.Event()
        self.stalling = False
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request (path, query, Authorization, body), then answer."""
        self.requests.append(
            (
                request.path,
                dict(request.query),
                request.headers.get("Authorization"),
                await request.read(),
            )
        )
        if self.stalling:
            await self.stall.wait()
        return web.Response(status=self.status, body=self.body)


@pytest.fixture
async def receiver() -> AsyncIterator[FakeReceiver]:
    """A FakeReceiver listening on a free loopback port."""
    fake = FakeReceiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", fake.handle)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield fake
    fake.stall.set()
    await runner.cleanup()


async def test_sender_posts_to_write_with_parameters_and_basic_auth(
    receiver: FakeReceiver,
) -> None:
    """The payload goes to <path>/write with db, precision and rp; credentials as Basic auth."""
    url = receiver.url.replace("http://", "http://alice:s3cret@") + "/influx/"
    sender = InfluxHTTPSender(url, "metrics", precision="ms", retention_policy="week")
    await sender.send(b"m value=1.0 1\n")
    await sender.aclose()

    [(path, query, authorization, body)] = receiver.requests
    assert path == "/influx/write"
    assert query == {"db": "metrics", "precision": "ms", "rp": "week"}
    assert authorization == "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert body == b"m value=1.0 1\n"
    assert "s3cret" not in repr(sender)
    assert repr(sender) == f"InfluxHTTPSender('{receiver.url}/influx/', 'metrics')"


async def test_sender_errors_carry_the_status_and_a_truncated_body(
    receiver: FakeReceiver,
) -> None:
    """A 5xx with a long non-JSON body: the message has the status and at most 300 characters."""
    receiver.status, receiver.body = 503, b"<html>" + b"x" * 5000 + b"</html>"
    sender = InfluxHTTPSender(receiver.url, "metrics", username="bob", password="hunter2")
    with pytest.raises(InfluxWriteError) as caught:
        await sender.send(b"m value=1.0 1\n")
    await sender.aclose()

    error = caught.value
    assert error.status == 503
    assert error.detail.startswith("<html>xxx")
    assert len(error.detail) == 300
    assert error.detail.endswith("…")
    assert "HTTP 503: <html>" in str(error)
    assert "hunter2" not in str(error)
    assert receiver.requests[0][2] == "Basic " + base64.b64encode(b"bob:hunter2").decode()


async def test_sender_gives_up_on_a_receiver_that_never_answers(receiver: FakeReceiver) -> None:
    """A request that outlives the timeout is an InfluxWriteError, not a hang."""
    receiver.stalling = True
    sender = InfluxHTTPSender(receiver.url, "metrics", timeout=0.2)
    with pytest.raises(InfluxWriteError, match=r"timed out: no answer within 0\.2s"):
        await sender.send(b"m value=1.0 1\n")
    await sender.aclose()


async def test_sender_closes_only_the_session_it_made(receiver: FakeReceiver) -> None:
    """Its own session is closed by aclose; a caller's session stays open; closed means closed."""
    unused = InfluxHTTPSender(receiver.url, "metrics")
    await unused.aclose()  # never sent, so no session to close
    with pytest.raises(RuntimeError, match="is closed"):
        await unused.send(b"m value=1.0 1\n")
    own = InfluxHTTPSender(receiver.url, "metrics")
    await own.send(b"m value=1.0 1\n")
    session = own._session
    assert session is not None
    await own.aclose()
    assert session.closed

    async with aiohttp.ClientSession() as callers:
        borrowed = InfluxHTTPSender(receiver.url, "metrics", session=callers)
        await borrowed.send(b"m value=1.0 1\n")
        await borrowed.aclose()
        assert not callers.closed
    assert len(receiver.requests) == 2


def test_sender_checks_its_arguments() -> None:
    """Bad URLs, names, sizes, precisions, timeouts and credential mixes are ValueErrors."""
    assert isinstance(InfluxHTTPSender("http://127.0.0.1:8086", "m"), Sender)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"url": "ftp://host"}, "http:// or https://"),
        ({"url": "http://"}, "with a host"),
        ({"database": ""}, "database must not be empty"),
        ({"max_payload": 0}, "max_payload"),
        ({"precision": "us"}, "precision must be one of"),
        ({"timeout": 0}, "timeout"),
        ({"url": "http://a:b@host", "username": "c"}, "either in url"),
        ({"password": "token"}, "needs a username"),
    ]
    for overrides, message in cases:
        arguments: dict[str, Any] = {"url": "http://127.0.0.1:8086", "database": "m"}
        arguments.update(overrides)
        with pytest.raises(ValueError, match=message):
            InfluxHTTPSender(**arguments)
