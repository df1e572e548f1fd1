"""Generic in-memory metrics, label binding, and the conformance suite run against them."""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygokit.metrics import Counter, Gauge, Histogram, generic
from pygokit.metrics.labels import UNKNOWN, merge, pairs_from_values
from pygokit.metrics.quantiles import Quantiles
from pygokit.testing.metrics import (
    QUANTILES,
    check_counter,
    check_gauge,
    check_histogram,
    populate_normal,
)


async def test_generic_counter_passes_the_conformance_suite() -> None:
    """A generic counter reads back the exact sum of what was added."""
    counter = generic.Counter("hits")
    await check_counter(counter, counter.value)


async def test_generic_gauge_passes_the_conformance_suite() -> None:
    """A generic gauge reads back the last value after sets and adds."""
    gauge = generic.Gauge("depth")
    await check_gauge(gauge, gauge.value)


async def test_generic_histogram_passes_the_conformance_suite() -> None:
    """A generic histogram's quantiles of normal observations are within 1% of the truth."""
    histogram = generic.Histogram("latency")
    await check_histogram(histogram, lambda: {q: histogram.quantile(q) for q in QUANTILES})


async def test_conformance_suite_catches_a_wrong_backend() -> None:
    """The checks fail for a backend that reads back the wrong value."""
    counter = generic.Counter("hits")
    with pytest.raises(AssertionError, match="counter: added"):
        await check_counter(counter, lambda: counter.value() + 1)
    gauge = generic.Gauge("g")
    with pytest.raises(AssertionError, match="gauge: ended on"):
        await check_gauge(gauge, lambda: 0.5)
    histogram = generic.Histogram("h")
    with pytest.raises(AssertionError, match="p50"):
        await check_histogram(histogram, lambda: dict.fromkeys(QUANTILES, 1.0))


async def test_conformance_readers_may_be_async() -> None:
    """A reader can be a coroutine function, as push backends need to flush first."""
    counter = generic.Counter("hits")

    async def read() -> float:
        return counter.value()

    assert await check_counter(counter, read) == counter.value()


def test_labels_make_cached_independent_children() -> None:
    """labels() returns the same child for the same labels; children are separate series."""
    requests = generic.Counter("requests")
    ok = requests.labels(method="sum", success="true")

    assert requests.labels(method="sum", success="true") is ok
    ok.add(2)
    requests.labels(method="sum", success="false").add(1)
    assert (ok.value(), requests.value()) == (2, 0)
    assert ok.label_pairs == (("method", "sum"), ("success", "true"))


def test_with_takes_go_kits_alternating_list_and_pads_odd_ones() -> None:
    """with_ pairs names and values; an odd list gets 'unknown'; binding again merges."""
    gauge = generic.Gauge("g")
    child = gauge.with_("a", "1", "b")

    assert child.label_pairs == (("a", "1"), ("b", UNKNOWN))
    assert child.labels(a="2", c="3").label_pairs == (("a", "2"), ("b", UNKNOWN), ("c", "3"))
    assert pairs_from_values(["x", "y"]) == (("x", "y"),)
    assert merge((), (("k", "v"),)) == (("k", "v"),)


def test_counter_value_reset_returns_the_total_and_starts_again() -> None:
    """value_reset hands over the total once; the next read starts from zero."""
    counter = generic.Counter("c")
    counter.add(3)
    counter.add(4.5)
    assert counter.value_reset() == 7.5
    assert counter.value() == 0


def test_counter_is_exact_across_threads() -> None:
    """Eight threads adding concurrently lose no update."""
    counter = generic.Counter("c")

    def work() -> None:
        for _ in range(5000):
            counter.add(1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.value() == 40_000


def test_histogram_counts_sums_and_is_nan_when_empty() -> None:
    """A histogram knows its count and sum; before any observation quantiles are NaN."""
    histogram = generic.Histogram("h")
    assert histogram.quantile(0.5) != histogram.quantile(0.5)  # NaN
    values = populate_normal(histogram, count=300)
    assert histogram.count() == 300
    assert histogram.sum() == pytest.approx(sum(values))
    assert "count=300" in repr(histogram)


def test_simple_histogram_keeps_the_running_mean() -> None:
    """SimpleHistogram's moving average is the mean of what it observed."""
    histogram = generic.SimpleHistogram("h")
    for value in (1.0, 2.0, 6.0):
        histogram.observe(value)
    assert histogram.approximate_moving_average() == pytest.approx(3.0)
    assert histogram.labels(a="b").approximate_moving_average() != 0  # NaN: a fresh series


def test_generic_metrics_satisfy_the_protocols() -> None:
    """The generic metrics are Counters, Gauges and Histograms."""
    assert isinstance(generic.Counter("c"), Counter)
    assert isinstance(generic.Gauge("g"), Gauge)
    assert isinstance(generic.Histogram("h"), Histogram)
    assert isinstance(generic.SimpleHistogram(), Histogram)
    assert repr(generic.Gauge("g").labels(a="1")) == "Gauge('g', labels={'a': '1'}, value=0.0)"
    assert "value=0.0" in repr(generic.Counter("c"))


@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=3000),
    st.sampled_from([0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0]),
)
def test_quantile_estimates_stay_within_the_observed_range(values: list[float], q: float) -> None:
    """Whatever is observed, a quantile estimate lies between the smallest and largest value."""
    quantiles = Quantiles()
    for value in values:
        quantiles.add(value)
    estimate = quantiles.quantile(q)
    assert min(values) - 1e-6 <= estimate <= max(values) + 1e-6
    assert quantiles.count == len(values)


def test_quantiles_are_accurate_for_skewed_data_too() -> None:
    """For 50,000 exponential observations the p50..p99 estimates are within 2%."""
    rng = random.Random(7)
    values = [rng.expovariate(1 / 100) for _ in range(50_000)]
    quantiles = Quantiles()
    for value in values:
        quantiles.add(value)
    values.sort()
    for q in QUANTILES:
        exact = values[int(q * len(values)) - 1]
        assert quantiles.quantile(q) == pytest.approx(exact, rel=0.02)


def test_quantile_outside_zero_to_one_is_refused() -> None:
    """Asking for the 1.5 quantile is a ValueError naming the input."""
    with pytest.raises(ValueError, match=r"between 0 and 1, got 1\.5"):
        Quantiles().quantile(1.5)


def test_labels_in_any_order_or_in_steps_reach_one_series() -> None:
    """Binding a=1 then b=2, b=2 then a=1, or both at once gives the same metric."""
    counter = generic.Counter("c")
    at_once = counter.labels(a="1", b="2")

    assert counter.labels(b="2", a="1") is at_once
    assert counter.labels(a="1").labels(b="2") is at_once
    assert counter.labels(b="2").labels(a="1") is at_once
    assert at_once.labels() is at_once
    assert at_once.label_pairs == (("a", "1"), ("b", "2"))
