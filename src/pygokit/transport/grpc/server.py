"""The gRPC server side: one endpoint bound to one unary RPC (Go kit's ``grpc.Server``).

A `Server` follows Go kit's ``ServeGRPC`` step by step: ``before`` hooks read
the incoming metadata, the request message is decoded, the endpoint runs,
``after`` hooks write response headers and trailers, the response is encoded;
finalizers run last, always. A `Server` knows no message types: `register`
(in `pygokit.transport.grpc.service`) binds it to a method of a service
descriptor, which supplies them, so no servicer class is written by hand.

Unlike Go kit, the server maps errors to a status itself (see
`pygokit.transport.grpc.codec`): an endpoint that raises never shows the client
its message, class or traceback, and bytes that do not parse as the request
message are ``INVALID_ARGUMENT``, not grpcio's ``UNKNOWN`` with the parser's text.
Cancellation is never swallowed: when the client cancels or the deadline passes,
gRPC cancels the handler's task, the endpoint sees ``CancelledError``, and
finalizers see ``CANCELLED`` or ``DEADLINE_EXCEEDED``.

The handler is written against ``_Call``, the few things it needs of an RPC
in progress: grpc.aio's ``ServicerContext`` is one, and the grpclib backend
(`pygokit.transport.grpc.grpclib_server`) supplies another, so both run the same
steps, hooks and error mapping.

Each RPC runs in its own task (grpc.aio and grpclib make one per call), so context
variables set by hooks and endpoints never leak into another request. The
handler sets `context.request_method` and `context.deadline` (None when the
RPC has no deadline), so a `Client` called by the endpoint sends the time that
is left downstream.

Example::

    sum_server = Server(sum_endpoint, decode_sum_request, encode_sum_reply,
                        before=[read_tenant], error_handler=LogErrorHandler(logger))
    register(grpc_server, addsvc_pb2.DESCRIPTOR.services_by_name["Add"], {"Sum": sum_server})
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import Iterable, Sequence
from typing import Generic, Protocol, TypeVar

from pygokit._extras import missing_extra

try:
    import grpc
    from google.protobuf.message import DecodeError, Message
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.transport.grpc.server", "grpc") from exc

from pygokit.endpoint import Endpoint
from pygokit.log import NopLogger
from pygokit.transport import ErrorHandler, LogErrorHandler
from pygokit.transport.grpc import context
from pygokit.transport.grpc.codec import (
    DecodeRequest,
    EncodeResponse,
    ErrorEncoder,
    Finalizer,
    Status,
    StatusError,
    default_error_encoder,
)
from pygokit.transport.grpc.metadata import Pairs, RequestHook, ResponseHook, _checked
from pygokit.transport.http.request import _REQUEST_ID

__all__ = ["Server"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")

_OK = grpc.StatusCode.OK


class _Call(Protocol):
    """What a `Server` needs of the RPC it serves; grpc.aio's ``ServicerContext`` is one.

    A server backend other than grpc.aio implements it: the server reads the
    deadline and the incoming metadata, hands over the response header and
    trailer pairs (already checked) and, on an error, the code and details.
    """

    def time_remaining(self) -> float | None:
        """Seconds left until the RPC's deadline (0 once it passed); None without one."""

    def invocation_metadata(self) -> Iterable[tuple[str, str | bytes]] | None:
        """The metadata the client sent, as (key, value) pairs."""

    async def send_initial_metadata(self, initial_metadata: Pairs, /) -> None:
        """Send (or queue, to go before the reply) the response headers."""

    def set_trailing_metadata(self, trailing_metadata: Pairs, /) -> None:
        """The trailers to send with the status."""

    def set_code(self, code: grpc.StatusCode, /) -> None:
        """The status code to answer with (OK unless set)."""

    def set_details(self, details: str, /) -> None:
        """The status details to answer with."""


