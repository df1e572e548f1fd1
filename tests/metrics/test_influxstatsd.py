"""Influx StatsD: Telegraf's tag syntax, injection, sampling and conformance, over real UDP."""

from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygokit.metrics import Counter, Gauge, Histogram
from pygokit.metrics.influxstatsd import InfluxStatsd
from pygokit.testing.metrics import check_counter, check_gauge, check_histogram
from tests.metrics.receivers import StatsdAggregate, quantiles_of, udp_pipe


def telegraf_parse(line: str) -> tuple[str, dict[str, str], str, str]:
    """Split a line as Telegraf's statsd listener does, strictly: the line at every ':',
    the value at '|', the bucket at every ',' and each tag at '='. Returns the name,
    tags, value and type; fails if any split finds more (or fewer) parts than it should."""
    bucket, rest = line.split(":")
    value, kind, *_ = rest.split("|")
    name, *pairs = bucket.split(",")
    tags: dict[str, str] = {}
    for pair in pairs:
        key, tag_value = pair.split("=")
        assert key not in tags, f"tag {key!r} twice in {line!r}"
        tags[key] = tag_value
    float(value)
    return name, tags, value, kind


def cleaned(text: str) -> str:
    """*text* as the backend must clean it: ',', '=', ':', '|', whitespace, controls to '_'."""
    return "".join(
        "_" if char in ",=:|" or char.isspace() or unicodedata.category(char) == "Cc" else char
        for char in text
    )


def test_metrics_implement_the_interfaces() -> None:
    """Counters, gauges, timings and histograms fit the protocols, bound or not."""
    influx = InfluxStatsd()
    assert isinstance(influx.counter("c").labels(a="1"), Counter)
    assert isinstance(influx.gauge("g").labels(a="1"), Gauge)
    assert isinstance(influx.timing("t").labels(a="1"), Histogram)
    assert isinstance(influx.histogram("h").labels(a="1"), Histogram)
    assert repr(influx.counter("c").labels(a="1")) == "Counter(c,a=1:<value>|c)"


async def test_lines_put_global_tags_then_sorted_labels_in_the_bucket() -> None:
    """Each line is name,globals,labels:value|type[|@rate], labels sorted by name."""
    influx = InfluxStatsd("svc.", tags={"region": "eu", "env": "prod"}, rng=lambda: 0.0)
    requests, depth = influx.counter("requests"), influx.gauge("depth")
    latency, size = influx.timing("lat", sample_rate=0.5), influx.histogram("size")
    async with udp_pipe(influx) as pipe:
        requests.labels(method="sum", code="200").add(2)
        depth.set(-4)
        latency.labels(method="sum").observe(12.5)
        size.observe(512)
        assert await pipe.flush() == [
            "svc.depth,region=eu,env=prod:0|g",
            "svc.depth,region=eu,env=prod:-4|g",
            "svc.size,region=eu,env=prod:512|h",
            "svc.requests,region=eu,env=prod,code=200,method=sum:2|c",
            "svc.lat,region=eu,env=prod,method=sum:12.5|ms|@0.5",
        ]


async def test_label_order_does_not_make_another_series() -> None:
    """The same labels in another order are the same series and one line."""
    influx = InfluxStatsd()
    counter = influx.counter("hits")
    assert counter.labels(a="1", b="2") is counter.labels(b="2", a="1")
    async with udp_pipe(influx) as pipe:
        counter.labels(b="2", a="1").add(1)
        counter.with_("a", "1", "b", "2").add(1)
        assert await pipe.flush() == ["hits,a=1,b=2:2|c"]


