"""Serving pygokit's gRPC `Server` handlers with grpclib instead of grpc.aio.

grpclib speaks the same wire protocol as grpcio in pure Python on the event
loop's own thread (HTTP/2 by ``h2``), without grpc.aio's hand-offs between
threads: measured on small messages, it serves ~1.5-1.9x the calls of
grpc.aio for ~0.6x the CPU, but on one thread (see "Choosing the server" in
docs/grpc.md). `GrpclibServer` serves the same services
(`Services`: handlers by method name by descriptor) through the same
`Server` objects, so hooks, codecs, finalizers and the error mapping are the
ones grpc.aio runs; only the HTTP/2 server differs::

    server = GrpclibServer({add: {"Sum": sum_server}}, max_concurrent_rpcs=1000)
    port = server.add_insecure_port("127.0.0.1:8082")
    await server.start()
    ...
    await server.stop(grace=10)

Its methods are the subset of ``grpc.aio.Server`` that `serve` uses, so
``serve(..., backend="grpclib")`` runs it the same way. grpclib has no limits of
its own; pygokit adds grpcio's:

* a request larger than ``max_message_bytes`` is answered ``RESOURCE_EXHAUSTED``
  from its 5-byte length prefix, before its body is read (HTTP/2 flow control
  then keeps the client from sending much of it); a reply larger than that
  fails the same way; the server keeps serving;
* with ``max_concurrent_rpcs``, an RPC beyond that many in flight is answered
  ``RESOURCE_EXHAUSTED`` at once ("Concurrent RPC limit exceeded!");
* `stop` closes the listening socket, answers new RPCs on open connections
  ``UNAVAILABLE``, gives the RPCs in flight *grace* seconds, then closes every
  connection (the client sees ``UNAVAILABLE``, the handler ``CancelledError``).

grpclib runs each RPC in its own task (so context variables never leak between
requests) and cancels it when the client resets the stream or the
``grpc-timeout`` deadline passes (the client gets ``DEADLINE_EXCEEDED``).
Compressed requests are answered ``UNIMPLEMENTED``. This module reads grpclib's
request stream below its public API (to check the length before the body
arrives) and wraps its protocol factory (to close connections on stop), hence
the upper bound on grpclib's version in the ``grpc`` extra.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Iterable
from typing import Any, cast

from pygokit._extras import missing_extra

try:
    import grpc
    import grpclib.const
    import grpclib.server
    from grpclib.encoding.base import CodecBase
    from grpclib.protocol import H2Protocol
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.transport.grpc.grpclib_server", "grpc") from exc

from pygokit.transport.grpc._corked import CorkedTransport
from pygokit.transport.grpc.metadata import Pairs
from pygokit.transport.grpc.service import (
    DEFAULT_MAX_MESSAGE_BYTES,
    Services,
    _check_limits,
    _unary_methods,
    _UnaryMethod,
)

__all__ = ["GrpclibServer"]

_Stream = grpclib.server.Stream[bytes, bytes]
_Status = grpclib.const.Status
_OK = grpc.StatusCode.OK

_CLOSE_WAIT = 1.0
"""Seconds that clients get to close their idle connections once a graceful stop is done."""


class GrpclibServer:
    """Serve pygokit `Server` handlers over grpclib, with grpcio's limits.

    Args:
        services: Handlers by method name by service descriptor, as for
            `pygokit.transport.grpc.service.new_server`; checked the same way.
        max_message_bytes: The largest request or reply, in bytes; larger ones
            get ``RESOURCE_EXHAUSTED``.
        max_concurrent_rpcs: RPCs beyond this many in flight get
            ``RESOURCE_EXHAUSTED`` at once; None for no limit.

    Raises:
        ValueError: A limit is not positive, or a handler names no unary method
            of its service.
    """

    def __init__(
        self,
        services: Services | None = None,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        max_concurrent_rpcs: int | None = None,
    ) -> None:
        _check_limits(max_message_bytes, max_concurrent_rpcs)
        self._max_message_bytes = max_message_bytes
        self._max_concurrent_rpcs = max_concurrent_rpcs
        self._mapping: dict[str, grpclib.const.Handler] = {}
        for service, handlers in (services or {}).items():
            for method in _unary_methods(service, handlers):
                self._mapping[method.full_name] = grpclib.const.Handler(
                    _Method(self, method),
                    grpclib.const.Cardinality.UNARY_UNARY,
                    method.request_type,
                    method.reply_type,
                )
        self._sockets: list[socket.socket] = []
        self._listeners: list[asyncio.Server] = []
        self._connections: set[_Connection] = set()
        self._disconnected = asyncio.Event()
        self._disconnected.set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self._stopped = asyncio.Event()

    def add_insecure_port(self, address: str) -> int:
        """Bind ``host:port`` (``[v6]:port`` for IPv6; port 0 picks one) and return the port.

        Raises:
            OSError: The address cannot be bound (the port is taken, say).
        """
        host, _, port = address.rpartition(":")
        family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
        sock = socket.create_server((host.strip("[]"), int(port)), family=family)
        self._sockets.append(sock)
        bound: int = sock.getsockname()[1]
        return bound

    async def start(self) -> None:
        """Accept connections on every bound port."""
        inner = grpclib.server.Server([_Mapping(self._mapping)], codec=_RawCodec())
        loop = asyncio.get_running_loop()

        def connect() -> H2Protocol:
            made = inner._protocol_factory()  # grpclib's, for its per-connection handler
            return _Connection(self, made.handler, made.config, made.h2_config)

        for sock in self._sockets:
            self._listeners.append(await loop.create_server(connect, sock=sock))

    async def stop(self, grace: float | None) -> None:
        """Stop: refuse new RPCs, let those in flight run *grace* seconds, then cut them.

        None or 0 cuts at once. A second call with a shorter grace cuts sooner.
        """
        self._stopping = True
        for listener in self._listeners:
            listener.close()
        if not self._listeners:  # bound but never started
            for sock in self._sockets:
                sock.close()
        if grace and await _within(grace, self._idle):
            # Done in time: end each connection after what was written, so no reply is
            # lost to a reset, and give the clients a moment to close their side.
            for connection in self._connections:
                connection.finish()
            await _within(_CLOSE_WAIT, self._disconnected)
        for connection in list(self._connections):
            connection.abort()
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        self._stopped.set()

    async def wait_for_termination(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until `stop` has finished; True if *timeout* seconds passed first."""
        return not await _within(timeout, self._stopped)

    def _connected(self, connection: _Connection) -> None:
        self._connections.add(connection)
        self._disconnected.clear()

    def _lost(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        if not self._connections:
            self._disconnected.set()

    async def _serve(self, method: _Method, stream: _Stream) -> None:
        """Answer one RPC: refuse it, or read its message and run the method's `Server`."""
        if self._stopping:
            await _refuse(stream, _Status.UNAVAILABLE, "the server is stopping")
            return
        limit = self._max_concurrent_rpcs
        if limit is not None and self._in_flight >= limit:
            await _refuse(stream, _Status.RESOURCE_EXHAUSTED, "Concurrent RPC limit exceeded!")
            return
        task = asyncio.current_task()
        assert task is not None  # grpclib runs every RPC in a task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._in_flight += 1
        self._idle.clear()
        try:
            await method.answer(stream, self._max_message_bytes)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    def __repr__(self) -> str:
        return f"GrpclibServer({sorted(self._mapping)})"


class _Connection(H2Protocol):
    """grpclib's HTTP/2 connection, known to its server so that `stop` can end it."""

    _transport: CorkedTransport

    def __init__(self, owner: GrpclibServer, *args: Any) -> None:
        super().__init__(*args)
        self._owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        # grpclib writes headers, message and trailers separately: one send per loop turn.
        self._transport = CorkedTransport(transport, asyncio.get_running_loop())
        super().connection_made(cast(asyncio.Transport, self._transport))
        # Without this, Nagle's algorithm holds a reply written after a read for the
        # client's delayed ACK (~40 ms a call). grpclib and asyncio set it only on
        # sockets made with IPPROTO_TCP, not on ours.
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._owner._connected(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        self._owner._lost(self)

    def finish(self) -> None:
        """Half-close: the client reads everything sent, then its end of file."""
        self._transport.write_eof()

    def abort(self) -> None:
        """Close now; streams still open end with the connection (``UNAVAILABLE``)."""
        self._transport.close()


class _Method:
    """grpclib's handler function for one method: the limits, then the pygokit `Server`."""

    __slots__ = ("_method", "_owner")

    def __init__(self, owner: GrpclibServer, method: _UnaryMethod) -> None:
        self._owner = owner
        self._method = method

    async def __call__(self, stream: _Stream) -> None:
        await self._owner._serve(self, stream)

    async def answer(self, stream: _Stream, max_bytes: int) -> None:
        """Read the request within *max_bytes*, serve it, send headers, reply and status."""
        raw = await _receive(stream, max_bytes)
        if raw is None:
            return
        call = _GrpclibCall(stream)
        method = self._method
        data = await method.server._handle(
            method.request_type, method.reply_type, method.full_name, raw, call
        )
        if call.code is _OK and len(data) > max_bytes:
            call.set_code(grpc.StatusCode.RESOURCE_EXHAUSTED)
            call.set_details(f"Sent message larger than max ({len(data)} vs. {max_bytes})")
        if call.header:
            await stream.send_initial_metadata(metadata=call.header)
        if call.code is _OK:
            await stream.send_message(data)
            await stream.send_trailing_metadata(metadata=call.trailer)
        else:
            await stream.send_trailing_metadata(
                status=_Status(call.code.value[0]),
                status_message=call.details,
                metadata=call.trailer,
            )


class _GrpclibCall:
    """The RPC as a `Server` sees it (grpc.aio's ``ServicerContext`` subset), over a stream."""

    __slots__ = ("_stream", "code", "details", "header", "trailer")

    def __init__(self, stream: _Stream) -> None:
        self._stream = stream
        self.code = _OK
        self.details = ""
        self.header: Pairs = ()
        self.trailer: Pairs = ()

    def time_remaining(self) -> float | None:
        deadline = self._stream.deadline
        return None if deadline is None else deadline.time_remaining()

    def invocation_metadata(self) -> Iterable[tuple[str, str | bytes]] | None:
        metadata = self._stream.metadata
        return None if metadata is None else metadata.items()

    async def send_initial_metadata(self, initial_metadata: Pairs, /) -> None:
        self.header = initial_metadata

    def set_trailing_metadata(self, trailing_metadata: Pairs, /) -> None:
        self.trailer = trailing_metadata

    def set_code(self, code: grpc.StatusCode, /) -> None:
        self.code = code

    def set_details(self, details: str, /) -> None:
        self.details = details


async def _receive(stream: _Stream, max_bytes: int) -> bytes | None:
    """The request message's bytes, or None once the RPC was answered with an error."""
    prefix = await _read(stream, 5)
    if len(prefix) < 5:
        await _refuse(stream, _Status.INVALID_ARGUMENT, "the request has no complete message")
        return None
    compressed, length = struct.unpack(">?I", prefix)
    if compressed:
        await _refuse(stream, _Status.UNIMPLEMENTED, "compressed messages are not supported")
        return None
    if length > max_bytes:
        await _refuse(
            stream,
            _Status.RESOURCE_EXHAUSTED,
            f"Received message larger than max ({length} vs. {max_bytes})",
        )
        return None
    message = await _read(stream, length)
    if len(message) < length:
        await _refuse(stream, _Status.INVALID_ARGUMENT, "the request has no complete message")
        return None
    return message


async def _read(stream: _Stream, size: int) -> bytes:
    """The next *size* bytes the client sent, or b"" if its stream ends before that many."""
    try:
        return await stream._stream.recv_data(size)  # below grpclib's API: no whole message
    except AssertionError:  # how grpclib's buffer says that the stream ended too soon
        return b""


async def _within(seconds: float | None, event: asyncio.Event) -> bool:
    """Wait up to *seconds* (None: no limit) for *event*; whether it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def _refuse(stream: _Stream, status: grpclib.const.Status, message: str) -> None:
    """Answer with an error status alone (grpclib then resets the stream)."""
    await stream.send_trailing_metadata(status=status, status_message=message)


class _Mapping:
    """What grpclib's server takes as a service: ``__mapping__`` of handlers by ``:path``."""

    __slots__ = ("_handlers",)

    def __init__(self, handlers: dict[str, grpclib.const.Handler]) -> None:
        self._handlers = handlers

    def __mapping__(self) -> dict[str, grpclib.const.Handler]:
        return self._handlers


class _RawCodec(CodecBase):
    """Messages pass as bytes: the `Server` parses and serializes them itself."""

    __content_subtype__ = "proto"

    def encode(self, message: Any, message_type: Any) -> bytes:
        data: bytes = message
        return data

    def decode(self, data: bytes, message_type: Any) -> Any:  # pragma: no cover - unused
        return data  # requests are read below grpclib's codec (see _read)
