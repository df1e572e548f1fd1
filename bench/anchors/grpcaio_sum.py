"""The Sum RPC on raw grpc.aio: a hand-written servicer, the baseline of the gRPC benchmark.

What a user of grpcio writes without pygokit: a servicer class whose ``async def
Sum`` builds the reply, registered the way grpcio's generated
``add_AddServicer_to_server`` does it (a generic handler plus the registered
method handlers of grpcio >= 1.62), on ``grpc.aio.server()`` with default options.

* ``aio``: on the default asyncio event loop.
* ``aio-uvloop``: the same on uvloop (grpc.aio keeps its own poller thread either way).

``python -m bench.anchors.grpcaio_sum aio PORT``
"""

from __future__ import annotations

import asyncio

import grpc
import uvloop

from bench.anchors.grpc_sum import HOST, SERVICE, main, pb

__all__ = ["AddServicer", "add_to_server", "serve"]


class AddServicer:
    """The Sum method, as a user writes it."""

    async def Sum(
        self, request: pb.SumRequest, context: grpc.aio.ServicerContext[pb.SumRequest, pb.SumReply]
    ) -> pb.SumReply:
        """Add the operands."""
        return pb.SumReply(v=request.a + request.b)


def add_to_server(servicer: AddServicer, server: grpc.aio.Server) -> None:
    """Register *servicer* on *server*, as grpcio's generated ``add_*_to_server`` does."""
    handlers = {
        "Sum": grpc.unary_unary_rpc_method_handler(
            servicer.Sum,
            request_deserializer=pb.SumRequest.FromString,
            response_serializer=pb.SumReply.SerializeToString,
        )
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE.full_name, handlers),)
    )
    server.add_registered_method_handlers(SERVICE.full_name, handlers)


async def serve(port: int) -> None:
    """Serve the hand-written servicer on ``HOST:port`` until terminated."""
    server = grpc.aio.server()
    add_to_server(AddServicer(), server)
    server.add_insecure_port(f"{HOST}:{port}")
    await server.start()
    await server.wait_for_termination()


if __name__ == "__main__":
    main(
        {
            "aio": lambda port: asyncio.run(serve(port)),
            "aio-uvloop": lambda port: uvloop.run(serve(port)),
        }
    )