async def test_no_label_can_cut_a_tag_in_two_or_forge_a_line() -> None:
    """Telegraf does not unescape, so ',', '=', ':' and newlines become '_' instead."""
    influx = InfluxStatsd(tags={"host": "a b,c=d"})
    counter = influx.counter("hits")
    async with udp_pipe(influx) as pipe:
        counter.labels(user="x,admin=true:1|c\nevil,role=root:1000|c").add(1)
        counter.labels(**{"we=ird,key": "v"}).add(1)
        lines = await pipe.flush()
    assert lines == [
        "hits,host=a_b_c_d,user=x_admin_true_1_c_evil_role_root_1000_c:1|c",
        "hits,host=a_b_c_d,we_ird_key=v:1|c",
    ]
    assert [telegraf_parse(line)[1] for line in lines] == [
        {"host": "a_b_c_d", "user": "x_admin_true_1_c_evil_role_root_1000_c"},
        {"host": "a_b_c_d", "we_ird_key": "v"},
    ]


@given(key=st.text(max_size=20), value=st.text(max_size=40))
def test_any_label_makes_exactly_one_line_telegraf_reads_as_bound(key: str, value: str) -> None:
    """Whatever the label, Telegraf's splitting finds one metric with exactly our tags."""
    influx = InfluxStatsd(tags={"env": "prod"})
    influx.counter("hits").labels(**{key: value}).add(1)
    (payload,) = influx.drain(65536)
    text = payload.decode()
    assert len(text.splitlines()) == 1
    expected = {"env": "prod"}
    expected[cleaned(key) or "_"] = cleaned(value)
    assert telegraf_parse(text.rstrip("\n")) == ("hits", expected, "1", "c")


async def test_sampled_timings_keep_exactly_the_draws_below_the_rate() -> None:
    """Unlike Go kit's Influx StatsD, a timing at rate 0.2 really samples, and says @0.2."""
    influx = InfluxStatsd(rng=random.Random(11).random)
    timing = influx.timing("lat", sample_rate=0.2)
    replica = random.Random(11)
    kept = [i for i in range(1000) if replica.random() < 0.2]
    async with udp_pipe(influx) as pipe:
        for i in range(1000):
            timing.observe(i)
        assert await pipe.flush() == [f"lat:{i}|ms|@0.2" for i in kept]


async def test_counters_ignore_the_sample_rate_and_stay_exact() -> None:
    """A counter's sample rate is accepted but not applied; the sum is exact."""
    influx = InfluxStatsd(rng=lambda: 0.99)
    async with udp_pipe(influx) as pipe:
        influx.counter("hits", sample_rate=0.5).add(3)
        assert await pipe.flush() == ["hits:3|c"]


@pytest.mark.parametrize("name", ["a,b", "a:b", "a|b", "a@b", "a b", "a\rb"])
def test_names_that_would_break_a_line_are_refused(name: str) -> None:
    """Metric names with ',', ':', '|', '@', whitespace or controls raise ValueError."""
    with pytest.raises(ValueError, match="Influx StatsD metric name"):
        InfluxStatsd().timing(name)


async def test_counter_conforms_through_the_receiver() -> None:
    """Go kit's teststat counter check passes on a labelled counter, read from the wire."""
    influx = InfluxStatsd()
    async with udp_pipe(influx) as pipe:

        async def read() -> float:
            return StatsdAggregate().feed(await pipe.flush()).counters["hits,method=sum"]

        await check_counter(influx.counter("hits").labels(method="sum"), read)


async def test_gauge_conforms_through_the_receiver() -> None:
    """The gauge check passes, negative values included, read the way Telegraf reads."""
    influx = InfluxStatsd()
    async with udp_pipe(influx) as pipe:

        async def read() -> float:
            return StatsdAggregate().feed(await pipe.flush()).gauges["depth,queue=a"]

        for seed in range(1, 4):
            await check_gauge(influx.gauge("depth").labels(queue="a"), read, seed=seed)


async def test_histogram_conforms_through_the_receiver() -> None:
    """The quantiles of the received observations match the normal distribution fed in."""
    influx = InfluxStatsd()
    async with udp_pipe(influx) as pipe:

        async def read() -> dict[float, float]:
            aggregate = StatsdAggregate().feed(await pipe.flush())
            return dict(quantiles_of(aggregate.timings["size,route=/sum"]))

        await check_histogram(influx.histogram("size").labels(route="/sum"), read)
