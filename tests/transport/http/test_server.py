"""Server: Go kit's ServeHTTP algorithm, in-process (after go-kit's server_test.go)."""

from __future__ import annotations

import asyncio
import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygokit.log import Valuer, with_
from pygokit.testing import CapturingLogger
from pygokit.transport import ErrorHandlerFunc, LogErrorHandler
from pygokit.transport.http import (
    BadRequest,
    Request,
    Response,
    Server,
    context,
    encode_json_response,
    json_decoder,
    json_encoder,
)
from tests.transport.http.server_harness import Message, call, http_scope


@dataclass(frozen=True)
class Sum:
    a: int
    b: int


async def add(request: Sum) -> dict[str, int]:
    return {"v": request.a + request.b}


async def nop_decode(request: Request) -> None:
    return None


async def nop_endpoint(request: object) -> dict[str, str]:
    return {}


class Handled:
    """An error handler that keeps each error with the request id current when it came."""

    def __init__(self) -> None:
        self.errors: list[tuple[Exception, str]] = []

    def handle(self, error: Exception) -> None:
        self.errors.append((error, context.request_id.get()))


def body_of(reply: Any) -> Any:
    return json.loads(reply.body)


async def test_serves_a_json_endpoint() -> None:
    """Decode, endpoint and encode turn {"a":1,"b":2} into 200 {"v":3}."""
    server = Server(add, json_decoder(Sum), json_encoder())

    reply = await call(server, b'{"a": 1, "b": 2}')

    assert (reply.status, reply.body) == (200, b'{"v":3}')
    assert reply.header("content-type") == "application/json; charset=utf-8"
    assert reply.header("content-length") == "7"


async def test_bad_decode_goes_to_the_error_encoder() -> None:
    """A decode error reaches the error handler and the error encoder; the endpoint never runs."""
    failure = BadRequest("dang")
    ran: list[object] = []
    handled = Handled()

    async def decode(request: Request) -> Sum:
        raise failure

    async def endpoint(request: Sum) -> dict[str, int]:
        ran.append(request)
        return {}

    def error_encoder(error: Exception, request: Request) -> Response:
        return Response(str(error).encode(), status=418)

    server = Server(
        endpoint, decode, json_encoder(), error_encoder=error_encoder, error_handler=handled
    )
    reply = await call(server)

    assert (reply.status, reply.body) == (418, b"dang")
    assert ran == []
    assert [error for error, _ in handled.errors] == [failure]


async def test_bad_endpoint_is_a_generic_500() -> None:
    """An endpoint error is a 500 whose body hides the error."""

    async def endpoint(request: None) -> None:
        raise ValueError("secret-XYZ")

    reply = await call(Server(endpoint, nop_decode, json_encoder()))

    assert reply.status == 500
    assert body_of(reply)["error"] == "internal error"
    assert b"secret" not in reply.body


async def test_bad_encode_is_a_generic_500() -> None:
    """An encode error goes to the error encoder like any other."""

    async def encode(response: object) -> Response:
        raise RuntimeError("secret-XYZ")

    handled = Handled()
    reply = await call(Server(nop_endpoint, nop_decode, encode, error_handler=handled))

    assert reply.status == 500
    assert isinstance(handled.errors[0][0], RuntimeError)


async def test_encoder_must_return_a_response() -> None:
    """An encoder that returns something else is an error answered with 500, not a crash."""

    async def encode(response: object) -> Response:
        return "oops"  # type: ignore[return-value]

    handled = Handled()
    reply = await call(Server(nop_endpoint, nop_decode, encode, error_handler=handled))

    assert reply.status == 500
    assert "not a Response" in str(handled.errors[0][0])


