"""Prometheus metrics over prometheus_client, and an ASGI app that serves them.

`Counter`, `Gauge`, `Summary` and `Histogram` wrap prometheus_client's metrics of the
same names and implement pygokit's metric interfaces, so code instrumented against
`pygokit.metrics.metric` can record to Prometheus (Go kit's ``metrics/prometheus``;
``Summary`` and ``Histogram`` both implement ``Histogram``). Each is built with the
`CollectorRegistry` it registers in: the registry is a required argument, never
prometheus_client's global default (pass ``prometheus_client.REGISTRY`` to choose it
explicitly). ``Counter.wrap(vec)`` and friends adopt a metric you already built.

Prometheus wants exactly the label names a metric declares. Binding may be partial
(``labels(method="sum")`` now, ``labels(error="false")`` later), but a name the
metric does not declare, or a record made before every declared name is bound,
raises `LabelMismatch` (where Go kit panics with "inconsistent label cardinality").
A complete binding resolves the prometheus_client child once and keeps it, so
``requests.labels(method="sum").add(1)`` on every request costs a dictionary lookup
plus the update of the child's value, which a bound counter or histogram makes
directly (see `pygokit.metrics._prometheus_values`).

`metrics_app` serves a registry to scrapers as an ASGI application.

Example::

    registry = CollectorRegistry()
    requests = Counter("requests", "Requests served.", label_names=["method", "error"],
                       registry=registry)
    duration = Histogram("request_duration_seconds", "Time to serve a request.",
                         label_names=["method"], registry=registry)
    requests.labels(method="sum", error="false").add(1)
    duration.labels(method="sum").observe(0.012)
    app = metrics_app(registry)  # mount it at /metrics
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, Self, TypeVar, cast

from pygokit._extras import missing_extra

try:
    import prometheus_client
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import choose_encoder
    from prometheus_client.metrics import MetricWrapperBase
except ImportError as exc:  # pragma: no cover  # tests/test_extras.py checks this branch
    raise missing_extra("pygokit.metrics.prometheus", "prometheus") from exc

from pygokit._asgi import ASGIApp, Receive, Scope, Send, answer_lifespan, refuse_unless_get, respond
from pygokit.errors import GoKitError
from pygokit.metrics._prometheus_values import counter_inc, histogram_observe
from pygokit.metrics.labels import Labelled, LabelPairs

__all__ = [
    "DEFAULT_BUCKETS",
    "Counter",
    "Gauge",
    "Histogram",
    "LabelMismatch",
    "PrometheusProvider",
    "Summary",
    "exponential_buckets",
    "linear_buckets",
    "metrics_app",
]

DEFAULT_BUCKETS: tuple[float, ...] = tuple(prometheus_client.Histogram.DEFAULT_BUCKETS)
"""prometheus_client's default histogram buckets (seconds, 5 ms to 10 s, then +Inf)."""

V = TypeVar("V", bound=MetricWrapperBase)


class LabelMismatch(GoKitError):
    """A metric was bound or recorded with label names other than those it declares.

    ``declared`` holds the names the metric was built with, ``given`` the names bound.
    """

    def __init__(self, metric: str, declared: Sequence[str], given: Sequence[str]) -> None:
        self.metric = metric
        self.declared = tuple(declared)
        self.given = tuple(given)
        unknown = [name for name in given if name not in declared]
        missing = [name for name in declared if name not in given]
        problem = (
            f"label(s) {', '.join(unknown)} are not declared"
            if unknown
            else f"label(s) {', '.join(missing)} are not bound yet"
        )
        super().__init__(
            f"prometheus metric {metric!r} declares labels {list(self.declared)} but was"
            f" given {list(self.given)}: {problem}; bind exactly the declared names"
        )


