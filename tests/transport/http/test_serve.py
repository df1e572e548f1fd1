"""serve: uvicorn in the caller's loop, graceful shutdown (T7), signals, start-up failures."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from pygokit._asgi import Receive, Scope, Send
from pygokit.transport.http import Request, Server, json_encoder, serve


@dataclass
class Slow:
    """An endpoint that takes *delay* seconds (forever if None) and counts arrivals."""

    delay: float | None
    arrived: int = 0
    finished: int = 0
    everyone: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 1

    async def __call__(self, request: None) -> dict[str, str]:
        self.arrived += 1
        if self.arrived >= self.expected:
            self.everyone.set()
        if self.delay is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(self.delay)
        self.finished += 1
        return {"ok": "yes"}


async def no_body(request: Request) -> None:
    return None


@dataclass
class Running:
    port: int
    stop: asyncio.Event
    task: asyncio.Task[None]


@asynccontextmanager
async def running(app: Any, **options: Any) -> AsyncIterator[Running]:
    """Run serve(app) on a free port in this loop; stop it on the way out."""
    stop = asyncio.Event()
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            app,
            port=0,
            stop=stop,
            on_listen=lambda host, port: listening.set_result(port),
            **options,
        )
    )
    try:
        async with asyncio.timeout(10):
            port = await listening
        yield Running(port, stop, task)
    finally:
        stop.set()
        async with asyncio.timeout(20):
            await task


async def get(port: int, path: str = "/") -> int | None:
    """Send one GET and return the status, or None if the connection closed without one."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        line = await reader.readline()
        return int(line.split()[1]) if line else None
    finally:
        writer.close()


async def refused(port: int) -> bool:
    """Whether a new connection to *port* is refused."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


async def test_graceful_shutdown_finishes_requests_in_flight() -> None:
    """T7: with 50 requests in flight, stop refuses new connections and all 50 complete."""
    slow = Slow(delay=1.0, expected=50)
    grace = 5.0
    async with running(Server(slow, no_body, json_encoder()), grace=grace) as server:
        clients = [asyncio.create_task(get(server.port)) for _ in range(50)]
        async with asyncio.timeout(10):
            await slow.everyone.wait()
        stopped_at = time.monotonic()
        server.stop.set()
        await asyncio.sleep(0.3)  # uvicorn notices should_exit within 0.1 s
        assert await refused(server.port)
        statuses = await asyncio.gather(*clients)
        await server.task
        elapsed = time.monotonic() - stopped_at

    assert statuses == [200] * 50
    assert slow.finished == 50
    assert elapsed < grace + 1


async def test_requests_past_the_grace_period_are_cancelled() -> None:
    """T7: a request that outlives the grace period is cancelled; serve returns by grace + 1 s."""
    statuses: list[int] = []
    slow = Slow(delay=None)
    server = Server(
        slow, no_body, json_encoder(), finalizers=[lambda request, status: statuses.append(status)]
    )
    async with running(server, grace=0.5) as serving:
        client = asyncio.create_task(get(serving.port))
        async with asyncio.timeout(5):
            await slow.everyone.wait()
        stopped_at = time.monotonic()
        serving.stop.set()
        await serving.task
        elapsed = time.monotonic() - stopped_at

    assert elapsed < 0.5 + 1
    assert statuses == [0]  # the finalizer ran, with nothing sent
    assert await client in (500, None)  # uvicorn answers a cancelled request with 500


async def test_signals_stop_serve_and_are_restored() -> None:
    """Without stop=, SIGTERM starts the drain; the previous handler is back afterwards."""
    before = signal.getsignal(signal.SIGTERM)
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    app = Server(Slow(delay=0), no_body, json_encoder())
    task = asyncio.create_task(serve(app, port=0, on_listen=lambda h, p: listening.set_result(p)))
    port = await listening
    assert signal.getsignal(signal.SIGTERM) is not before  # ours is installed: safe to send
    assert await get(port) == 200

    os.kill(os.getpid(), signal.SIGTERM)
    async with asyncio.timeout(5):
        await task

    assert signal.getsignal(signal.SIGTERM) is before


async def test_a_second_signal_skips_the_drain() -> None:
    """A second SIGINT while draining stops waiting for requests in flight."""
    slow = Slow(delay=None)
    listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    app = Server(slow, no_body, json_encoder())
    task = asyncio.create_task(
        serve(app, port=0, grace=30, on_listen=lambda h, p: listening.set_result(p))
    )
    port = await listening
    assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    client = asyncio.create_task(get(port))
    async with asyncio.timeout(5):
        await slow.everyone.wait()
    started = time.monotonic()

    os.kill(os.getpid(), signal.SIGINT)
    await asyncio.sleep(0.3)
    os.kill(os.getpid(), signal.SIGINT)
    async with asyncio.timeout(5):
        await task

    assert time.monotonic() - started < 3
    assert await client in (500, None)


async def test_port_in_use_is_an_os_error() -> None:
    """Binding a taken port raises OSError before anything is served."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="in use"):
            await serve(Server(Slow(0), no_body, json_encoder()), port=port, stop=asyncio.Event())


