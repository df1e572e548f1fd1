"""``POST /sum`` as a raw ASGI app, with and without a pygokit endpoint chain.

``{"a": 1, "b": 2}`` in, ``{"v": 3}`` out, JSON via the standard library. Two apps
share every line of HTTP handling and differ only in how the sum is computed:

* `raw` adds the two numbers inline: the baseline, what uvicorn costs on its own.
* `chained` calls a pygokit endpoint wrapped in five pass-through middlewares, so
  the difference between the two is what the endpoint layer costs per request.

The endpoint takes the operands as a tuple and returns the very dict the raw app
builds inline, so that request and response types (a frozen dataclass costs a few
hundred nanoseconds to build) do not blur what the chain costs.

Serve one with ``uvicorn bench.apps.asgi_sum:raw`` (or ``:chained``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from bench.layers import passthrough
from pygokit.endpoint import Endpoint, chain

__all__ = ["chained", "raw"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 4096
"""Larger bodies are refused: the benchmark only ever sends a dozen bytes."""


class _BadRequest(Exception):
    """The request cannot be served; the message is safe to send back."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _sum(request: tuple[int, int]) -> dict[str, object]:
    a, b = request
    return {"v": a + b}


_layer = passthrough()
_sum_endpoint: Endpoint[tuple[int, int], dict[str, object]] = chain(
    _layer, _layer, _layer, _layer, _layer
)(_sum)


async def raw(scope: Scope, receive: Receive, send: Send) -> None:
    """Serve ``POST /sum``, adding the numbers inline."""
    if scope["type"] != "http":
        return
    payload: dict[str, object]
    try:
        a, b = await _read_operands(scope, receive)
        status, payload = 200, {"v": a + b}
    except _BadRequest as exc:
        status, payload = exc.status, {"error": str(exc)}
    await _send_json(send, status, payload)


async def chained(scope: Scope, receive: Receive, send: Send) -> None:
    """Serve ``POST /sum`` through a five-layer pygokit endpoint chain."""
    if scope["type"] != "http":
        return
    payload: dict[str, object]
    try:
        a, b = await _read_operands(scope, receive)
        status, payload = 200, await _sum_endpoint((a, b))
    except _BadRequest as exc:
        status, payload = exc.status, {"error": str(exc)}
    await _send_json(send, status, payload)


async def _read_operands(scope: Scope, receive: Receive) -> tuple[int, int]:
    if scope["path"] != "/sum":
        raise _BadRequest(404, "not found")
    if scope["method"] != "POST":
        raise _BadRequest(405, "use POST")
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _BadRequest(400, "client disconnected")
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            raise _BadRequest(413, "body too large")
        more = message.get("more_body", False)
    try:
        decoded = json.loads(body)
        a, b = decoded["a"], decoded["b"]
    except (ValueError, TypeError, KeyError) as exc:
        raise _BadRequest(400, 'expected {"a": int, "b": int}') from exc
    if type(a) is not int or type(b) is not int:
        raise _BadRequest(400, 'expected {"a": int, "b": int}')
    return a, b


async def _send_json(send: Send, status: int, payload: Mapping[str, object]) -> None:
    body = json.dumps(payload, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
