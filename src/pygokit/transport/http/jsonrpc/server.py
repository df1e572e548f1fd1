"""The JSON-RPC 2.0 server: many endpoints behind one URL, routed by method name.

`JSONRPCServer` is an ASGI application built on the HTTP transport's `Server`,
which gives it the same before hooks, after hooks, finalizers, body limit,
per-request context and lifespan handling. What it adds is the JSON-RPC 2.0
protocol, all of it, where Go kit's has neither batches nor notifications:

* **HTTP.** Only POST is served (others get 405 with ``Allow: POST``). A request
  that declares a Content-Type must declare JSON (``application/json``,
  ``application/*+json``, ``application/json-rpc`` or ``application/jsonrequest``),
  else 415. A body over ``max_body_bytes`` gets 413 before it is read. These
  refusals are the HTTP transport's error responses (``{"error", "request_id"}``):
  the request never became a JSON-RPC call.
* **Errors** are JSON-RPC error objects sent with HTTP 200: a body that is not
  JSON is -32700 (id null); anything that is not a Request object is -32600; an
  unknown method is -32601; a params decoder that raises is -32602; any other
  failure is -32603. An `ErrorCoder` (an exception with an int ``code``, such as
  `JSONRPCError`) is shown as it is. Any other exception is shown only as
  "Internal error" (or "Invalid params") with ``data: {"request_id": ...}``, also
  sent as ``X-Request-Id``; the error itself goes to the error handler with that
  id in `pygokit.transport.http.context.request_id`. Every error that becomes an
  error object, or would have, goes to the error handler.
* **Ids** (string, number or null) are echoed exactly as sent, integers beyond
  64 bits included. An invalid Request object is answered with its id when that
  id is valid, else with null.
* **Notifications** (calls without an ``id`` member) are served but never
  answered, not even with an error. A notification, or a batch of nothing but
  notifications, gets HTTP 204 and no body: the specification says to return
  "nothing", and 204 is how HTTP says that.
* **Batches.** The calls of a batch run concurrently, each in a task of its own
  (so in its own copy of the context), and the responses come back in the order
  of the calls, notifications left out. An empty batch is a single -32600 error;
  so is a batch of more than ``max_batch_size`` calls. Each element that is not a
  Request object gets its own -32600 error.

Example::

    server = JSONRPCServer(
        {
            "subtract": EndpointCodec(subtract, params_decoder(Subtract), lambda r: r),
            "sum": EndpointCodec(sum_endpoint, params_decoder(list[int]), lambda r: r),
        },
        before=[populate_request_context],
        error_handler=LogErrorHandler(logger),
    )
    await serve(server, port=8080)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from pygokit._asgi import Receive, Scope, Send
from pygokit.log import NopLogger
from pygokit.transport import ErrorHandler, LogErrorHandler
from pygokit.transport.http import context as http_context
from pygokit.transport.http.codec import JSON_CONTENT_TYPE, _is_json, default_error_encoder
from pygokit.transport.http.jsonrpc import _wire, context
from pygokit.transport.http.jsonrpc.codec import EndpointCodec, JSONRPCRequest, RequestID
from pygokit.transport.http.jsonrpc.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    InvalidRequest,
    MethodNotFound,
    ParseError,
    error_message,
)
from pygokit.transport.http.request import DEFAULT_MAX_BODY_BYTES, Request, UnsupportedMediaType
from pygokit.transport.http.response import Response
from pygokit.transport.http.server import AfterHook, BeforeHook, Finalizer, Server

__all__ = ["DEFAULT_MAX_BATCH_SIZE", "BeforeCodecHook", "JSONRPCServer"]

DEFAULT_MAX_BATCH_SIZE = 1000
"""A batch of more calls than this is refused with a single -32600 error."""

BeforeCodecHook: TypeAlias = Callable[[Request, JSONRPCRequest], None]
"""Runs for each call of a served method (notifications too) once its envelope is parsed,
before its params are decoded (Go kit's ``ServerBeforeCodec``). It sets context variables,
or raises to refuse the call: an `ErrorCoder` is answered as it is, anything else as
"Internal error"."""

_JSON_RPC_MEDIA = frozenset({"application/json-rpc", "application/jsonrequest"})
_JSON_FIELDS = (("content-type", JSON_CONTENT_TYPE),)
_JSON_FIELD = (b"content-type", JSON_CONTENT_TYPE.encode())
# Go kit 0.10's client leaves its Request's JSONRPC field empty: "jsonrpc": "".
_GO_KIT_V0_10_VERSIONS = _wire.SPEC_VERSIONS | {""}


class _Reply:
    """What the dispatcher hands the encoder: the body (None: no response) and a request id
    to send as X-Request-Id when a generic error object carries it."""

    __slots__ = ("body", "request_id")

    def __init__(self) -> None:
        self.body: bytes | None = None
        self.request_id: str | None = None


class JSONRPCServer:
    """Serve endpoints over JSON-RPC 2.0 at one URL: an ASGI application.

    Args:
        codecs: Each method name with its `EndpointCodec` (Go kit's
            ``EndpointCodecMap``). Names starting with ``rpc.`` are reserved by
            the specification and refused.
        before: HTTP hooks run in order before the body is read, such as
            ``populate_request_context``; one that raises refuses the whole
            request (an `ErrorCoder` as a JSON-RPC error with id null, an
            ``HTTPError`` with its status, anything else with a generic 500).
        after: HTTP hooks run in order on every JSON-RPC response (200 or 204)
            before it is sent; not on HTTP-level refusals (405, 413, 415).
        finalizers: Run in order once the response was sent, with its status.
        before_codec: Hooks run for each call of a served method, notifications
            included, once its envelope is parsed and `rpc_method` and `rpc_id`
            are set, before its params are decoded.
        error_handler: Observes every error, with the HTTP request id set in
            `pygokit.transport.http.context.request_id`. Defaults to logging to a
            ``NopLogger``.
        max_body_bytes: The largest body read; larger is a 413.
        max_batch_size: The most calls a batch may hold.
        accept_go_kit_v0_10: Also accept calls whose ``jsonrpc`` member is the empty
            string, as Go kit 0.10's client sends them (its ``Request`` has no
            version set; Go kit 0.11 sends ``"2.0"``). Off by default: the
            specification requires exactly ``"2.0"``.
    """

    __slots__ = (
        "_before_codec",
        "_codecs",
        "_error_handler",
        "_http",
        "_max_batch_size",
        "_versions",
    )

    def __init__(
        self,
        codecs: Mapping[str, EndpointCodec[Any, Any]],
        *,
        before: Sequence[BeforeHook] = (),
        after: Sequence[AfterHook] = (),
        finalizers: Sequence[Finalizer] = (),
        before_codec: Sequence[BeforeCodecHook] = (),
        error_handler: ErrorHandler | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        accept_go_kit_v0_10: bool = False,
    ) -> None:
        for name, codec in codecs.items():
            if not isinstance(name, str):
                raise TypeError(f"method names are str, got {name!r}")
            if name.startswith("rpc."):
                raise ValueError(f"method {name!r}: names starting with 'rpc.' are reserved")
            if not isinstance(codec, EndpointCodec):
                raise TypeError(f"method {name!r}: expected an EndpointCodec, got {codec!r}")
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}")
        self._codecs = dict(codecs)
        self._before_codec = tuple(before_codec)
        self._error_handler = error_handler or LogErrorHandler(NopLogger())
        self._max_batch_size = max_batch_size
        self._versions = _GO_KIT_V0_10_VERSIONS if accept_go_kit_v0_10 else _wire.SPEC_VERSIONS
        self._http: Server[Request, _Reply] = Server(
            self._dispatch,
            self._read,
            self._write,
            before=before,
            after=after,
            finalizers=finalizers,
            error_encoder=self._refuse,
            error_handler=self._error_handler,
            max_body_bytes=max_body_bytes,
            methods=("POST",),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection: an HTTP request, the lifespan, or a refused WebSocket."""
        await self._http(scope, receive, send)

    # --- HTTP -----------------------------------------------------------------------------

    async def _read(self, request: Request) -> Request:
        """Check the Content-Type and read the body (413 over the limit); parse nothing yet."""
        content_type = request.header(b"content-type")
        if content_type is not None and content_type != b"application/json":
            media = content_type.decode("latin-1")
            if not _is_json(media) and media.partition(";")[0].strip().lower() not in (
                _JSON_RPC_MEDIA
            ):
                raise UnsupportedMediaType(media, "application/json")
        await request.body()
        return request

    async def _write(self, reply: _Reply) -> Response:
        # Every header field here is a constant or a request id (a checked token).
        headers = [] if reply.body is None else [_JSON_FIELD]
        if reply.request_id is not None:
            headers.append((b"x-request-id", reply.request_id.encode()))
        if reply.body is None:
            return Response._trusted(b"", 204, headers)
        return Response._trusted(reply.body, 200, headers)

    def _refuse(self, error: Exception, request: Request) -> Response:
        """Answer an error raised outside any call (a hook, the method, the body)."""
        if getattr(error, "status_code", None) is None:
            public = _wire.public_error(error)
            if public is not None:
                with contextlib.suppress(TypeError, ValueError):  # data that is not JSON
                    body = _wire.error_object(*public, None)
                    return Response(body, headers=_JSON_FIELDS)
        return default_error_encoder(error, request)

    # --- JSON-RPC -------------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> _Reply:
        """Answer the body: a single call, a batch, or the error that it is neither."""
        reply = _Reply()
        try:
            document = _wire.loads(await request.body())
        except (ValueError, RecursionError):  # RecursionError: stdlib json, deep nesting
            reply.body = self._fail(request, reply, ParseError(), None)
            return reply
        if type(document) is list:
            reply.body = await self._batch(request, reply, document)
        else:
            reply.body = await self._call(
                request, reply, _wire.parse_call(document, self._versions)
            )
        return reply

    async def _batch(self, request: Request, reply: _Reply, batch: list[Any]) -> bytes | None:
        if not batch or len(batch) > self._max_batch_size:
            data = None if not batch else f"a batch holds at most {self._max_batch_size} calls"
            return self._fail(request, reply, InvalidRequest(data=data), None)
        parts: list[bytes | None] = []
        running: list[tuple[int, asyncio.Task[bytes | None]]] = []
        async with asyncio.TaskGroup() as group:
            for element in batch:
                call = _wire.parse_call(element, self._versions)
                if isinstance(call, _wire.BadCall):
                    parts.append(self._fail(request, reply, InvalidRequest(), call.id))
                else:
                    task = group.create_task(self._call(request, reply, call))
                    running.append((len(parts), task))
                    parts.append(None)
        for index, task in running:
            parts[index] = task.result()
        answered = [part for part in parts if part is not None]
        return b"[" + b",".join(answered) + b"]" if answered else None

    async def _call(
        self, request: Request, reply: _Reply, call: JSONRPCRequest | _wire.BadCall
    ) -> bytes | None:
        """Serve one call; return its Response object, or None for a notification."""
        if isinstance(call, _wire.BadCall):
            return self._fail(request, reply, InvalidRequest(), call.id)
        context.rpc_method.set(call.method)
        context.rpc_id.set(call.id)
        codec = self._codecs.get(call.method)
        if codec is None:
            error = MethodNotFound()
            return self._fail(request, reply, error, call.id, notification=call.notification)
        default = INTERNAL_ERROR
        try:
            for hook in self._before_codec:
                hook(request, call)
            default = INVALID_PARAMS
            decoded = codec.decode(call.params)
            default = INTERNAL_ERROR
            result = codec.encode(await codec.endpoint(decoded))
            return None if call.notification else _wire.result_object(result, call.id)
        except Exception as error:  # never BaseException: cancellation passes through
            return self._fail(
                request, reply, error, call.id, notification=call.notification, default=default
            )

    def _fail(
        self,
        request: Request,
        reply: _Reply,
        error: Exception,
        call_id: RequestID,
        *,
        notification: bool = False,
        default: int = INTERNAL_ERROR,
    ) -> bytes | None:
        """Report *error* and build its error object; None for a notification.

        An `ErrorCoder` is shown as it is; any other error as the *default*
        code's standard message with the request id as data.
        """
        http_context.request_id.set(request.request_id)
        self._report(error)
        if notification:
            return None
        public = _wire.public_error(error)
        if public is not None:
            try:
                return _wire.error_object(*public, call_id)
            except (TypeError, ValueError) as encode_error:  # its data is not JSON
                self._report(encode_error)
                default = INTERNAL_ERROR
        rid = reply.request_id = request.request_id
        return _wire.error_object(default, error_message(default), {"request_id": rid}, call_id)

    def _report(self, error: Exception) -> None:
        with contextlib.suppress(Exception):  # a handler must not raise; if one does, go on
            self._error_handler.handle(error)

    def __repr__(self) -> str:
        return f"JSONRPCServer({sorted(self._codecs)!r})"
