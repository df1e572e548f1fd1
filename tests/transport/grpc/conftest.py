"""Fixtures of the gRPC transport tests: `backend` runs a test on grpc.aio and on grpclib."""

from tests.transport.grpc.harness import backend

__all__ = ["backend"]
