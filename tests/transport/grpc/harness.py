"""Real gRPC servers and channels on 127.0.0.1 for the gRPC transport tests.

`running` serves handlers as the ``pygokit.grpctest.Echo`` service on a port the
kernel picks (or a given one), on grpc.aio or grpclib, and stops the server on
the way out; the `backend` fixture runs a test once per server backend (the
clients are always grpcio's). `channel`
opens a channel to it; `raw_call` calls a method with raw bytes and no pygokit
client in between, so server tests see exactly what reached the wire. The codecs
here turn ``SayRequest``/``SayReply`` messages into plain strings and back.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from pygokit.transport.grpc import Backend, GrpclibServer, Server, new_server
from tests.transport.grpc.pb.grpctest_pb2 import DESCRIPTOR, SayReply, SayRequest

__all__ = [
    "BACKENDS",
    "ECHO",
    "FAST_RECONNECT",
    "Reply",
    "backend",
    "channel",
    "decode_say",
    "decode_shout",
    "encode_say",
    "encode_text",
    "raw_call",
    "running",
    "say_bytes",
    "upper",
]

BACKENDS: tuple[Backend, ...] = ("aio", "grpclib")
"""Every server backend; a test taking the `backend` fixture runs on each."""

ECHO = DESCRIPTOR.services_by_name["Echo"]
"""The test service: Say and Shout are unary (SayRequest -> SayReply), Listen streams."""

# Reconnect quickly, so the restart test need not wait out gRPC's 1 s backoff.
FAST_RECONNECT = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 200),
)


def decode_say(message: SayRequest) -> str:
    """A server decoder: the request's text."""
    return message.text


def encode_text(text: str) -> SayReply:
    """A server encoder: a reply with *text*."""
    return SayReply(text=text)


def encode_say(text: str) -> SayRequest:
    """A client encoder: a request with *text*."""
    return SayRequest(text=text)


def decode_shout(reply: SayReply) -> str:
    """A client decoder: the reply's text."""
    return reply.text


async def upper(text: str) -> str:
    """An endpoint: *text* in capitals."""
    return text.upper()


def say_bytes(text: str = "hi") -> bytes:
    """A serialized SayRequest."""
    return SayRequest(text=text).SerializeToString()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each server backend in turn."""
    chosen: Backend = request.param
    return chosen


@contextlib.asynccontextmanager
async def running(
    handlers: Mapping[str, Server[Any, Any]],
    *,
    backend: Backend = "aio",
    port: int = 0,
    **limits: Any,
) -> AsyncIterator[int]:
    """Serve *handlers* as the Echo service on 127.0.0.1 by *backend*; yield the bound port."""
    server: grpc.aio.Server | GrpclibServer
    if backend == "grpclib":
        server = GrpclibServer({ECHO: handlers}, **limits)
    else:
        server = new_server({ECHO: handlers}, **limits)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        yield bound
    finally:
        await server.stop(None)


@contextlib.asynccontextmanager
async def channel(port: int, *options: tuple[str, Any]) -> AsyncIterator[grpc.aio.Channel]:
    """A channel to 127.0.0.1:*port*, closed on the way out."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) as opened:
        yield opened


@dataclass(frozen=True)
class Reply:
    """What a raw call got back: the status, the reply bytes and both kinds of metadata."""

    code: grpc.StatusCode
    details: str
    body: bytes | None
    header: grpc.aio.Metadata
    trailer: grpc.aio.Metadata

    @property
    def text(self) -> str:
        """The reply's text, parsed as a SayReply."""
        assert self.body is not None
        return SayReply.FromString(self.body).text


async def raw_call(
    port: int,
    body: bytes,
    *,
    method: str = "/pygokit.grpctest.Echo/Say",
    metadata: Sequence[tuple[str, str | bytes]] = (),
    deadline: float | None = 10.0,
) -> Reply:
    """Call *method* on 127.0.0.1:*port* with raw bytes, on a fresh channel, within *deadline* s."""
    async with channel(port) as opened:
        rpc: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = opened.unary_unary(method)
        call = rpc(body, metadata=tuple(metadata), timeout=deadline)
        try:
            data: bytes = await call
        except grpc.aio.AioRpcError as error:
            return Reply(
                error.code(),
                error.details() or "",
                None,
                error.initial_metadata(),
                error.trailing_metadata(),
            )
        return Reply(
            grpc.StatusCode.OK,
            "",
            data,
            await call.initial_metadata(),
            await call.trailing_metadata(),
        )
