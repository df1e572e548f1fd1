"""Fan-out and discarding metrics."""

from __future__ import annotations

from pygokit.metrics import Counter, Gauge, Histogram, discard, generic, multi


def test_multi_fans_out_updates_and_labels() -> None:
    """Every update and every label binding reaches each wrapped metric."""
    a, b = generic.Counter("a"), generic.Counter("b")
    counter = multi.Counter(a, b)
    counter.add(2)
    counter.labels(m="x").add(1)
    counter.with_("m", "x").add(1)
    assert (a.value(), b.value()) == (2, 2)
    assert a.labels(m="x").value() == 2

    g1, g2 = generic.Gauge("g1"), generic.Gauge("g2")
    gauge = multi.Gauge(g1, g2)
    gauge.set(5)
    gauge.add(-1)
    assert (g1.value(), g2.value()) == (4, 4)

    h1, h2 = generic.Histogram("h1"), generic.Histogram("h2")
    histogram = multi.Histogram(h1, h2)
    histogram.labels(m="x").observe(3)
    assert (h1.labels(m="x").count(), h2.labels(m="x").count()) == (1, 1)


def test_discard_accepts_everything_and_binds_to_itself() -> None:
    """Discarding metrics ignore updates, return themselves from labels, and fit the protocols."""
    counter, gauge, histogram = discard.Counter(), discard.Gauge(), discard.Histogram()
    counter.add(1)
    gauge.set(1)
    gauge.add(1)
    histogram.observe(1)
    assert counter.labels(a="b") is counter
    assert gauge.with_("a", "b") is gauge
    assert isinstance(counter, Counter)
    assert isinstance(gauge, Gauge)
    assert isinstance(histogram, Histogram)
