"""JSON over HTTP for stringsvc1: one pygokit `Server` per method behind a `Router`.

The wire is Go kit's: ``POST /uppercase`` and ``POST /count`` take ``{"s": "..."}``
and answer ``{"v": ...}``, with ``"err"`` only when there is a business error
(Go's ``json:"err,omitempty"``). Like Go kit's ``decodeUppercaseRequest``, the
decoders read the body as JSON whatever its Content-Type, so the tutorial's
``curl -d '{"s":"hello"}'`` (sent as a form) works; a missing ``s`` is the empty
string and unknown fields are ignored, as Go's ``json.Decoder`` does. Unlike Go
kit, a body that is not a JSON object with a string ``s`` is a 400 with a clear
message (Go kit answers 500), and an unexpected error is a generic 500 whose
details go only to the error handler.

`serve_http` and `parse_address` are shared with stringsvc2.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from examples.stringsvc1.endpoints import (
    CountRequest,
    CountResponse,
    UppercaseRequest,
    UppercaseResponse,
)
from pygokit.endpoint import Endpoint
from pygokit.log import Logger
from pygokit.transport import ErrorHandler
from pygokit.transport.http import (
    BadRequest,
    Request,
    Response,
    Router,
    Server,
    encode_json_response,
    serve,
)

__all__ = [
    "MAX_BODY_BYTES",
    "decode_count_request",
    "decode_uppercase_request",
    "encode_response",
    "make_http_app",
    "parse_address",
    "serve_http",
]

MAX_BODY_BYTES = 64 * 1024
"""Bodies larger than this are refused with 413 before they are buffered."""


def make_http_app(
    uppercase: Endpoint[UppercaseRequest, UppercaseResponse],
    count: Endpoint[CountRequest, CountResponse],
    *,
    error_handler: ErrorHandler,
) -> Router:
    """Route ``POST /uppercase`` and ``POST /count`` to a `Server` each (Go kit's main.go)."""
    uppercase_server = Server(
        uppercase,
        decode_uppercase_request,
        encode_response,
        methods=("POST",),
        error_handler=error_handler,
        max_body_bytes=MAX_BODY_BYTES,
    )
    count_server = Server(
        count,
        decode_count_request,
        encode_response,
        methods=("POST",),
        error_handler=error_handler,
        max_body_bytes=MAX_BODY_BYTES,
    )
    router = Router()
    router.route("POST", "/uppercase", uppercase_server)
    router.route("POST", "/count", count_server)
    return router


def _text(document: Any) -> str:
    if isinstance(document, dict):
        s = document.get("s", "")
        if isinstance(s, str):
            return s
    raise BadRequest('request body must be a JSON object like {"s": "text"}')


async def decode_uppercase_request(request: Request) -> UppercaseRequest:
    """Read ``{"s": ...}`` from the body, whatever its Content-Type (Go kit's decoder)."""
    return UppercaseRequest(_text(await request.json()))


async def decode_count_request(request: Request) -> CountRequest:
    """Read ``{"s": ...}`` from the body, whatever its Content-Type (Go kit's decoder)."""
    return CountRequest(_text(await request.json()))


async def encode_response(response: UppercaseResponse | CountResponse) -> Response:
    """Write the response as JSON, leaving out fields that are None (Go's ``omitempty``)."""
    fields = dataclasses.asdict(response)
    return await encode_json_response({k: v for k, v in fields.items() if v is not None})


def parse_address(address: str) -> tuple[str, int]:
    """Split ``host:port`` (port 0 picks a free one); raise ValueError with a clear message."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"address must look like 127.0.0.1:8080, got {address!r}")
    return host, int(port)


async def serve_http(
    app: Router, host: str, port: int, logger: Logger, *, stop: asyncio.Event | None = None
) -> None:
    """Serve *app* until SIGINT/SIGTERM (or *stop*), logging where it listens and when it stops."""

    def listening(bound_host: str, bound_port: int) -> None:
        logger.log(transport="http", addr=f"{bound_host}:{bound_port}", msg="listening")

    await serve(app, host=host, port=port, stop=stop, on_listen=listening)
    logger.log(transport="http", msg="stopped")
