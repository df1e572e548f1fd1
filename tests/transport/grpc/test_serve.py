"""serve: a gRPC server in the caller's loop, graceful stop (T7), signals, start-up failures."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from pygokit.testing import RecordingEndpoint
from pygokit.transport.grpc import Backend, GrpclibServer, Server, new_server, serve
from tests.transport.grpc.harness import (
    ECHO,
    decode_say,
    encode_text,
    raw_call,
    running,
    say_bytes,
    upper,
)

Code = grpc.StatusCode


@dataclass
class Serving:
    """A serve() task, the port it listens on and the event that stops it."""

    task: asyncio.Task[None]
    port: int
    stop: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def serving(
    endpoint: Callable[[str], Any], *, signals: bool = False, **options: Any
) -> AsyncIterator[Serving]:
    """Run serve() for Echo.Say in a task until the block ends (then stop it and wait)."""
    stop = asyncio.Event()
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    services = {ECHO: {"Say": Server(endpoint, decode_say, encode_text)}}
    task = asyncio.create_task(
        serve(
            services,
            port=0,
            stop=None if signals else stop,
            on_listen=lambda host, port: listening.set_result(port),
            **options,
        )
    )
    async with asyncio.timeout(10):
        port = await listening
    running = Serving(task, port, stop)
    try:
        yield running
    finally:
        stop.set()
        if signals:
            task.cancel()
        async with asyncio.timeout(10):
            await asyncio.gather(task, return_exceptions=True)


async def test_serve_answers_until_stopped(backend: Backend) -> None:
    """on_listen learns the port; RPCs are served; setting stop makes serve return."""
    async with serving(upper, backend=backend) as server:
        assert (await raw_call(server.port, say_bytes("a"))).text == "A"
        server.stop.set()
        async with asyncio.timeout(10):
            await server.task


async def test_graceful_stop_finishes_calls_in_flight_and_refuses_new_ones(
    backend: Backend,
) -> None:
    """T7: once stopping, RPCs in flight complete within grace and new ones get UNAVAILABLE."""
    gate = asyncio.Event()
    endpoint = RecordingEndpoint[str, str](then="finished", gate=gate)
    async with serving(endpoint, grace=30, backend=backend) as server:
        in_flight = [asyncio.create_task(raw_call(server.port, say_bytes())) for _ in range(5)]
        await endpoint.wait_for_calls(5)
        server.stop.set()
        await asyncio.sleep(0.2)  # stopping has begun
        late = await raw_call(server.port, say_bytes())
        assert not server.task.done()
        gate.set()
        replies = await asyncio.gather(*in_flight)
        async with asyncio.timeout(10):
            await server.task

    assert [reply.text for reply in replies] == ["finished"] * 5
    assert late.code == Code.UNAVAILABLE


async def test_calls_still_running_after_the_grace_period_are_cut(backend: Backend) -> None:
    """T7: past grace the endpoint is cancelled and the client gets UNAVAILABLE; serve returns."""
    endpoint = RecordingEndpoint[str, str](then="never", gate=asyncio.Event())
    async with serving(endpoint, grace=0.2, backend=backend) as server:
        call = asyncio.create_task(raw_call(server.port, say_bytes()))
        await endpoint.wait_for_calls(1)
        server.stop.set()
        async with asyncio.timeout(10):
            await server.task
            reply = await call

    assert reply.code == Code.UNAVAILABLE
    assert endpoint.in_flight == 0


async def test_sigterm_stops_serve_and_the_handlers_are_restored(backend: Backend) -> None:
    """Without stop=, SIGTERM starts the drain; the previous handler is back afterwards."""
    before = signal.getsignal(signal.SIGTERM)
    async with serving(upper, signals=True, backend=backend) as server:
        assert signal.getsignal(signal.SIGTERM) is not before  # ours is installed: safe to send
        assert (await raw_call(server.port, say_bytes("a"))).text == "A"
        os.kill(os.getpid(), signal.SIGTERM)
        async with asyncio.timeout(10):
            await server.task

    assert signal.getsignal(signal.SIGTERM) is before


async def test_a_second_signal_skips_the_drain(backend: Backend) -> None:
    """A second SIGINT while draining cuts the calls in flight at once."""
    endpoint = RecordingEndpoint[str, str](then="never", gate=asyncio.Event())
    async with serving(endpoint, signals=True, grace=60, backend=backend) as server:
        call = asyncio.create_task(raw_call(server.port, say_bytes()))
        await endpoint.wait_for_calls(1)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.2)
        assert not server.task.done()  # draining, for up to 60 s
        os.kill(os.getpid(), signal.SIGINT)
        async with asyncio.timeout(10):
            await server.task

    assert (await call).code == Code.UNAVAILABLE


async def test_cancelling_serve_stops_the_server_at_once(backend: Backend) -> None:
    """Cancelling the serve task stops the server immediately and re-raises the cancellation."""
    endpoint = RecordingEndpoint[str, str](then="never", gate=asyncio.Event())
    async with serving(endpoint, grace=60, backend=backend) as server:
        call = asyncio.create_task(raw_call(server.port, say_bytes()))
        await endpoint.wait_for_calls(1)
        server.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            async with asyncio.timeout(10):
                await server.task

    assert (await call).code == Code.UNAVAILABLE


@pytest.mark.parametrize("steps", [0, 1, 2, 5])
async def test_cancelling_serve_while_it_starts_leaves_no_stray_error(
    steps: int, backend: Backend
) -> None:
    """Cancelled during start-up, serve still stops the server cleanly: no unretrieved error."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        services = {ECHO: {"Say": Server(upper, decode_say, encode_text)}}
        task = asyncio.create_task(serve(services, port=0, stop=asyncio.Event(), backend=backend))
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.2)  # grpcio's own shutdown tasks run and settle
    finally:
        loop.set_exception_handler(None)
    assert reported == []