async def test_failed_lifespan_startup_is_a_runtime_error() -> None:
    """An app that fails its lifespan startup makes serve raise, not exit the process."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database down"})

    with pytest.raises(RuntimeError, match="lifespan startup"):
        await serve(app, port=0, stop=asyncio.Event())


async def test_limit_concurrency_sheds_load_with_503() -> None:
    """At limit_concurrency connections (the new one included), uvicorn answers 503."""
    slow = Slow(delay=None)
    async with running(
        Server(slow, no_body, json_encoder()), limit_concurrency=2, grace=0.2
    ) as server:
        first = asyncio.create_task(get(server.port))
        async with asyncio.timeout(5):
            await slow.everyone.wait()
            assert await get(server.port) == 503
    assert await first in (500, None)


def test_off_the_main_thread_serve_has_no_signals_and_stops_when_cancelled() -> None:
    """In a thread, serve cannot install signal handlers; cancelling it stops it."""
    outcome: list[BaseException] = []

    async def main() -> None:
        listening: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        app = Server(Slow(delay=0), no_body, json_encoder())
        task = asyncio.create_task(
            serve(app, port=0, on_listen=lambda h, p: listening.set_result(p))
        )
        port = await listening
        assert await get(port) == 200
        task.cancel()
        try:
            await task
        except asyncio.CancelledError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=asyncio.run, args=(main(),))
    thread.start()
    thread.join(10)
    assert len(outcome) == 1


@pytest.mark.parametrize(("trusted", "seen"), [(None, "127.0.0.1"), ("127.0.0.1", "10.9.8.7")])
async def test_forwarded_headers_are_trusted_only_when_configured(
    trusted: str | None, seen: str
) -> None:
    """S5: X-Forwarded-For changes the peer address only from forwarded_allow_ips."""
    clients: list[str] = []

    def note_client(request: Request) -> None:
        clients.append(request.client[0] if request.client else "")

    app = Server(Slow(delay=0), no_body, json_encoder(), before=[note_client])
    async with running(app, forwarded_allow_ips=trusted) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 10.9.8.7\r\n\r\n")
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        writer.close()

    assert clients == [seen]


async def test_arguments_are_checked() -> None:
    """Negative grace or a non-positive header timeout raise ValueError."""
    app = Server(Slow(0), no_body, json_encoder())
    with pytest.raises(ValueError, match="grace"):
        await serve(app, grace=-1, stop=asyncio.Event())
    with pytest.raises(ValueError, match="header_timeout"):
        await serve(app, header_timeout=0, stop=asyncio.Event())


async def test_header_timeout_none_disables_the_deadline() -> None:
    """With header_timeout=None, a connection that is slow to send its head stays open."""
    async with running(
        Server(Slow(0), no_body, json_encoder()), header_timeout=None, timeout_keep_alive=30
    ) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.5):
                await reader.read(1)
        writer.write(b"\r\n")
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        writer.close()