async def test_hooks_and_finalizers_run_in_order_and_see_the_response() -> None:
    """Before, decode, endpoint, after, send, then finalizers with status, headers and size."""
    trace: list[str] = []
    seen: dict[str, object] = {}

    def before(request: Request) -> None:
        trace.append("before")

    async def decode(request: Request) -> None:
        trace.append("decode")

    async def endpoint(request: None) -> dict[str, str]:
        trace.append("endpoint")
        return {"ok": "yes"}

    async def encode(response: dict[str, str]) -> Response:
        trace.append("encode")
        return await encode_json_response(response)

    def after(request: Request, response: Response) -> None:
        trace.append(f"after {response.status}")
        response.headers["x-after"] = "1"

    def finalizer(request: Request, status: int) -> None:
        trace.append(f"finalizer {status}")
        seen["headers"] = context.response_headers.get()
        seen["size"] = context.response_size.get()

    server = Server(
        endpoint, decode, encode, before=[before], after=[after], finalizers=[finalizer, finalizer]
    )
    reply = await call(server)

    assert trace == [
        "before",
        "decode",
        "endpoint",
        "encode",
        "after 200",
        "finalizer 200",
        "finalizer 200",
    ]
    assert reply.header("x-after") == "1"
    assert seen["size"] == len(b'{"ok":"yes"}')
    assert dict(seen["headers"]) == {  # type: ignore[call-overload]
        "content-type": "application/json; charset=utf-8",
        "x-after": "1",
    }


async def test_finalizers_see_error_responses() -> None:
    """Finalizers run on the error path too, with the error's status and headers."""
    seen: list[tuple[int, str | None, int]] = []

    async def endpoint(request: None) -> None:
        raise BadRequest("nope")

    def finalizer(request: Request, status: int) -> None:
        headers = context.response_headers.get()
        seen.append((status, headers.get("x-request-id"), context.response_size.get()))

    reply = await call(Server(endpoint, nop_decode, json_encoder(), finalizers=[finalizer]))

    assert seen == [(400, reply.header("x-request-id"), len(reply.body))]


async def test_after_hooks_do_not_run_for_errors() -> None:
    """As in Go kit, after hooks run only when the endpoint and encoder succeeded."""
    ran: list[str] = []

    async def endpoint(request: None) -> None:
        raise BadRequest("nope")

    server = Server(
        endpoint, nop_decode, json_encoder(), after=[lambda request, response: ran.append("after")]
    )
    assert (await call(server)).status == 400
    assert ran == []


async def test_a_failing_finalizer_is_reported_and_the_rest_still_run() -> None:
    """A finalizer that raises goes to the error handler; later finalizers still run."""
    handled = Handled()
    ran: list[int] = []

    def broken(request: Request, status: int) -> None:
        raise RuntimeError("finalizer broke")

    server = Server(
        nop_endpoint,
        nop_decode,
        json_encoder(),
        error_handler=handled,
        finalizers=[broken, lambda request, status: ran.append(status)],
    )
    assert (await call(server)).status == 200
    assert ran == [200]
    assert str(handled.errors[0][0]) == "finalizer broke"


async def test_head_requests_get_headers_and_finalizers_see_no_body() -> None:
    """A HEAD response has the Content-Length of the body it does not send."""
    sizes: list[int] = []

    def finalizer(request: Request, status: int) -> None:
        sizes.append(context.response_size.get())

    server = Server(nop_endpoint, nop_decode, json_encoder(), finalizers=[finalizer])
    reply = await call(server, method="HEAD")

    assert (reply.status, reply.body, reply.header("content-length")) == (200, b"", "2")
    assert sizes == [0]


async def test_no_content_response() -> None:
    """A 204 StatusCoder response is sent without a body or Content-Length."""

    @dataclass
    class Deleted:
        status_code: int = 204

    async def endpoint(request: None) -> Deleted:
        return Deleted()

    reply = await call(Server(endpoint, nop_decode, json_encoder()))

    assert (reply.status, reply.body, reply.header("content-length")) == (204, b"", None)


async def test_status_coder_and_headerer_errors_shape_the_response() -> None:
    """An enhanced error sets the status, adds headers and, if exposed, shows its message."""

    class Enhanced(Exception):
        status_code = 418
        headers = {"x-enhanced": "1"}  # noqa: RUF012
        expose = True

    async def endpoint(request: None) -> None:
        raise Enhanced("enhanced")

    reply = await call(Server(endpoint, nop_decode, json_encoder()))

    assert (reply.status, body_of(reply)["error"]) == (418, "enhanced")
    assert reply.header("x-enhanced") == "1"


