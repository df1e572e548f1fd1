"""The gRPC Server: hooks, metadata both ways, finalizers, context, cancellation and deadlines."""

from __future__ import annotations

import asyncio
import contextvars

import grpc
import pytest

from pygokit.testing import CapturingLogger, RecordingEndpoint
from pygokit.transport import LogErrorHandler
from pygokit.transport.grpc import (
    Backend,
    Server,
    set_response_header,
    set_response_trailer,
)
from pygokit.transport.grpc import context as grpc_context
from tests.transport.grpc.harness import (
    decode_say,
    encode_text,
    raw_call,
    running,
    say_bytes,
    upper,
)
from tests.transport.grpc.pb.grpctest_pb2 import SayReply, SayRequest


async def test_a_unary_call_is_decoded_served_and_encoded(backend: Backend) -> None:
    """The request message reaches the endpoint decoded, and its result comes back encoded."""
    async with running({"Say": Server(upper, decode_say, encode_text)}, backend=backend) as port:
        reply = await raw_call(port, say_bytes("hello"))

    assert reply.code == grpc.StatusCode.OK
    assert reply.text == "HELLO"


async def test_hooks_run_in_go_kits_order(backend: Backend) -> None:
    """before (metadata in), decode, endpoint, after (metadata out), encode, finalizer."""
    order: list[str] = []

    def decode(message: SayRequest) -> str:
        order.append("decode")
        return message.text

    async def endpoint(text: str) -> str:
        order.append("endpoint")
        return text

    def encode(text: str) -> SayReply:
        order.append("encode")
        return SayReply(text=text)

    server = Server(
        endpoint,
        decode,
        encode,
        before=[lambda md: order.append("before 1"), lambda md: order.append("before 2")],
        after=[lambda h, t: order.append("after 1"), lambda h, t: order.append("after 2")],
        finalizers=[lambda code, error: order.append(f"finalizer {code.name} {error}")],
    )
    async with running({"Say": server}, backend=backend) as port:
        await raw_call(port, say_bytes())

    assert order == [
        "before 1",
        "before 2",
        "decode",
        "endpoint",
        "after 1",
        "after 2",
        "encode",
        "finalizer OK None",
    ]


async def test_before_hooks_read_incoming_metadata_into_context_variables(backend: Backend) -> None:
    """A before hook sees the client's metadata (binary values as bytes) and sets a context var."""
    tenant: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="")
    seen: list[object] = []

    def read(metadata: grpc.aio.Metadata) -> None:
        tenant.set(str(metadata.get("x-tenant", "")))
        seen.append(metadata.get("x-token-bin"))

    async def endpoint(text: str) -> str:
        return f"{text} for {tenant.get()}"

    async with running(
        {"Say": Server(endpoint, decode_say, encode_text, before=[read])}, backend=backend
    ) as port:
        reply = await raw_call(
            port, say_bytes("hi"), metadata=[("x-tenant", "acme"), ("x-token-bin", b"\x00\xff")]
        )

    assert reply.text == "hi for acme"
    assert seen == [b"\x00\xff"]


async def test_after_hooks_write_response_headers_and_trailers(backend: Backend) -> None:
    """Headers and trailers added by after hooks arrive; a -bin value arrives as the same bytes."""
    server = Server(
        upper,
        decode_say,
        encode_text,
        after=[
            set_response_header("X-Served-By", "unit-1"),
            set_response_header("x-digest-bin", b"\x01\x02\xff"),
            set_response_trailer("x-cost", "3"),
        ],
    )
    async with running({"Say": server}, backend=backend) as port:
        reply = await raw_call(port, say_bytes())

    assert reply.header["x-served-by"] == "unit-1"
    assert reply.header["x-digest-bin"] == b"\x01\x02\xff"
    assert reply.trailer["x-cost"] == "3"
    assert reply.header.get("x-cost") is None


async def test_unsafe_metadata_from_an_after_hook_is_refused_not_sent(backend: Backend) -> None:
    """S5: a trailer value with CR/LF fails the call as INTERNAL; it never reaches the wire."""
    logger = CapturingLogger()

    def inject(header: grpc.aio.Metadata, trailer: grpc.aio.Metadata) -> None:
        trailer.add("x-note", "ok\r\nx-admin: yes")

    server = Server(
        upper, decode_say, encode_text, after=[inject], error_handler=LogErrorHandler(logger)
    )
    async with running({"Say": server}, backend=backend) as port:
        reply = await raw_call(port, say_bytes())

    assert reply.code == grpc.StatusCode.INTERNAL
    assert reply.trailer.get("x-note") is None
    assert reply.trailer.get("x-admin") is None
    assert "printable ASCII" in str(logger.events[0]["err"])


async def test_the_method_and_the_deadline_are_in_context_variables(backend: Backend) -> None:
    """The handler sets request_method and, from the RPC's deadline, context.deadline."""
    seen: list[object] = []

    async def endpoint(text: str) -> str:
        seen.append(grpc_context.request_method.get())
        seen.append(grpc_context.time_remaining())
        return text

    async with running({"Say": Server(endpoint, decode_say, encode_text)}, backend=backend) as port:
        await raw_call(port, say_bytes(), deadline=30)
        await raw_call(port, say_bytes(), deadline=None)

    method, remaining, _, no_deadline = seen
    assert method == "/pygokit.grpctest.Echo/Say"
    assert isinstance(remaining, float)
    assert 0 < remaining <= 30 * 1.01  # gRPC's core rounds a timeout up on the wire, < 1%
    assert no_deadline is None


