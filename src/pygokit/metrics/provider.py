"""Build any metrics backend from one URL: Go kit's Provider, configured in one string.

A `Provider` makes named counters, gauges and histograms for one backend and owns
whatever that backend needs to run (a push loop, a connection). Use it as an async
context manager around the service; a push backend flushes once more on exit.

`from_url` reads the backend and its options from one string, so the choice can
live in configuration (``METRICS_URL=statsd://127.0.0.1:8125?prefix=addsvc.``):

=============================================  =========================================
URL                                            backend
=============================================  =========================================
``prometheus:?namespace=addsvc&subsystem=x``   `pygokit.metrics.prometheus` (its own
                                               registry: `PrometheusProvider.registry`)
``statsd://host:8125?prefix=a.&interval=10``   StatsD over UDP (histograms are timings)
``dogstatsd://host:8125?tags=env:prod,dc:eu``  DogStatsD over UDP, with global tags
``influxstatsd://host:8125?tags=env:prod``     Telegraf's StatsD over UDP
``graphite://host:2003?prefix=addsvc.``        Graphite plaintext over TCP
``influx://host:8086/database?tags=env:prod``  InfluxDB's HTTP write API
``influx+udp://host:8089?tags=env:prod``       InfluxDB line protocol over UDP
``expvar:``                                    `pygokit.metrics.expvar` (`ExpvarProvider.vars`)
``generic:``                                   in memory, readable (`GenericProvider`)
``discard:``                                   nothing recorded
=============================================  =========================================

Every push backend takes ``interval`` (seconds between flushes, default 10).
Prometheus and InfluxDB over HTTP need their extras; their modules are imported only
when such a URL is given, so this module itself needs nothing beyond the core.

Example::

    async with from_url(os.environ["METRICS_URL"]) as metrics:
        requests = metrics.counter("requests", label_names=["method", "success"])
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable
from urllib.parse import parse_qs, urlsplit

from pygokit.metrics import discard, expvar, generic
from pygokit.metrics.dogstatsd import Dogstatsd
from pygokit.metrics.graphite import Graphite
from pygokit.metrics.influx import Influx
from pygokit.metrics.influxstatsd import InfluxStatsd
from pygokit.metrics.metric import Counter, Gauge, Histogram
from pygokit.metrics.push import Emitter, PushLoop, Sender, TCPSender, UDPSender
from pygokit.metrics.statsd import Statsd
from pygokit.transport import ErrorHandler
from pygokit.util.conn import Manager, tcp

__all__ = [
    "DiscardProvider",
    "ExpvarProvider",
    "GenericProvider",
    "Provider",
    "PushProvider",
    "from_url",
]


@runtime_checkable
class Provider(Protocol):
    """Makes the metrics of one backend; an async context manager that runs the backend.

    *help* and *label_names* matter to backends that declare metrics up front
    (Prometheus); the others ignore them.
    """

    def counter(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Counter:
        """A counter called *name*."""

    def gauge(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Gauge:
        """A gauge called *name*."""

    def histogram(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Histogram:
        """A histogram called *name*."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class _Idle:
    """The context manager part of providers that have nothing to run."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None


class DiscardProvider(_Idle):
    """Makes metrics that record nothing."""

    def counter(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Counter:
        """A discarding counter."""
        return discard.Counter()

    def gauge(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Gauge:
        """A discarding gauge."""
        return discard.Gauge()

    def histogram(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Histogram:
        """A discarding histogram."""
        return discard.Histogram()


class GenericProvider(_Idle):
    """Makes in-memory metrics and keeps them by name, so tests can read them back."""

    def __init__(self) -> None:
        self.counters: dict[str, generic.Counter] = {}
        self.gauges: dict[str, generic.Gauge] = {}
        self.histograms: dict[str, generic.Histogram] = {}

    def counter(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Counter:
        """The generic counter *name* (the same one each time)."""
        return self.counters.setdefault(name, generic.Counter(name))

    def gauge(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Gauge:
        """The generic gauge *name* (the same one each time)."""
        return self.gauges.setdefault(name, generic.Gauge(name))

    def histogram(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Histogram:
        """The generic histogram *name* (the same one each time)."""
        return self.histograms.setdefault(name, generic.Histogram(name))


class ExpvarProvider(_Idle):
    """Publishes metrics in an expvar-style `pygokit.metrics.expvar.Vars` (`vars`)."""

    def __init__(self, published: expvar.Vars | None = None) -> None:
        self.vars = published or expvar.Vars()
        """Serve ``vars.app()`` at ``/debug/vars``."""

    def counter(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Counter:
        """Publish the counter *name*."""
        return self.vars.counter(name)

    def gauge(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Gauge:
        """Publish the gauge *name*."""
        return self.vars.gauge(name)

    def histogram(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Histogram:
        """Publish the histogram *name* (its quantiles as ``name.p50`` and so on)."""
        return self.vars.histogram(name)


class _PushBackend(Emitter, Protocol):
    def counter(self, name: str) -> Counter: ...
    def gauge(self, name: str) -> Gauge: ...


class PushProvider:
    """Makes the metrics of a push backend and flushes them under a `PushLoop`.

    Args:
        backend: The emitter that makes the metrics (`Statsd`, `Graphite`, ...).
        histogram: Makes a histogram on *backend* (StatsD's are timings).
        sender: Where payloads go.
        interval: Seconds between flushes.
        manager: A connection manager *sender* writes through, entered and closed
            with the provider.
        error_handler: Observes send failures.
    """

    def __init__(
        self,
        backend: _PushBackend,
        histogram: Callable[[str], Histogram],
        sender: Sender,
        *,
        interval: float = 10.0,
        manager: Manager | None = None,
        error_handler: ErrorHandler | None = None,
    ) -> None:
        self.backend = backend
        self._histogram = histogram
        self._manager = manager
        self.loop = PushLoop(backend, sender, interval=interval, error_handler=error_handler)
        """The loop that ships the metrics; read ``sent`` and ``dropped`` from it."""

    def counter(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Counter:
        """The backend's counter *name*."""
        return self.backend.counter(name)

    def gauge(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Gauge:
        """The backend's gauge *name*."""
        return self.backend.gauge(name)

    def histogram(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Histogram:
        """The backend's histogram (or timing) *name*."""
        return self._histogram(name)

    async def __aenter__(self) -> Self:
        if self._manager is not None:
            await self._manager.__aenter__()
        await self.loop.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.loop.aclose()  # the last flush goes out before the connection closes
        finally:
            if self._manager is not None:
                await self._manager.__aexit__(exc_type, exc, traceback)


def _tags(text: str) -> dict[str, str]:
    """``env:prod,dc:eu`` as a dict."""
    pairs = [item.partition(":") for item in text.split(",") if item]
    bad = [key for key, colon, _ in pairs if not colon or not key]
    if bad:
        raise ValueError(f"tags must look like 'env:prod,dc:eu', got {text!r}")
    return {key: value for key, _, value in pairs}


def from_url(url: str, *, error_handler: ErrorHandler | None = None) -> Any:
    """Return the `Provider` that *url* describes (see the module documentation).

    Raises:
        ValueError: The URL names no known backend, lacks a host or port a push
            backend needs, or has a malformed option.
        ImportError: The backend needs an extra that is not installed; the message
            names the ``pip install`` command.
    """
    parts = urlsplit(url)
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    known = {"prefix", "interval", "tags", "namespace", "subsystem"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"unknown metrics URL option(s) {unknown} in {url!r}")
    scheme = parts.scheme
    if scheme in ("discard", "generic", "expvar", "prometheus"):
        return _local(scheme, options)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"metrics URL {url!r} needs a host and a port")
    try:
        interval = float(options.get("interval", "10"))
    except ValueError:
        raise ValueError(
            f"interval must be a number of seconds, got {options['interval']!r}"
        ) from None
    prefix = options.get("prefix", "")
    tags = _tags(options.get("tags", ""))
    host, port = parts.hostname, parts.port
    push: dict[str, Any] = {"interval": interval, "error_handler": error_handler}
    if scheme == "statsd":
        statsd = Statsd(prefix)
        return PushProvider(statsd, statsd.timing, UDPSender(host, port), **push)
    if scheme == "dogstatsd":
        dog = Dogstatsd(prefix, tags=tags)
        return PushProvider(dog, dog.histogram, UDPSender(host, port), **push)
    if scheme == "influxstatsd":
        telegraf = InfluxStatsd(prefix, tags=tags)
        return PushProvider(telegraf, telegraf.histogram, UDPSender(host, port), **push)
    if scheme == "graphite":
        graphite = Graphite(prefix)
        manager = Manager(tcp(host, port), error_handler=error_handler)
        return PushProvider(
            graphite, graphite.histogram, TCPSender(manager), manager=manager, **push
        )
    if scheme in ("influx", "influx+udp"):
        influx = Influx(tags=tags)
        if scheme == "influx+udp":
            return PushProvider(influx, influx.histogram, UDPSender(host, port), **push)
        from pygokit.metrics.influx_http import InfluxHTTPSender  # needs the influx extra

        database = parts.path.strip("/")
        if not database:
            raise ValueError(f"influx URL {url!r} needs a database: influx://host:8086/<db>")
        sender = InfluxHTTPSender(f"http://{host}:{port}", database)
        return PushProvider(influx, influx.histogram, sender, **push)
    raise ValueError(f"no metrics backend is called {scheme!r} (in {url!r})")


def _local(scheme: str, options: dict[str, str]) -> Any:
    if scheme == "discard":
        return DiscardProvider()
    if scheme == "generic":
        return GenericProvider()
    if scheme == "expvar":
        return ExpvarProvider()
    from pygokit.metrics.prometheus import PrometheusProvider  # needs the prometheus extra

    return PrometheusProvider(
        namespace=options.get("namespace", ""), subsystem=options.get("subsystem", "")
    )
