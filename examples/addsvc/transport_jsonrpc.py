"""addsvc over JSON-RPC 2.0 on HTTP: methods ``sum`` and ``concat`` at one URL.

Go kit's ``pkg/addtransport/jsonrpc.go``. A call and its answer:

    {"jsonrpc":"2.0","method":"sum","params":{"a":1,"b":2},"id":1}
    {"jsonrpc":"2.0","result":{"v":3},"id":1}

Params are read as Go kit reads them (`examples.addsvc.codec`: ``{"A":1,"B":2}``
from Go kit's client works too); params that do not fit are -32602 "Invalid
params" with the reason in ``data`` (Go kit: -32000). A business error is the
error object ``{"code":-32000,"message":"can't sum two zeroes"}``: Go kit's
server drops it (its response type hides the error from JSON) and answers
``{"v":0}``, which a Go kit client would print as a sum; with an error object it
prints the error instead. A refusal by the limiter or breaker is -32603 with its
text, as Go kit answers it; any other failure is pygokit's generic "Internal
error" with a request id.

`make_jsonrpc_client_set` is Go kit's ``NewJSONRPCClient``; a -32000 error comes
back as the business error in the response, so it neither raises nor counts
against the breaker.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from typing import TypeVar

import aiohttp

from examples.addsvc.codec import (
    InvalidField,
    concat_reply,
    concat_request,
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
from pygokit.endpoint import Endpoint, business_error
from pygokit.log import Logger
from pygokit.ratelimit import Allower, RateLimited
from pygokit.transport import LogErrorHandler
from pygokit.transport.http.jsonrpc import (
    INTERNAL_ERROR,
    EndpointCodec,
    InvalidParams,
    JSONRPCError,
    JSONRPCServer,
    Params,
)
from pygokit.transport.http.jsonrpc.client import JSONRPCClient

__all__ = [
    "BUSINESS_ERROR",
    "decode_concat_params",
    "decode_sum_params",
    "encode_result",
    "make_jsonrpc_client_set",
    "make_jsonrpc_handler",
]

BUSINESS_ERROR = -32000
"""The error code of a business error (the first of the implementation-defined codes)."""

Req = TypeVar("Req")
R = TypeVar("R", SumResponse, ConcatResponse)


def make_jsonrpc_handler(endpoints: Set, logger: Logger) -> JSONRPCServer:
    """Serve *endpoints* as the methods ``sum`` and ``concat`` (Go kit's ``NewJSONRPCHandler``)."""
    return JSONRPCServer(
        {
            "sum": EndpointCodec(
                _refusals_shown(endpoints.sum_endpoint), decode_sum_params, encode_result
            ),
            "concat": EndpointCodec(
                _refusals_shown(endpoints.concat_endpoint), decode_concat_params, encode_result
            ),
        },
        error_handler=LogErrorHandler(logger),
        accept_go_kit_v0_10=True,  # Go kit 0.10's client sends "jsonrpc": ""
    )


def _refusals_shown(endpoint: Endpoint[Req, R]) -> Endpoint[Req, R]:
    """Answer a refusal by the limiter or breaker with its text, as Go kit does (-32603)."""

    async def shown(request: Req) -> R:
        try:
            return await endpoint(request)
        except (RateLimited, CircuitOpen) as exc:
            raise JSONRPCError(INTERNAL_ERROR, str(exc)) from exc

    return shown


def _object_params(params: Params, example: str) -> Params:
    if params is None:
        raise InvalidParams(data=f"params are required, like {example}")
    return params


def decode_sum_params(params: Params) -> SumRequest:
    """Read ``{"a": int, "b": int}`` params as Go kit does; -32602 if they do not fit."""
    try:
        return sum_request(_object_params(params, '{"a":1,"b":2}'))
    except InvalidField as exc:
        raise InvalidParams(data=str(exc)) from None


def decode_concat_params(params: Params) -> ConcatRequest:
    """Read ``{"a": str, "b": str}`` params as Go kit does; -32602 if they do not fit."""
    try:
        return concat_request(_object_params(params, '{"a":"x","b":"y"}'))
    except InvalidField as exc:
        raise InvalidParams(data=str(exc)) from None


def encode_result(response: SumResponse | ConcatResponse) -> dict[str, object]:
    """The result ``{"v": ...}``, or the business error as a -32000 error object."""
    failure = business_error(response)
    if failure is not None:
        raise JSONRPCError(BUSINESS_ERROR, str(failure))
    return {"v": response.v}


def _params(request: SumRequest | ConcatRequest) -> dict[str, object]:
    return {"a": request.a, "b": request.b}


def _business_errors_returned(
    client: Endpoint[Req, R], refused: Callable[[AddServiceError], R]
) -> Endpoint[Req, R]:
    """Turn a -32000 error object into a response carrying that business error."""

    async def endpoint(request: Req) -> R:
        try:
            return await client(request)
        except JSONRPCError as exc:
            if exc.code != BUSINESS_ERROR:
                raise
            return refused(error_from_message(exc.message))

    return endpoint


def make_jsonrpc_client_set(
    instance: str,
    *,
    session: aiohttp.ClientSession,
    limiter: Allower | None = None,
    clock: Clock = time.monotonic,
) -> Set:
    """An addsvc at *instance* (``host:port`` or a URL) as a `Set` (Go kit's ``NewJSONRPCClient``).

    Both methods share *limiter* (default: 1 call per second, bursts of 100);
    each has its own breaker, open for 30 s. The caller owns *session*.
    """
    url = urllib.parse.urlsplit(instance if instance.startswith("http") else "http://" + instance)
    target = url._replace(path=url.path or "/").geturl()
    sum_client: JSONRPCClient[SumRequest, SumResponse] = JSONRPCClient(
        target, "sum", session=session, encode=_params, decode=sum_reply
    )
    concat_client: JSONRPCClient[ConcatRequest, ConcatResponse] = JSONRPCClient(
        target, "concat", session=session, encode=_params, decode=concat_reply
    )
    return make_client_set(
        _business_errors_returned(sum_client, lambda err: SumResponse(err=err)),
        _business_errors_returned(concat_client, lambda err: ConcatResponse(err=err)),
        concat_timeout=30.0,
        limiter=limiter,
        clock=clock,
    )
