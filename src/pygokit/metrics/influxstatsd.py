"""Influx StatsD: StatsD with tags in the bucket name, for Telegraf's statsd input.

`InfluxStatsd` makes the metrics and is a `pygokit.metrics.push.Emitter`; run it
under a `pygokit.metrics.push.PushLoop` over a `pygokit.metrics.push.UDPSender`.
Lines look like ``name,tag=value,...:value|type[|@rate]``: the global tags first,
in the order given, then the metric's labels sorted by name, so labels bound in
any order make one series (Go kit's ``lv.Space`` makes two). A label with the name
of a global tag replaces its value.

Per drain, as in `pygokit.metrics.statsd`: counters write their non-zero sum
(``|c``), gauges their current value when touched (``|g``), timings (``|ms``) and
histograms (``|h``) one line per observation kept. Go kit's Influx StatsD writes
``@rate`` without sampling; here timings and histograms sample for real at
*sample_rate* and write ``@rate``, which Telegraf scales by. Counters are summed
exactly and ignore it; Telegraf keeps counters as integers, so add whole numbers.

Label names and values come from requests, so they are cleaned, never rejected:
``,``, ``=``, ``:``, ``|``, whitespace and control characters become ``_``.
InfluxDB's line protocol would escape them with a backslash, but Telegraf's statsd
listener does not unescape: it splits each line at every ``:`` and the bucket at
every ``,``, so an escaped character would still cut a tag in two (or the line).
Replacing them is the only way no value can add a tag or forge a metric. Metric
names must not contain ``,``, ``:``, ``|``, ``@``, whitespace or controls
(`ValueError` when the metric is made).

Example::

    influx = InfluxStatsd("addsvc.", tags={"env": "prod"})
    requests = influx.counter("requests")
    async with PushLoop(influx, UDPSender("127.0.0.1", 8125), interval=10):
        requests.labels(method="sum").add(1)
        # addsvc.requests,env=prod,method=sum:1|c
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from pygokit.metrics.statsd import Counter, Gauge, Histogram, _check_rate, _Family, _replacing

__all__ = ["InfluxStatsd"]


class InfluxStatsd(_Family):
    """Makes Influx StatsD metrics and buffers what they record until a `PushLoop` drains it.

    Args:
        prefix: Put in front of every metric name, such as ``"addsvc."``.
        tags: Tags on every line, before the metric's own labels.
        rng: Returns a float in [0, 1) that decides which observations a sampled
            timing or histogram keeps; `random.random` unless a test fixes it.
    """

    _system = "Influx StatsD"
    _forbidden = ",:|@"
    _key_table = _replacing(",=:|")
    _value_table = _key_table

    def __init__(
        self,
        prefix: str = "",
        *,
        tags: Mapping[str, str] | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(prefix, tags, rng)

    def counter(self, name: str, sample_rate: float = 1.0) -> Counter:
        """The counter *name*; bind labels with ``labels``. *sample_rate* is checked but
        not applied: counters are summed exactly."""
        _check_rate(sample_rate)
        return self._make(Counter, "c", name, 1.0)

    def gauge(self, name: str) -> Gauge:
        """The gauge *name*; bind labels with ``labels``."""
        return self._make(Gauge, "g", name, 1.0)

    def timing(self, name: str, sample_rate: float = 1.0) -> Histogram:
        """The timing *name* (``|ms``, observe milliseconds), keeping each observation
        with probability *sample_rate*."""
        return self._make(Histogram, "ms", name, sample_rate)

    def histogram(self, name: str, sample_rate: float = 1.0) -> Histogram:
        """The histogram *name* (``|h``), keeping each observation with probability
        *sample_rate*."""
        return self._make(Histogram, "h", name, sample_rate)

    def _render(self, kind: str, name: str, rate: str, tags: Mapping[str, str]) -> tuple[str, str]:
        bucket = name + "".join(f",{k}={v}" for k, v in tags.items())
        return f"{bucket}:", f"|{kind}{rate}"
