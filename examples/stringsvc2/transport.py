"""HTTP for stringsvc2: stringsvc1's routes, plus ``GET /metrics`` on the same listener.

Go kit's stringsvc2 registers ``/uppercase``, ``/count`` and ``/metrics`` with one
``http.ServeMux``; here stringsvc1's `Router` gets a third route for the
Prometheus exposition (`pygokit.metrics.prometheus.metrics_app`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from examples.stringsvc1 import transport as stringsvc1
from examples.stringsvc1.endpoints import (
    CountRequest,
    CountResponse,
    UppercaseRequest,
    UppercaseResponse,
)
from pygokit.endpoint import Endpoint
from pygokit.metrics.prometheus import metrics_app
from pygokit.transport import ErrorHandler
from pygokit.transport.http import Router

__all__ = ["make_http_app"]


def make_http_app(
    uppercase: Endpoint[UppercaseRequest, UppercaseResponse],
    count: Endpoint[CountRequest, CountResponse],
    registry: CollectorRegistry,
    *,
    error_handler: ErrorHandler,
) -> Router:
    """Route ``POST /uppercase``, ``POST /count`` and ``GET /metrics`` (*registry*)."""
    router = stringsvc1.make_http_app(uppercase, count, error_handler=error_handler)
    router.route("GET", "/metrics", metrics_app(registry))
    return router
