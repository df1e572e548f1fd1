"""The HTTP server: one endpoint served as an ASGI application.

`Server` follows Go kit's ``ServeHTTP`` step by step: before hooks, decode,
endpoint, after hooks, encode; any error on the way goes to the error handler
(to be logged) and then to the error encoder (to be answered); finalizers run
last, always, and see the status, headers and size of what was sent.

A server does not route: mount one per method in any ASGI router, or dispatch on
``scope["path"]`` yourself. It answers the ``lifespan`` protocol and refuses
WebSocket connections, so it also runs on its own under uvicorn.

Request-scoped values live in context variables (`pygokit.transport.http.context`),
and they never leak from one request into the next because every ASGI server
(uvicorn, hypercorn, granian, daphne) runs each request in its own task, and a
task runs in its own copy of the context. The server does not copy the context
again: doing so inline costs a ``Context.run`` per step of the request, which
measured 7% of uvicorn's throughput on ``POST /sum``. An app that awaits the
server twice in one task (an in-process test client, say) shares one context
between those calls; run each call in its own task to keep them apart.

Example::

    @dataclass(frozen=True)
    class SumRequest:
        a: int
        b: int

    server = Server(
        sum_endpoint,
        json_decoder(SumRequest),
        json_encoder(),
        before=[populate_request_context],
        error_handler=LogErrorHandler(logger),
        methods=("POST",),
    )
    await serve(server, port=8080)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Generic, TypeAlias, TypeVar

from pygokit._asgi import Receive, Scope, Send, answer_lifespan, reject_websocket
from pygokit.endpoint import Endpoint
from pygokit.log import NopLogger
from pygokit.transport import ErrorHandler, LogErrorHandler
from pygokit.transport.http import context
from pygokit.transport.http.codec import (
    JSON_CONTENT_TYPE,
    DecodeRequest,
    EncodeResponse,
    ErrorEncoder,
    default_error_encoder,
)
from pygokit.transport.http.request import (
    DEFAULT_MAX_BODY_BYTES,
    Headers,
    MethodNotAllowed,
    Request,
)
from pygokit.transport.http.response import Response

__all__ = ["AfterHook", "BeforeHook", "Finalizer", "Server"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")

BeforeHook: TypeAlias = Callable[[Request], None]
"""Runs before decoding (Go kit's ``ServerBefore``); sets context variables, may raise."""

AfterHook: TypeAlias = Callable[[Request, Response], None]
"""Runs after encoding, before sending (Go kit's ``ServerAfter``); may edit the response.

Go kit runs these before the encoder and lets them write headers into the
``ResponseWriter``; here the encoder returns a `Response` first, so a hook sees
the status and may set headers on it (a hook's header wins over the encoder's).
They do not run for error responses, as in Go kit.
"""

Finalizer: TypeAlias = Callable[[Request, int], None]
"""Runs after the response was sent, or failed to be (Go kit's ``ServerFinalizer``).

Takes the request and the status sent (0 if the request was cancelled before a
response was sent); `context.response_headers` and `context.response_size` hold
the rest.
"""

_GENERIC_500 = b'{"error":"internal error","request_id":"%s"}'


class Server(Generic[Req, Resp]):
    """Serve one endpoint over HTTP: an ASGI application.

    Args:
        endpoint: The endpoint to expose.
        decode: Turns the `Request` into the endpoint's request (`json_decoder`).
        encode: Turns the endpoint's response into a `Response` (`json_encoder`).
        before: Hooks run in order before decoding, such as `populate_request_context`.
        after: Hooks run in order on the encoded response before it is sent.
        finalizers: Hooks run in order once the response was sent; errors they
            raise go to the error handler.
        error_encoder: Turns any error into the response; `default_error_encoder`
            shows the client only what an error declares safe.
        error_handler: Observes every error, with `context.request_id` set to the
            id in the error response. Defaults to logging to a ``NopLogger``.
        max_body_bytes: The largest body a decoder may read; larger is a 413.
        methods: If given, other methods are answered 405 with ``Allow`` (Go kit
            serves any method and leaves this to the router).
    """

    __slots__ = (
        "_after",
        "_before",
        "_decode",
        "_encode",
        "_endpoint",
        "_error_encoder",
        "_error_handler",
        "_finalizers",
        "_max_body_bytes",
        "_methods",
    )

    def __init__(
        self,
        endpoint: Endpoint[Req, Resp],
        decode: DecodeRequest[Req],
        encode: EncodeResponse[Resp],
        *,
        before: Sequence[BeforeHook] = (),
        after: Sequence[AfterHook] = (),
        finalizers: Sequence[Finalizer] = (),
        error_encoder: ErrorEncoder = default_error_encoder,
        error_handler: ErrorHandler | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        methods: Sequence[str] | None = None,
    ) -> None:
        if max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be >= 0, got {max_body_bytes}")
        if isinstance(methods, str):
            raise TypeError(f"methods is a sequence of names, like ({methods!r},)")
        self._endpoint = endpoint
        self._decode = decode
        self._encode = encode
        self._before = tuple(before)
        self._after = tuple(after)
        self._finalizers = tuple(finalizers)
        self._error_encoder = error_encoder
        self._error_handler = error_handler or LogErrorHandler(NopLogger())
        self._max_body_bytes = max_body_bytes
        self._methods = None if methods is None else tuple(m.upper() for m in methods)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection: an HTTP request, the lifespan, or a refused WebSocket."""
        if scope["type"] != "http":
            await _not_http(scope, receive, send)
            return
        # One coroutine for the whole request: each extra await layer costs ~0.2 us.
        request = Request(scope, receive, self._max_body_bytes)
        response: Response | None = None
        size = 0
        try:
            try:
                for before in self._before:
                    before(request)
                if self._methods is not None and request.method not in self._methods:
                    raise MethodNotAllowed(request.method, self._methods)
                response = await self._encode(await self._endpoint(await self._decode(request)))
                if not isinstance(response, Response):
                    raise TypeError(
                        f"the encoder returned {type(response).__name__}, not a Response"
                    )
                for after in self._after:
                    after(request, response)
            except Exception as error:  # never BaseException: cancellation passes through
                response = self._respond_to(error, request)
            start, body = response.messages(head=scope["method"] == "HEAD")
            await send(start)
            await send(body)
            size = len(body["body"])
        finally:
            if self._finalizers:
                self._finalize(request, response, size)

    def _respond_to(self, error: Exception, request: Request) -> Response:
        """Report *error* with the request id set, and encode it; never raises."""
        context.request_id.set(request.request_id)
        self._report(error)
        try:
            response = self._error_encoder(error, request)
            if not isinstance(response, Response):
                raise TypeError(f"the error encoder returned {type(response).__name__}")
        except Exception as encoder_error:
            self._report(encoder_error)
            rid = request.request_id.encode()  # a checked token: safe in a header
            fields = [(b"content-type", JSON_CONTENT_TYPE.encode()), (b"x-request-id", rid)]
            response = Response._trusted(_GENERIC_500 % rid, 500, fields)
        return response

    def _report(self, error: Exception) -> None:
        with contextlib.suppress(Exception):  # a handler must not raise; if one does, go on
            self._error_handler.handle(error)

    def _finalize(self, request: Request, response: Response | None, size: int) -> None:
        context.response_headers.set(response.headers if response is not None else Headers())
        context.response_size.set(size)
        status = response.status if response is not None else 0
        for finalize in self._finalizers:
            try:
                finalize(request, status)
            except Exception as error:
                self._report(error)

    def __repr__(self) -> str:
        return f"Server({self._endpoint!r})"


async def _not_http(scope: Scope, receive: Receive, send: Send) -> None:
    kind = scope["type"]
    if kind == "lifespan":
        await answer_lifespan(receive, send)
    elif kind == "websocket":
        await reject_websocket(receive, send)
    else:
        raise ValueError(f"unsupported ASGI scope type {kind!r}")
