"""OpenTelemetry backend: conformance read back from the real SDK, attributes, wrapping."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pytest
from opentelemetry import metrics as otel
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    DataT,
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
    Sum,
)
from opentelemetry.sdk.metrics.export import Gauge as GaugeData
from opentelemetry.sdk.metrics.export import Histogram as HistogramData

from pygokit.metrics import metric
from pygokit.metrics.otel import Counter, Gauge, Histogram
from pygokit.testing.metrics import (
    NORMAL_MEAN,
    QUANTILES,
    check_counter,
    check_gauge,
    check_histogram,
)
from tests.metrics.asgi_client import bucket_quantile

BUCKET_WIDTH = 2.0
FINE_BUCKETS = tuple(NORMAL_MEAN - 100 + i * BUCKET_WIDTH for i in range(101))
"""400 to 600 in steps of 2: every quantile checked lies within 3 sigma of the mean."""


@dataclass
class SDK:
    """A real OTel SDK meter and the in-memory reader that collects from it."""

    meter: otel.Meter
    reader: InMemoryMetricReader

    def data(self, name: str) -> DataT:
        """Collect now and return the data of the metric called *name*."""
        collected = self.reader.get_metrics_data()
        assert collected is not None
        for resource in collected.resource_metrics:
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name == name:
                        return m.data
        raise AssertionError(f"no metric {name!r} was collected")

    def number(self, name: str, attributes: Mapping[str, str] | None = None) -> float:
        """The value of *name*'s data point with exactly *attributes*."""
        data = self.data(name)
        assert isinstance(data, Sum | GaugeData)
        for point in data.data_points:
            assert isinstance(point, NumberDataPoint)
            if dict(point.attributes or {}) == dict(attributes or {}):
                return point.value
        raise AssertionError(f"no {name!r} point with attributes {attributes}")

    def histogram(self, name: str, attributes: Mapping[str, str]) -> HistogramDataPoint:
        """*name*'s histogram data point with exactly *attributes*."""
        data = self.data(name)
        assert isinstance(data, HistogramData)
        for point in data.data_points:
            if dict(point.attributes or {}) == attributes:
                return point
        raise AssertionError(f"no {name!r} histogram point with attributes {attributes}")


@pytest.fixture
def sdk() -> Iterator[SDK]:
    """A fresh MeterProvider with an InMemoryMetricReader, shut down after the test."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    yield SDK(provider.get_meter("pygokit.tests"), reader)
    provider.shutdown()


async def test_counter_passes_the_conformance_suite(sdk: SDK) -> None:
    """The SDK's cumulative sum for the bound attributes equals the sum added."""
    counter = Counter(sdk.meter, "requests", unit="{request}", description="Requests.")
    await check_counter(
        counter.labels(method="sum"), lambda: sdk.number("requests", {"method": "sum"})
    )
    assert isinstance(sdk.data("requests"), Sum)


async def test_gauge_passes_the_conformance_suite_as_an_otel_gauge(sdk: SDK) -> None:
    """Sets and adds end on the value the SDK exports as a (last-value) Gauge."""
    gauge = Gauge(sdk.meter, "queue.depth")
    bound = gauge.with_("queue", "in")

    await check_gauge(bound, lambda: sdk.number("queue.depth", {"queue": "in"}))
    assert isinstance(sdk.data("queue.depth"), GaugeData)
    assert sdk.number("queue.depth", {"queue": "in"}) == bound.value()


