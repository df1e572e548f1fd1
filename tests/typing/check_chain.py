"""Type-level checks for chain(): mypy --strict runs over this file, pytest does not.

A line marked ``# type: ignore[code]`` must be an error: mypy's strict mode reports
an unused ignore, so if chain() ever accepted a wrong call, the check would fail.
"""

from __future__ import annotations

from typing import TypeVar, assert_type

from pygokit.endpoint import AnyMiddleware, Endpoint, Middleware, chain, nop

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def passthrough() -> AnyMiddleware:
    """A generic middleware factory, like a limiter or a breaker."""

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            return await next_(request)

        return endpoint

    return middleware


def only_for_sum(next_: Endpoint[int, str]) -> Endpoint[int, str]:
    """A middleware written for one endpoint type."""
    return next_


async def stringify(request: int) -> str:
    """The endpoint under test: int in, str out."""
    return str(request)


async def check_generic_chain_keeps_types() -> None:
    """Chaining only generic middleware keeps the endpoint's exact type."""
    endpoint = chain(passthrough(), passthrough())(stringify)
    assert_type(endpoint, Endpoint[int, str])
    assert_type(await endpoint(1), str)
    await endpoint("one")  # type: ignore[arg-type]


async def check_mixed_chain_keeps_types() -> None:
    """Mixing generic and typed middleware keeps the typed middleware's types."""
    combined = chain(passthrough(), only_for_sum, passthrough())
    assert_type(combined, Middleware[int, str])
    endpoint = combined(stringify)
    assert_type(await endpoint(1), str)
    await endpoint(b"1")  # type: ignore[arg-type]


def check_typed_chain_rejects_other_endpoints() -> None:
    """A chain of typed middleware refuses an endpoint of another type."""
    chain(only_for_sum)(nop)  # type: ignore[arg-type]


def check_chain_needs_at_least_one_middleware() -> None:
    """chain() with no middleware at all is a type error, as in Go kit."""
    chain()  # type: ignore[call-overload]
