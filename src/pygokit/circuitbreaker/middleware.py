"""`circuit_breaker`: the endpoint middleware that puts any breaker in front of a call.

It is Go kit's ``Gobreaker``/``HandyBreaker`` adapter for every breaker that follows
`pygokit.circuitbreaker.CircuitBreaker`: ask the breaker first, call the endpoint,
tell the breaker how the call ended.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pygokit.circuitbreaker.common import CircuitBreaker
from pygokit.endpoint import AnyMiddleware, Endpoint

__all__ = ["circuit_breaker"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def circuit_breaker(breaker: CircuitBreaker[Any]) -> AnyMiddleware:
    """Refuse calls while *breaker* is open, and report every call's outcome to it.

    ====================================  ==========================================
    the call                              the breaker hears
    ====================================  ==========================================
    is refused by ``breaker.allow()``     nothing; `CircuitOpen` (or a subclass)
                                          is raised and the endpoint is not called
    returns (a `pygokit.endpoint.Failer`  ``on_success``: a business error is the
    response with a business error too)   endpoint working as designed
    raises an `Exception`                 ``on_error``, which counts a failure if
                                          the breaker's ``is_failure`` says so; the
                                          same exception object is re-raised
    is cancelled (or any other            ``release``: counted neither way, and a
    `BaseException`)                      half-open probe slot is freed
    ====================================  ==========================================

    Example::

        breaker = Breaker("sum")
        sum_endpoint = circuit_breaker(breaker)(sum_endpoint)
    """
    allow = breaker.allow
    on_success = breaker.on_success
    on_error = breaker.on_error
    release = breaker.release

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            ticket = allow()
            try:
                response = await next_(request)
            except Exception as exc:
                on_error(ticket, exc)
                raise
            except BaseException:  # cancelled: free the slot, count nothing, re-raise
                release(ticket)
                raise
            on_success(ticket)
            return response

        return endpoint

    return middleware
