"""Package grpc provides a gRPC binding for endpoints, on grpcio's asyncio API.

This is Go kit's ``transport/grpc``, unary RPCs only (as in Go kit). A `Server`
binds one endpoint to one method: ``before`` hooks read the incoming metadata,
the request message is decoded, the endpoint runs, ``after`` hooks write
response headers and trailers, the reply is encoded, finalizers run last.
`register` serves a set of them as a service straight from the generated
``*_pb2`` module's descriptor, with no servicer class; `serve` runs them with a
graceful stop, on grpc.aio or (``backend="grpclib"``, `GrpclibServer`) on
grpclib. A `Client` turns a remote method back into an endpoint.

Beyond Go kit: errors become statuses safely (`default_error_encoder`: an
error's ``grpc_status`` or HTTP ``status_code`` picks the code, its message is
shown only if it declares ``expose = True``, anything unexpected is ``INTERNAL``
with a request id, never grpcio's ``"Unexpected <class ...>: <message>"``);
metadata is checked before it reaches the wire; and the deadline travels: a
server records the RPC's deadline in `context.deadline` and a client sends what
is left of it downstream.

Needs the ``grpc`` extra (grpcio, protobuf): ``pip install 'pygokit[grpc]'``.

Example::

    add = addsvc_pb2.DESCRIPTOR.services_by_name["Add"]
    sum_server = Server(sum_endpoint, decode_sum_request, encode_sum_reply)
    await serve({add: {"Sum": sum_server}}, port=8082)

    async with grpc.aio.insecure_channel("127.0.0.1:8082") as channel:
        sum_ = Client(channel, "pb.Add", "Sum", encode_sum_request, decode_sum_reply,
                      addsvc_pb2.SumReply)
        print(await sum_(SumRequest(a=1, b=2)))
"""

from pygokit._extras import missing_extra

try:
    import grpc as _grpc  # noqa: F401  # fail here, naming the extra, if grpcio is missing
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.transport.grpc", "grpc") from exc

from pygokit.transport.grpc import context as context
from pygokit.transport.grpc.client import Client as Client
from pygokit.transport.grpc.client import InvalidReply as InvalidReply
from pygokit.transport.grpc.client import RPCDeadlineExceeded as RPCDeadlineExceeded
from pygokit.transport.grpc.client import RPCError as RPCError
from pygokit.transport.grpc.client import RPCUnavailable as RPCUnavailable
from pygokit.transport.grpc.codec import DecodeRequest as DecodeRequest
from pygokit.transport.grpc.codec import DecodeResponse as DecodeResponse
from pygokit.transport.grpc.codec import EncodeRequest as EncodeRequest
from pygokit.transport.grpc.codec import EncodeResponse as EncodeResponse
from pygokit.transport.grpc.codec import ErrorEncoder as ErrorEncoder
from pygokit.transport.grpc.codec import Finalizer as Finalizer
from pygokit.transport.grpc.codec import GRPCStatuser as GRPCStatuser
from pygokit.transport.grpc.codec import Status as Status
from pygokit.transport.grpc.codec import StatusError as StatusError
from pygokit.transport.grpc.codec import code_for_http_status as code_for_http_status
from pygokit.transport.grpc.codec import default_error_encoder as default_error_encoder
from pygokit.transport.grpc.context import rpc_timeout as rpc_timeout
from pygokit.transport.grpc.grpclib_server import GrpclibServer as GrpclibServer
from pygokit.transport.grpc.metadata import RequestHook as RequestHook
from pygokit.transport.grpc.metadata import ResponseHook as ResponseHook
from pygokit.transport.grpc.metadata import UnsafeMetadata as UnsafeMetadata
from pygokit.transport.grpc.metadata import encode_key_value as encode_key_value
from pygokit.transport.grpc.metadata import set_request_header as set_request_header
from pygokit.transport.grpc.metadata import set_response_header as set_response_header
from pygokit.transport.grpc.metadata import set_response_trailer as set_response_trailer
from pygokit.transport.grpc.serve import Backend as Backend
from pygokit.transport.grpc.serve import serve as serve
from pygokit.transport.grpc.server import Server as Server
from pygokit.transport.grpc.service import DEFAULT_MAX_MESSAGE_BYTES as DEFAULT_MAX_MESSAGE_BYTES
from pygokit.transport.grpc.service import Interceptor as Interceptor
from pygokit.transport.grpc.service import Services as Services
from pygokit.transport.grpc.service import new_server as new_server
from pygokit.transport.grpc.service import register as register

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "Backend",
    "Client",
    "DecodeRequest",
    "DecodeResponse",
    "EncodeRequest",
    "EncodeResponse",
    "ErrorEncoder",
    "Finalizer",
    "GRPCStatuser",
    "GrpclibServer",
    "Interceptor",
    "InvalidReply",
    "RPCDeadlineExceeded",
    "RPCError",
    "RPCUnavailable",
    "RequestHook",
    "ResponseHook",
    "Server",
    "Services",
    "Status",
    "StatusError",
    "UnsafeMetadata",
    "code_for_http_status",
    "context",
    "default_error_encoder",
    "encode_key_value",
    "new_server",
    "register",
    "rpc_timeout",
    "serve",
    "set_request_header",
    "set_response_header",
    "set_response_trailer",
]
