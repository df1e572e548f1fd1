"""Bound Prometheus metrics record straight into prometheus_client's values, identically."""

from __future__ import annotations

import math

import prometheus_client
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest

from pygokit.metrics._prometheus_values import counter_inc, histogram_observe
from pygokit.metrics.prometheus import Counter, Histogram

BUCKETS = (0.005, 0.01, 0.1, 1.0, 10.0)

observations = st.lists(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([*BUCKETS, 0.0, -0.0, 0.0050000001, math.inf, -math.inf]),
    ),
    max_size=30,
)


@settings(max_examples=200)
@given(values=observations, deltas=st.lists(st.floats(0, 1e9), max_size=10))
def test_pygokit_records_exactly_what_prometheus_client_records(
    values: list[float], deltas: list[float]
) -> None:
    """Every bucket, count and sum of the exposition match prometheus_client's own methods."""
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    histogram = Histogram("h", "H.", label_names=["m"], buckets=BUCKETS, registry=ours)
    counter = Counter("c", "C.", label_names=["m"], registry=ours)
    plain_histogram = prometheus_client.Histogram(
        "h", "H.", labelnames=["m"], buckets=BUCKETS, registry=theirs
    )
    plain_counter = prometheus_client.Counter("c", "C.", labelnames=["m"], registry=theirs)
    bound_histogram, bound_counter = histogram.labels(m="x"), counter.labels(m="x")
    for value in values:
        bound_histogram.observe(value)
        plain_histogram.labels(m="x").observe(value)
    for delta in deltas:
        bound_counter.add(delta)
        plain_counter.labels(m="x").inc(delta)

    def text(registry: CollectorRegistry) -> list[str]:
        return [
            line
            for line in generate_latest(registry).decode().splitlines()
            if "_created" not in line
        ]

    assert text(ours) == text(theirs)


def test_the_installed_prometheus_client_takes_the_direct_path() -> None:
    """The shapes the helpers look for are those of the prometheus_client in use."""
    registry = CollectorRegistry()
    counter = prometheus_client.Counter("c", "C.", registry=registry)
    histogram = prometheus_client.Histogram("h", "H.", registry=registry)
    assert counter_inc(counter) is not None
    assert histogram_observe(histogram) is not None


class _Value:
    def __init__(self) -> None:
        self.total = 0.0

    def inc(self, amount: float) -> None:
        self.total += amount


class _OddHistogram:
    """Something shaped almost like a prometheus_client histogram child."""

    def __init__(self, bounds: object, buckets: object, total: object) -> None:
        self._upper_bounds = bounds
        self._buckets = buckets
        self._sum = total


def test_shapes_it_does_not_recognise_fall_back_to_the_public_method() -> None:
    """Missing values, mismatched or unsorted bounds, or no +Inf bucket: None, so use observe."""
    two = [_Value(), _Value()]
    assert counter_inc(object()) is None
    assert histogram_observe(object()) is None
    assert histogram_observe(_OddHistogram([1.0, math.inf], two, object())) is None
    assert histogram_observe(_OddHistogram([1.0, math.inf], [_Value()], _Value())) is None
    assert histogram_observe(_OddHistogram([1.0, 2.0], two, _Value())) is None
    assert histogram_observe(_OddHistogram([math.inf, 1.0], two, _Value())) is None
    assert histogram_observe(_OddHistogram([], [], _Value())) is None
    assert histogram_observe(_OddHistogram((1.0, math.inf), two, _Value())) is None
    assert histogram_observe(_OddHistogram([1.0, math.inf], [_Value(), object()], _Value())) is None


def test_a_recognised_shape_updates_the_sum_and_the_first_bucket_that_holds_the_value() -> None:
    """The bucket is the first whose bound is >= the value; NaN goes to the sum only."""
    buckets = [_Value(), _Value(), _Value()]
    total = _Value()
    observe = histogram_observe(_OddHistogram([1.0, 2.0, math.inf], buckets, total))
    assert observe is not None
    for value in (0.5, 1.0, 1.5, 2.0, 3.0, math.nan):
        observe(value)
    assert [bucket.total for bucket in buckets] == [2, 2, 1]
    assert math.isnan(total.total)
