"""Protocol Buffers over HTTP: Go kit's ``transport/http/proto``, both directions.

The server side decodes an ``application/x-protobuf`` request body into a message
(`proto_decoder`) and encodes a message as the response (`proto_encoder`); the
client side does the reverse (`encode_proto_request`, `proto_response_decoder`).
A body that is not a valid message is a 400 on the server and an error naming the
call on the client; a request with another Content-Type is a 415.

Where Go kit's ``EncodeProtoResponse`` checks the *writer* for ``Headerer`` (a bug),
`proto_encoder` reads ``status_code``/``headers`` from an optional wrapper,
`ProtoResponse`, since generated message classes cannot carry them.

Example::

    server = Server(endpoint, proto_decoder(SumRequest), proto_encoder())
    client = Client("POST", url, encode_proto_request, proto_response_decoder(SumReply),
                    session=session)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from pygokit._extras import missing_extra

try:
    from google.protobuf.message import DecodeError, Message
except ImportError as exc:  # pragma: no cover  # tests/test_extras.py checks this branch
    raise missing_extra("pygokit.transport.http.proto", "grpc") from exc

from pygokit.transport.http.codec import DecodeRequest, EncodeResponse
from pygokit.transport.http.request import BadRequest, Request, UnsupportedMediaType
from pygokit.transport.http.response import Response

if TYPE_CHECKING:
    from pygokit.transport.http.client import ClientRequest, ClientResponse, DecodeResponse

__all__ = [
    "PROTO_CONTENT_TYPE",
    "ProtoResponse",
    "encode_proto_request",
    "proto_decoder",
    "proto_encoder",
    "proto_response_decoder",
]

PROTO_CONTENT_TYPE = "application/x-protobuf"

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class ProtoResponse:
    """A message with the HTTP status and headers to send it with."""

    message: Message | None
    status_code: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def proto_decoder(message_type: type[M]) -> DecodeRequest[M]:
    """Build a server decoder that parses the request body as a *message_type*."""

    async def decode(request: Request) -> M:
        content_type = request.header(b"content-type")
        if (
            content_type is not None
            and content_type.split(b";")[0].strip() != b"application/x-protobuf"
        ):
            raise UnsupportedMediaType(content_type.decode("latin-1"), PROTO_CONTENT_TYPE)
        message = message_type()
        try:
            message.ParseFromString(await request.body())
        except DecodeError:
            raise BadRequest(f"request body is not a valid {message_type.__name__}") from None
        return message

    return decode


def proto_encoder() -> EncodeResponse[Message | ProtoResponse | None]:
    """Build a server encoder for a message, a `ProtoResponse`, or None (an empty 200).

    A 204 status sends no body, as Go kit's ``EncodeProtoResponse`` does.
    """

    async def encode(response: Message | ProtoResponse | None) -> Response:
        wrapped = response if isinstance(response, ProtoResponse) else ProtoResponse(response)
        status = wrapped.status_code
        body = b""
        if wrapped.message is not None and status != 204:
            body = wrapped.message.SerializeToString()
        encoded = Response(body, status=status, headers={"content-type": PROTO_CONTENT_TYPE})
        for name, value in wrapped.headers.items():
            encoded.headers.add(name, value)
        return encoded

    return encode


def encode_proto_request(request: object, http_request: ClientRequest) -> None:
    """Client encoder: *request*, a protobuf message, becomes the body.

    Raises:
        TypeError: *request* is not a protobuf message.
    """
    if not isinstance(request, Message):
        raise TypeError(f"encode_proto_request needs a protobuf message, got {type(request)}")
    http_request.set_header("Content-Type", PROTO_CONTENT_TYPE)
    http_request.body = request.SerializeToString()


def proto_response_decoder(message_type: type[M]) -> DecodeResponse[M]:
    """Build a client decoder that checks for 2xx and parses the body as *message_type*."""
    from pygokit.transport.http.client_codec import InvalidResponse, check_status

    async def decode(response: ClientResponse) -> M:
        await check_status(response)
        message = message_type()
        try:
            message.ParseFromString(await response.read())
        except DecodeError as exc:
            raise InvalidResponse(
                f"the response to {response.description} is not a valid {message_type.__name__}",
                path="",
                problem="not a valid message",
            ) from exc
        return message

    return decode
