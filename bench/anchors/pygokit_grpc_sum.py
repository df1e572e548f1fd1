"""The Sum RPC on pygokit's gRPC transport, bare and behind a production endpoint chain.

* ``bare``: ``Server(sum_endpoint, decode_sum_request, encode_sum_reply)``
  registered for ``pb.Add/Sum`` and run by `pygokit.transport.grpc.serve`, the
  counterpart of Go kit's ``grpctransport.NewServer(e, dec, enc)`` in addsvc.
* ``chain``: the same around the endpoint inside the production chain of the HTTP
  benchmark (`bench.anchors.pygokit_sum`): logging to a discarding writer,
  prometheus_client counter and histogram, an erroring rate limiter far above the
  load, and a circuit breaker.
* ``bare-uvloop``: ``bare`` on uvloop; run with ``GRPC_EXPERIMENTS`` turning off
  gRPC's EventEngine I/O, it is the deployment tuning the benchmark measures.
* ``grpclib`` and ``grpclib-chain``: ``bare`` and ``chain`` served by grpclib
  (``serve(..., backend="grpclib")``) instead of grpc.aio; the other variants
  name grpc.aio explicitly, so they measure it whatever `serve`'s default is.

The endpoint and its chain are the HTTP benchmark's own, so the two benchmarks
differ only in the transport.

``python -m bench.anchors.pygokit_grpc_sum bare PORT``
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import uvloop

from bench.anchors.grpc_sum import HOST, SERVICE, main, pb
from bench.anchors.pygokit_sum import SumRequest, production_chain, sum_endpoint
from pygokit.endpoint import Endpoint
from pygokit.transport.grpc import Backend, Server, serve

__all__ = ["decode_sum_request", "encode_sum_reply", "serve_sum"]


def decode_sum_request(message: pb.SumRequest) -> SumRequest:
    """The endpoint's request from the message."""
    return SumRequest(a=message.a, b=message.b)


def encode_sum_reply(response: dict[str, int]) -> pb.SumReply:
    """The reply message from the endpoint's response."""
    return pb.SumReply(v=response["v"])


def serve_sum(
    endpoint: Endpoint[SumRequest, dict[str, int]],
    port: int,
    run: Callable[[Coroutine[Any, Any, None]], None] = asyncio.run,
    backend: Backend = "aio",
) -> None:
    """Serve *endpoint* as ``Sum`` on ``HOST:port`` by *backend* until SIGTERM, in *run*'s loop."""
    server = Server(endpoint, decode_sum_request, encode_sum_reply)
    run(serve({SERVICE: {"Sum": server}}, host=HOST, port=port, grace=1.0, backend=backend))


if __name__ == "__main__":
    main(
        {
            "bare": lambda port: serve_sum(sum_endpoint, port),
            "chain": lambda port: serve_sum(production_chain(), port),
            "bare-uvloop": lambda port: serve_sum(sum_endpoint, port, uvloop.run),
            "grpclib": lambda port: serve_sum(sum_endpoint, port, backend="grpclib"),
            "grpclib-chain": lambda port: serve_sum(production_chain(), port, backend="grpclib"),
        }
    )
