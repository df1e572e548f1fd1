"""Serve ``uppercase`` by calling other stringsvc instances: Go kit's stringsvc3/proxying.go.

`proxy_uppercase` builds, for each instance, an HTTP client endpoint for its
``POST /uppercase`` (Go kit's JSON wire), wrapped in a circuit breaker and an erroring
rate limiter; it puts them in a `FixedEndpointer` and returns one endpoint that picks
them in turn (`RoundRobin`) and retries a failed call on the next instance (`retry`).

Go kit's proxy is a *service* middleware: its ``Uppercase`` calls the endpoint with a
context and waits. Here the service's methods are plain synchronous functions, which
cannot wait for the network, so the proxy replaces the ``uppercase`` *endpoint*
(``__main__`` routes ``POST /uppercase`` to it) and ``count`` stays local. A business
error from an instance (``{"v":"","err":"empty string"}``) comes back in the response,
so it is passed on as it is, and neither trips a breaker nor is retried.

The numbers are Go kit's, with two changes. Go kit's limiter is
``rate.NewLimiter(rate.Every(time.Second), qps)``: a burst of 100 calls, then one per
second, although its comment says 100 per second; here it is 100 per second with a
burst of 100, as meant. Go kit gives up after 250 ms; here a call has 500 ms, as in Go
kit's apigateway, which leaves room for a busy machine. When every attempt fails the
call raises `Unavailable`, which the server answers with 503 ``service unavailable``
while the error handler logs why.

`instance_url`, `balance` and `Unavailable` serve ``examples.apigateway`` too.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import TypeVar

import aiohttp

from examples.stringsvc1.endpoints import UppercaseRequest, UppercaseResponse
from pygokit.circuitbreaker import Breaker, circuit_breaker
from pygokit.endpoint import Endpoint
from pygokit.ratelimit import TokenBucket, erroring_limiter
from pygokit.retry import RetriesExhausted
from pygokit.sd import Endpointer, FixedEndpointer
from pygokit.sd.lb import RoundRobin, retry
from pygokit.transport.http.client import Client
from pygokit.transport.http.client_codec import encode_json_request, json_response_decoder

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_TIME",
    "QPS",
    "Unavailable",
    "balance",
    "instance_url",
    "proxy_uppercase",
    "split_instances",
]

Req = TypeVar("Req")
Resp = TypeVar("Resp")

QPS = 100
"""Calls per second to one instance, beyond which the proxy refuses them (burst as many)."""
MAX_ATTEMPTS = 3
"""Attempts per call, the first included, each on the next instance."""
MAX_TIME = 0.5
"""Seconds for all the attempts of one call."""


class Unavailable(Exception):
    """No instance answered: every attempt failed or the time ran out.

    Its ``status_code`` makes the server answer 503; its message, which says why, goes
    only to the error handler: the client reads ``service unavailable``.
    """

    status_code = 503


def split_instances(text: str) -> list[str]:
    """Split a ``--proxy`` value, ``"host:port, host:port"``, into instances; "" has none."""
    return [part.strip() for part in text.split(",") if part.strip()]


def instance_url(instance: str, path: str) -> str:
    """The URL of *path* on *instance* (``host:port`` or a URL; a URL's own path is kept)."""
    if not instance.startswith(("http://", "https://")):
        instance = f"http://{instance}"
    parts = urllib.parse.urlsplit(instance)
    return parts._replace(path=parts.path or path).geturl()


def balance(
    endpointer: Endpointer[Req, Resp], *, service: str, max_attempts: int, max_time: float
) -> Endpoint[Req, Resp]:
    """Call *endpointer*'s endpoints in turn, retrying failures on the next one.

    Raises (from the returned endpoint):
        Unavailable: *max_attempts* attempts failed, *max_time* ran out, or there was
            no endpoint to call; the `pygokit.retry.RetriesExhausted` is its cause.
    """
    attempts = retry(max_attempts, max_time, RoundRobin(endpointer))

    async def endpoint(request: Req) -> Resp:
        try:
            return await attempts(request)
        except RetriesExhausted as exc:
            raise Unavailable(f"no instance of {service} answered: {exc}") from exc

    return endpoint


def proxy_uppercase(
    instances: Sequence[str],
    session: aiohttp.ClientSession,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    max_time: float = MAX_TIME,
) -> Endpoint[UppercaseRequest, UppercaseResponse]:
    """Return an ``uppercase`` endpoint served by *instances*, balanced and retried.

    Each instance gets its own breaker (gobreaker's defaults: open after more than five
    failures in a row, probe after 60 s) and its own limiter (`QPS`).

    Args:
        instances: ``host:port`` or base URLs of stringsvc instances; at least one.
        session: The HTTP connection pool the clients share; the caller closes it.
        max_attempts: Attempts per call, the first included.
        max_time: Seconds for all the attempts of one call.

    Raises:
        ValueError: No instance, or an instance that does not make a valid URL.
    """
    if not instances:
        raise ValueError("give at least one instance to proxy to, as host:port")
    decode = json_response_decoder(UppercaseResponse)
    endpoints: list[Endpoint[UppercaseRequest, UppercaseResponse]] = []
    for instance in instances:
        endpoint: Endpoint[UppercaseRequest, UppercaseResponse]
        try:
            url = instance_url(instance, "/uppercase")
            endpoint = Client("POST", url, encode_json_request, decode, session=session)
        except ValueError as exc:
            raise ValueError(f"instance {instance!r} is not a valid host:port: {exc}") from exc
        endpoint = circuit_breaker(Breaker(f"uppercase {instance}"))(endpoint)
        endpoint = erroring_limiter(TokenBucket(rate=QPS, burst=QPS))(endpoint)
        endpoints.append(endpoint)
    return balance(
        FixedEndpointer(endpoints),
        service="stringsvc",
        max_attempts=max_attempts,
        max_time=max_time,
    )
