"""``POST /sum`` on pygokit's HTTP server, bare and behind a production endpoint chain.

* `bare`: ``Server(sum_endpoint, json_decoder(SumRequest), json_encoder(),
  methods=("POST",))``, the counterpart of Go kit's ``httptransport.NewServer(e, dec,
  enc)`` (whose decoder in ``bench/anchors/gokit/main.go`` refuses other methods too).
* `chain`: the same server around the endpoint wrapped, outermost first, in a logging
  middleware (logfmt to a writer that discards), an instrumenting middleware (a
  prometheus_client counter and histogram in a private registry), an erroring rate
  limiter far above the load, and a circuit breaker: what a production service runs.

Serve one with ``uvicorn bench.anchors.pygokit_sum:bare`` (or ``:chain``).
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from pygokit.circuitbreaker import Breaker, circuit_breaker
from pygokit.endpoint import Endpoint
from pygokit.endpoint import chain as chain_middleware
from pygokit.log import LogfmtLogger
from pygokit.log.middleware import logging_middleware
from pygokit.metrics import prometheus
from pygokit.metrics.middleware import instrumenting_middleware
from pygokit.ratelimit import TokenBucket, erroring_limiter
from pygokit.transport.http import Server, json_decoder, json_encoder

__all__ = ["SumRequest", "bare", "chain", "production_chain", "sum_endpoint"]


@dataclass(frozen=True, slots=True)
class SumRequest:
    """The operands."""

    a: int
    b: int


async def sum_endpoint(request: SumRequest) -> dict[str, int]:
    """Add the operands."""
    return {"v": request.a + request.b}


class _Discard:
    """A log writer that drops every line, like Go's ``io.Discard``."""

    def write(self, text: str, /) -> int:
        return len(text)


def production_chain() -> Endpoint[SumRequest, dict[str, int]]:
    """Wrap the endpoint in logging, metrics, a limiter far above the load and a breaker."""
    registry = CollectorRegistry()
    labels = ["method", "success"]
    requests = prometheus.Counter(
        "requests_total", "Requests served.", label_names=labels, registry=registry
    )
    duration = prometheus.Histogram(
        "request_duration_seconds", "Time per request.", label_names=labels, registry=registry
    )
    return chain_middleware(
        logging_middleware(LogfmtLogger(_Discard()), method="sum"),
        instrumenting_middleware(requests, duration, method="sum"),
        erroring_limiter(TokenBucket(1e9, 10**9)),
        circuit_breaker(Breaker("sum")),
    )(sum_endpoint)


bare = Server(sum_endpoint, json_decoder(SumRequest), json_encoder(), methods=("POST",))
chain = Server(production_chain(), json_decoder(SumRequest), json_encoder(), methods=("POST",))
