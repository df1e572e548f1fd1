"""The middleware every benchmark stacks: a pass-through layer in pygokit's style.

It does nothing but call the next endpoint, so a chain of them measures what the
middleware pattern itself costs (one extra coroutine per layer), not any feature.
"""

from __future__ import annotations

from typing import TypeVar

from pygokit.endpoint import AnyMiddleware, Endpoint

__all__ = ["passthrough"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def passthrough() -> AnyMiddleware:
    """Build a middleware that only awaits the next endpoint: the cheapest possible layer."""

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            return await next_(request)

        return endpoint

    return middleware
