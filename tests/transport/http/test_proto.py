"""Protocol Buffers over HTTP: server decoder and encoder, client encoder and decoder."""

from __future__ import annotations

import aiohttp
import pytest
from google.protobuf.wrappers_pb2 import Int64Value, StringValue

from pygokit.transport.http import Response, Server
from pygokit.transport.http.client import Client, ClientRequest
from pygokit.transport.http.client_codec import InvalidResponse
from pygokit.transport.http.proto import (
    PROTO_CONTENT_TYPE,
    ProtoResponse,
    encode_proto_request,
    proto_decoder,
    proto_encoder,
    proto_response_decoder,
)
from tests.transport.http.client_server import running_uvicorn
from tests.transport.http.server_harness import call

PROTO = ((b"content-type", PROTO_CONTENT_TYPE.encode()),)


async def double(request: Int64Value) -> Int64Value:
    """Answer twice the value."""
    return Int64Value(value=request.value * 2)


async def test_server_decodes_and_encodes_messages() -> None:
    """A protobuf body is decoded into the message type and the reply encoded likewise."""
    app = Server(double, proto_decoder(Int64Value), proto_encoder())

    reply = await call(app, Int64Value(value=21).SerializeToString(), headers=PROTO)

    assert reply.status == 200
    assert reply.header("content-type") == PROTO_CONTENT_TYPE
    assert Int64Value.FromString(reply.body).value == 42


async def test_server_refuses_bad_bodies_and_other_media_types() -> None:
    """Garbage is a 400 naming the type; a JSON request is a 415."""
    app = Server(double, proto_decoder(Int64Value), proto_encoder())

    garbage = await call(app, b"\xff\xff\xff", headers=PROTO)
    json = await call(app, b"{}", headers=((b"content-type", b"application/json"),))

    assert garbage.status == 400
    assert b"not a valid Int64Value" in garbage.body
    assert json.status == 415


async def test_proto_response_carries_status_and_headers_and_204_has_no_body() -> None:
    """A ProtoResponse sets the status and headers; 204 sends no body; None sends none."""
    encode = proto_encoder()

    created = await encode(ProtoResponse(StringValue(value="x"), 201, {"Location": "/x/1"}))
    empty = await encode(ProtoResponse(StringValue(value="x"), 204))
    nothing = await encode(None)

    assert (created.status, created.headers["location"]) == (201, "/x/1")
    assert StringValue.FromString(created.body).value == "x"
    assert (empty.status, empty.body) == (204, b"")
    assert (nothing.status, nothing.body) == (200, b"")


async def garbage(response: object) -> Response:
    """An encoder that answers bytes no message can be parsed from."""
    return Response(b"\xff\xff\xff", headers={"content-type": PROTO_CONTENT_TYPE})


async def test_client_and_server_round_trip_over_real_http() -> None:
    """The client encodes a message, the server doubles it, the client decodes the reply."""
    app = Server(double, proto_decoder(Int64Value), proto_encoder())
    broken = Server(double, proto_decoder(Int64Value), garbage)
    decode = proto_response_decoder(Int64Value)
    async with (
        running_uvicorn(app) as url,
        running_uvicorn(broken) as broken_url,
        aiohttp.ClientSession() as session,
    ):
        reply = await Client("POST", url, encode_proto_request, decode, session=session)(
            Int64Value(value=5)
        )
        garbled = Client("POST", broken_url, encode_proto_request, decode, session=session)
        with pytest.raises(InvalidResponse, match="not a valid Int64Value"):
            await garbled(Int64Value(value=5))
    assert reply.value == 10


def test_client_encoder_refuses_non_messages() -> None:
    """encode_proto_request raises TypeError for anything but a protobuf message."""
    with pytest.raises(TypeError, match="needs a protobuf message"):
        encode_proto_request({"value": 1}, ClientRequest("POST", "http://x/"))
    request = ClientRequest("POST", "http://x/")
    encode_proto_request(StringValue(value="hi"), request)
    assert request.headers["Content-Type"] == PROTO_CONTENT_TYPE
