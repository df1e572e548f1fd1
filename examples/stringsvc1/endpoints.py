"""One endpoint per service method, and the middleware that wraps them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TypeVar

from examples.stringsvc1.service import EmptyStringError, StringService
from pygokit.endpoint import AnyMiddleware, Endpoint, Failer
from pygokit.log import Logger

__all__ = [
    "CountRequest",
    "CountResponse",
    "UppercaseRequest",
    "UppercaseResponse",
    "logging_middleware",
    "make_count_endpoint",
    "make_uppercase_endpoint",
]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


@dataclass(frozen=True, slots=True)
class UppercaseRequest:
    """The argument of `StringService.uppercase`."""

    s: str


@dataclass(frozen=True, slots=True)
class UppercaseResponse:
    """The result of `StringService.uppercase`; a business error travels in ``err``."""

    v: str
    err: str | None = None

    def failed(self) -> Exception | None:
        """Return the business error as an exception (the `Failer` protocol)."""
        return None if self.err is None else ValueError(self.err)


@dataclass(frozen=True, slots=True)
class CountRequest:
    """The argument of `StringService.count`."""

    s: str


@dataclass(frozen=True, slots=True)
class CountResponse:
    """The result of `StringService.count`."""

    v: int


def make_uppercase_endpoint(svc: StringService) -> Endpoint[UppercaseRequest, UppercaseResponse]:
    """Expose `StringService.uppercase` as an endpoint; business errors go in the response."""

    async def uppercase(request: UppercaseRequest) -> UppercaseResponse:
        try:
            return UppercaseResponse(v=svc.uppercase(request.s))
        except EmptyStringError as exc:
            return UppercaseResponse(v="", err=str(exc))

    return uppercase


def make_count_endpoint(svc: StringService) -> Endpoint[CountRequest, CountResponse]:
    """Expose `StringService.count` as an endpoint."""

    async def count(request: CountRequest) -> CountResponse:
        return CountResponse(v=svc.count(request.s))

    return count


def logging_middleware(logger: Logger, method: str) -> AnyMiddleware:
    """Log each call's method, outcome and duration once it has finished."""

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            began = time.perf_counter()
            try:
                response = await next_(request)
            except Exception as exc:
                logger.log(method=method, err=repr(exc), took=_since(began))
                raise
            error = response.failed() if isinstance(response, Failer) else None
            logger.log(method=method, err=str(error) if error else None, took=_since(began))
            return response

        return endpoint

    return middleware


def _since(began: float) -> str:
    return f"{(time.perf_counter() - began) * 1e6:.0f}us"