async def test_context_variables_do_not_leak_between_concurrent_requests(backend: Backend) -> None:
    """Each RPC runs in its own context: a value one request sets is unseen by the others."""
    mark: contextvars.ContextVar[str] = contextvars.ContextVar("mark", default="")
    release = asyncio.Event()
    arrived = 0

    async def endpoint(text: str) -> str:
        nonlocal arrived
        before = mark.get()
        mark.set(text)
        arrived += 1
        if arrived == 5:
            release.set()
        await release.wait()
        return f"{before}|{mark.get()}"

    async with running({"Say": Server(endpoint, decode_say, encode_text)}, backend=backend) as port:
        replies = await asyncio.gather(*(raw_call(port, say_bytes(str(i))) for i in range(5)))

    assert sorted(reply.text for reply in replies) == [f"|{i}" for i in range(5)]


async def test_bytes_that_are_not_the_request_message_are_invalid_argument(
    backend: Backend,
) -> None:
    """Garbage is INVALID_ARGUMENT naming the type, not grpcio's UNKNOWN with the parser's text."""
    endpoint = RecordingEndpoint[str, str](then="never")
    async with running({"Say": Server(endpoint, decode_say, encode_text)}, backend=backend) as port:
        reply = await raw_call(port, b"\xff\xff\xff\xff")

    assert reply.code == grpc.StatusCode.INVALID_ARGUMENT
    assert reply.details == "the request is not a valid pygokit.grpctest.SayRequest"
    assert endpoint.calls == 0


async def test_an_encoder_returning_the_wrong_message_is_an_internal_error(
    backend: Backend,
) -> None:
    """A reply of the wrong type is caught before it is sent, and the handler learns why."""
    logger = CapturingLogger()

    def wrong(text: str) -> SayRequest:
        return SayRequest(text=text)

    server = Server(upper, decode_say, wrong, error_handler=LogErrorHandler(logger))
    async with running({"Say": server}, backend=backend) as port:
        reply = await raw_call(port, say_bytes())

    assert reply.code == grpc.StatusCode.INTERNAL
    assert str(logger.events[0]["err"]) == "the encoder returned SayRequest, not SayReply"


async def test_finalizers_see_the_code_and_error_and_their_own_errors_are_reported(
    backend: Backend,
) -> None:
    """A finalizer gets (code, error); one that raises is reported and the next still runs."""
    logger = CapturingLogger()
    seen: list[tuple[grpc.StatusCode, BaseException | None]] = []
    boom = RuntimeError("finalizer broke")

    def broken(code: grpc.StatusCode, error: BaseException | None) -> None:
        raise boom

    failing = RuntimeError("endpoint broke")
    endpoint = RecordingEndpoint[str, str](failing, then="fine")
    server = Server(
        endpoint,
        decode_say,
        encode_text,
        finalizers=[broken, lambda code, error: seen.append((code, error))],
        error_handler=LogErrorHandler(logger),
    )
    async with running({"Say": server}, backend=backend) as port:
        first = await raw_call(port, say_bytes())
        second = await raw_call(port, say_bytes())

    assert (first.code, second.code) == (grpc.StatusCode.INTERNAL, grpc.StatusCode.OK)
    assert seen == [(grpc.StatusCode.INTERNAL, failing), (grpc.StatusCode.OK, None)]
    assert [event["err"] for event in logger.events] == [failing, boom, boom]


async def test_a_failing_error_handler_does_not_break_the_error_status(backend: Backend) -> None:
    """An error handler that raises is ignored; the client still gets the generic status."""

    class Broken:
        def handle(self, error: Exception) -> None:
            raise RuntimeError("handler broke")

    endpoint = RecordingEndpoint[str, str](then=ValueError("secret-XYZ"))
    async with running(
        {"Say": Server(endpoint, decode_say, encode_text, error_handler=Broken())}, backend=backend
    ) as port:
        reply = await raw_call(port, say_bytes())

    assert reply.code == grpc.StatusCode.INTERNAL
    assert "secret" not in reply.details


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [(None, grpc.StatusCode.CANCELLED), (0.3, grpc.StatusCode.DEADLINE_EXCEEDED)],
)
async def test_a_cut_short_rpc_cancels_the_endpoint_and_finalizers_say_why(
    deadline: float | None, expected: grpc.StatusCode, backend: Backend
) -> None:
    """The client cancelling, or the deadline passing, cancels the endpoint's task."""
    gate = asyncio.Event()
    endpoint = RecordingEndpoint[str, str](then="late", gate=gate)
    finalized: asyncio.Future[tuple[grpc.StatusCode, BaseException | None]] = (
        asyncio.get_running_loop().create_future()
    )
    server = Server(
        endpoint,
        decode_say,
        encode_text,
        finalizers=[lambda code, error: finalized.set_result((code, error))],
    )
    async with running({"Say": server}, backend=backend) as port:
        call = asyncio.create_task(raw_call(port, say_bytes(), deadline=deadline))
        await endpoint.wait_for_calls(1)
        if deadline is None:
            call.cancel()
        async with asyncio.timeout(10):
            code, error = await finalized

    assert code == expected
    assert isinstance(error, asyncio.CancelledError)
    assert endpoint.in_flight == 0
    if deadline is not None:
        assert (await call).code == grpc.StatusCode.DEADLINE_EXCEEDED
