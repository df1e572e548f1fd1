"""The gRPC client side: one remote unary method as an endpoint (Go kit's ``grpc.Client``).

A `Client` *is* an endpoint, ``await client(request)``, so endpoint middleware
(retry, breaker, limiter, logging, tracing) wraps it like a local one. A call
encodes the request into a message, runs the ``before`` hooks on the outgoing
metadata, invokes ``/<service>/<method>`` on the caller's channel, runs the
``after`` hooks on the response headers and trailers, and decodes the reply
message; finalizers then always run. As in Go kit, it needs no generated stubs:
the service and method names and the reply type are enough.

A status other than OK raises an `RPCError` carrying the code, the details and
the metadata; ``UNAVAILABLE`` is also a ``ConnectionError`` (`RPCUnavailable`)
and ``DEADLINE_EXCEEDED`` a ``TimeoutError`` (`RPCDeadlineExceeded`), so
``should_retry=lambda n, e: isinstance(e, ConnectionError)`` and timeout
handling work unchanged. Cancelling the caller cancels the RPC; the
``CancelledError`` is never wrapped.

**Deadlines.** The RPC's deadline is what is left of `context.deadline` (set by a
`Server` for the request it serves, or by `context.rpc_timeout`), capped by the
client's own ``timeout``; a deadline that has already passed fails the call with
`RPCDeadlineExceeded` before anything is sent. The caller owns the channel
(``grpc.aio.insecure_channel(...)``), its connection and its options (the
largest reply it takes, ``grpc.max_receive_message_length``, 4 MiB by default).

Example::

    async with grpc.aio.insecure_channel("127.0.0.1:8082") as channel:
        sum_ = Client(channel, "pb.Add", "Sum", encode_sum_request, decode_sum_reply, SumReply)
        async with rpc_timeout(1.0):
            v = await sum_(SumRequest(a=1, b=2))
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pygokit._extras import missing_extra

try:
    import grpc
    from google.protobuf.message import DecodeError, Message
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.transport.grpc.client", "grpc") from exc

from pygokit.errors import GoKitError
from pygokit.transport.grpc import context
from pygokit.transport.grpc.codec import EncodeRequest, Finalizer
from pygokit.transport.grpc.metadata import Pairs, RequestHook, ResponseHook, _checked

__all__ = ["Client", "InvalidReply", "RPCDeadlineExceeded", "RPCError", "RPCUnavailable"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")
M = TypeVar("M", bound=Message)

_OK = grpc.StatusCode.OK


class RPCError(GoKitError):
    """A remote call ended with a status other than OK.

    Attributes:
        method: The full method called, such as ``"/pb.Add/Sum"``.
        code: The ``grpc.StatusCode``.
        details: The status details the server sent (or gRPC wrote).
        initial_metadata: The response headers (empty if none arrived).
        trailing_metadata: The response trailers, such as ``x-request-id``.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        code: grpc.StatusCode,
        details: str,
        initial_metadata: grpc.aio.Metadata | None = None,
        trailing_metadata: grpc.aio.Metadata | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.code = code
        self.details = details
        self.initial_metadata = initial_metadata or grpc.aio.Metadata()
        self.trailing_metadata = trailing_metadata or grpc.aio.Metadata()


class RPCUnavailable(RPCError, ConnectionError):
    """``UNAVAILABLE``: no connection, or the server is going away; often worth a retry."""


class RPCDeadlineExceeded(RPCError, TimeoutError):
    """``DEADLINE_EXCEEDED``: the deadline passed before the reply came, or before the call."""


class InvalidReply(GoKitError):
    """The reply bytes are not a valid message of the client's reply type."""


_ERRORS: dict[grpc.StatusCode, type[RPCError]] = {
    grpc.StatusCode.UNAVAILABLE: RPCUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: RPCDeadlineExceeded,
}


def _rpc_error(method: str, error: grpc.aio.AioRpcError) -> RPCError:
    code = error.code()
    details = error.details() or ""
    return _ERRORS.get(code, RPCError)(
        f"{method} failed with {code.name}: {details}",
        method=method,
        code=code,
        details=details,
        initial_metadata=error.initial_metadata(),
        trailing_metadata=error.trailing_metadata(),
    )


