"""register, new_server and Interceptor: services from descriptors, limits, the method context."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from pygokit.testing import RecordingEndpoint
from pygokit.transport.grpc import (
    DEFAULT_MAX_MESSAGE_BYTES,
    Backend,
    Interceptor,
    Server,
    new_server,
    register,
)
from pygokit.transport.grpc import context as grpc_context
from tests.transport.grpc.harness import (
    ECHO,
    decode_say,
    encode_text,
    raw_call,
    running,
    say_bytes,
    upper,
)
from tests.transport.grpc.pb.grpctest_pb2 import SayReply, SayRequest

Code = grpc.StatusCode


async def test_register_serves_several_methods_of_a_service(backend: Backend) -> None:
    """Each method name gets its own handler; a method without one is UNIMPLEMENTED."""

    async def lower(text: str) -> str:
        return text.lower()

    async with running(
        {
            "Say": Server(lower, decode_say, encode_text),
            "Shout": Server(upper, decode_say, encode_text),
        },
        backend=backend,
    ) as port:
        said = await raw_call(port, say_bytes("Hi"))
        shouted = await raw_call(port, say_bytes("Hi"), method="/pygokit.grpctest.Echo/Shout")
        missing = await raw_call(port, say_bytes(), method="/pygokit.grpctest.Echo/Whisper")

    assert (said.text, shouted.text) == ("hi", "HI")
    assert missing.code == Code.UNIMPLEMENTED


async def test_register_refuses_unknown_and_streaming_methods() -> None:
    """A name the service lacks, or a streaming method, is a ValueError naming it."""
    server = new_server()
    handler = Server(upper, decode_say, encode_text)

    with pytest.raises(ValueError, match=r"has no method 'Whisper'; it has Listen, Say, Shout"):
        register(server, ECHO, {"Whisper": handler})
    with pytest.raises(ValueError, match="Listen streams"):
        register(server, ECHO, {"Listen": handler})


@pytest.mark.parametrize(
    ("limits", "match"),
    [
        ({"max_message_bytes": 0}, "max_message_bytes"),
        ({"max_concurrent_rpcs": 0}, "max_concurrent_rpcs"),
    ],
)
def test_new_server_refuses_non_positive_limits(limits: dict[str, Any], match: str) -> None:
    """Limits must be positive."""
    with pytest.raises(ValueError, match=match):
        new_server(**limits)


async def test_an_oversized_message_is_resource_exhausted_and_the_server_stays_up(
    backend: Backend,
) -> None:
    """T8: a request over max_message_bytes is refused before the handler; the next call works."""
    endpoint = RecordingEndpoint[str, str](then="ok")
    async with running(
        {"Say": Server(endpoint, decode_say, encode_text)}, max_message_bytes=1024, backend=backend
    ) as port:
        big = await raw_call(port, say_bytes("x" * 2048))
        small = await raw_call(port, say_bytes("x"))

    assert big.code == Code.RESOURCE_EXHAUSTED
    assert (small.code, small.text) == (Code.OK, "ok")
    assert endpoint.calls == 1


async def test_an_oversized_reply_is_resource_exhausted(backend: Backend) -> None:
    """A reply over the limit is refused too, instead of being sent."""

    async def bloat(text: str) -> str:
        return text * 4096

    async with running(
        {"Say": Server(bloat, decode_say, encode_text)}, max_message_bytes=1024, backend=backend
    ) as port:
        reply = await raw_call(port, say_bytes("x"))

    assert reply.code == Code.RESOURCE_EXHAUSTED


def test_the_default_message_limit_is_grpcs() -> None:
    """4 MiB, as gRPC's own default."""
    assert DEFAULT_MAX_MESSAGE_BYTES == 4 * 1024 * 1024


async def test_excess_concurrent_rpcs_are_rejected_at_once(backend: Backend) -> None:
    """T6: with max_concurrent_rpcs=N, 3N blocked calls give N in flight and 2N fast rejections."""
    limit = 4
    gate = asyncio.Event()
    endpoint = RecordingEndpoint[str, str](then="done", gate=gate)
    async with running(
        {"Say": Server(endpoint, decode_say, encode_text)},
        max_concurrent_rpcs=limit,
        backend=backend,
    ) as port:
        calls = [asyncio.create_task(raw_call(port, say_bytes())) for _ in range(3 * limit)]
        await endpoint.wait_for_calls(limit)
        rejected = []
        for finished in asyncio.as_completed(calls, timeout=10):  # answered while the gate is shut
            rejected.append(await finished)
            if len(rejected) == 2 * limit:
                break
        assert endpoint.in_flight == limit
        gate.set()
        replies = await asyncio.gather(*calls)

    codes = [reply.code for reply in replies]
    assert codes.count(Code.OK) == limit
    assert codes.count(Code.RESOURCE_EXHAUSTED) == 2 * limit
    assert all(reply.code == Code.RESOURCE_EXHAUSTED for reply in rejected)
    assert rejected[0].details == "Concurrent RPC limit exceeded!"


async def test_the_interceptor_records_the_method_for_any_handler() -> None:
    """Go kit's Interceptor: the full method is in context.request_method, even for raw handlers."""
    seen: list[str] = []

    async def raw(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        seen.append(grpc_context.request_method.get())
        return request

    server = new_server(interceptors=[Interceptor()])
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "raw.Svc", {"Do": grpc.unary_unary_rpc_method_handler(raw)}
            )
        ]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        reply = await raw_call(port, b"abc", method="/raw.Svc/Do")
    finally:
        await server.stop(None)

    assert reply.body == b"abc"
    assert seen == ["/raw.Svc/Do"]
    assert repr(Interceptor()) == "Interceptor()"


async def test_a_taken_port_cannot_be_shared() -> None:
    """SO_REUSEPORT is off: a second server cannot bind the port the first one holds."""
    async with running({}) as port:
        second = new_server()
        with pytest.raises(RuntimeError):
            second.add_insecure_port(f"127.0.0.1:{port}")


async def test_a_method_handler_built_by_hand_serves_without_a_method_name() -> None:
    """Server.method_handler works in a generic handler of one's own; no name, no request_method."""
    seen: list[str] = []

    async def endpoint(text: str) -> str:
        seen.append(grpc_context.request_method.get())
        return text

    handler = Server(endpoint, decode_say, encode_text)
    server = new_server()
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "pygokit.grpctest.Echo", {"Say": handler.method_handler(SayRequest, SayReply)}
            )
        ]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        reply = await raw_call(port, say_bytes("a"))
    finally:
        await server.stop(None)

    assert reply.text == "a"
    assert seen == [""]
    assert repr(handler) == f"Server({endpoint!r})"