async def test_a_server_built_by_hand_is_served_and_may_be_stopped_by_its_owner(
    backend: Backend,
) -> None:
    """serve takes a ready grpc.aio.Server or GrpclibServer; if its owner stops it, it returns."""
    services = {ECHO: {"Say": Server(upper, decode_say, encode_text)}}
    grpc_server = GrpclibServer(services) if backend == "grpclib" else new_server(services)
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            grpc_server,
            port=0,
            stop=asyncio.Event(),
            on_listen=lambda h, p: listening.set_result(p),
        )
    )
    port = await listening
    assert (await raw_call(port, say_bytes("b"))).text == "B"

    await grpc_server.stop(None)
    async with asyncio.timeout(10):
        await task


async def test_limits_given_to_serve_apply(backend: Backend) -> None:
    """max_message_bytes passed to serve reaches the server it builds."""
    async with serving(
        upper, max_message_bytes=512, max_concurrent_rpcs=8, backend=backend
    ) as server:
        reply = await raw_call(server.port, say_bytes("x" * 1024))

    assert reply.code == Code.RESOURCE_EXHAUSTED


async def test_a_taken_port_is_an_os_error(backend: Backend) -> None:
    """Binding a port another server holds raises OSError before serving."""
    async with running({}, backend=backend) as port:
        with pytest.raises(OSError, match="is the port taken"):
            await serve({}, port=port, stop=asyncio.Event(), backend=backend)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"grace": -1}, "grace"),
        ({"max_message_bytes": 10}, "new_server"),
        ({"max_concurrent_rpcs": 10}, "new_server"),
    ],
)
async def test_bad_arguments_are_value_errors(
    options: dict[str, Any], match: str, backend: Backend
) -> None:
    """A negative grace, or limits along with a server built by hand, are refused."""
    server = GrpclibServer() if backend == "grpclib" else new_server()
    with pytest.raises(ValueError, match=match):
        await serve(server, port=0, stop=asyncio.Event(), **options)


async def test_a_stop_already_set_serves_nothing_and_returns(backend: Backend) -> None:
    """With stop set before serving (and no on_listen), serve starts, drains and returns."""
    stop = asyncio.Event()
    stop.set()
    async with asyncio.timeout(10):
        await serve({}, port=0, stop=stop, backend=backend)


def test_outside_the_main_thread_serve_runs_without_signal_handlers(backend: Backend) -> None:
    """Signals can only be handled in the main thread; elsewhere serve runs until cancelled."""
    before = signal.getsignal(signal.SIGTERM)
    outcome: list[str] = []

    async def in_thread() -> None:
        listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            serve({}, port=0, on_listen=lambda h, p: listening.set_result(p), backend=backend)
        )
        await listening
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            outcome.append("cancelled")

    thread = threading.Thread(target=asyncio.run, args=(in_thread(),))
    thread.start()
    thread.join(timeout=30)

    assert outcome == ["cancelled"]
    assert signal.getsignal(signal.SIGTERM) is before
