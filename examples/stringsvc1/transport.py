"""JSON over HTTP for stringsvc1, as a plain ASGI application.

This is the example's own small transport: it decodes a JSON body into a request,
calls the endpoint, and encodes the response. Bad input gets a 4xx with a clear
message; an unexpected error gets a generic 500 and goes to the error handler, so
no internal detail reaches the wire.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict
from typing import Any

from examples.stringsvc1.endpoints import CountRequest, UppercaseRequest
from pygokit.endpoint import Endpoint
from pygokit.transport import ErrorHandler

__all__ = ["MAX_BODY_BYTES", "make_http_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 64 * 1024
"""Bodies larger than this are refused with 413 before they are buffered."""


class BadRequest(Exception):
    """The request cannot be served as sent; the message is safe to show the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def make_http_app(
    uppercase: Endpoint[UppercaseRequest, Any],
    count: Endpoint[CountRequest, Any],
    *,
    error_handler: ErrorHandler,
) -> ASGIApp:
    """Build the ASGI app that serves ``POST /uppercase`` and ``POST /count``."""
    routes: dict[str, Callable[[str], Awaitable[Any]]] = {
        "/uppercase": lambda s: uppercase(UppercaseRequest(s)),
        "/count": lambda s: count(CountRequest(s)),
    }

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websocket are not served
            return
        try:
            call = routes.get(scope["path"])
            if call is None:
                raise BadRequest(404, f"no such method: {scope['path']}")
            if scope["method"] != "POST":
                raise BadRequest(405, "use POST")
            response = await call(_decode(await _read_body(receive)))
            status, payload = 200, _without_nones(asdict(response))
        except BadRequest as exc:
            status, payload = exc.status, {"error": str(exc)}
        except Exception as exc:  # never BaseException: let cancellation through
            error_handler.handle(exc)
            status, payload = 500, {"error": "internal error"}
        await _send_json(send, status, payload)

    return app


async def _read_body(receive: Receive) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest(400, "client disconnected before sending the whole body")
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
        if not message.get("more_body", False):
            return bytes(body)


def _decode(body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("s"), str):
        raise BadRequest(400, 'request body must be a JSON object like {"s": "text"}')
    text: str = document["s"]
    return text


def _without_nones(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if value is not None}


async def _send_json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
