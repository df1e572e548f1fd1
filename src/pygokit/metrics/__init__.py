"""Metrics: Go kit's Counter, Gauge and Histogram, with a backend for every system.

Instrument your code against the interfaces in `pygokit.metrics.metric` and choose a
backend in ``main``. Prometheus is the one to pick when you can (as Go kit advises);
the push backends (StatsD, DogStatsD, Influx StatsD, Graphite, InfluxDB) buffer in
memory and flush on an interval from a task you own; OpenTelemetry and an
expvar-style JSON endpoint are there too. `pygokit.metrics.generic` keeps values in
memory where tests can read them, `discard` records nothing, `multi` fans out, and
`provider` builds any backend from one description.

Example::

    requests = generic.Counter("requests")
    duration = generic.Histogram("request_duration_seconds")
    endpoint = instrumenting_middleware(requests, duration, method="sum")(sum_endpoint)
"""

from pygokit.metrics.metric import Counter as Counter
from pygokit.metrics.metric import Gauge as Gauge
from pygokit.metrics.metric import Histogram as Histogram
from pygokit.metrics.timer import MICROSECOND as MICROSECOND
from pygokit.metrics.timer import MILLISECOND as MILLISECOND
from pygokit.metrics.timer import SECOND as SECOND
from pygokit.metrics.timer import Timer as Timer
from pygokit.metrics.timer import timed as timed

__all__ = [
    "MICROSECOND",
    "MILLISECOND",
    "SECOND",
    "Counter",
    "Gauge",
    "Histogram",
    "Timer",
    "timed",
]