class Server(Generic[Req, Resp]):
    """Serve one endpoint as one unary gRPC method.

    Args:
        endpoint: The endpoint to expose.
        decode: Turns the request message into the endpoint's request.
        encode: Turns the endpoint's response into the reply message; it must be
            of the method's reply type.
        before: Hooks run in order on the incoming metadata before decoding,
            typically to set context variables (Go kit's ``ServerBefore``).
        after: Hooks run in order after the endpoint succeeded, with the
            response headers and trailers to add to (``ServerAfter``); pairs are
            checked before they are sent (`pygokit.transport.grpc.metadata`).
        finalizers: Hooks run last, always, with the code sent and the error if
            any (``ServerFinalizer``); errors they raise go to the error handler.
        error_encoder: Turns an error and the request id into the status sent;
            `default_error_encoder` shows the client only what an error
            declares safe.
        error_handler: Observes every error, with `context.request_id` set to the
            id the client got. Defaults to logging to a ``NopLogger``.
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
    )

    def __init__(
        self,
        endpoint: Endpoint[Req, Resp],
        decode: DecodeRequest[Req],
        encode: EncodeResponse[Resp],
        *,
        before: Sequence[RequestHook] = (),
        after: Sequence[ResponseHook] = (),
        finalizers: Sequence[Finalizer] = (),
        error_encoder: ErrorEncoder = default_error_encoder,
        error_handler: ErrorHandler | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._decode = decode
        self._encode = encode
        self._before = tuple(before)
        self._after = tuple(after)
        self._finalizers = tuple(finalizers)
        self._error_encoder = error_encoder
        self._error_handler = error_handler or LogErrorHandler(NopLogger())

    def method_handler(
        self, request_type: type[Message], reply_type: type[Message], method: str = ""
    ) -> grpc.RpcMethodHandler[bytes, bytes]:
        """The grpc.aio handler that serves one unary method with this server.

        `register` calls this for each method of a service; call it yourself to
        build a ``grpc.method_handlers_generic_handler`` by hand. The handler
        parses *request_type* and serializes *reply_type* itself, so a bad
        message is answered by this server's rules, not grpcio's.

        Args:
            request_type: The method's request message class.
            reply_type: The method's reply message class; the encoder must return one.
            method: The full method name, such as ``"/pb.Add/Sum"``, for
                `context.request_method` (left as it is when empty).
        """
        handle = functools.partial(self._handle, request_type, reply_type, method)
        return grpc.unary_unary_rpc_method_handler(handle)

    async def _handle(
        self,
        request_type: type[Message],
        reply_type: type[Message],
        method: str,
        raw: bytes,
        rpc: _Call,
    ) -> bytes:
        if method:
            context.request_method.set(method)
        remaining = rpc.time_remaining()
        context.deadline.set(
            None if remaining is None else asyncio.get_running_loop().time() + remaining
        )
        code = _OK
        failure: BaseException | None = None
        try:
            try:
                if self._before:
                    incoming = grpc.aio.Metadata.from_tuple(rpc.invocation_metadata() or ())
                    for before in self._before:
                        before(incoming)
                try:
                    message = request_type.FromString(raw)
                except DecodeError:
                    name = request_type.DESCRIPTOR.full_name
                    raise StatusError(
                        grpc.StatusCode.INVALID_ARGUMENT, f"the request is not a valid {name}"
                    ) from None
                response = await self._endpoint(self._decode(message))
                if self._after:
                    header, trailer = grpc.aio.Metadata(), grpc.aio.Metadata()
                    for after in self._after:
                        after(header, trailer)
                reply = self._encode(response)
                if type(reply) is not reply_type:
                    raise TypeError(
                        f"the encoder returned {type(reply).__name__}, not {reply_type.__name__}"
                    )
                data = reply.SerializeToString()
                if self._after:
                    if header:
                        await rpc.send_initial_metadata(_checked(header))
                    if trailer:
                        rpc.set_trailing_metadata(_checked(trailer))
                return data
            except Exception as error:  # never BaseException: cancellation passes through
                failure = error
                code = self._fail(error, rpc)
                return b""
        except asyncio.CancelledError as cancelled:
            failure = cancelled
            code = grpc.StatusCode.CANCELLED
            if rpc.time_remaining() == 0:
                code = grpc.StatusCode.DEADLINE_EXCEEDED
            raise
        finally:
            if self._finalizers:
                self._finalize(code, failure)

    def _fail(self, error: Exception, rpc: _Call) -> grpc.StatusCode:
        """Report *error* with the request id set and answer with its status; never raises."""
        rid = _request_id(rpc)
        context.request_id.set(rid)
        self._report(error)
        try:
            status = self._error_encoder(error, rid)
            if not isinstance(status, Status):
                raise TypeError(f"the error encoder returned {type(status).__name__}")
            if not isinstance(status.code, grpc.StatusCode) or status.code is _OK:
                raise ValueError(f"the error encoder returned code {status.code!r}")
            if not isinstance(status.details, str):
                raise TypeError(f"the error encoder returned {type(status.details).__name__}")
            code, details, trailers = status.code, status.details, _checked(status.trailers)
        except Exception as encoder_error:
            self._report(encoder_error)
            code = grpc.StatusCode.INTERNAL
            details = f"internal error; request id {rid}"
            trailers = (("x-request-id", rid),)
        rpc.set_code(code)
        rpc.set_details(details)
        rpc.set_trailing_metadata(trailers)
        return code

    def _report(self, error: Exception) -> None:
        with contextlib.suppress(Exception):  # a handler must not raise; if one does, go on
            self._error_handler.handle(error)

    def _finalize(self, code: grpc.StatusCode, failure: BaseException | None) -> None:
        for finalize in self._finalizers:
            try:
                finalize(code, failure)
            except Exception as error:
                self._report(error)

    def __repr__(self) -> str:
        return f"Server({self._endpoint!r})"


def _request_id(rpc: _Call) -> str:
    """The client's ``x-request-id`` if it is a sane token (as for HTTP), else a fresh id."""
    for key, value in rpc.invocation_metadata() or ():
        if key == "x-request-id":
            if isinstance(value, str) and _REQUEST_ID.fullmatch(value):
                return value
            break
    return os.urandom(8).hex()
