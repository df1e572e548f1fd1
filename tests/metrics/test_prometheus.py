"""Prometheus backend: conformance through real scrapes, label checks, wrapping, exposition."""

from __future__ import annotations

import gzip
import math
from collections.abc import Mapping

import aiohttp
import prometheus_client
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from pygokit.errors import GoKitError
from pygokit.metrics import metric
from pygokit.metrics.prometheus import (
    DEFAULT_BUCKETS,
    Counter,
    Gauge,
    Histogram,
    LabelMismatch,
    Summary,
    exponential_buckets,
    linear_buckets,
    metrics_app,
)
from pygokit.testing.metrics import (
    NORMAL_MEAN,
    QUANTILES,
    check_counter,
    check_gauge,
    check_histogram,
    populate_normal,
)
from tests.metrics.asgi_client import ASGIApp, bucket_quantile, call, run_lifespan, serving

BUCKET_WIDTH = 2.0
FINE_BUCKETS = linear_buckets(NORMAL_MEAN - 100, BUCKET_WIDTH, 101)
"""400 to 600 in steps of 2: every quantile checked lies within 3 sigma of the mean."""


def sample_value(text: str, name: str, labels: Mapping[str, str] | None = None) -> float:
    """The sum of every sample called *name* with exactly *labels* in a text exposition."""
    want = dict(labels or {})
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and sample.labels == want
    )