async def test_histogram_passes_the_conformance_suite_from_bucket_counts(sdk: SDK) -> None:
    """Quantiles estimated from the SDK's 2-wide explicit buckets are within tolerance."""
    histogram = Histogram(sdk.meter, "latency", unit="ms", buckets=FINE_BUCKETS)

    def read() -> dict[float, float]:
        point = sdk.histogram("latency", {"method": "sum"})
        assert tuple(point.explicit_bounds) == FINE_BUCKETS
        bounds = [*point.explicit_bounds, math.inf]
        cumulative = list(itertools.accumulate(point.bucket_counts))
        return {q: bucket_quantile(q, bounds, cumulative) for q in QUANTILES}

    # Interpolating inside a bucket is off by at most its width (2 / 400 = 0.5% at worst);
    # 0.5% more covers sampling error of 5000 values.
    tolerance = BUCKET_WIDTH / 400 + 0.005
    await check_histogram(histogram.labels(method="sum"), read, tolerance=tolerance)
    point = sdk.histogram("latency", {"method": "sum"})
    assert point.count == 5000


def test_every_wrapper_implements_its_interface(sdk: SDK) -> None:
    """Counter, Gauge and Histogram satisfy the core metric protocols."""
    assert isinstance(Counter(sdk.meter, "c"), metric.Counter)
    assert isinstance(Gauge(sdk.meter, "g"), metric.Gauge)
    assert isinstance(Histogram(sdk.meter, "h"), metric.Histogram)


def test_labels_become_attributes_and_bindings_are_cached(sdk: SDK) -> None:
    """Bound labels are the measurement attributes; the same labels give the same metric."""
    counter = Counter(sdk.meter, "calls")

    assert counter.labels(method="sum") is counter.labels(method="sum")
    counter.labels(method="sum").labels(error="false").add(1)
    counter.labels(error="false", method="sum").add(2)
    counter.with_("method").add(5)
    counter.add(7)

    assert sdk.number("calls", {"method": "sum", "error": "false"}) == 3
    assert sdk.number("calls", {"method": "unknown"}) == 5
    assert sdk.number("calls") == 7


def test_gauge_bindings_of_one_label_set_share_one_value(sdk: SDK) -> None:
    """Whatever order labels were bound in, adds to one label set accumulate together."""
    gauge = Gauge(sdk.meter, "inflight")

    gauge.labels(a="1").labels(b="2").add(2)
    gauge.labels(b="2", a="1").add(3)
    gauge.labels(a="1").add(-1)

    assert sdk.number("inflight", {"a": "1", "b": "2"}) == 5
    assert sdk.number("inflight", {"a": "1"}) == -1
    assert gauge.labels(b="2").labels(a="1").value() == 5
    assert gauge.value() == 0


def test_histogram_records_with_attributes(sdk: SDK) -> None:
    """observe records the value on the OTel histogram with the bound labels."""
    histogram = Histogram(sdk.meter, "size", unit="By")

    histogram.with_("route", "/sum").observe(3)
    histogram.with_("route", "/sum").observe(5)

    point = sdk.histogram("size", {"route": "/sum"})
    assert (point.count, point.sum, point.min, point.max) == (2, 8, 3, 5)


def test_wrap_records_on_instruments_built_elsewhere(sdk: SDK) -> None:
    """wrap() adopts an OTel counter, gauge or histogram the application created."""
    counter = Counter.wrap(sdk.meter.create_counter("jobs"))
    gauge = Gauge.wrap(sdk.meter.create_gauge("workers"))
    histogram = Histogram.wrap(sdk.meter.create_histogram("wait"))

    counter.labels(queue="a").add(2)
    gauge.add(4)
    histogram.observe(1.5)

    assert sdk.number("jobs", {"queue": "a"}) == 2
    assert sdk.number("workers") == 4
    assert sdk.histogram("wait", {}).sum == 1.5
    assert counter.instrument is counter.labels(queue="b").instrument


def test_without_an_sdk_every_record_is_a_no_op() -> None:
    """On the API's no-op meter (no SDK installed) the metrics record nothing and never fail."""
    meter = otel.NoOpMeter("none")
    Counter(meter, "c").labels(a="b").add(1)
    gauge = Gauge(meter, "g")
    gauge.set(2)
    gauge.add(1)
    Histogram(meter, "h", buckets=[1, 2]).observe(1)
    assert gauge.value() == 3
