"""Endpoint middleware that counts calls and times them, per method and outcome.

`instrumenting_middleware` adds 1 to a request counter and observes the call's
duration in seconds on a histogram, both labelled ``method`` (when given) and
``success`` (``"true"`` or ``"false"``). A call fails when the endpoint raises an
`Exception` or returns a `pygokit.endpoint.Failer` response carrying a business
error. A cancelled call is neither: nothing is recorded, because cancellation says
nothing about the endpoint.

Example::

    requests = prometheus.Counter("requests_total", "Requests served.",
                                  label_names=["method", "success"], registry=registry)
    duration = prometheus.Histogram("request_duration_seconds", "Time per request.",
                                    label_names=["method", "success"], registry=registry)
    sum_endpoint = instrumenting_middleware(requests, duration, method="sum")(sum_endpoint)

Metrics that need knowledge of the domain (the size of a batch, the kind of a
failure) belong in a *service* middleware instead: a class that implements the
service Protocol, wraps another, and updates metrics around each method, as Go
kit's stringsvc2 does (see docs/metrics.md).
"""

from __future__ import annotations

import time
from typing import TypeVar

from pygokit.clock import Clock
from pygokit.endpoint import AnyMiddleware, Endpoint, business_error
from pygokit.metrics.metric import Counter, Histogram

__all__ = ["instrumenting_middleware"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def instrumenting_middleware(
    requests: Counter,
    duration: Histogram,
    *,
    method: str | None = None,
    clock: Clock = time.perf_counter,
) -> AnyMiddleware:
    """Return a middleware that counts each call and records its duration in seconds.

    The labelled metrics are bound once, here, so a call costs two clock readings,
    one ``add`` and one ``observe``.

    Args:
        requests: Counts calls; labelled ``method`` (if given) and ``success``.
        duration: Observes each call's duration in seconds, labelled the same way.
        method: The value of the ``method`` label; no such label when None.
        clock: Monotonic seconds; pass a `pygokit.testing.FakeClock` in tests.
    """
    base = {} if method is None else {"method": method}
    ok_requests = requests.labels(**base, success="true")
    failed_requests = requests.labels(**base, success="false")
    ok_duration = duration.labels(**base, success="true")
    failed_duration = duration.labels(**base, success="false")

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            began = clock()
            try:
                response = await next_(request)
            except Exception:
                failed_requests.add(1)
                failed_duration.observe(clock() - began)
                raise
            took = clock() - began
            if business_error(response) is not None:
                failed_requests.add(1)
                failed_duration.observe(took)
            else:
                ok_requests.add(1)
                ok_duration.observe(took)
            return response

        return endpoint

    return middleware