def scraped_quantiles(text: str, name: str, labels: Mapping[str, str]) -> dict[float, float]:
    """Estimate `QUANTILES` from the cumulative ``<name>_bucket`` samples in *text*."""
    buckets = sorted(
        (float(sample.labels["le"]), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == f"{name}_bucket"
        and {k: v for k, v in sample.labels.items() if k != "le"} == dict(labels)
    )
    bounds, counts = [b for b, _ in buckets], [c for _, c in buckets]
    return {q: bucket_quantile(q, bounds, counts) for q in QUANTILES}


async def scrape(app: ASGIApp) -> str:
    """The text exposition *app* serves, fetched in-process."""
    response = await call(app)
    assert response.status == 200
    return response.body.decode()


async def test_counter_passes_the_conformance_suite_scraped_over_real_http() -> None:
    """A bound counter's scraped ``_total`` sample (via uvicorn) equals the sum added."""
    registry = CollectorRegistry()
    counter = Counter("requests", "Requests.", label_names=["method"], registry=registry)

    async with serving(metrics_app(registry)) as url, aiohttp.ClientSession() as session:

        async def read() -> float:
            async with session.get(f"{url}/metrics") as reply:
                assert reply.status == 200
                assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                return sample_value(await reply.text(), "requests_total", {"method": "sum"})

        await check_counter(counter.labels(method="sum"), read)


async def test_gauge_passes_the_conformance_suite() -> None:
    """A gauge's scraped sample is the value it ended on after sets and adds."""
    registry = CollectorRegistry()
    gauge = Gauge("queue_depth", "Queue depth.", label_names=["queue"], registry=registry)
    app = metrics_app(registry)

    async def read() -> float:
        return sample_value(await scrape(app), "queue_depth", {"queue": "in"})

    await check_gauge(gauge.with_("queue", "in"), read)


async def test_histogram_passes_the_conformance_suite_from_scraped_buckets() -> None:
    """Quantiles estimated from scraped 2-wide buckets are within 0.4% + sampling of truth."""
    registry = CollectorRegistry()
    histogram = Histogram(
        "latency", "Latency.", label_names=["method"], registry=registry, buckets=FINE_BUCKETS
    )
    app = metrics_app(registry)

    async def read() -> dict[float, float]:
        return scraped_quantiles(await scrape(app), "latency", {"method": "sum"})

    # Interpolating inside a bucket is off by at most its width (2 / 400 = 0.5% at worst,
    # far less for a smooth density); 0.5% more covers sampling error of 5000 values.
    tolerance = BUCKET_WIDTH / 400 + 0.005
    await check_histogram(histogram.labels(method="sum"), read, tolerance=tolerance)


async def test_summary_exposes_count_and_sum_but_no_quantiles() -> None:
    """prometheus_client summaries keep count and sum only, so those are what is checked."""
    registry = CollectorRegistry()
    summary = Summary("size", "Sizes.", label_names=["method"], registry=registry, unit="bytes")

    values = populate_normal(summary.labels(method="sum"))

    text = await scrape(metrics_app(registry))
    assert sample_value(text, "size_bytes_count", {"method": "sum"}) == len(values)
    assert sample_value(text, "size_bytes_sum", {"method": "sum"}) == pytest.approx(
        math.fsum(values), rel=1e-12
    )
    assert "quantile" not in text


def test_every_wrapper_implements_its_interface() -> None:
    """Counter, Gauge, Summary and Histogram satisfy the core metric protocols."""
    registry = CollectorRegistry()
    assert isinstance(Counter("c", "c", registry=registry), metric.Counter)
    assert isinstance(Gauge("g", "g", registry=registry), metric.Gauge)
    assert isinstance(Summary("s", "s", registry=registry), metric.Histogram)
    assert isinstance(Histogram("h", "h", registry=registry), metric.Histogram)


async def test_partial_bindings_complete_in_any_order() -> None:
    """Labels bound in steps, in any order, reach the one series they name."""
    registry = CollectorRegistry()
    counter = Counter("calls", "Calls.", label_names=["method", "error"], registry=registry)

    counter.labels(method="sum").labels(error="false").add(1)
    counter.labels(error="false", method="sum").add(2)
    counter.with_("error", "false", "method", "sum").add(3)
    counter.labels(method="concat", error="true").labels(error="false").add(10)

    text = await scrape(metrics_app(registry))
    assert sample_value(text, "calls_total", {"method": "sum", "error": "false"}) == 6
    assert sample_value(text, "calls_total", {"method": "concat", "error": "false"}) == 10


def test_recording_with_a_declared_label_unbound_raises_label_mismatch() -> None:
    """Every record method refuses a partial binding, naming declared and given labels."""
    registry = CollectorRegistry()
    names = ["method", "error"]
    counter = Counter("a", "a", label_names=names, registry=registry).labels(method="sum")
    gauge = Gauge("b", "b", label_names=names, registry=registry).labels(method="sum")
    summary = Summary("c", "c", label_names=names, registry=registry).labels(method="sum")
    histogram = Histogram("d", "d", label_names=names, registry=registry).labels(method="sum")

    for record in (counter.add, gauge.add, gauge.set, summary.observe, histogram.observe):
        with pytest.raises(LabelMismatch, match="error are not bound yet") as raised:
            record(1.0)
        assert raised.value.declared == ("method", "error")
        assert raised.value.given == ("method",)
        assert isinstance(raised.value, GoKitError)


def test_binding_an_undeclared_label_raises_at_once() -> None:
    """A label the metric does not declare can never match, so binding it raises."""
    registry = CollectorRegistry()
    counter = Counter("requests", "Requests.", label_names=["method"], registry=registry)

    with pytest.raises(LabelMismatch, match=r"'requests'.*code are not declared") as raised:
        counter.labels(method="sum", code="200")
    assert raised.value.metric == "requests"
    assert raised.value.given == ("code", "method")  # label pairs are kept sorted by name
    with pytest.raises(LabelMismatch, match="method are not declared"):
        Counter("plain", "Plain.", registry=registry).labels(method="sum")


def test_odd_with_list_binds_unknown_as_go_kit_does() -> None:
    """with_ of an odd-length list gives the last name the value 'unknown'."""
    registry = CollectorRegistry()
    counter = Counter("hits", "Hits.", label_names=["path"], registry=registry)

    counter.with_("path").add(1)

    assert registry.get_sample_value("hits_total", {"path": "unknown"}) == 1


def test_binding_is_cached_and_rebinding_replaces_a_value() -> None:
    """The same labels give the same metric; binding a name again replaces its value."""
    registry = CollectorRegistry()
    gauge = Gauge("temp", "Temperature.", label_names=["room"], registry=registry)

    assert gauge.labels(room="a") is gauge.labels(room="a")
    gauge.labels(room="a").labels(room="b").set(21.5)

    assert registry.get_sample_value("temp", {"room": "b"}) == 21.5
    assert registry.get_sample_value("temp", {"room": "a"}) is None
    assert repr(gauge.labels(room="b")) == "Gauge('temp', labels={'room': 'b'})"


def test_namespace_subsystem_and_unit_build_the_full_name() -> None:
    """Names are joined as prometheus_client joins them: namespace_subsystem_name_unit."""
    registry = CollectorRegistry()
    histogram = Histogram(
        "duration",
        "Duration.",
        registry=registry,
        namespace="addsvc",
        subsystem="http",
        unit="seconds",
        buckets=[0.1, 1],
    )

    histogram.observe(0.5)

    assert registry.get_sample_value("addsvc_http_duration_seconds_bucket", {"le": "1.0"}) == 1
    assert histogram.vec is histogram.labels().vec


def test_counter_refuses_a_negative_delta() -> None:
    """A counter only goes up: a negative add raises ValueError, as prometheus_client does."""
    counter = Counter("c", "c", registry=CollectorRegistry())
    with pytest.raises(ValueError, match="non-negative"):
        counter.add(-1)


def test_wrap_adopts_an_existing_metric() -> None:
    """wrap() records on a metric built with prometheus_client directly, labels included."""
    registry = CollectorRegistry()
    vec = prometheus_client.Gauge("workers", "Workers.", ["pool"], registry=registry)
    plain = prometheus_client.Summary("wait", "Wait.", registry=registry)
    hist = prometheus_client.Histogram("size", "Size.", ["kind"], registry=registry)
    total = prometheus_client.Counter("jobs", "Jobs.", registry=registry)

    Gauge.wrap(vec).labels(pool="io").add(3)
    Summary.wrap(plain).observe(2.5)
    Histogram.wrap(hist).labels(kind="x").observe(0.2)
    Counter.wrap(total).add(4)

    assert registry.get_sample_value("workers", {"pool": "io"}) == 3
    assert registry.get_sample_value("wait_sum") == 2.5
    assert registry.get_sample_value("size_count", {"kind": "x"}) == 1
    assert registry.get_sample_value("jobs_total") == 4
    assert Gauge.wrap(vec).vec is vec


def test_wrap_refuses_a_child_or_the_wrong_kind() -> None:
    """wrap() wants the parent metric of its own kind, and says what it got instead."""
    registry = CollectorRegistry()
    vec = prometheus_client.Counter("jobs", "Jobs.", ["queue"], registry=registry)

    with pytest.raises(ValueError, match="child bound by labels"):
        Counter.wrap(vec.labels(queue="a"))
    with pytest.raises(TypeError, match=r"needs a prometheus_client\.Gauge, got Counter"):
        Gauge.wrap(vec)  # type: ignore[arg-type]


def test_registry_is_required_and_never_the_global_default() -> None:
    """No registry is a TypeError that points at passing prometheus_client.REGISTRY."""
    with pytest.raises(TypeError, match=r"pass prometheus_client\.REGISTRY explicitly"):
        Counter("c", "c", registry=None)  # type: ignore[arg-type]
    registry = CollectorRegistry()
    Counter("only_here", "c", registry=registry)
    assert prometheus_client.REGISTRY.get_sample_value("only_here_total") is None


def test_duplicate_names_in_one_registry_raise_value_error() -> None:
    """Registering a name twice fails at construction, as prometheus_client does."""
    registry = CollectorRegistry()
    Counter("dup", "d", registry=registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Counter("dup", "d", registry=registry)


def test_bucket_helpers_match_client_golang() -> None:
    """linear_buckets and exponential_buckets give client_golang's bounds or refuse."""
    assert linear_buckets(1, 0.5, 4) == (1, 1.5, 2, 2.5)
    assert exponential_buckets(0.001, 10, 4) == pytest.approx((0.001, 0.01, 0.1, 1))
    assert DEFAULT_BUCKETS[-1] == math.inf
    with pytest.raises(ValueError, match="width > 0"):
        linear_buckets(0, 0, 3)
    with pytest.raises(ValueError, match="factor > 1"):
        exponential_buckets(1, 1, 3)
    with pytest.raises(ValueError, match="count >= 1"):
        exponential_buckets(1, 2, 0)


async def test_exposition_head_answers_headers_without_a_body() -> None:
    """HEAD gets GET's status and headers (Content-Length included) and no body."""
    registry = CollectorRegistry()
    Counter("c", "c", registry=registry).add(1)
    app = metrics_app(registry)

    get, head = await call(app), await call(app, "HEAD")

    assert head.status == 200
    assert head.body == b""
    assert head.headers["content-length"] == str(len(get.body))
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_exposition_refuses_other_methods_with_405(method: str) -> None:
    """Anything but GET or HEAD is 405 with an Allow header."""
    response = await call(metrics_app(CollectorRegistry()), method)

    assert response.status == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.body == b"method not allowed: use GET\n"


@pytest.mark.parametrize(
    ("accept_encoding", "compressed"),
    [
        ("gzip", True),
        ("br, GZIP;q=0.5", True),
        ("deflate, gzip;q=0", False),
        ("gzip;q=nonsense", False),
        ("gzip;level=1", True),
        ("identity", False),
        ("", False),
    ],
)
async def test_exposition_gzips_only_when_the_client_accepts_it(
    accept_encoding: str, compressed: bool
) -> None:
    """gzip is used when Accept-Encoding lists it with a q above zero, and never otherwise."""
    registry = CollectorRegistry()
    Counter("c", "c", registry=registry).add(7)

    response = await call(metrics_app(registry), headers=[("Accept-Encoding", accept_encoding)])

    assert (response.headers.get("content-encoding") == "gzip") is compressed
    body = gzip.decompress(response.body) if compressed else response.body
    assert sample_value(body.decode(), "c_total") == 7
    assert response.headers["content-length"] == str(len(response.body))


async def test_exposition_negotiates_openmetrics() -> None:
    """A scraper that asks for OpenMetrics gets it, ending with # EOF."""
    registry = CollectorRegistry()
    Gauge("g", "g", registry=registry).set(3)
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"

    response = await call(metrics_app(registry), headers=[("Accept", accept)])

    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.body.endswith(b"# EOF\n")
    text = response.body.decode()
    families = {f.name: f for f in openmetrics_families(text)}  # type: ignore[no-untyped-call]
    assert families["g"].samples[0].value == 3


async def test_exposition_answers_lifespan_and_ignores_other_scopes() -> None:
    """Lifespan startup and shutdown are acknowledged; a websocket scope is left alone."""
    app = metrics_app(CollectorRegistry())
    assert await run_lifespan(app) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    async def never() -> dict[str, object]:
        raise AssertionError("the app must not read a websocket")

    async def refuse(message: object) -> None:
        raise AssertionError("the app must not answer a websocket")

    await app({"type": "websocket"}, never, refuse)


async def test_gzip_scrape_over_real_http_decodes() -> None:
    """Through uvicorn and aiohttp (which asks for gzip) the scrape arrives compressed."""
    registry = CollectorRegistry()
    Histogram("h", "h", registry=registry, buckets=[1, 2]).observe(1.5)

    async with serving(metrics_app(registry)) as url, aiohttp.ClientSession() as session:
        async with session.get(f"{url}/any/path") as reply:
            assert reply.headers["Content-Encoding"] == "gzip"
            text = await reply.text()
        async with session.head(url) as reply:
            assert reply.status == 200
            assert await reply.read() == b""

    assert sample_value(text, "h_bucket", {"le": "2.0"}) == 1


def test_bucket_quantile_handles_edges() -> None:
    """The test estimator answers NaN when empty, the top bound in +Inf, 0-based first."""
    inf = math.inf
    assert math.isnan(bucket_quantile(0.5, [1, inf], [0, 0]))
    assert bucket_quantile(0.99, [1, 2, inf], [0, 1, 10]) == 2
    assert bucket_quantile(0.5, [4, inf], [10, 10]) == 2
    assert bucket_quantile(0.5, [-1, inf], [10, 10]) == -1
