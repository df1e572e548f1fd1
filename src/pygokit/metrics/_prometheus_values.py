"""Recording straight into prometheus_client's value objects, skipping its wrappers.

A prometheus_client child's ``inc`` or ``observe`` runs three Python frames around the
one that matters (a check that the metric is a child, exemplar handling, a linear
scan of the buckets) before it reaches the locked value it updates. The bound
children of `pygokit.metrics.prometheus` do the same update with one call per value:
``Counter.add`` calls the child's value's ``inc``, ``Histogram.observe`` adds to the
sum and bisects the bucket bounds. The outcome is identical, and read back the same
way by every exposition path (text, OpenMetrics, multiprocess files).

The value objects are prometheus_client's internals (``_value``, ``_sum``,
``_buckets``, ``_upper_bounds``, unchanged since its first releases); each helper
checks their shape first and returns None when it does not recognise it, and the
caller then uses the public method.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

__all__ = ["counter_inc", "histogram_observe"]


def _inc_of(value: object) -> Callable[[float], None] | None:
    inc = getattr(value, "inc", None)
    return inc if callable(inc) else None


def counter_inc(child: Any) -> Callable[[float], None] | None:
    """The ``inc`` of *child*'s value (no sign check: the caller makes it), or None."""
    return _inc_of(getattr(child, "_value", None))


def histogram_observe(child: Any) -> Callable[[float], None] | None:
    """A function that observes a value on histogram *child* as its ``observe`` does, or None."""
    bounds = getattr(child, "_upper_bounds", None)
    buckets = getattr(child, "_buckets", None)
    add_to_sum = _inc_of(getattr(child, "_sum", None))
    if (
        add_to_sum is None
        or not isinstance(bounds, list)
        or not isinstance(buckets, list)
        or not bounds
        or len(bounds) != len(buckets)
        or bounds[-1] != math.inf
        or bounds != sorted(bounds)
    ):
        return None
    incs = [_inc_of(bucket) for bucket in buckets]
    if None in incs:
        return None
    bucket_incs: tuple[Callable[[float], None], ...] = tuple(incs)  # type: ignore[arg-type]
    upper_bounds = tuple(float(bound) for bound in bounds)

    def observe(value: float) -> None:
        add_to_sum(value)
        if value == value:  # NaN falls in no bucket, as in prometheus_client
            # The first bound >= value: the bucket prometheus_client's scan stops at.
            bucket_incs[bisect_left(upper_bounds, value)](1)

    return observe
