"""The unary Sum RPC of the gRPC benchmark: its messages, its names, and a command line.

Every gRPC server of `bench.grpc_unary` serves ``Sum`` of the addsvc example's
``examples/addsvc/pb/addsvc.proto``: ``SumRequest{a: 1, b: 2}`` in,
``SumReply{v: 3}`` out. The Python servers are modules with a table of servers
(a name -> a function that serves on a port until the process is terminated)
and this module's `main` as their command line::

    python -m bench.anchors.grpcaio_sum aio 50051
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

from examples.addsvc.pb import addsvc_pb2 as pb

__all__ = ["HOST", "METHOD", "REPLY", "REQUEST", "SERVICE", "Serve", "main", "pb"]

HOST = "127.0.0.1"
SERVICE = pb.DESCRIPTOR.services_by_name["Add"]
"""The service descriptor, ``pb.Add``."""
METHOD = f"/{SERVICE.full_name}/Sum"
REQUEST = pb.SumRequest(a=1, b=2).SerializeToString()
"""The request every load generator sends, serialized."""
REPLY = pb.SumReply(v=3).SerializeToString()
"""The reply every server must send, serialized."""

Serve = Callable[[int], None]
"""Serves the Sum RPC on ``HOST:port`` until the process is terminated."""


def main(servers: Mapping[str, Serve]) -> None:
    """Run ``servers[NAME]`` on ``PORT`` from the command line ``NAME PORT``."""
    if len(sys.argv) != 3 or sys.argv[1] not in servers or not sys.argv[2].isdigit():
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(servers)}}} PORT")
    servers[sys.argv[1]](int(sys.argv[2]))