async def test_methods_restricts_what_is_served() -> None:
    """With methods=, other methods get 405 with Allow; the endpoint does not run."""
    ran: list[object] = []

    async def endpoint(request: None) -> dict[str, int]:
        ran.append(request)
        return {}

    server = Server(endpoint, nop_decode, json_encoder(), methods=("post", "PUT"))
    refused = await call(server, method="GET")

    assert refused.status == 405
    assert refused.header("allow") == "POST, PUT"
    assert ran == []
    assert (await call(server, method="PUT")).status == 200
    with pytest.raises(TypeError, match="sequence of names"):
        Server(endpoint, nop_decode, json_encoder(), methods="POST")


async def test_error_handler_gets_the_request_id_of_the_response() -> None:
    """S6: the handler sees context.request_id equal to the id in the error response."""
    handled = Handled()

    async def endpoint(request: None) -> None:
        raise RuntimeError("secret-XYZ")

    server = Server(endpoint, nop_decode, json_encoder(), error_handler=handled)
    fresh = await call(server)
    given = await call(server, headers=[(b"x-request-id", b"abc.123_-")])

    assert [rid for _, rid in handled.errors] == [body_of(fresh)["request_id"], "abc.123_-"]
    assert body_of(given)["request_id"] == "abc.123_-"


async def test_log_error_handler_logs_the_request_id_with_a_valuer() -> None:
    """LogErrorHandler over a logger with a request_id Valuer logs the id the client saw."""
    logger = CapturingLogger()
    handler = LogErrorHandler(with_(logger, request_id=Valuer(context.request_id.get)))
    failure = RuntimeError("secret-XYZ")

    async def endpoint(request: None) -> None:
        raise failure

    reply = await call(Server(endpoint, nop_decode, json_encoder(), error_handler=handler))

    assert logger.events == [{"request_id": body_of(reply)["request_id"], "err": failure}]


async def test_a_failing_error_encoder_falls_back_to_a_generic_500() -> None:
    """If the error encoder raises (say, a CR/LF header), the client still gets a safe 500."""
    handled = Handled()

    def error_encoder(error: Exception, request: Request) -> Response:
        return Response(headers={"x-echo": "a\r\nSet-Cookie: admin=1"})

    async def endpoint(request: None) -> None:
        raise RuntimeError("first")

    server = Server(
        endpoint, nop_decode, json_encoder(), error_encoder=error_encoder, error_handler=handled
    )
    reply = await call(server)

    assert reply.status == 500
    assert body_of(reply) == {"error": "internal error", "request_id": handled.errors[0][1]}
    assert reply.header("x-request-id") == handled.errors[0][1]
    assert reply.header("content-type") == "application/json; charset=utf-8"
    assert [type(error) for error, _ in handled.errors] == [RuntimeError, ValueError]
    assert b"admin" not in b"".join(v for _, v in reply.headers)


async def test_error_encoder_must_return_a_response() -> None:
    """An error encoder returning something else is caught the same way."""
    handled = Handled()

    def refuse(request: Request) -> None:
        raise ValueError("a before hook refused")

    server = Server(
        nop_endpoint,
        nop_decode,
        json_encoder(),
        error_handler=handled,
        error_encoder=lambda error, request: None,  # type: ignore[arg-type,return-value]
        before=[refuse],
    )
    reply = await call(server)

    assert reply.status == 500
    assert "error encoder returned NoneType" in str(handled.errors[1][0])


async def test_a_raising_error_handler_does_not_break_the_response() -> None:
    """An ErrorHandler that breaks its promise not to raise is ignored."""

    def handle(error: Exception) -> None:
        raise OSError("log disk full")

    async def endpoint(request: None) -> None:
        raise RuntimeError("x")

    server = Server(endpoint, nop_decode, json_encoder(), error_handler=ErrorHandlerFunc(handle))
    assert (await call(server)).status == 500


async def test_after_hook_headers_with_crlf_become_a_500() -> None:
    """S5: an after hook copying a hostile value into a header causes a 500, not a split."""
    handled = Handled()

    def after(request: Request, response: Response) -> None:
        response.headers["x-echo"] = request.headers.get("x-in", "")

    server = Server(nop_endpoint, nop_decode, json_encoder(), after=[after], error_handler=handled)
    reply = await call(server, headers=[(b"x-in", b"a\r\nSet-Cookie: admin=1")])

    assert reply.status == 500
    assert all(b"admin" not in value for _, value in reply.headers)
    assert "control character" in str(handled.errors[0][0])


