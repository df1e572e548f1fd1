"""Endpoints and middleware: the middle layer of the onion.

An endpoint is one method of a service as a plain async callable,
``async (request) -> response``. Servers call endpoints, clients *are* endpoints,
and everything cross-cutting (logging, metrics, tracing, circuit breaking, rate
limiting, retries, auth) is middleware: a function from endpoint to endpoint.

Errors are raised. A service that wants to report a *business* error without
tripping circuit breakers or retries returns it inside the response and lets the
response implement `Failer`, as Go kit's addsvc does.

Example::

    async def uppercase(request: str) -> str:
        return request.upper()

    endpoint = chain(logging_middleware, erroring_limiter(bucket))(uppercase)
    assert await endpoint("hi") == "HI"
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeAlias, TypeVar, overload, runtime_checkable

__all__ = ["AnyMiddleware", "Endpoint", "Failer", "Middleware", "business_error", "chain", "nop"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")

Endpoint: TypeAlias = Callable[[Req], Coroutine[Any, Any, Resp]]
"""One RPC method: takes a request, returns a response or raises.

It returns a coroutine (not just an awaitable) so that callers can run it in a task.
Any object with ``async def __call__(self, request)`` is an endpoint.
"""

Middleware: TypeAlias = Callable[[Endpoint[Req, Resp]], Endpoint[Req, Resp]]
"""A decorator for endpoints of one request/response type."""


class AnyMiddleware(Protocol):
    """A middleware that works for endpoints of any request/response type.

    Generic middleware factories (limiters, breakers, tracing) return this, so the
    endpoint they wrap keeps its request and response types under mypy.
    """

    def __call__(self, next_: Endpoint[Req, Resp], /) -> Endpoint[Req, Resp]: ...


@overload
def chain(outer: AnyMiddleware, /, *others: AnyMiddleware) -> AnyMiddleware: ...
@overload
def chain(
    outer: Middleware[Req, Resp], /, *others: Middleware[Req, Resp]
) -> Middleware[Req, Resp]: ...
def chain(outer: Middleware[Req, Resp], /, *others: Middleware[Req, Resp]) -> Middleware[Req, Resp]:
    """Compose middlewares into one; the first argument is the outermost.

    ``chain(a, b, c)(endpoint)`` is ``a(b(c(endpoint)))``: a request passes through
    ``a`` first and the response through ``a`` last, as in Go kit's ``endpoint.Chain``.
    The composition happens once, when the chain is applied, so it adds nothing to
    the cost of a call beyond the middlewares themselves.
    """
    inner_first = (outer, *others)[::-1]

    def chained(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        for middleware in inner_first:
            next_ = middleware(next_)
        return next_

    return chained


async def nop(request: object) -> None:
    """An endpoint that does nothing and returns None; handy in tests and benchmarks."""


@runtime_checkable
class Failer(Protocol):
    """A response that can carry a business error.

    The endpoint returned normally, so middleware that counts failures (circuit
    breakers, retries) treats the call as a success; transports and tracing may
    consult ``failed()`` to report the error to the caller.
    """

    def failed(self) -> Exception | None:
        """Return the business error this response carries, or None if it succeeded."""


def business_error(response: object) -> Exception | None:
    """Return the business error *response* carries if it is a `Failer`, else None.

    Middleware that reports outcomes (logging, metrics, tracing) calls this on every
    response; it checks for a callable ``failed`` rather than ``isinstance(..., Failer)``,
    which is several times slower for a runtime-checkable Protocol.
    """
    failed = getattr(response, "failed", None)
    return failed() if callable(failed) else None
