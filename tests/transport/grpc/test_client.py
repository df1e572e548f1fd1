"""The gRPC Client: an endpoint over a real channel, hooks, error mapping, deadlines, reconnects."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from pygokit.testing import RecordingEndpoint
from pygokit.transport.grpc import (
    Backend,
    Client,
    InvalidReply,
    RPCDeadlineExceeded,
    RPCError,
    RPCUnavailable,
    Server,
    StatusError,
    UnsafeMetadata,
    rpc_timeout,
    set_request_header,
    set_response_header,
    set_response_trailer,
)
from pygokit.transport.grpc import context as grpc_context
from tests.transport.grpc.harness import (
    FAST_RECONNECT,
    channel,
    decode_say,
    decode_shout,
    encode_say,
    encode_text,
    running,
    upper,
)
from tests.transport.grpc.pb.grpctest_pb2 import SayReply, SayRequest, Strict

Code = grpc.StatusCode


def say_client(opened: grpc.aio.Channel, **options: Any) -> Client[str, str]:
    """A client of Echo.Say that sends and returns text."""
    return Client(
        opened, "pygokit.grpctest.Echo", "Say", encode_say, decode_shout, SayReply, **options
    )


async def test_a_client_is_an_endpoint(backend: Backend) -> None:
    """Awaiting the client calls the remote method and returns the decoded reply."""
    async with (
        running({"Say": Server(upper, decode_say, encode_text)}, backend=backend) as port,
        channel(port) as ch,
    ):
        client = say_client(ch)
        assert await client("hello") == "HELLO"
        assert client.method == "/pygokit.grpctest.Echo/Say"
        assert repr(client) == "Client('/pygokit.grpctest.Echo/Say')"


async def test_metadata_travels_both_ways(backend: Backend) -> None:
    """before hooks write request metadata; after hooks read the response header and trailer."""
    seen: list[object] = []
    got: list[tuple[object, object, object]] = []
    server = Server(
        upper,
        decode_say,
        encode_text,
        before=[lambda md: seen.extend((md.get("x-tenant"), md.get("x-key-bin")))],
        after=[
            set_response_header("x-served-by", "s1"),
            set_response_trailer("x-cost-bin", b"\x07"),
        ],
    )
    async with running({"Say": server}, backend=backend) as port, channel(port) as ch:
        client = say_client(
            ch,
            before=[
                set_request_header("X-Tenant", "acme"),
                set_request_header("x-key-bin", b"\x00"),
            ],
            after=[
                lambda h, t: got.append(
                    (h.get("x-served-by"), t.get("x-cost-bin"), t.get("x-tenant"))
                )
            ],
        )
        assert await client("a") == "A"

    assert seen == ["acme", b"\x00"]
    assert got == [("s1", b"\x07", None)]


async def test_unsafe_outgoing_metadata_is_refused_before_the_call(backend: Backend) -> None:
    """S5: a before hook adding CR/LF raises UnsafeMetadata and the server is never called."""
    endpoint = RecordingEndpoint[str, str](then="x")
    async with (
        running({"Say": Server(endpoint, decode_say, encode_text)}, backend=backend) as port,
        channel(port) as ch,
    ):
        client = say_client(ch, before=[lambda md: md.add("x-note", "a\r\nb")])
        with pytest.raises(UnsafeMetadata, match="x-note"):
            await client("a")

    assert endpoint.calls == 0


async def test_an_error_status_becomes_an_rpc_error_with_the_code_and_metadata(
    backend: Backend,
) -> None:
    """A non-OK status raises RPCError carrying code, details, method and trailers."""
    endpoint = RecordingEndpoint[str, str](then=StatusError(Code.NOT_FOUND, "no such text"))
    async with (
        running({"Say": Server(endpoint, decode_say, encode_text)}, backend=backend) as port,
        channel(port) as ch,
    ):
        with pytest.raises(RPCError) as raised:
            await say_client(ch)("a")

    error = raised.value
    assert (error.code, error.details, error.method) == (
        Code.NOT_FOUND,
        "no such text",
        "/pygokit.grpctest.Echo/Say",
    )
    assert str(error) == "/pygokit.grpctest.Echo/Say failed with NOT_FOUND: no such text"
    assert error.trailing_metadata["x-request-id"]
    assert isinstance(error.__cause__, grpc.aio.AioRpcError)


async def test_unavailable_is_a_connection_error(backend: Backend) -> None:
    """UNAVAILABLE (nothing listening) raises RPCUnavailable, a ConnectionError, at once."""
    async with running({}, backend=backend) as port:
        pass  # the port is free again
    async with channel(port) as ch:
        with pytest.raises(RPCUnavailable) as raised:
            await say_client(ch)("a")

    assert isinstance(raised.value, ConnectionError)
    assert raised.value.code == Code.UNAVAILABLE


async def test_the_client_timeout_bounds_the_call(backend: Backend) -> None:
    """timeout= is the RPC deadline: a slow server gives RPCDeadlineExceeded, a TimeoutError."""
    gate = asyncio.Event()
    endpoint = RecordingEndpoint[str, str](then="late", gate=gate)
    async with (
        running({"Say": Server(endpoint, decode_say, encode_text)}, backend=backend) as port,
        channel(port) as ch,
    ):
        with pytest.raises(RPCDeadlineExceeded) as raised:
            await say_client(ch, timeout=0.2)("a")
        gate.set()

    assert isinstance(raised.value, TimeoutError)
    assert raised.value.code == Code.DEADLINE_EXCEEDED


async def test_the_deadline_propagates_through_a_chain_of_services(backend: Backend) -> None:
    """R11: the caller's rpc_timeout reaches the first server, and what is left the second."""
    remaining: dict[str, float | None] = {}

    async def back(text: str) -> str:
        remaining["back"] = grpc_context.time_remaining()
        return text.upper()

    back_server = Server(back, decode_say, encode_text)
    async with (
        running({"Shout": back_server}, backend=backend) as back_port,
        channel(back_port) as to_back,
    ):
        shout = Client(
            to_back, "pygokit.grpctest.Echo", "Shout", encode_say, decode_shout, SayReply
        )

        async def front(text: str) -> str:
            remaining["front"] = grpc_context.time_remaining()
            await asyncio.sleep(0.05)
            return await shout(text)

        front_server = Server(front, decode_say, encode_text)
        async with (
            running({"Say": front_server}, backend=backend) as port,
            channel(port) as ch,
            rpc_timeout(5),
        ):
            assert await say_client(ch)("a") == "A"

    front_left, back_left = remaining["front"], remaining["back"]
    assert front_left is not None
    assert back_left is not None
    assert 0 < front_left <= 5 * 1.01  # gRPC's core rounds a timeout up on the wire, < 1%
    assert 0 < back_left <= (front_left - 0.05) * 1.01


