"""Run an ASGI application under uvicorn in the current event loop, and stop it gracefully.

`serve` is the last line of ``async def main()``: it binds the socket, serves
until SIGINT or SIGTERM (or until a given ``stop`` event is set), then drains:
it stops accepting connections, closes idle ones, lets requests in flight finish
for up to ``grace`` seconds, cancels what is left and returns. The caller's task
owns the signals, not uvicorn, so ``serve`` composes with other servers in one
``TaskGroup``.

What uvicorn protects, and what it does not:

* A request head over ``h11_max_incomplete_event_size`` (16 KiB) is refused. h11
  enforces it itself (400); httptools, which uvicorn prefers when it is installed,
  has no limit at all (a 1 MB header line is accepted, and buffered by repeated
  concatenation), so ``serve`` counts head bytes itself and answers 431.
* Malformed requests (bad chunk sizes, Transfer-Encoding with Content-Length,
  duplicate Content-Length, ...) get 400 and a closed connection from the parser.
* ``limit_concurrency`` answers 503 once that many connections or requests exist.
* ``timeout_keep_alive`` closes connections idle *between* requests. uvicorn has
  no deadline for reading a request head, so a client that trickles one byte at a
  time would hold a connection forever (slowloris). ``header_timeout`` closes a
  connection whose request head is not complete that many seconds after the
  connection opened or the previous response ended. Slow *bodies* are not timed
  out: run a proxy (nginx, Envoy) in front of anything exposed to the internet.
* Bodies are not limited by uvicorn; `Server` limits them (``max_body_bytes``).
* uvicorn trusts X-Forwarded-For/-Proto from 127.0.0.1 by default, so any local
  client could spoof its address; ``serve`` trusts no one unless given
  ``forwarded_allow_ips``. It sends no ``Server`` header.

Example::

    async def main() -> None:
        server = Server(endpoint, json_decoder(SumRequest), json_encoder())
        await serve(server, host="0.0.0.0", port=8080, grace=10)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator
from typing import Any

from pygokit._asgi import ASGIApp
from pygokit._extras import missing_extra
from pygokit.transport._signals import stop_on_signals

__all__ = ["serve"]


async def serve(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    grace: float = 10.0,
    limit_concurrency: int | None = None,
    timeout_keep_alive: float = 5,
    h11_max_incomplete_event_size: int = 16 * 1024,
    header_timeout: float | None = 10.0,
    forwarded_allow_ips: str | None = None,
    stop: asyncio.Event | None = None,
    on_listen: Callable[[str, int], None] | None = None,
) -> None:
    """Serve *app* on host:port until SIGINT/SIGTERM or *stop*, then shut down gracefully.

    Args:
        app: Any ASGI application, such as a `Server`.
        host: The address to listen on; ``"0.0.0.0"`` for every interface.
        port: The port; 0 picks a free one (``on_listen`` learns which).
        grace: Seconds that requests in flight get to finish once stopping begins;
            then they are cancelled, and ``serve`` returns within about a second.
        limit_concurrency: Answer 503 beyond this many connections or requests.
        timeout_keep_alive: Seconds an idle keep-alive connection stays open.
        h11_max_incomplete_event_size: The largest request head accepted, in bytes
            (uvicorn's name; ``serve`` enforces it for httptools too).
        header_timeout: Seconds a connection may take to send a complete request
            head; None disables the deadline.
        forwarded_allow_ips: Proxies (comma-separated IPs or networks, ``"*"`` for
            any) whose X-Forwarded-For/-Proto replace the peer address and scheme.
            None (the default) trusts no one, so clients cannot spoof their address.
        stop: Stop when this is set. When None, ``serve`` stops on SIGINT or
            SIGTERM (a second signal skips the wait for requests in flight).
        on_listen: Called with (host, port) once the socket accepts connections.

    Raises:
        OSError: The address cannot be bound (for example, the port is taken).
        RuntimeError: The app failed its lifespan startup.
    """
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - uvicorn comes with the http extra
        raise missing_extra("pygokit.transport.http.serve", "http") from exc
    if grace < 0:
        raise ValueError(f"grace must be >= 0, got {grace}")
    if header_timeout is not None and header_timeout <= 0:
        raise ValueError(f"header_timeout must be > 0 or None, got {header_timeout}")

    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="auto",
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
        limit_concurrency=limit_concurrency,
        timeout_keep_alive=timeout_keep_alive,  # type: ignore[arg-type]  # a float works
        timeout_graceful_shutdown=grace,  # type: ignore[arg-type]
        h11_max_incomplete_event_size=h11_max_incomplete_event_size,
    )
    config.load()
    guarded = _guarded(config.http_protocol_class, h11_max_incomplete_event_size)
    config.http_protocol_class = guarded
    server = _uvicorn_server(uvicorn, config)
    stopping = stop if stop is not None else asyncio.Event()

    def force_exit() -> None:  # a second signal: skip the drain
        server.force_exit = True

    signals = stop_on_signals(stopping, force_exit) if stop is None else contextlib.nullcontext()
    with _bind(host, port) as sock, signals:
        bound: int = sock.getsockname()[1]
        async with asyncio.TaskGroup() as group:
            serving = group.create_task(_run(server, sock), name=f"http {host}:{bound}")
            while not server.started and not serving.done():  # noqa: ASYNC110 -- only a flag
                await asyncio.sleep(0.01)
            if server.started and on_listen is not None:
                on_listen(host, bound)
            if header_timeout is not None:
                sweeper = group.create_task(_sweep(server, guarded, header_timeout))
                serving.add_done_callback(lambda _: sweeper.cancel())
            stopped = group.create_task(stopping.wait())
            await asyncio.wait([stopped, serving], return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            server.should_exit = True
    leftover = [task for task in server.server_state.tasks if not task.done()]
    for task in leftover:  # past the grace period (uvicorn cancels those) or forced
        task.cancel()
    if leftover:
        await asyncio.wait(leftover, timeout=1.0)
    if not serving.result():
        raise RuntimeError("the app failed its lifespan startup; see the uvicorn.error log")


def _uvicorn_server(uvicorn: Any, config: Any) -> Any:
    """A uvicorn.Server that leaves the signals to the caller's task."""

    class _Server(uvicorn.Server):  # type: ignore[misc]
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return _Server(config)


async def _run(server: Any, sock: socket.socket) -> bool:
    """Run uvicorn; False if it gave up at startup (it raises SystemExit for that)."""
    try:
        await server.serve(sockets=[sock])
    except SystemExit:
        return False
    return server.started is True


@contextlib.contextmanager
def _bind(host: str, port: int) -> Iterator[socket.socket]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, port), family=family, backlog=2048) as sock:
        yield sock


_HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 28\r\nconnection: close\r\n\r\nrequest head is too large.\r\n"
)


def _guarded(base: type[Any], head_limit: int) -> type[Any]:
    """Subclass uvicorn's HTTP protocol to time request heads and, for httptools, size them.

    Both of uvicorn's protocols start a ``cycle`` when a request head is complete
    and call ``on_response_complete`` when its response is sent; a connection
    whose ``cycle`` has not changed since it opened or since the last response
    is still waiting for a head. httptools also calls ``on_message_begin`` and
    ``on_headers_complete``, between which every byte received is head.
    """

    class Guarded(base):  # type: ignore[misc]
        waiting_since = 0.0
        waiting_cycle: Any = None
        head_bytes: int | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self.waiting_since, self.waiting_cycle = self.loop.time(), None

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self.waiting_since, self.waiting_cycle = self.loop.time(), self.cycle

        def head_overdue(self, deadline: float) -> bool:
            cycle = self.waiting_cycle
            idle = cycle is None or cycle.response_complete
            return self.cycle is cycle and idle and self.waiting_since < deadline

        def on_message_begin(self) -> None:  # httptools only
            super().on_message_begin()
            self.head_bytes = 0

        def on_headers_complete(self) -> None:  # httptools only
            self.head_bytes = None
            super().on_headers_complete()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.head_bytes is not None:
                self.head_bytes += len(data)
                if self.head_bytes > head_limit and not self.transport.is_closing():
                    self.transport.write(_HEAD_TOO_LARGE)
                    self.transport.close()

    return Guarded


async def _sweep(server: Any, guarded: type[Any], limit: float) -> None:
    """Close connections whose request head is overdue; checks a few times per *limit*."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(min(1.0, limit / 4))
        deadline = loop.time() - limit
        connection: Any
        for connection in list(server.server_state.connections):
            if isinstance(connection, guarded) and connection.head_overdue(deadline):
                connection.transport.close()
