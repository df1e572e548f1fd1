"""The Sum RPC on the other Python server paths the gRPC benchmark compares with grpc.aio.

Each serves the same method, messages and wire protocol as the grpc.aio baseline
(`bench.anchors.grpcaio_sum`), so the same load generator measures them all:

* ``sync-1``, ``sync-4``, ``sync-16``: grpcio's synchronous ``grpc.server`` with a
  ``ThreadPoolExecutor`` of that many workers and a plain ``def Sum``.
* ``bridge-4``: the same server with 4 workers, each handing the call to an
  ``async def Sum`` on one uvloop event loop in the main thread
  (``run_coroutine_threadsafe``) and waiting for it: how a synchronous server can
  serve asyncio endpoints that share one loop.
* ``grpclib``, ``grpclib-uvloop``: grpclib, a pure-asyncio gRPC server over the h2
  HTTP/2 library (no grpcio), on the default loop or on uvloop.

``python -m bench.anchors.grpc_alternatives sync-4 PORT``
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent import futures

import grpc
import uvloop
from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Server, Stream

from bench.anchors.grpc_sum import HOST, METHOD, SERVICE, Serve, main, pb

__all__ = ["SERVERS", "GrpclibAdd", "serve_bridge", "serve_grpclib", "serve_sync"]

_SyncHandler = Callable[[pb.SumRequest, grpc.ServicerContext], pb.SumReply]


def _sum(request: pb.SumRequest, context: grpc.ServicerContext) -> pb.SumReply:
    return pb.SumReply(v=request.a + request.b)


async def _async_sum(request: pb.SumRequest) -> pb.SumReply:
    return pb.SumReply(v=request.a + request.b)


def _started_sync_server(port: int, workers: int, handler: _SyncHandler) -> grpc.Server:
    handlers = {
        "Sum": grpc.unary_unary_rpc_method_handler(
            handler,
            request_deserializer=pb.SumRequest.FromString,
            response_serializer=pb.SumReply.SerializeToString,
        )
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE.full_name, handlers),)
    )
    server.add_registered_method_handlers(SERVICE.full_name, handlers)
    server.add_insecure_port(f"{HOST}:{port}")
    server.start()
    return server


def serve_sync(port: int, workers: int) -> None:
    """Serve on grpcio's synchronous server with *workers* threads until terminated."""
    _started_sync_server(port, workers, _sum).wait_for_termination()


def serve_bridge(port: int, workers: int) -> None:
    """Serve on the synchronous server, running the sum on one event loop, until terminated."""
    loop = uvloop.new_event_loop()

    def handle(request: pb.SumRequest, context: grpc.ServicerContext) -> pb.SumReply:
        return asyncio.run_coroutine_threadsafe(_async_sum(request), loop).result()

    server = _started_sync_server(port, workers, handle)
    try:
        loop.run_forever()
    finally:
        server.stop(None)


class GrpclibAdd:
    """The Sum method for grpclib, with the mapping its generated code would provide."""

    async def Sum(self, stream: Stream[pb.SumRequest, pb.SumReply]) -> None:
        """Add the operands."""
        request = await stream.recv_message()
        if request is None:
            raise GRPCError(Status.INVALID_ARGUMENT, "no request message")
        await stream.send_message(pb.SumReply(v=request.a + request.b))

    def __mapping__(self) -> dict[str, Handler]:
        """The methods this service serves, by full name."""
        return {METHOD: Handler(self.Sum, Cardinality.UNARY_UNARY, pb.SumRequest, pb.SumReply)}


async def serve_grpclib(port: int) -> None:
    """Serve on grpclib until terminated."""
    server = Server([GrpclibAdd()])
    await server.start(HOST, port)
    await server.wait_closed()


SERVERS: dict[str, Serve] = {
    "sync-1": lambda port: serve_sync(port, 1),
    "sync-4": lambda port: serve_sync(port, 4),
    "sync-16": lambda port: serve_sync(port, 16),
    "bridge-4": lambda port: serve_bridge(port, 4),
    "grpclib": lambda port: asyncio.run(serve_grpclib(port)),
    "grpclib-uvloop": lambda port: uvloop.run(serve_grpclib(port)),
}
"""The servers of this module, by the name the command line takes."""


if __name__ == "__main__":
    main(SERVERS)
