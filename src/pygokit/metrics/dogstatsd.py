"""DogStatsD: StatsD with tags, for the Datadog agent (or Telegraf's statsd input with
``datadog_extensions``).

`Dogstatsd` makes the metrics and is a `pygokit.metrics.push.Emitter`; run it under a
`pygokit.metrics.push.PushLoop` over a `pygokit.metrics.push.UDPSender`. Lines look
like ``name:value|type[|@rate][|#tag:value,...]``: the global tags come first, in
the order given, then the metric's labels sorted by name. Sorting makes a series
independent of the order labels were bound in: ``labels(a="1", b="2")`` and
``labels(b="2", a="1")`` are one series (Go kit's ``lv.Space`` makes them two).
A label with the name of a global tag replaces its value.

Per drain, as in `pygokit.metrics.statsd`: counters write their non-zero sum
(``|c``), gauges their current value when touched (``|g``), timings (``|ms``) and
histograms (``|h``) one line per observation kept. Timings and histograms sample
for real at *sample_rate* (as Go kit's DogStatsD does) and write ``@rate``;
counters are summed exactly and ignore it.

Label names and values come from requests, so they are cleaned, never rejected:
``|``, ``,``, ``#``, whitespace and control characters become ``_`` (and ``:`` too
in label names), so no value can end the line, add a tag or start a new metric. A ``:``
inside a value is kept, since the agent splits a tag at its first ``:`` only.
Metric names must not contain ``:``, ``|``, ``@``, whitespace or controls
(`ValueError` when the metric is made).

Example::

    dogstatsd = Dogstatsd("addsvc.", tags={"env": "prod"})
    requests = dogstatsd.counter("requests")
    async with PushLoop(dogstatsd, UDPSender("127.0.0.1", 8125), interval=10):
        requests.labels(method="sum", code="200").add(1)
        # addsvc.requests:1|c|#env:prod,code:200,method:sum
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from pygokit.metrics.statsd import Counter, Gauge, Histogram, _check_rate, _Family, _replacing

__all__ = ["Dogstatsd"]


class Dogstatsd(_Family):
    """Makes DogStatsD metrics and buffers what they record until a `PushLoop` drains it.

    Args:
        prefix: Put in front of every metric name, such as ``"addsvc."``.
        tags: Tags on every line, before the metric's own labels.
        rng: Returns a float in [0, 1) that decides which observations a sampled
            timing or histogram keeps; `random.random` unless a test fixes it.
    """

    _system = "DogStatsD"
    _key_table = _replacing(":|,#")
    _value_table = _replacing("|,#")

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
        if not tags:
            return f"{name}:", f"|{kind}{rate}"
        return f"{name}:", f"|{kind}{rate}|#" + ",".join(f"{k}:{v}" for k, v in tags.items())