async def test_the_shorter_of_timeout_and_deadline_wins(backend: Backend) -> None:
    """With both a client timeout and a deadline, the RPC gets the shorter."""
    seen: list[float | None] = []

    async def endpoint(text: str) -> str:
        seen.append(grpc_context.time_remaining())
        return text

    async with (
        running({"Say": Server(endpoint, decode_say, encode_text)}, backend=backend) as port,
        channel(port) as ch,
    ):
        async with rpc_timeout(30):
            await say_client(ch, timeout=2)("a")
        async with rpc_timeout(2):
            await say_client(ch, timeout=30)("a")

    assert all(left is not None and 0 < left <= 2 * 1.01 for left in seen)


async def test_an_expired_deadline_makes_no_call(backend: Backend) -> None:
    """R11: once the deadline has passed, the client raises without calling the server."""
    endpoint = RecordingEndpoint[str, str](then="x")
    async with (
        running({"Say": Server(endpoint, decode_say, encode_text)}, backend=backend) as port,
        channel(port) as ch,
    ):
        with pytest.raises(RPCDeadlineExceeded, match="not called"):
            async with rpc_timeout(0):
                await say_client(ch)("a")

    assert endpoint.calls == 0


async def test_cancelling_the_caller_cancels_the_rpc(backend: Backend) -> None:
    """Cancellation passes through unwrapped and reaches the server's endpoint."""
    gate = asyncio.Event()
    endpoint = RecordingEndpoint[str, str](then="late", gate=gate)
    cancelled = asyncio.Event()

    def note(code: Code, error: BaseException | None) -> None:
        if code == Code.CANCELLED:
            cancelled.set()

    server = Server(endpoint, decode_say, encode_text, finalizers=[note])
    async with running({"Say": server}, backend=backend) as port, channel(port) as ch:
        call = asyncio.create_task(say_client(ch)("a"))
        await endpoint.wait_for_calls(1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        async with asyncio.timeout(10):
            await cancelled.wait()


async def test_finalizers_see_the_code_and_error_of_every_call(backend: Backend) -> None:
    """Client finalizers get OK, the received code, CANCELLED, or INTERNAL for local failures."""
    seen: list[tuple[Code, str]] = []
    holding = asyncio.Event()

    def record(code: Code, error: BaseException | None) -> None:
        seen.append((code, type(error).__name__))

    async def endpoint(text: str) -> str:
        if text == "abort":
            raise StatusError(Code.ABORTED, "no")
        if text == "hold":
            holding.set()
            await asyncio.Event().wait()
        return text

    async with (
        running({"Say": Server(endpoint, decode_say, encode_text)}, backend=backend) as port,
        channel(port) as ch,
    ):
        client = say_client(ch, finalizers=[record])
        await client("ok")
        with pytest.raises(RPCError):
            await client("abort")
        not_a_message = Client(
            ch, "pygokit.grpctest.Echo", "Say", str, decode_shout, SayReply, finalizers=[record]
        )
        with pytest.raises(TypeError, match="not a message"):
            await not_a_message("a")
        call = asyncio.create_task(client("hold"))
        await holding.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    assert seen == [
        (Code.OK, "NoneType"),
        (Code.ABORTED, "RPCError"),
        (Code.INTERNAL, "TypeError"),
        (Code.CANCELLED, "CancelledError"),
    ]


async def test_reply_bytes_of_the_wrong_type_are_an_invalid_reply(backend: Backend) -> None:
    """A reply that does not parse as the reply type raises InvalidReply naming both."""

    def blob(text: str) -> SayReply:
        return SayReply(text=text, blob=b"\xff\xfe")  # not UTF-8: a Strict cannot parse it

    async with (
        running({"Say": Server(upper, decode_say, blob)}, backend=backend) as port,
        channel(port) as ch,
    ):
        client = Client(
            ch, "pygokit.grpctest.Echo", "Say", encode_say, lambda reply: reply.text, Strict
        )
        with pytest.raises(InvalidReply, match=r"not a pygokit\.grpctest\.Strict"):
            await client("a")


@pytest.mark.parametrize(
    ("service", "method", "limit", "match"),
    [
        ("", "Say", None, "service"),
        ("a/b", "Say", None, "service"),
        ("svc", "", None, "method"),
        ("svc", "Say", 0, "timeout"),
        ("svc", "Say", -1.0, "timeout"),
    ],
)
async def test_bad_arguments_fail_at_construction(
    service: str, method: str, limit: float | None, match: str
) -> None:
    """Empty or slashed names and a non-positive timeout raise ValueError before any call."""
    async with channel(1) as ch:
        with pytest.raises(ValueError, match=match):
            Client(ch, service, method, encode_say, decode_shout, SayReply, timeout=limit)


async def test_the_client_reconnects_after_the_server_restarts_on_the_same_port(
    backend: Backend,
) -> None:
    """F3: after the server stops and starts again on its port, calls succeed again."""
    handlers = {"Say": Server(upper, decode_say, encode_text)}
    async with running({}, backend=backend) as port:
        pass  # a free port to restart on
    async with channel(port, *FAST_RECONNECT) as ch:
        client = say_client(ch, timeout=10)
        async with running(handlers, port=port, backend=backend):
            assert await client("one") == "ONE"
        with pytest.raises(RPCUnavailable):
            await client("down")
        async with running(handlers, port=port, backend=backend):
            assert await say_client(ch, timeout=10, wait_for_ready=True)("two") == "TWO"
            assert await client("three") == "THREE"


async def test_wait_for_ready_waits_for_the_server_within_the_deadline(backend: Backend) -> None:
    """With wait_for_ready, a call made before the server is up succeeds once it is."""
    async with running({}, backend=backend) as port:
        pass
    async with channel(port, *FAST_RECONNECT) as ch:
        call = asyncio.create_task(say_client(ch, timeout=10, wait_for_ready=True)("early"))
        await asyncio.sleep(0.2)
        assert not call.done()
        async with running(
            {"Say": Server(upper, decode_say, encode_text)}, port=port, backend=backend
        ):
            assert await call == "EARLY"


def test_request_message_type_is_what_the_encoder_builds() -> None:
    """The test encoder builds SayRequest messages (a sanity check of the harness)."""
    assert isinstance(encode_say("a"), SayRequest)