request_user: ContextVar[str] = ContextVar("request_user", default="")


async def test_context_values_do_not_leak_between_requests() -> None:
    """A value a before hook sets in one request is not visible in the next."""
    seen: list[str] = []

    def before(request: Request) -> None:
        if user := request.headers.get("x-user"):
            request_user.set(user)

    async def endpoint(request: None) -> dict[str, str]:
        seen.append(request_user.get())
        return {}

    server = Server(endpoint, nop_decode, json_encoder(), before=[before])
    await call(server, headers=[(b"x-user", b"alice")])
    await call(server)

    assert seen == ["alice", ""]
    assert request_user.get() == ""


async def test_cancelled_request_runs_finalizers_with_status_zero() -> None:
    """A request cancelled mid-endpoint still runs its finalizers, with status 0."""
    statuses: list[int] = []
    started = asyncio.Event()

    async def endpoint(request: None) -> None:
        started.set()
        await asyncio.Event().wait()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        raise AssertionError("nothing is sent for a cancelled request")

    server = Server(
        endpoint,
        nop_decode,
        json_encoder(),
        finalizers=[lambda request, status: statuses.append(status)],
    )
    task = asyncio.create_task(server(http_scope(), receive, send))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert statuses == [0]


async def test_lifespan_is_answered_and_websockets_refused() -> None:
    """The server completes lifespan startup/shutdown and closes WebSocket handshakes."""
    server = Server(nop_endpoint, nop_decode, json_encoder())
    incoming: list[Message] = [
        {"type": "lifespan.startup"},
        {"type": "lifespan.shutdown"},
        {"type": "websocket.connect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await server({"type": "lifespan"}, receive, send)
    await server({"type": "websocket"}, receive, send)

    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
        "websocket.close",
    ]
    incoming[:] = [
        {"type": "lifespan.unknown"},
        {"type": "lifespan.shutdown"},
        {"type": "websocket.disconnect"},
    ]
    await server({"type": "lifespan"}, receive, send)
    await server({"type": "websocket"}, receive, send)
    assert [m["type"] for m in sent[3:]] == ["lifespan.shutdown.complete"]
    with pytest.raises(ValueError, match="unsupported ASGI scope type 'webtransport'"):
        await server({"type": "webtransport"}, receive, send)


def test_constructor_checks_its_arguments() -> None:
    """A negative body limit is refused at construction."""
    with pytest.raises(ValueError, match="max_body_bytes"):
        Server(nop_endpoint, nop_decode, json_encoder(), max_body_bytes=-1)
    assert repr(Server(nop_endpoint, nop_decode, json_encoder())).startswith("Server(<function")


async def test_max_body_bytes_reaches_the_decoder() -> None:
    """The server's body limit is the one decoders see: over it is a 413."""
    server = Server(add, json_decoder(Sum), json_encoder(), max_body_bytes=8)

    reply = await call(server, b'{"a": 1, "b": 2}')

    assert reply.status == 413
    assert reply.header("connection") == "close"
    assert reply.received == 1


IN_PROCESS = Server(
    add, json_decoder(Sum), json_encoder(), methods=("POST", "PUT"), max_body_bytes=64
)


@settings(max_examples=3000, deadline=None)
@given(
    body=st.one_of(st.binary(max_size=200), st.just(b'{"a": 1, "b": 2}')),
    method=st.sampled_from(["POST", "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "BREW"]),
    headers=st.lists(
        st.tuples(
            st.sampled_from([b"content-type", b"content-length", b"x-request-id", b"x-other"]),
            st.binary(max_size=30),
        ),
        max_size=4,
    ),
)
async def test_any_request_in_process_gets_a_4xx_or_a_2xx(
    body: bytes, method: str, headers: list[tuple[bytes, bytes]]
) -> None:
    """T1/T2: any method, body and header values get 200/4xx with a JSON body, never a 5xx."""
    reply = await call(IN_PROCESS, body, method=method, headers=headers)

    assert reply.status in (200, 400, 405, 413, 415), reply.body
    assert reply.header("content-type") == "application/json; charset=utf-8"
    if method != "HEAD":
        document = json.loads(reply.body)
        assert set(document) <= {"v", "error", "request_id"}
