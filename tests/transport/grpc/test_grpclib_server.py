"""GrpclibServer: what only the grpclib backend does (framing checks, binding, stopping).

The behaviour both backends share is tested on each by the ``backend`` fixture
in the other modules; these tests cover what grpclib leaves to pygokit.
"""

from __future__ import annotations

import asyncio
import socket

import grpc
import grpclib.client
import grpclib.const
import grpclib.exceptions
import pytest

from pygokit.testing import RecordingEndpoint
from pygokit.transport.grpc import GrpclibServer, Server
from tests.transport.grpc.harness import (
    ECHO,
    channel,
    decode_say,
    encode_text,
    raw_call,
    running,
    say_bytes,
    upper,
)
from tests.transport.grpc.pb.grpctest_pb2 import SayReply, SayRequest

Code = grpc.StatusCode
SAY = "/pygokit.grpctest.Echo/Say"
Unary = grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]


async def send_raw(port: int, sent: bytes) -> None:
    """Open a Say stream with grpclib's client, send *sent* as raw bytes, end it, read."""
    async with grpclib.client.Channel("127.0.0.1", port) as opened:
        request = opened.request(SAY, grpclib.const.Cardinality.STREAM_UNARY, SayRequest, SayReply)
        async with request as stream:
            await stream.send_request(end=not sent)
            if sent:  # below the client's API, which sends only whole messages
                await stream._stream.send_data(sent, end_stream=True)
            await stream.recv_message()


async def test_a_compressed_request_is_unimplemented() -> None:
    """The grpclib backend reads no compressed messages and says so; the server stays up."""
    endpoint = RecordingEndpoint[str, str](then="ok")
    async with (
        running({"Say": Server(endpoint, decode_say, encode_text)}, backend="grpclib") as port,
        channel(port) as opened,
    ):
        say: Unary = opened.unary_unary(SAY)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await say(say_bytes("x" * 64), compression=grpc.Compression.Gzip, timeout=10)
        plain = await raw_call(port, say_bytes())

    assert raised.value.code() == Code.UNIMPLEMENTED
    assert raised.value.details() == "compressed messages are not supported"
    assert (plain.code, endpoint.calls) == (Code.OK, 1)


@pytest.mark.parametrize(
    "sent", [b"", b"\x00\x00\x00", b"\x00\x00\x00\x00\x10abc"], ids=["none", "prefix", "body"]
)
async def test_a_request_without_a_whole_message_is_invalid_argument(sent: bytes) -> None:
    """A stream that ends before one whole message is refused; the endpoint never runs."""
    endpoint = RecordingEndpoint[str, str](then="never")
    handlers = {"Say": Server(endpoint, decode_say, encode_text)}
    async with running(handlers, backend="grpclib") as port:
        with pytest.raises(grpclib.exceptions.GRPCError) as raised:
            await send_raw(port, sent)

    assert raised.value.status == grpclib.const.Status.INVALID_ARGUMENT
    assert raised.value.message == "the request has no complete message"
    assert endpoint.calls == 0


async def test_new_rpcs_on_open_connections_are_unavailable_while_stopping() -> None:
    """T7: during the grace period a call on a connection opened before gets UNAVAILABLE."""
    gate = asyncio.Event()
    endpoint = RecordingEndpoint[str, str](then="finished", gate=gate)
    server = GrpclibServer({ECHO: {"Say": Server(endpoint, decode_say, encode_text)}})
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with channel(port) as opened:
        say: Unary = opened.unary_unary(SAY)
        in_flight = asyncio.ensure_future(say(say_bytes(), timeout=10))
        await endpoint.wait_for_calls(1)
        stopping = asyncio.create_task(server.stop(30))
        await asyncio.sleep(0)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await say(say_bytes(), timeout=10)
        gate.set()
        assert SayReply.FromString(await in_flight).text == "finished"
        async with asyncio.timeout(10):
            await stopping

    assert raised.value.code() == Code.UNAVAILABLE
    assert raised.value.details() == "the server is stopping"
    assert await server.wait_for_termination(timeout=0) is False


async def test_a_server_never_started_frees_its_port_on_stop() -> None:
    """A port bound but never served is released by stop; wait_for_termination times out before."""
    server = GrpclibServer()
    port = server.add_insecure_port("127.0.0.1:0")
    assert await server.wait_for_termination(timeout=0.01) is True
    await server.stop(None)

    again = socket.create_server(("127.0.0.1", port))
    again.close()


async def test_a_taken_port_cannot_be_shared() -> None:
    """SO_REUSEPORT is off: binding the port another server holds raises OSError."""
    async with running({}, backend="grpclib") as port:
        with pytest.raises(OSError, match="in use"):
            GrpclibServer().add_insecure_port(f"127.0.0.1:{port}")


async def test_an_ipv6_address_is_served() -> None:
    """``[::1]:0`` binds IPv6 loopback, as grpc.aio's address syntax has it."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    server = GrpclibServer({ECHO: {"Say": Server(upper, decode_say, encode_text)}})
    port = server.add_insecure_port("[::1]:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"[::1]:{port}") as opened:
            say: Unary = opened.unary_unary(SAY)
            reply = await say(say_bytes("six"), timeout=10)
    finally:
        await server.stop(None)

    assert SayReply.FromString(reply).text == "SIX"


def test_bad_limits_and_methods_are_refused_at_construction() -> None:
    """The grpclib backend checks limits and method names as new_server does."""
    handler = Server(upper, decode_say, encode_text)
    with pytest.raises(ValueError, match="max_message_bytes"):
        GrpclibServer(max_message_bytes=0)
    with pytest.raises(ValueError, match="max_concurrent_rpcs"):
        GrpclibServer(max_concurrent_rpcs=0)
    with pytest.raises(ValueError, match="Listen streams"):
        GrpclibServer({ECHO: {"Listen": handler}})
    assert repr(GrpclibServer({ECHO: {"Say": handler}})) == f"GrpclibServer(['{SAY}'])"
