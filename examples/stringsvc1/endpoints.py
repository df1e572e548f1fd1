"""One endpoint per service method, with the request and response types it speaks."""

from __future__ import annotations

from dataclasses import dataclass

from examples.stringsvc1.service import EmptyStringError, StringService
from pygokit.endpoint import Endpoint

__all__ = [
    "CountRequest",
    "CountResponse",
    "UppercaseRequest",
    "UppercaseResponse",
    "make_count_endpoint",
    "make_uppercase_endpoint",
]


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
