"""Package jsonrpc serves and calls endpoints over JSON-RPC 2.0 on HTTP.

This is Go kit's ``transport/http/jsonrpc``, with the parts of the protocol Go
kit left out. A `JSONRPCServer` routes calls by method name to
`EndpointCodec` values (endpoint, params decoder, result encoder) and speaks the
whole of JSON-RPC 2.0: the error codes -32700 to -32603, ids of every type echoed
exactly, notifications (answered with HTTP 204 and no body) and batches (run
concurrently, answered in order). It is built on the HTTP transport's `Server`,
so it takes the same ``before``, ``after`` and ``finalizers`` hooks, limits the
body size the same way, and is as secure by default: an exception that is not
an `ErrorCoder` reaches the client only as "Internal error" with a request id,
while the error handler gets the real error with the same id.

The client, ``JSONRPCClient`` in `pygokit.transport.http.jsonrpc.client`, is an
endpoint built on the HTTP transport's ``Client``; it needs the ``http`` extra
(aiohttp), so it is not imported here.

Example::

    @dataclass(frozen=True)
    class Subtract:
        minuend: int
        subtrahend: int

    async def subtract(request: Subtract) -> int:
        return request.minuend - request.subtrahend

    server = JSONRPCServer(
        {"subtract": EndpointCodec(subtract, params_decoder(Subtract), lambda r: r)}
    )
    await serve(server, port=8080)

    # elsewhere, with an aiohttp.ClientSession:
    client = JSONRPCClient(url, "subtract", session=session, encode=dataclasses.asdict,
                           decode=int)
    assert await client(Subtract(42, 23)) == 19
"""

from pygokit.transport.http.jsonrpc import context as context
from pygokit.transport.http.jsonrpc.codec import DecodeParams as DecodeParams
from pygokit.transport.http.jsonrpc.codec import EncodeResult as EncodeResult
from pygokit.transport.http.jsonrpc.codec import EndpointCodec as EndpointCodec
from pygokit.transport.http.jsonrpc.codec import JSONRPCRequest as JSONRPCRequest
from pygokit.transport.http.jsonrpc.codec import Params as Params
from pygokit.transport.http.jsonrpc.codec import RequestID as RequestID
from pygokit.transport.http.jsonrpc.codec import params_decoder as params_decoder
from pygokit.transport.http.jsonrpc.errors import INTERNAL_ERROR as INTERNAL_ERROR
from pygokit.transport.http.jsonrpc.errors import INVALID_PARAMS as INVALID_PARAMS
from pygokit.transport.http.jsonrpc.errors import INVALID_REQUEST as INVALID_REQUEST
from pygokit.transport.http.jsonrpc.errors import METHOD_NOT_FOUND as METHOD_NOT_FOUND
from pygokit.transport.http.jsonrpc.errors import PARSE_ERROR as PARSE_ERROR
from pygokit.transport.http.jsonrpc.errors import ErrorCoder as ErrorCoder
from pygokit.transport.http.jsonrpc.errors import InternalError as InternalError
from pygokit.transport.http.jsonrpc.errors import InvalidParams as InvalidParams
from pygokit.transport.http.jsonrpc.errors import InvalidRequest as InvalidRequest
from pygokit.transport.http.jsonrpc.errors import JSONRPCError as JSONRPCError
from pygokit.transport.http.jsonrpc.errors import MethodNotFound as MethodNotFound
from pygokit.transport.http.jsonrpc.errors import ParseError as ParseError
from pygokit.transport.http.jsonrpc.errors import error_message as error_message
from pygokit.transport.http.jsonrpc.server import DEFAULT_MAX_BATCH_SIZE as DEFAULT_MAX_BATCH_SIZE
from pygokit.transport.http.jsonrpc.server import BeforeCodecHook as BeforeCodecHook
from pygokit.transport.http.jsonrpc.server import JSONRPCServer as JSONRPCServer

__all__ = [
    "DEFAULT_MAX_BATCH_SIZE",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "BeforeCodecHook",
    "DecodeParams",
    "EncodeResult",
    "EndpointCodec",
    "ErrorCoder",
    "InternalError",
    "InvalidParams",
    "InvalidRequest",
    "JSONRPCError",
    "JSONRPCRequest",
    "JSONRPCServer",
    "MethodNotFound",
    "Params",
    "ParseError",
    "RequestID",
    "context",
    "error_message",
    "params_decoder",
]
