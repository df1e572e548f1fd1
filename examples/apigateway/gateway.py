"""The gateway's routes: for each method, discovery -> endpointer -> balancer -> retry.

Go kit's apigateway/main.go, with the instancers passed in, so that where the instances
come from (etcd, a fixed list) is the caller's choice. For each method of each service
a `Factory` turns an instance string into a client endpoint, a `DefaultEndpointer`
keeps one per discovered instance, and `examples.stringsvc3.proxying.balance` picks
them in turn and retries a failure on the next one. When no instance answers, the call
fails with `Unavailable`, which the servers answer with 503 ``service unavailable``.

The routes reuse each service's own HTTP handler, fed with these balanced endpoints,
under a path prefix, as Go kit does for addsvc:

- ``POST /stringsvc/uppercase`` and ``/stringsvc/count``: ``POST /uppercase`` and
  ``/count`` of a stringsvc instance;
- ``POST /addsvc/sum`` and ``/addsvc/concat``: ``POST /sum`` and ``/concat`` of an
  addsvc HTTP instance.

Go kit's gateway writes stringsvc's client codecs by hand and reaches addsvc with
its gRPC client; here both use their example's HTTP wire: stringsvc through
`pygokit.transport.http.client.Client` with derived decoders, addsvc through its own
`make_http_client_set`, of which each factory keeps one method.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TypeVar

import aiohttp

from examples.addsvc.endpoints import Set
from examples.addsvc.transport_http import make_http_client_set, make_http_handler
from examples.stringsvc1.endpoints import CountResponse, UppercaseResponse
from examples.stringsvc1.transport import make_http_app as make_stringsvc_app
from examples.stringsvc3.proxying import balance, instance_url
from pygokit.endpoint import Endpoint
from pygokit.log import Logger
from pygokit.sd import Closer, DefaultEndpointer, Factory, Instancer
from pygokit.transport import LogErrorHandler
from pygokit.transport.http import Router
from pygokit.transport.http.client import Client
from pygokit.transport.http.client_codec import encode_json_request, json_response_decoder

__all__ = ["RETRY_MAX", "RETRY_TIMEOUT", "addsvc_factory", "gateway", "stringsvc_factory"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")

RETRY_MAX = 3
"""Attempts per call, the first included, each on the next instance (Go kit's default)."""
RETRY_TIMEOUT = 0.5
"""Seconds for all the attempts of one call (Go kit's default)."""


def stringsvc_factory(
    path: str, response: type[Resp], session: aiohttp.ClientSession
) -> Factory[object, Resp]:
    """Make the client of ``POST <path>`` on a stringsvc instance (Go kit's stringsvcFactory).

    *response* is the type its JSON answer decodes into. An instance that does not make a
    valid URL raises ValueError, so the endpointer logs and skips it.
    """
    decode = json_response_decoder(response)

    def factory(instance: str) -> tuple[Endpoint[object, Resp], Closer | None]:
        url = instance_url(instance, path)
        return Client("POST", url, encode_json_request, decode, session=session), None

    return factory


def addsvc_factory(
    method: Callable[[Set], Endpoint[Req, Resp]], session: aiohttp.ClientSession
) -> Factory[Req, Resp]:
    """Make one *method* of addsvc's HTTP client for an instance (Go kit's addsvcFactory).

    ``method`` picks the endpoint from the client `Set`, such as
    ``lambda endpoints: endpoints.sum_endpoint``.
    """

    def factory(instance: str) -> tuple[Endpoint[Req, Resp], Closer | None]:
        return method(make_http_client_set(instance, session=session)), None

    return factory


@asynccontextmanager
async def gateway(
    *,
    stringsvc: Instancer,
    addsvc: Instancer,
    session: aiohttp.ClientSession,
    logger: Logger,
    retry_max: int = RETRY_MAX,
    retry_timeout: float = RETRY_TIMEOUT,
) -> AsyncIterator[Router]:
    """Yield the gateway's app, routing to the instances the instancers find, while it runs.

    The endpointers follow their instancers for the length of the block; leaving it
    closes them. The instancers and *session* belong to the caller.

    Args:
        stringsvc: Finds the stringsvc instances (``host:port``).
        addsvc: Finds the addsvc HTTP instances (``host:port``).
        session: The HTTP connection pool every client shares.
        logger: Gets discovery and factory errors, and the errors of the routes.
        retry_max: Attempts per call, the first included.
        retry_timeout: Seconds for all the attempts of one call.
    """
    async with AsyncExitStack() as stack:

        async def balanced(
            instancer: Instancer, factory: Factory[Req, Resp], service: str
        ) -> Endpoint[Req, Resp]:
            endpointer = DefaultEndpointer(instancer, factory, logger=logger)
            await stack.enter_async_context(endpointer)
            return balance(
                endpointer, service=service, max_attempts=retry_max, max_time=retry_timeout
            )

        uppercase = await balanced(
            stringsvc, stringsvc_factory("/uppercase", UppercaseResponse, session), "stringsvc"
        )
        count = await balanced(
            stringsvc, stringsvc_factory("/count", CountResponse, session), "stringsvc"
        )
        sum_ = await balanced(addsvc, addsvc_factory(lambda s: s.sum_endpoint, session), "addsvc")
        concat = await balanced(
            addsvc, addsvc_factory(lambda s: s.concat_endpoint, session), "addsvc"
        )

        router = Router()
        router.mount(
            "/stringsvc",
            make_stringsvc_app(uppercase, count, error_handler=LogErrorHandler(logger)),
        )
        router.mount("/addsvc", make_http_handler(Set(sum_, concat), logger))
        yield router
