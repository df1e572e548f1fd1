"""addsvc over HTTP with JSON bodies, on the wire exactly as Go kit's addsvc.

Go kit's ``pkg/addtransport/http.go``. The server answers

=================================  ==========================================
request                            response
=================================  ==========================================
``POST /sum {"a":1,"b":2}``        200 ``{"v":3}``
``POST /concat {"a":"x","b":"y"}`` 200 ``{"v":"xy"}``
a business error                   400 ``{"error":"can't sum two zeroes"}``
rate limited, circuit open         500 ``{"error":"rate limit exceeded; ..."}``
=================================  ==========================================

with Go's bytes: a trailing newline, ``<``, ``>`` and ``&`` escaped. Requests are
read as Go reads them (`examples.addsvc.codec`), so Go kit's client, which sends
``{"A":1,"B":2}``, and curl, which sends no JSON Content-Type, are both served.
Two differences, both on bad input: a body that is not a request of the right
shape gets 400 with pygokit's ``{"error", "request_id"}`` (Go kit: 500 with the
decoder's text), and any unexpected error gets pygokit's generic 500 with a
request id, never its own text (Go kit writes ``err.Error()`` whatever it is).
Error bodies say ``application/json``, where Go lets ``net/http`` sniff them as
``text/plain``.

`make_http_client_set` is Go kit's ``NewHTTPClient``: a `Set` of HTTP clients
behind a shared limiter and a breaker per method. A 400 with an ``{"error"}``
body comes back as the business error in the response, so it neither raises
nor counts against the breaker (Go kit's client turns every non-200 into an
error).
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from typing import TypeVar

import aiohttp

from examples.addsvc.codec import (
    InvalidField,
    concat_reply,
    concat_request,
    go_json,
    sum_reply,
    sum_request,
)
from examples.addsvc.endpoints import (
    ConcatRequest,
    ConcatResponse,
    Set,
    SumRequest,
    SumResponse,
    make_client_set,
)
from examples.addsvc.service import AddServiceError, error_from_message
from pygokit.circuitbreaker import CircuitOpen
from pygokit.clock import Clock
from pygokit.endpoint import business_error
from pygokit.log import Logger
from pygokit.ratelimit import Allower, RateLimited
from pygokit.transport import LogErrorHandler
from pygokit.transport.http import (
    JSON_CONTENT_TYPE,
    BadRequest,
    Request,
    Response,
    Router,
    Server,
    default_error_encoder,
)
from pygokit.transport.http.client import Client, ClientResponse, DecodeResponse
from pygokit.transport.http.client_codec import (
    InvalidResponse,
    check_status,
    encode_json_request,
)

__all__ = [
    "MAX_RESPONSE_BYTES",
    "decode_concat_request",
    "decode_sum_request",
    "encode_error",
    "encode_response",
    "make_http_client_set",
    "make_http_handler",
]

MAX_RESPONSE_BYTES = 64 * 1024
"""A client refuses larger response bodies; an addsvc reply is a few bytes."""

R = TypeVar("R", SumResponse, ConcatResponse)
_JSON_HEADERS = (("content-type", JSON_CONTENT_TYPE),)


def make_http_handler(endpoints: Set, logger: Logger) -> Router:
    """Serve *endpoints* at ``POST /sum`` and ``POST /concat`` (Go kit's ``NewHTTPHandler``).

    Errors the server cannot answer with go to *logger*. Other paths get 404 and
    other methods 405, as JSON.
    """
    handler = LogErrorHandler(logger)
    router = Router()
    router.route(
        "POST",
        "/sum",
        Server(
            endpoints.sum_endpoint,
            decode_sum_request,
            encode_response,
            error_encoder=encode_error,
            error_handler=handler,
        ),
    )
    router.route(
        "POST",
        "/concat",
        Server(
            endpoints.concat_endpoint,
            decode_concat_request,
            encode_response,
            error_encoder=encode_error,
            error_handler=handler,
        ),
    )
    return router


async def decode_sum_request(request: Request) -> SumRequest:
    """Read a `SumRequest` from the JSON body, as Go kit does; 400 if it does not fit."""
    try:
        return sum_request(await request.json())
    except InvalidField as exc:
        raise BadRequest(str(exc)) from None


async def decode_concat_request(request: Request) -> ConcatRequest:
    """Read a `ConcatRequest` from the JSON body, as Go kit does; 400 if it does not fit."""
    try:
        return concat_request(await request.json())
    except InvalidField as exc:
        raise BadRequest(str(exc)) from None


def _error(status: int, message: str) -> Response:
    return Response(go_json({"error": message}), status=status, headers=_JSON_HEADERS)


async def encode_response(response: SumResponse | ConcatResponse) -> Response:
    """``{"v":...}`` with 200, or the business error the response carries, with 400.

    Go kit's ``encodeHTTPGenericResponse``: a failed response is answered by the
    error encoder.
    """
    failure = business_error(response)
    if failure is not None:
        return _error(400, str(failure))
    return Response(go_json({"v": response.v}), headers=_JSON_HEADERS)


def encode_error(error: Exception, request: Request) -> Response:
    """Go kit's ``errorEncoder`` for the errors whose text is safe to show.

    A business error is a 400 and a refusal by the limiter or breaker a 500, both
    with ``{"error": <its text>}`` as Go kit sends them; anything else goes to
    `pygokit.transport.http.default_error_encoder` (an ``HTTPError``'s status and
    message, else a generic 500), so no internal detail reaches the client.
    """
    if isinstance(error, AddServiceError):
        return _error(400, str(error))
    if isinstance(error, RateLimited | CircuitOpen):
        return _error(500, str(error))
    return default_error_encoder(error, request)


def _response_decoder(
    reply: Callable[[object], R], refused: Callable[[AddServiceError], R]
) -> DecodeResponse[R]:
    """Decode 200 with *reply*, and a 400 ``{"error"}`` into the business error it names."""

    async def decode(response: ClientResponse) -> R:
        if response.status == 400:
            message = _error_text(await response.read(max_bytes=MAX_RESPONSE_BYTES))
            if message is not None:
                return refused(error_from_message(message))
        await check_status(response)
        body = await response.read(max_bytes=MAX_RESPONSE_BYTES)
        try:
            return reply(json.loads(body))
        except (ValueError, InvalidField) as exc:
            raise InvalidResponse(
                f"the response to {response.description} is not an addsvc reply: {exc}",
                path="",
                problem=str(exc),
            ) from None

    return decode


def _error_text(body: bytes) -> str | None:
    """The text of an ``{"error": "..."}`` body, or None if the body is anything else."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    text = document.get("error") if type(document) is dict else None
    return text if type(text) is str else None


def _at(base: urllib.parse.SplitResult, path: str) -> str:
    return base._replace(path=path).geturl()


def make_http_client_set(
    instance: str,
    *,
    session: aiohttp.ClientSession,
    limiter: Allower | None = None,
    clock: Clock = time.monotonic,
) -> Set:
    """An addsvc at *instance* (``host:port`` or a URL) as a `Set` (Go kit's ``NewHTTPClient``).

    Both methods share *limiter* (default: 1 call per second, bursts of 100);
    each has its own breaker (open for 30 s for sum, 10 s for concat). The
    caller owns *session* and closes it.
    """
    base = urllib.parse.urlsplit(instance if instance.startswith("http") else "http://" + instance)
    sum_client = Client(
        "POST",
        _at(base, "/sum"),
        encode_json_request,
        _response_decoder(sum_reply, lambda err: SumResponse(err=err)),
        session=session,
    )
    concat_client = Client(
        "POST",
        _at(base, "/concat"),
        encode_json_request,
        _response_decoder(concat_reply, lambda err: ConcatResponse(err=err)),
        session=session,
    )
    return make_client_set(sum_client, concat_client, limiter=limiter, clock=clock)