class Client(Generic[Req, Resp]):
    """Call one remote unary method; the client is an endpoint.

    Args:
        channel: The caller's ``grpc.aio.Channel``; share one per target.
        service: The full service name, such as ``"pb.Add"``.
        method: The method name, such as ``"Sum"``.
        encode: Turns the endpoint's request into the request message.
        decode: Turns the reply message into the endpoint's response.
        reply_type: The reply message class, such as ``addsvc_pb2.SumReply``.
        before: Hooks run in order on the outgoing metadata (Go kit's
            ``ClientBefore``), such as `set_request_header`; the pairs are
            checked before they are sent.
        after: Hooks run in order on the response headers and trailers, before
            decoding (``ClientAfter``).
        finalizers: Hooks run last, always, with the code and the error if any
            (``ClientFinalizer``).
        timeout: The longest any call may take, in seconds; a shorter
            `context.deadline` wins. None: only that deadline, if any.
        wait_for_ready: True to wait (up to the deadline) for the channel to
            connect instead of failing at once with ``UNAVAILABLE``.
    """

    __slots__ = (
        "_after",
        "_before",
        "_decode",
        "_encode",
        "_finalizers",
        "_parse",
        "_reply_type",
        "_rpc",
        "_timeout",
        "_wait_for_ready",
        "method",
    )

    def __init__(
        self,
        channel: grpc.aio.Channel,
        service: str,
        method: str,
        encode: EncodeRequest[Req],
        decode: Callable[[M], Resp],
        reply_type: type[M],
        *,
        before: Sequence[RequestHook] = (),
        after: Sequence[ResponseHook] = (),
        finalizers: Sequence[Finalizer] = (),
        timeout: float | None = None,
        wait_for_ready: bool | None = None,
    ) -> None:
        for what, name in (("service", service), ("method", method)):
            if not name or "/" in name:
                raise ValueError(f"{what} must be a non-empty name without '/', got {name!r}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be > 0 or None, got {timeout}")
        self.method = f"/{service}/{method}"
        self._rpc: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(self.method)
        self._encode = encode
        self._decode: Callable[[Any], Resp] = decode
        self._reply_type = reply_type
        self._parse = reply_type.FromString
        self._before = tuple(before)
        self._after = tuple(after)
        self._finalizers = tuple(finalizers)
        self._timeout = timeout
        self._wait_for_ready = wait_for_ready

    async def __call__(self, request: Req) -> Resp:
        """Call the remote method with *request* and return the decoded reply."""
        if not self._finalizers:
            return await self._call(request)
        code = _OK
        failure: BaseException | None = None
        try:
            return await self._call(request)
        except asyncio.CancelledError as cancelled:
            code, failure = grpc.StatusCode.CANCELLED, cancelled
            raise
        except Exception as error:
            code = error.code if isinstance(error, RPCError) else grpc.StatusCode.INTERNAL
            failure = error
            raise
        finally:
            for finalize in self._finalizers:
                finalize(code, failure)

    async def _call(self, request: Req) -> Resp:
        message = self._encode(request)
        if not isinstance(message, Message):
            raise TypeError(f"the encoder returned {type(message).__name__}, not a message")
        metadata: Pairs | None = None
        if self._before:
            outgoing = grpc.aio.Metadata()
            for before in self._before:
                before(outgoing)
            metadata = _checked(outgoing)
        call = self._rpc(
            message.SerializeToString(),
            timeout=self._timeout_now(),
            metadata=metadata,
            wait_for_ready=self._wait_for_ready,
        )
        try:
            raw = await call
        except grpc.aio.AioRpcError as error:
            raise _rpc_error(self.method, error) from error
        if self._after:
            header = await call.initial_metadata()
            trailer = await call.trailing_metadata()
            for after in self._after:
                after(header, trailer)
        try:
            reply = self._parse(raw)
        except DecodeError:
            name = self._reply_type.DESCRIPTOR.full_name
            raise InvalidReply(f"{self.method} replied with bytes that are not a {name}") from None
        return self._decode(reply)

    def _timeout_now(self) -> float | None:
        """The RPC's timeout: what is left of `context.deadline`, capped by ``timeout``."""
        remaining = context.time_remaining()
        if remaining is None:
            return self._timeout
        if remaining <= 0:
            raise RPCDeadlineExceeded(
                f"{self.method} not called: the deadline has passed",
                method=self.method,
                code=grpc.StatusCode.DEADLINE_EXCEEDED,
                details="deadline exceeded before the call",
            )
        return remaining if self._timeout is None else min(remaining, self._timeout)

    def __repr__(self) -> str:
        return f"Client({self.method!r})"