class _Metric(Labelled, Generic[V]):
    """What the four wrappers share: the wrapped metric, label checks, child lookup."""

    __slots__ = ("_label_names", "_vec")

    _kind: ClassVar[type[MetricWrapperBase]]
    _vec: V
    _label_names: tuple[str, ...]

    def __init__(
        self,
        name: str,
        documentation: str,
        *,
        registry: CollectorRegistry,
        label_names: Sequence[str] = (),
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
    ) -> None:
        """Create the metric and register it in *registry*, where its name must be new.

        Its full name is ``namespace_subsystem_name_unit`` (empty parts left out).
        """
        self._create(name, documentation, registry, label_names, namespace, subsystem, unit, {})

    def _create(
        self,
        name: str,
        documentation: str,
        registry: CollectorRegistry,
        label_names: Sequence[str],
        namespace: str,
        subsystem: str,
        unit: str,
        options: dict[str, Any],
    ) -> None:
        if not isinstance(registry, CollectorRegistry):
            raise TypeError(
                "registry must be a prometheus_client.CollectorRegistry; pass"
                " prometheus_client.REGISTRY explicitly to use the global one"
            )
        vec = self._kind(
            name,
            documentation,
            labelnames=label_names,
            namespace=namespace,
            subsystem=subsystem,
            unit=unit,
            registry=registry,
            **options,
        )
        self._setup(cast(V, vec), ())

    @classmethod
    def wrap(cls, vec: V) -> Self:
        """Adopt a prometheus_client metric built elsewhere (Go kit's ``NewCounter(vec)``).

        *vec* must be the metric itself, not a child returned by its ``labels()``.
        """
        if not isinstance(vec, cls._kind):
            raise TypeError(
                f"{cls.__name__}.wrap needs a prometheus_client.{cls._kind.__name__},"
                f" got {type(vec).__name__}"
            )
        if vec._labelvalues:
            raise ValueError(f"{vec} is a child bound by labels(); wrap the metric it came from")
        self = cls.__new__(cls)
        self._setup(vec, ())
        return self

    @property
    def vec(self) -> V:
        """The wrapped prometheus_client metric (the parent, whatever is bound here)."""
        return self._vec

    def _setup(self, vec: V, label_pairs: LabelPairs) -> None:
        Labelled.__init__(self, label_pairs)
        self._vec = vec
        self._label_names = tuple(vec._labelnames)
        given = [name for name, _ in label_pairs]
        if not set(given) <= set(self._label_names):
            raise LabelMismatch(vec._name, self._label_names, given)
        self._attach(None if self._label_names else vec)

    def _attach(self, child: V | None) -> None:
        """Point the record methods at *child*; when None, at stand-ins that `_resolve`."""
        raise NotImplementedError  # pragma: no cover  # every subclass overrides it

    def _resolve(self) -> Self:
        """Look up the prometheus_client child on first record, so that binding alone
        makes no series; LabelMismatch while a declared label is unbound."""
        if len(self._label_pairs) < len(self._label_names):
            raise LabelMismatch(
                self._vec._name, self._label_names, [name for name, _ in self._label_pairs]
            )
        self._attach(self._vec.labels(**dict(self._label_pairs)))
        return self

    def _bind(self, label_pairs: LabelPairs) -> Self:
        child = type(self).__new__(type(self))
        child._setup(self._vec, label_pairs)
        return child

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._vec._name!r}, labels={dict(self._label_pairs)!r})"


class Counter(_Metric[prometheus_client.Counter]):
    """A Prometheus counter (exposed as ``<name>_total``); ``add`` is ``inc``.

    A negative delta raises ValueError, as prometheus_client does.
    """

    __slots__ = ("_inc",)
    _kind = prometheus_client.Counter
    _inc: Callable[[float], None]

    def add(self, delta: float, /) -> None:
        """Add *delta* (not negative); LabelMismatch if a declared label is unbound."""
        if delta < 0:
            raise ValueError("Counters can only be incremented by non-negative amounts.")
        self._inc(delta)

    def _attach(self, child: prometheus_client.Counter | None) -> None:
        if child is None:
            self._inc = lambda delta: self._resolve()._inc(delta)
        else:
            self._inc = counter_inc(child) or child.inc


class Gauge(_Metric[prometheus_client.Gauge]):
    """A Prometheus gauge; ``set`` is ``set`` and ``add`` is ``inc`` (negative decreases)."""

    __slots__ = ("_inc", "_set")
    _kind = prometheus_client.Gauge
    _inc: Callable[[float], None]
    _set: Callable[[float], None]

    def set(self, value: float, /) -> None:
        """Set the gauge to *value*; LabelMismatch if a declared label is unbound."""
        self._set(value)

    def add(self, delta: float, /) -> None:
        """Change the gauge by *delta*; LabelMismatch if a declared label is unbound."""
        self._inc(delta)

    def _attach(self, child: prometheus_client.Gauge | None) -> None:
        if child is None:
            self._inc = lambda delta: self._resolve()._inc(delta)
            self._set = lambda value: self._resolve()._set(value)
        else:
            self._inc, self._set = child.inc, child.set


class Summary(_Metric[prometheus_client.Summary]):
    """A Prometheus summary: it implements ``Histogram`` but exposes no quantiles.

    prometheus_client's summaries keep only ``<name>_count`` and ``<name>_sum`` (the
    Python client does not implement Go's summary objectives), so a scraper can chart
    rates and means but not percentiles. Use `Histogram` when you need percentiles.
    """

    __slots__ = ("_observe",)
    _kind = prometheus_client.Summary
    _observe: Callable[[float], None]

    def observe(self, value: float, /) -> None:
        """Record *value*; LabelMismatch if a declared label is unbound."""
        self._observe(value)

    def _attach(self, child: prometheus_client.Summary | None) -> None:
        if child is None:
            self._observe = lambda value: self._resolve()._observe(value)
        else:
            self._observe = child.observe


