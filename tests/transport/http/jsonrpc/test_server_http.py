"""JSONRPCServer on HTTP: methods, media types, body limits, and the hooks it shares with Server."""

from __future__ import annotations

import contextvars
import json
from typing import Any

import pytest

from pygokit.transport.http import HTTPError, Request, Response
from pygokit.transport.http import context as http_context
from pygokit.transport.http.jsonrpc import (
    EndpointCodec,
    JSONRPCError,
    JSONRPCRequest,
    JSONRPCServer,
    Params,
    context,
)
from tests.metrics.asgi_client import run_lifespan
from tests.transport.http.jsonrpc.support import Reported, Service, identity, rpc, spec_server, wire

SUBTRACT = b'{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}'
NOTIFY = b'{"jsonrpc": "2.0", "method": "update", "params": [1]}'


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
async def test_only_post_is_served(method: str) -> None:
    """Go kit's 405 for other methods, here with Allow: POST and a JSON body."""
    reply = await rpc(spec_server(Service()), SUBTRACT, method=method)

    assert reply.status == 405
    assert reply.header("allow") == "POST"
    if method != "HEAD":
        assert "error" in wire(reply)


@pytest.mark.parametrize(
    "content_type",
    [
        b"application/json",
        b"application/json; charset=utf-8",
        b"Application/JSON",
        b"application/json-rpc",
        b"application/jsonrequest; charset=utf-8",
        b"application/vnd.api+json",
    ],
)
async def test_json_media_types_are_accepted(content_type: bytes) -> None:
    """JSON, JSON-RPC's own media types and +json types are read."""
    reply = await rpc(spec_server(Service()), SUBTRACT, headers=((b"content-type", content_type),))

    assert wire(reply)["result"] == 19


async def test_a_request_without_content_type_is_read_as_json() -> None:
    """A client that declares no Content-Type is still served."""
    reply = await rpc(spec_server(Service()), SUBTRACT, headers=())

    assert wire(reply)["result"] == 19


@pytest.mark.parametrize("content_type", [b"text/plain", b"application/x-www-form-urlencoded"])
async def test_other_media_types_are_415(content_type: bytes) -> None:
    """A declared Content-Type that is not JSON is refused with 415 before the body is read."""
    reply = await rpc(spec_server(Service()), SUBTRACT, headers=((b"content-type", content_type),))

    assert reply.status == 415
    assert "error" in wire(reply)


async def test_a_declared_length_over_the_limit_is_413_before_reading() -> None:
    """T3: a Content-Length over max_body_bytes gets 413 without a byte of the body read."""
    server = spec_server(Service(), max_body_bytes=16)
    headers = ((b"content-type", b"application/json"), (b"content-length", b"1000000"))

    reply = await rpc(server, [b"x" * 10, b"y" * 10], headers=headers)

    assert reply.status == 413
    assert reply.received == 0
    assert reply.header("connection") == "close"


async def test_a_streamed_body_over_the_limit_is_413() -> None:
    """T3: a body without Content-Length is refused as soon as it passes the limit."""
    server = spec_server(Service(), max_body_bytes=16)

    reply = await rpc(server, [b"[" * 10, b"[" * 10, b"[" * 10])

    assert reply.status == 413
    assert reply.received == 2


async def test_before_hooks_run_before_the_body_is_read() -> None:
    """Before hooks see the HTTP request; what they set reaches the endpoint."""
    seen: list[str] = []

    async def endpoint(request: Params) -> str:
        return http_context.request_method.get() + " " + http_context.request_path.get()

    server = JSONRPCServer(
        {"m": EndpointCodec(endpoint, identity, identity)},
        before=[http_context.populate_request_context, lambda request: seen.append(request.path)],
    )

    reply = await rpc(server, b'{"jsonrpc": "2.0", "method": "m", "id": 1}')

    assert wire(reply)["result"] == "POST /rpc"
    assert seen == ["/rpc"]


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            JSONRPCError(-32001, "no token"),
            200,
            {"jsonrpc": "2.0", "error": {"code": -32001, "message": "no token"}, "id": None},
        ),
        (HTTPError(401, "no token"), 401, {"error": "no token"}),
        (RuntimeError("secret-XYZ"), 500, {"error": "internal error"}),
    ],
    ids=["ErrorCoder", "HTTPError", "other"],
)
async def test_a_raising_before_hook_refuses_the_request(
    error: Exception, status: int, body: dict[str, object]
) -> None:
    """An ErrorCoder from a before hook is a JSON-RPC error; others are HTTP errors."""
    reported = Reported()

    def refuse(request: Request) -> None:
        raise error

    server = spec_server(Service(), before=[refuse], error_handler=reported)

    reply = await rpc(server, SUBTRACT)

    assert reply.status == status
    answer = wire(reply)
    answer.pop("request_id", None)
    assert answer == body
    assert reported.errors == [error]


async def test_after_hooks_see_every_jsonrpc_response_but_not_refusals() -> None:
    """After hooks run on 200 and 204 responses and may add headers; not on a 405."""
    statuses: list[int] = []

    def after(request: Request, response: Response) -> None:
        statuses.append(response.status)
        response.headers["x-served-by"] = "jsonrpc"

    server = spec_server(Service(), after=[after])

    answered = await rpc(server, SUBTRACT)
    notified = await rpc(server, NOTIFY)
    refused = await rpc(server, SUBTRACT, method="GET")

    assert statuses == [200, 204]
    assert answered.header("x-served-by") == notified.header("x-served-by") == "jsonrpc"
    assert refused.header("x-served-by") is None


