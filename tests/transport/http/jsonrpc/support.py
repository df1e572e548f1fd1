"""The service the JSON-RPC 2.0 specification's examples call, and helpers to call it.

`spec_server` serves the methods the specification's examples use: ``subtract``
(positional or named params), ``sum``, ``get_data``, and the notification targets
``update``, ``notify_hello`` and ``notify_sum``, which record what they got.
``foobar`` and ``foo.get`` do not exist, as the examples require. `rpc` posts a
body in-process and returns the reply; `only` builds a server of one method, ``m``;
`Reported` collects what the error handler saw, with the context it saw it in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from pygokit.transport.http import context as http_context
from pygokit.transport.http.jsonrpc import (
    EndpointCodec,
    JSONRPCServer,
    Params,
    context,
    params_decoder,
)
from tests.transport.http.server_harness import Call, call

__all__ = [
    "SECRET",
    "Reported",
    "Service",
    "Subtract",
    "call_body",
    "echo",
    "failing",
    "identity",
    "only",
    "rpc",
    "spec_server",
    "wire",
]

JSON = ((b"content-type", b"application/json"),)


def identity(value: Any) -> Any:
    """Pass params or a result through unchanged."""
    return value


SECRET = "secret-XYZ in /srv/app/db.py"
"""Text that must never reach a client."""


def call_body(method: str, params: Any = None, call_id: Any = 1) -> bytes:
    """A Request object as bytes; params None leaves them out."""
    call: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": call_id}
    if params is not None:
        call["params"] = params
    return json.dumps(call).encode()


def only(endpoint: Any, decode: Any = identity, encode: Any = identity, **options: Any) -> Any:
    """A server with one method, ``m``."""
    return JSONRPCServer({"m": EndpointCodec(endpoint, decode, encode)}, **options)


async def echo(request: Any) -> Any:
    """Return the request."""
    return request


async def failing(request: Any) -> Any:
    """Fail with an error whose text must never reach the client."""
    raise RuntimeError(SECRET)


@dataclass(frozen=True)
class Subtract:
    """The params of ``subtract``, by position or by name."""

    minuend: int
    subtrahend: int


@dataclass
class Service:
    """The specification's service; notifications and calls are recorded in order."""

    seen: list[tuple[str, Params]] = field(default_factory=list)

    async def subtract(self, request: Subtract) -> int:
        """minuend - subtrahend."""
        self.seen.append(("subtract", [request.minuend, request.subtrahend]))
        return request.minuend - request.subtrahend

    async def sum(self, request: list[int]) -> int:
        """The sum of the numbers."""
        self.seen.append(("sum", request))
        return sum(request)

    async def get_data(self, request: Params) -> list[object]:
        """The specification's fixed answer."""
        self.seen.append(("get_data", request))
        return ["hello", 5]

    def recorder(self, name: str) -> EndpointCodec[Params, None]:
        """A method that records its params and returns nothing (a notification target)."""

        async def record(request: Params) -> None:
            self.seen.append((name, request))

        return EndpointCodec(record, identity, identity)


def spec_server(
    service: Service, extra: Mapping[str, EndpointCodec[Any, Any]] | None = None, **options: Any
) -> JSONRPCServer:
    """A server for *service* with the methods the specification's examples call, and *extra*."""
    codecs: dict[str, EndpointCodec[Any, Any]] = {
        "subtract": EndpointCodec(service.subtract, params_decoder(Subtract), identity),
        "sum": EndpointCodec(service.sum, params_decoder(list[int]), identity),
        "get_data": EndpointCodec(service.get_data, identity, identity),
        "update": service.recorder("update"),
        "notify_hello": service.recorder("notify_hello"),
        "notify_sum": service.recorder("notify_sum"),
        **(extra or {}),
    }
    return JSONRPCServer(codecs, **options)


@dataclass
class Reported:
    """An error handler that records each error with the request id and call it saw."""

    errors: list[Exception] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)

    def handle(self, error: Exception) -> None:
        """Record *error* and the context it was reported in."""
        self.errors.append(error)
        self.request_ids.append(http_context.request_id.get())
        self.methods.append(context.rpc_method.get())


async def rpc(
    server: Any,
    body: bytes | Sequence[bytes],
    *,
    method: str = "POST",
    headers: Sequence[tuple[bytes, bytes]] = JSON,
) -> Call:
    """POST *body* to *server* in-process."""
    return await call(server, body, method=method, path="/rpc", headers=headers)


def wire(reply: Call) -> Any:
    """The reply's body parsed as JSON; None for an empty body."""
    return orjson.loads(reply.body) if reply.body else None
