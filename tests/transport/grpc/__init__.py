"""Tests of pygokit.transport.grpc against real grpc.aio servers on 127.0.0.1."""