async def test_a_raising_after_hook_gives_a_generic_500() -> None:
    """An after hook that fails turns the response into the HTTP transport's generic 500."""

    def after(request: Request, response: Response) -> None:
        raise RuntimeError("secret-XYZ")

    reply = await rpc(spec_server(Service(), after=[after]), SUBTRACT)

    assert reply.status == 500
    assert "secret" not in reply.body.decode()


async def test_finalizers_get_every_status_and_the_response_size() -> None:
    """Finalizers run once per request, after sending, whatever the outcome."""
    finished: list[tuple[int, int]] = []

    def finalizer(request: Request, status: int) -> None:
        finished.append((status, http_context.response_size.get()))

    server = spec_server(Service(), finalizers=[finalizer])

    answered = await rpc(server, SUBTRACT)
    await rpc(server, NOTIFY)
    await rpc(server, SUBTRACT, method="PUT")

    assert finished[0] == (200, len(answered.body))
    assert finished[1] == (204, 0)
    assert finished[2][0] == 405


async def test_before_codec_hooks_see_each_call_before_it_is_decoded() -> None:
    """Go kit's ServerBeforeCodec: once per served call, notifications included, after the
    method and id are in context and before the params decoder runs."""
    seen: list[tuple[JSONRPCRequest, str, object]] = []
    order: list[str] = []

    def hook(request: Request, call: JSONRPCRequest) -> None:
        order.append("hook")
        seen.append((call, context.rpc_method.get(), context.rpc_id.get()))

    def decode(params: Params) -> Params:
        order.append("decode")
        return params

    async def endpoint(request: Params) -> None:
        return None

    server = JSONRPCServer({"m": EndpointCodec(endpoint, decode, identity)}, before_codec=[hook])
    batch = b"""[{"jsonrpc": "2.0", "method": "m", "params": {"a": 1}, "id": "x"},
                 {"jsonrpc": "2.0", "method": "m", "params": [2]},
                 {"jsonrpc": "2.0", "method": "unknown", "id": 3}]"""

    await rpc(server, batch)

    assert [entry[0] for entry in seen] == [
        JSONRPCRequest("m", {"a": 1}, "x", notification=False),
        JSONRPCRequest("m", [2], None, notification=True),
    ]
    assert [entry[1:] for entry in seen] == [("m", "x"), ("m", None)]
    assert order == ["hook", "decode", "hook", "decode"]


async def test_before_codec_values_reach_only_their_own_call() -> None:
    """A context variable a before_codec hook sets is seen by that call's endpoint only."""
    tenant: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="")

    def hook(request: Request, call: JSONRPCRequest) -> None:
        assert isinstance(call.params, dict)
        tenant.set(call.params["tenant"])

    async def endpoint(request: dict[str, Any]) -> str:
        return tenant.get()

    server = JSONRPCServer({"m": EndpointCodec(endpoint, identity, identity)}, before_codec=[hook])
    calls = [
        {"jsonrpc": "2.0", "method": "m", "params": {"tenant": name}, "id": name}
        for name in ("a", "b", "c")
    ]

    reply = await rpc(server, json.dumps(calls).encode())

    assert [answer["result"] for answer in wire(reply)] == ["a", "b", "c"]
    assert tenant.get() == ""


async def test_a_raising_before_codec_hook_refuses_only_its_call() -> None:
    """An ErrorCoder from a before_codec hook is that call's error; other errors are -32603."""

    def hook(request: Request, call: JSONRPCRequest) -> None:
        if call.id == 1:
            raise JSONRPCError(-32001, "forbidden")
        if call.id == 2:
            raise RuntimeError("secret-XYZ")

    server = spec_server(Service(), before_codec=[hook])
    calls = [{"jsonrpc": "2.0", "method": "sum", "params": [1], "id": n} for n in (1, 2, 3)]

    reply = await rpc(server, json.dumps(calls).encode())

    answers = wire(reply)
    assert answers[0]["error"] == {"code": -32001, "message": "forbidden"}
    assert answers[1]["error"]["code"] == -32603
    assert answers[2]["result"] == 1


async def test_lifespan_is_answered() -> None:
    """The server completes lifespan startup and shutdown, so it runs alone under uvicorn."""
    assert await run_lifespan(spec_server(Service())) == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


@pytest.mark.parametrize(
    ("codecs", "options", "error"),
    [
        ({"rpc.discover": EndpointCodec(lambda r: r, identity, identity)}, {}, ValueError),
        ({"m": object()}, {}, TypeError),
        ({1: EndpointCodec(lambda r: r, identity, identity)}, {}, TypeError),
        ({}, {"max_batch_size": 0}, ValueError),
    ],
    ids=["reserved name", "not a codec", "name not str", "batch size"],
)
def test_bad_arguments_are_refused_at_construction(
    codecs: dict[Any, Any], options: dict[str, Any], error: type[Exception]
) -> None:
    """Reserved or non-string method names, non-codecs and a batch size below 1 raise."""
    with pytest.raises(error):
        JSONRPCServer(codecs, **options)


def test_repr_lists_the_methods() -> None:
    """The repr names the methods served, sorted."""
    assert repr(spec_server(Service())) == (
        "JSONRPCServer(['get_data', 'notify_hello', 'notify_sum', 'subtract', 'sum', 'update'])"
    )
