"""addsvc over gRPC: the service ``pb.Add`` of Go kit's ``addsvc.proto``, methods Sum and Concat.

Go kit's ``pkg/addtransport/grpc.go``, on the same ``.proto`` (`examples.addsvc.pb`),
so Go kit's client and server and these interoperate message for message. A
business error travels in the reply's ``err`` field, as Go kit sends it
(``SumReply{err: "can't sum two zeroes"}``, status OK); a client turns a
non-empty ``err`` back into the business error (Go kit's ``str2err``).

Other errors are statuses: a refusal by the limiter or breaker is ``UNKNOWN``
with its text, which is what a Go kit server answers for any endpoint error;
anything else is pygokit's ``INTERNAL`` with a request id and nothing more
(Go kit would send the error's own text).

Needs the ``grpc`` extra (grpcio, protobuf).
"""

from __future__ import annotations

import time

import grpc

from examples.addsvc.endpoints import (
    ConcatRequest,
    ConcatResponse,
    Set,
    SumRequest,
    SumResponse,
    make_client_set,
)
from examples.addsvc.pb import addsvc_pb2
from examples.addsvc.service import error_from_message
from pygokit.circuitbreaker import CircuitOpen
from pygokit.clock import Clock
from pygokit.log import Logger
from pygokit.ratelimit import Allower, RateLimited
from pygokit.transport import LogErrorHandler
from pygokit.transport.grpc import Client, Server, Services, Status, default_error_encoder

__all__ = [
    "ADD",
    "decode_concat_reply",
    "decode_concat_request",
    "decode_sum_reply",
    "decode_sum_request",
    "encode_concat_reply",
    "encode_concat_request",
    "encode_error",
    "encode_sum_reply",
    "encode_sum_request",
    "make_grpc_client_set",
    "make_grpc_services",
]

ADD = addsvc_pb2.DESCRIPTOR.services_by_name["Add"]
"""The ``pb.Add`` service descriptor from ``addsvc.proto``."""


def make_grpc_services(endpoints: Set, logger: Logger) -> Services:
    """Serve *endpoints* as ``pb.Add``'s Sum and Concat (Go kit's ``NewGRPCServer``).

    Pass the result to `pygokit.transport.grpc.serve`. Errors go to *logger*.
    """
    handler = LogErrorHandler(logger)
    return {
        ADD: {
            "Sum": Server(
                endpoints.sum_endpoint,
                decode_sum_request,
                encode_sum_reply,
                error_encoder=encode_error,
                error_handler=handler,
            ),
            "Concat": Server(
                endpoints.concat_endpoint,
                decode_concat_request,
                encode_concat_reply,
                error_encoder=encode_error,
                error_handler=handler,
            ),
        }
    }


def decode_sum_request(message: addsvc_pb2.SumRequest) -> SumRequest:
    """``pb.SumRequest`` to `SumRequest`."""
    return SumRequest(message.a, message.b)


def decode_concat_request(message: addsvc_pb2.ConcatRequest) -> ConcatRequest:
    """``pb.ConcatRequest`` to `ConcatRequest`."""
    return ConcatRequest(message.a, message.b)


def encode_sum_reply(response: SumResponse) -> addsvc_pb2.SumReply:
    """`SumResponse` to ``pb.SumReply``, the business error's text in ``err``."""
    return addsvc_pb2.SumReply(v=response.v, err=_err2str(response))


def encode_concat_reply(response: ConcatResponse) -> addsvc_pb2.ConcatReply:
    """`ConcatResponse` to ``pb.ConcatReply``, the business error's text in ``err``."""
    return addsvc_pb2.ConcatReply(v=response.v, err=_err2str(response))


def _err2str(response: SumResponse | ConcatResponse) -> str:
    return "" if response.err is None else str(response.err)


def encode_error(error: Exception, request_id: str) -> Status:
    """Go kit's status for a refusal by the limiter or breaker, else pygokit's safe default."""
    if isinstance(error, RateLimited | CircuitOpen):
        return Status(grpc.StatusCode.UNKNOWN, str(error), (("x-request-id", request_id),))
    return default_error_encoder(error, request_id)


def encode_sum_request(request: SumRequest) -> addsvc_pb2.SumRequest:
    """`SumRequest` to ``pb.SumRequest``."""
    return addsvc_pb2.SumRequest(a=request.a, b=request.b)


def encode_concat_request(request: ConcatRequest) -> addsvc_pb2.ConcatRequest:
    """`ConcatRequest` to ``pb.ConcatRequest``."""
    return addsvc_pb2.ConcatRequest(a=request.a, b=request.b)


def decode_sum_reply(reply: addsvc_pb2.SumReply) -> SumResponse:
    """``pb.SumReply`` to `SumResponse`; a non-empty ``err`` is the business error."""
    return SumResponse(v=reply.v, err=error_from_message(reply.err) if reply.err else None)


def decode_concat_reply(reply: addsvc_pb2.ConcatReply) -> ConcatResponse:
    """``pb.ConcatReply`` to `ConcatResponse`; a non-empty ``err`` is the business error."""
    return ConcatResponse(v=reply.v, err=error_from_message(reply.err) if reply.err else None)


def make_grpc_client_set(
    channel: grpc.aio.Channel,
    *,
    limiter: Allower | None = None,
    clock: Clock = time.monotonic,
) -> Set:
    """The addsvc behind *channel* as a `Set` (Go kit's ``NewGRPCClient``).

    Both methods share *limiter* (default: 1 call per second, bursts of 100);
    each has its own breaker (open for 30 s for sum, 10 s for concat). The
    caller owns the channel and closes it.
    """
    sum_client = Client(
        channel, "pb.Add", "Sum", encode_sum_request, decode_sum_reply, addsvc_pb2.SumReply
    )
    concat_client = Client(
        channel,
        "pb.Add",
        "Concat",
        encode_concat_request,
        decode_concat_reply,
        addsvc_pb2.ConcatReply,
    )
    return make_client_set(sum_client, concat_client, limiter=limiter, clock=clock)
