"""The few ASGI pieces pygokit's HTTP apps share (metrics exposition, the HTTP transport).

ASGI is a calling convention, so no framework is needed: these are its types, a
helper that sends a complete response, an answer to the lifespan protocol for
apps that have nothing to set up, and a refusal for WebSocket connections.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, TypeAlias

__all__ = [
    "ASGIApp",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "answer_lifespan",
    "refuse_unless_get",
    "reject_websocket",
    "respond",
]

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

_NOT_ALLOWED = b"method not allowed: use GET\n"


async def respond(
    send: Send,
    scope: Scope,
    status: int,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    """Send a whole response with a Content-Length; a HEAD request gets no body."""
    all_headers = [*headers, (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def refuse_unless_get(send: Send, scope: Scope) -> bool:
    """Answer 405 unless the request is a GET or HEAD; return whether it was refused."""
    if scope["method"] in ("GET", "HEAD"):
        return False
    headers = [(b"allow", b"GET, HEAD"), (b"content-type", b"text/plain; charset=utf-8")]
    await respond(send, scope, 405, headers, _NOT_ALLOWED)
    return True


async def answer_lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge startup and shutdown, for an app that has nothing to set up."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def reject_websocket(receive: Receive, send: Send) -> None:
    """Refuse a WebSocket connection; the ASGI server answers the handshake with 403."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 1008})
