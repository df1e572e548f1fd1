"""DogStatsD: tags, label order, injection, sampling and conformance, over real UDP."""

from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygokit.metrics import Counter, Gauge, Histogram
from pygokit.metrics.dogstatsd import Dogstatsd
from pygokit.testing.metrics import check_counter, check_gauge, check_histogram
from tests.metrics.receivers import StatsdAggregate, parse_statsd, quantiles_of, udp_pipe


def cleaned(text: str, separators: str) -> str:
    """*text* as the backend must clean it: separators, whitespace and controls to '_'."""
    return "".join(
        "_" if char in separators or char.isspace() or unicodedata.category(char) == "Cc" else char
        for char in text
    )


def test_metrics_implement_the_interfaces() -> None:
    """Counters, gauges, timings and histograms fit the protocols, bound or not."""
    dogstatsd = Dogstatsd()
    assert isinstance(dogstatsd.counter("c").labels(a="1"), Counter)
    assert isinstance(dogstatsd.gauge("g").labels(a="1"), Gauge)
    assert isinstance(dogstatsd.timing("t").labels(a="1"), Histogram)
    assert isinstance(dogstatsd.histogram("h").labels(a="1"), Histogram)
    assert dogstatsd.counter("c") is dogstatsd.counter("c")


async def test_lines_carry_global_tags_then_labels_sorted_by_name() -> None:
    """Each line is name:value|type[|@rate]|#globals,labels with labels sorted by name."""
    dogstatsd = Dogstatsd("svc.", tags={"region": "eu", "env": "prod"}, rng=lambda: 0.0)
    requests, depth = dogstatsd.counter("requests"), dogstatsd.gauge("depth")
    latency, size = dogstatsd.timing("lat"), dogstatsd.histogram("size", sample_rate=0.5)
    async with udp_pipe(dogstatsd) as pipe:
        size.observe(512)
        requests.labels(method="sum", code="200").add(1)
        depth.labels(queue="a").set(3)
        latency.labels(method="sum").observe(12)
        assert await pipe.flush() == [
            "svc.size:512|h|@0.5|#region:eu,env:prod",
            "svc.requests:1|c|#region:eu,env:prod,code:200,method:sum",
            "svc.depth:3|g|#region:eu,env:prod,queue:a",
            "svc.lat:12|ms|#region:eu,env:prod,method:sum",
        ]
        assert await pipe.flush() == []


async def test_without_tags_there_is_no_tag_section() -> None:
    """A series with neither global tags nor labels is a plain StatsD line."""
    dogstatsd = Dogstatsd()
    async with udp_pipe(dogstatsd) as pipe:
        dogstatsd.counter("hits").add(2)
        assert await pipe.flush() == ["hits:2|c"]


async def test_label_order_does_not_make_another_series() -> None:
    """Binding the same labels in any order, at once or in steps, reaches one series
    (Go kit's lv.Space would make several)."""
    dogstatsd = Dogstatsd()
    counter = dogstatsd.counter("hits")
    bound = counter.labels(a="1", b="2")
    assert counter.labels(b="2", a="1") is bound
    assert counter.labels(b="2").labels(a="1") is bound
    assert counter.with_("b", "2", "a", "1") is bound
    async with udp_pipe(dogstatsd) as pipe:
        for metric in (bound, counter.labels(b="2", a="1"), counter.with_("a", "1", "b", "2")):
            metric.add(1)
        assert await pipe.flush() == ["hits:3|c|#a:1,b:2"]


async def test_a_label_replaces_a_global_tag_and_an_odd_list_gets_unknown() -> None:
    """labels(env=...) overrides the global env tag in place; with_('x') means x=unknown."""
    dogstatsd = Dogstatsd(tags={"env": "prod", "zone": "a"})
    counter = dogstatsd.counter("hits")
    async with udp_pipe(dogstatsd) as pipe:
        counter.labels(env="dev").add(1)
        counter.with_("x").add(1)
        assert await pipe.flush() == [
            "hits:1|c|#env:dev,zone:a",
            "hits:1|c|#env:prod,zone:a,x:unknown",
        ]


async def test_gauges_keep_a_value_per_label_set_and_send_only_when_touched() -> None:
    """Each label set has its own gauge value; add is relative to it across flushes."""
    dogstatsd = Dogstatsd()
    depth = dogstatsd.gauge("depth")
    async with udp_pipe(dogstatsd) as pipe:
        depth.labels(queue="a").set(5)
        depth.labels(queue="b").set(-1)
        assert await pipe.flush() == [
            "depth:5|g|#queue:a",
            "depth:0|g|#queue:b",
            "depth:-1|g|#queue:b",
        ]
        depth.labels(queue="a").add(2)
        assert await pipe.flush() == ["depth:7|g|#queue:a"]


