"""A conformance suite for metrics backends (Go kit's ``teststat``).

Given a metric from any backend and a way to read back what the backend recorded,
each check drives the metric and compares what comes back with what was sent:
counters must sum exactly, gauges must hold the last value, and histogram quantiles
of normally distributed observations must land within a tolerance of the true ones.
Readers may be plain or async functions, so a push backend's reader can flush and
receive over the network.

Example::

    counter = generic.Counter("hits")
    await check_counter(counter, counter.value)
"""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Awaitable, Callable, Mapping
from statistics import NormalDist
from typing import TypeVar

from pygokit.metrics.metric import Counter, Gauge, Histogram

__all__ = [
    "NORMAL_MEAN",
    "NORMAL_STDEV",
    "QUANTILES",
    "check_counter",
    "check_gauge",
    "check_histogram",
    "populate_normal",
]

NORMAL_MEAN = 500.0
"""The mean of the observations `populate_normal` makes."""

NORMAL_STDEV = 25.0
"""Their standard deviation."""

QUANTILES = (0.50, 0.90, 0.95, 0.99)
"""The quantiles `check_histogram` compares, as Go kit's teststat does."""

T = TypeVar("T")
Reader = Callable[[], T | Awaitable[T]]


def _expect(condition: bool, message: str) -> None:
    """Fail the check with *message* (an AssertionError, so pytest reports it as one)."""
    if not condition:
        raise AssertionError(message)


async def _read(reader: Reader[T]) -> T:
    value = reader()
    if inspect.isawaitable(value):
        return await value
    return value


async def check_counter(counter: Counter, read: Reader[float], *, seed: int = 1) -> float:
    """Add random whole amounts to *counter*; *read* must return their exact sum.

    Returns the sum, for backends whose readers want to check more.
    """
    rng = random.Random(seed)
    total = 0.0
    for _ in range(rng.randint(50, 100)):
        delta = float(rng.randint(1, 100))
        counter.add(delta)
        total += delta
    got = await _read(read)
    _expect(got == total, f"counter: added {total}, read back {got}")
    return total


async def check_gauge(gauge: Gauge, read: Reader[float], *, seed: int = 1) -> float:
    """Set and change *gauge* many times; *read* must return the value it ends on.

    Returns that value.
    """
    rng = random.Random(seed)
    value = 0.0
    for _ in range(rng.randint(50, 100)):
        if rng.random() < 0.5:
            value = float(rng.randint(-1000, 1000))
            gauge.set(value)
        else:
            delta = float(rng.randint(-10, 10))
            gauge.add(delta)
            value += delta
    got = await _read(read)
    _expect(got == value, f"gauge: ended on {value}, read back {got}")
    return value


def populate_normal(histogram: Histogram, *, count: int = 5000, seed: int = 1) -> list[float]:
    """Observe *count* values drawn from N(`NORMAL_MEAN`, `NORMAL_STDEV`); return them."""
    rng = random.Random(seed)
    values = [rng.gauss(NORMAL_MEAN, NORMAL_STDEV) for _ in range(count)]
    for value in values:
        histogram.observe(value)
    return values


async def check_histogram(
    histogram: Histogram,
    read_quantiles: Reader[Mapping[float, float]],
    *,
    tolerance: float = 0.01,
    count: int = 5000,
    seed: int = 1,
) -> None:
    """Fill *histogram* with normal observations; its quantiles must be near the true ones.

    *read_quantiles* returns the backend's estimate for each of `QUANTILES` (at least);
    each must be within *tolerance*, relative, of the normal distribution's quantile.
    """
    populate_normal(histogram, count=count, seed=seed)
    estimates = await _read(read_quantiles)
    normal = NormalDist(NORMAL_MEAN, NORMAL_STDEV)
    for q in QUANTILES:
        want = normal.inv_cdf(q)
        got = estimates[q]
        _expect(
            not math.isnan(got) and abs(got - want) <= tolerance * want,
            f"histogram: p{q * 100:g} is {got}, want {want:.3f} within {tolerance:.1%}",
        )
