"""The endpoints of addsvc, collected in a `Set`, and the middleware around each.

Go kit's ``pkg/addendpoint``. Each service method becomes one endpoint whose
response carries the business error (`SumResponse.err`, a `pygokit.endpoint.Failer`),
so circuit breakers count only real failures. `make_set` wraps the server's
endpoints as Go kit does, innermost first:

1. an erroring rate limiter: sum takes 1 call per second (bursts of 1), concat
   1 per second with bursts of 100;
2. a gobreaker-style circuit breaker per endpoint;
3. logging (``method``, ``took``, ``err``);
4. a duration histogram labelled ``method`` and ``success``.

`make_client_set` wraps transport clients as Go kit's clients do: one limiter
shared by both methods, then a breaker per method. Either way the `Set` also
implements `AddService`, so a remote service looks like a local one.

One change from Go kit: breakers ignore `RateLimited`. Go kit puts its limiter
inside its breaker, so six refused calls in a row open the circuit for a minute;
refusing a call is the limiter working, not the service failing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TypeVar

from examples.addsvc.service import AddService, AddServiceError
from pygokit.circuitbreaker import Breaker, circuit_breaker
from pygokit.clock import Clock
from pygokit.endpoint import AnyMiddleware, Endpoint, chain
from pygokit.log import Logger
from pygokit.log.middleware import logging_middleware
from pygokit.metrics import Histogram
from pygokit.ratelimit import Allower, RateLimited, TokenBucket, erroring_limiter

__all__ = [
    "ConcatRequest",
    "ConcatResponse",
    "Set",
    "SumRequest",
    "SumResponse",
    "instrumenting_middleware",
    "make_client_set",
    "make_concat_endpoint",
    "make_set",
    "make_sum_endpoint",
]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


@dataclass(frozen=True, slots=True)
class SumRequest:
    """The arguments of `AddService.sum`."""

    a: int
    b: int


@dataclass(frozen=True, slots=True)
class SumResponse:
    """The result of `AddService.sum`, or the business error that refused it (a Failer)."""

    v: int = 0
    err: AddServiceError | None = None

    def failed(self) -> Exception | None:
        """The business error, or None (the `pygokit.endpoint.Failer` protocol)."""
        return self.err


@dataclass(frozen=True, slots=True)
class ConcatRequest:
    """The arguments of `AddService.concat`."""

    a: str
    b: str


@dataclass(frozen=True, slots=True)
class ConcatResponse:
    """The result of `AddService.concat`, or the business error that refused it (a Failer)."""

    v: str = ""
    err: AddServiceError | None = None

    def failed(self) -> Exception | None:
        """The business error, or None (the `pygokit.endpoint.Failer` protocol)."""
        return self.err


@dataclass(frozen=True, slots=True)
class Set:
    """Every endpoint of addsvc; also an `AddService` (Go kit's ``addendpoint.Set``).

    On the server it holds the endpoints the transports serve; on a client it
    holds transport clients, and its methods make the remote service look local.
    """

    sum_endpoint: Endpoint[SumRequest, SumResponse]
    concat_endpoint: Endpoint[ConcatRequest, ConcatResponse]

    async def sum(self, a: int, b: int) -> int:
        """Call the sum endpoint; raise the business error its response carries."""
        response = await self.sum_endpoint(SumRequest(a, b))
        if response.err is not None:
            raise response.err
        return response.v

    async def concat(self, a: str, b: str) -> str:
        """Call the concat endpoint; raise the business error its response carries."""
        response = await self.concat_endpoint(ConcatRequest(a, b))
        if response.err is not None:
            raise response.err
        return response.v


def make_sum_endpoint(svc: AddService) -> Endpoint[SumRequest, SumResponse]:
    """Expose `AddService.sum`; a business error goes into the response, not up the stack."""

    async def sum_(request: SumRequest) -> SumResponse:
        try:
            return SumResponse(v=await svc.sum(request.a, request.b))
        except AddServiceError as exc:
            return SumResponse(err=exc)

    return sum_


def make_concat_endpoint(svc: AddService) -> Endpoint[ConcatRequest, ConcatResponse]:
    """Expose `AddService.concat`; a business error goes into the response."""

    async def concat(request: ConcatRequest) -> ConcatResponse:
        try:
            return ConcatResponse(v=await svc.concat(request.a, request.b))
        except AddServiceError as exc:
            return ConcatResponse(err=exc)

    return concat


def instrumenting_middleware(
    duration: Histogram, *, clock: Clock = time.perf_counter
) -> AnyMiddleware:
    """Observe each call's duration in seconds, labelled ``success`` (Go kit's addendpoint one).

    ``success`` is ``"false"`` when the endpoint raised, ``"true"`` otherwise
    (a business error in the response included, as in Go kit). A cancelled call
    is not observed. Bind ``method`` before: ``duration.labels(method="sum")``.
    """
    succeeded = duration.labels(success="true")
    failed = duration.labels(success="false")

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            began = clock()
            try:
                response = await next_(request)
            except Exception:
                failed.observe(clock() - began)
                raise
            succeeded.observe(clock() - began)
            return response

        return endpoint

    return middleware


def _counts_as_failure(error: Exception) -> bool:
    return not isinstance(error, RateLimited)


def _breaker(name: str, clock: Clock, timeout: float = 60.0) -> AnyMiddleware:
    return circuit_breaker(
        Breaker(name, timeout=timeout, is_failure=_counts_as_failure, clock=clock)
    )


def make_set(
    svc: AddService,
    logger: Logger,
    duration: Histogram,
    *,
    sum_limiter: Allower | None = None,
    concat_limiter: Allower | None = None,
    clock: Clock = time.monotonic,
) -> Set:
    """Wrap *svc* in the server's endpoint middleware (Go kit's ``addendpoint.New``).

    Args:
        svc: The service, usually from `examples.addsvc.service.make_service`.
        logger: Gets one event per call, with ``method``.
        duration: A histogram with the labels ``method`` and ``success``.
        sum_limiter: Admits sum calls; defaults to Go kit's 1 per second, bursts of 1.
        concat_limiter: Admits concat calls; defaults to 1 per second, bursts of 100.
        clock: Monotonic seconds for the default limiters and the breakers.
    """
    sum_limiter = sum_limiter or TokenBucket(rate=1, burst=1, clock=clock)
    concat_limiter = concat_limiter or TokenBucket(rate=1, burst=100, clock=clock)
    sum_endpoint = chain(
        instrumenting_middleware(duration.labels(method="sum")),
        logging_middleware(logger, method="sum"),
        _breaker("sum", clock),
        erroring_limiter(sum_limiter),
    )(make_sum_endpoint(svc))
    concat_endpoint = chain(
        instrumenting_middleware(duration.labels(method="concat")),
        logging_middleware(logger, method="concat"),
        _breaker("concat", clock),
        erroring_limiter(concat_limiter),
    )(make_concat_endpoint(svc))
    return Set(sum_endpoint, concat_endpoint)


def make_client_set(
    sum_endpoint: Endpoint[SumRequest, SumResponse],
    concat_endpoint: Endpoint[ConcatRequest, ConcatResponse],
    *,
    sum_timeout: float = 30.0,
    concat_timeout: float = 10.0,
    limiter: Allower | None = None,
    clock: Clock = time.monotonic,
) -> Set:
    """Wrap transport client endpoints as Go kit's addsvc clients do.

    One limiter caps the calls to the remote instance, whatever the method
    (default: 1 per second, bursts of 100); each method then gets its own
    breaker, which stays open *sum_timeout* or *concat_timeout* seconds.
    """
    limit = erroring_limiter(limiter or TokenBucket(rate=1, burst=100, clock=clock))
    return Set(
        chain(_breaker("sum", clock, sum_timeout), limit)(sum_endpoint),
        chain(_breaker("concat", clock, concat_timeout), limit)(concat_endpoint),
    )