async def test_no_label_value_can_end_the_line_add_a_tag_or_forge_a_metric() -> None:
    """Separators in label names and values become '_': one line, the tags we bound."""
    dogstatsd = Dogstatsd(tags={"env": "prod"})
    counter = dogstatsd.counter("hits")
    forged = "x|#admin:true,role:root\nevil.metric:1000|c\r\n"
    async with udp_pipe(dogstatsd) as pipe:
        counter.labels(user=forged).add(1)
        counter.labels(**{"k:e,y#|": "v"}).add(1)
        lines = await pipe.flush()
    assert lines == [
        "hits:1|c|#env:prod,user:x__admin:true_role:root_evil.metric:1000_c__",
        "hits:1|c|#env:prod,k_e_y__:v",
    ]
    assert [parse_statsd(line).tags for line in lines] == [
        ("env:prod", "user:x__admin:true_role:root_evil.metric:1000_c__"),
        ("env:prod", "k_e_y__:v"),
    ]


@given(key=st.text(max_size=20), value=st.text(max_size=40))
def test_any_label_makes_exactly_one_well_formed_line(key: str, value: str) -> None:
    """Whatever the label name and value, the drain is one line with exactly the tags bound."""
    dogstatsd = Dogstatsd(tags={"env": "prod"})
    dogstatsd.counter("hits").labels(**{key: value}).add(1)
    (payload,) = dogstatsd.drain(65536)
    text = payload.decode()
    assert len(text.splitlines()) == 1
    tags = {"env": "prod"}
    tags[cleaned(key, ":|,#") or "_"] = cleaned(value, "|,#")
    line = parse_statsd(text.rstrip("\n"))
    assert line.tags == tuple(f"{k}:{v}" for k, v in tags.items())
    assert (line.bucket, line.value, line.kind) == ("hits", "1", "c")


async def test_sampled_histograms_keep_exactly_the_draws_below_the_rate() -> None:
    """A histogram at rate 0.1 keeps the observations whose draw is below 0.1, with @0.1."""
    dogstatsd = Dogstatsd(rng=random.Random(3).random)
    histogram = dogstatsd.histogram("size", sample_rate=0.1).labels(route="/a")
    replica = random.Random(3)
    kept = [i for i in range(1000) if replica.random() < 0.1]
    async with udp_pipe(dogstatsd) as pipe:
        for i in range(1000):
            histogram.observe(i)
        assert await pipe.flush() == [f"size:{i}|h|@0.1|#route:/a" for i in kept]


async def test_counters_ignore_the_sample_rate_and_stay_exact() -> None:
    """A counter's sample rate is accepted but not applied; the sum is exact."""
    dogstatsd = Dogstatsd(rng=lambda: 0.99)
    counter = dogstatsd.counter("hits", sample_rate=0.01)
    async with udp_pipe(dogstatsd) as pipe:
        counter.labels(a="1").add(5)
        assert await pipe.flush() == ["hits:5|c|#a:1"]
    with pytest.raises(ValueError, match="sample_rate"):
        dogstatsd.counter("hits", sample_rate=2)


@pytest.mark.parametrize("name", ["a:b", "a|b", "a@b", "a b", "a\nb", ""])
def test_names_that_would_break_a_line_are_refused(name: str) -> None:
    """Metric names with separators, whitespace or controls raise ValueError."""
    with pytest.raises(ValueError, match="DogStatsD metric name"):
        Dogstatsd().gauge(name)


async def test_counter_conforms_through_the_receiver() -> None:
    """Go kit's teststat counter check passes on a labelled counter, read from the wire."""
    dogstatsd = Dogstatsd(tags={"env": "test"})
    async with udp_pipe(dogstatsd) as pipe:

        async def read() -> float:
            aggregate = StatsdAggregate().feed(await pipe.flush())
            return aggregate.counters["hits|#env:test,method:sum"]

        await check_counter(dogstatsd.counter("hits").labels(method="sum"), read)


async def test_gauge_conforms_through_the_receiver() -> None:
    """The gauge check passes on a labelled gauge, read the way a server reads."""
    dogstatsd = Dogstatsd()
    async with udp_pipe(dogstatsd) as pipe:

        async def read() -> float:
            return StatsdAggregate().feed(await pipe.flush()).gauges["depth|#queue:a"]

        for seed in range(1, 4):
            await check_gauge(dogstatsd.gauge("depth").labels(queue="a"), read, seed=seed)


@pytest.mark.parametrize("kind", ["timing", "histogram"])
async def test_histograms_conform_through_the_receiver(kind: str) -> None:
    """The quantiles of the received observations match the normal distribution fed in."""
    dogstatsd = Dogstatsd()
    metric = dogstatsd.timing("lat") if kind == "timing" else dogstatsd.histogram("lat")
    async with udp_pipe(dogstatsd) as pipe:

        async def read() -> dict[float, float]:
            aggregate = StatsdAggregate().feed(await pipe.flush())
            return dict(quantiles_of(aggregate.timings["lat|#route:/sum"]))

        await check_histogram(metric.labels(route="/sum"), read)
