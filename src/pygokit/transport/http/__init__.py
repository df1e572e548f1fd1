"""Package http provides a general purpose HTTP binding for endpoints.

This is Go kit's ``transport/http``. A `Server` wraps one endpoint as an ASGI
application: it decodes the request with a `DecodeRequest` function, calls the
endpoint, and encodes the response with an `EncodeResponse` function; errors go to
an error handler (to be observed) and an `ErrorEncoder` (to be answered). Before
hooks, after hooks and finalizers see the request on its way in and the response
on its way out; request facts live in context variables (`context`). `serve` runs
any ASGI app under uvicorn with a graceful shutdown.

Unlike Go kit, the codecs can be derived from types (`json_decoder`,
`json_encoder`), bodies are size-limited before they are buffered, response
headers are checked for CR/LF before they reach the wire, and the default error
encoder never shows the client an error's internals: it answers with a generic
message and a request id, and the error handler gets the full error with the
same id.

Example::

    server = Server(sum_endpoint, json_decoder(SumRequest), json_encoder(), methods=("POST",))
    await serve(server, host="127.0.0.1", port=8080)
"""

from pygokit.transport.http import context as context
from pygokit.transport.http.codec import JSON_CONTENT_TYPE as JSON_CONTENT_TYPE
from pygokit.transport.http.codec import DecodeRequest as DecodeRequest
from pygokit.transport.http.codec import EncodeResponse as EncodeResponse
from pygokit.transport.http.codec import ErrorEncoder as ErrorEncoder
from pygokit.transport.http.codec import Headerer as Headerer
from pygokit.transport.http.codec import StatusCoder as StatusCoder
from pygokit.transport.http.codec import default_error_encoder as default_error_encoder
from pygokit.transport.http.codec import encode_json_response as encode_json_response
from pygokit.transport.http.codec import json_decoder as json_decoder
from pygokit.transport.http.codec import json_encoder as json_encoder
from pygokit.transport.http.context import populate_request_context as populate_request_context
from pygokit.transport.http.request import DEFAULT_MAX_BODY_BYTES as DEFAULT_MAX_BODY_BYTES
from pygokit.transport.http.request import BadRequest as BadRequest
from pygokit.transport.http.request import Headers as Headers
from pygokit.transport.http.request import HTTPError as HTTPError
from pygokit.transport.http.request import MethodNotAllowed as MethodNotAllowed
from pygokit.transport.http.request import PayloadTooLarge as PayloadTooLarge
from pygokit.transport.http.request import Request as Request
from pygokit.transport.http.request import UnsupportedMediaType as UnsupportedMediaType
from pygokit.transport.http.response import HeaderFields as HeaderFields
from pygokit.transport.http.response import MutableHeaders as MutableHeaders
from pygokit.transport.http.response import Response as Response
from pygokit.transport.http.router import Router as Router
from pygokit.transport.http.router import path_params as path_params
from pygokit.transport.http.serve import serve as serve
from pygokit.transport.http.server import AfterHook as AfterHook
from pygokit.transport.http.server import BeforeHook as BeforeHook
from pygokit.transport.http.server import Finalizer as Finalizer
from pygokit.transport.http.server import Server as Server

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "JSON_CONTENT_TYPE",
    "AfterHook",
    "BadRequest",
    "BeforeHook",
    "DecodeRequest",
    "EncodeResponse",
    "ErrorEncoder",
    "Finalizer",
    "HTTPError",
    "HeaderFields",
    "Headerer",
    "Headers",
    "MethodNotAllowed",
    "MutableHeaders",
    "PayloadTooLarge",
    "Request",
    "Response",
    "Router",
    "Server",
    "StatusCoder",
    "UnsupportedMediaType",
    "context",
    "default_error_encoder",
    "encode_json_response",
    "json_decoder",
    "json_encoder",
    "path_params",
    "populate_request_context",
    "serve",
]