class Histogram(_Metric[prometheus_client.Histogram]):
    """A Prometheus histogram: cumulative ``<name>_bucket{le=...}`` counts, sum and count.

    Choose *buckets* (upper bounds, ascending; +Inf is added) to cover the values you
    expect: a quantile estimated from the buckets (PromQL's ``histogram_quantile``)
    is only as precise as the bucket holding it is narrow.
    """

    __slots__ = ("_observe",)
    _kind = prometheus_client.Histogram
    _observe: Callable[[float], None]

    def __init__(
        self,
        name: str,
        documentation: str,
        *,
        registry: CollectorRegistry,
        label_names: Sequence[str] = (),
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        """Create the histogram with *buckets* as upper bounds and register it in *registry*."""
        options = {"buckets": buckets}
        self._create(
            name, documentation, registry, label_names, namespace, subsystem, unit, options
        )

    def observe(self, value: float, /) -> None:
        """Record *value*; LabelMismatch if a declared label is unbound."""
        self._observe(value)

    def _attach(self, child: prometheus_client.Histogram | None) -> None:
        if child is None:
            self._observe = lambda value: self._resolve()._observe(value)
        else:
            self._observe = histogram_observe(child) or child.observe


def linear_buckets(start: float, width: float, count: int) -> tuple[float, ...]:
    """*count* bucket bounds: *start*, *start* + *width*, ... (client_golang's LinearBuckets)."""
    if count < 1 or width <= 0:
        raise ValueError(f"need count >= 1 and width > 0, got count={count}, width={width}")
    return tuple(start + i * width for i in range(count))


def exponential_buckets(start: float, factor: float, count: int) -> tuple[float, ...]:
    """*count* bucket bounds: *start*, *start* x *factor*, ... (client_golang's
    ExponentialBuckets)."""
    if count < 1 or start <= 0 or factor <= 1:
        raise ValueError(
            f"need count >= 1, start > 0 and factor > 1, got count={count},"
            f" start={start}, factor={factor}"
        )
    return tuple(start * factor**i for i in range(count))


class PrometheusProvider:
    """A `pygokit.metrics.provider.Provider` for Prometheus, with a registry of its own.

    Histograms are Prometheus histograms with *buckets* (Go kit's provider made
    summaries, which cannot be aggregated across instances). Serve `app` at
    ``/metrics``.

    Args:
        registry: Where the metrics register; a new private registry by default.
        namespace: Prefix for every metric name (``addsvc`` in ``addsvc_requests``).
        subsystem: A second prefix, after the namespace.
        buckets: Histogram bucket bounds.
    """

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        namespace: str = "",
        subsystem: str = "",
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._names = {"namespace": namespace, "subsystem": subsystem}
        self._buckets = tuple(buckets)

    def counter(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Counter:
        """Register the counter *name* with the given label names."""
        return Counter(
            name, help or name, label_names=label_names, registry=self.registry, **self._names
        )

    def gauge(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Gauge:
        """Register the gauge *name* with the given label names."""
        return Gauge(
            name, help or name, label_names=label_names, registry=self.registry, **self._names
        )

    def histogram(self, name: str, *, help: str = "", label_names: Sequence[str] = ()) -> Histogram:
        """Register the histogram *name* with the provider's buckets."""
        return Histogram(
            name,
            help or name,
            label_names=label_names,
            registry=self.registry,
            buckets=self._buckets,
            **self._names,
        )

    def app(self) -> ASGIApp:
        """The ASGI app that serves this provider's registry (`metrics_app`)."""
        return metrics_app(self.registry)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def metrics_app(registry: CollectorRegistry) -> ASGIApp:
    """An ASGI app that serves *registry* to Prometheus at whatever path it is mounted.

    GET answers 200 with the exposition, in the format the ``Accept`` header asks for
    (prometheus_client's negotiation: OpenMetrics for scrapers that ask for it, the
    text format otherwise), gzip-compressed when ``Accept-Encoding`` lists gzip with
    a non-zero q. HEAD answers the same headers without a body; other methods get
    405. The lifespan protocol is answered, so the app can be served on its own.
    The exposition is built on the event loop, as prometheus_client's own ASGI app
    does; it costs about 5 ms per few hundred series, once per scrape (a worker
    thread would not help: building it holds the GIL).
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        if scope["type"] != "http" or await refuse_unless_get(send, scope):
            return
        request_headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        encoder, content_type = choose_encoder(_header(request_headers, b"accept"))
        body = encoder(registry)
        headers = [(b"content-type", content_type.encode()), (b"vary", b"Accept, Accept-Encoding")]
        if _accepts_gzip(_header(request_headers, b"accept-encoding")):
            body = gzip.compress(body, compresslevel=6)
            headers.append((b"content-encoding", b"gzip"))
        await respond(send, scope, 200, headers, body)

    return app


def _header(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> str:
    """Every value of header *name*, joined with commas (how HTTP combines repeats)."""
    return ",".join(value.decode("latin-1") for key, value in headers if key.lower() == name)


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether *accept_encoding* names gzip with a q-value above zero."""
    for item in accept_encoding.split(","):
        coding, *params = item.split(";")
        if coding.strip().lower() != "gzip":
            continue
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False
