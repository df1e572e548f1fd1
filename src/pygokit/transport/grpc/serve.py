"""Run a gRPC server in the current event loop until a signal, then stop it gracefully.

`serve` is the gRPC twin of `pygokit.transport.http.serve` and the last line of
``async def main()``: it binds the port, serves until SIGINT or SIGTERM (or until
a given ``stop`` event is set), then drains: new RPCs are refused with
``UNAVAILABLE``, RPCs in flight get ``grace`` seconds to finish, and what is
left is cancelled (the client sees ``UNAVAILABLE``; the handler sees
``CancelledError``). A second signal cancels what is in flight at once. The
caller's task owns the signals, so ``serve`` composes with other servers (an
HTTP ``serve``, say) in one ``TaskGroup``; cancelling it stops the server at once.
By default the handlers are served by grpclib
(`pygokit.transport.grpc.grpclib_server`), which costs about 0.6x the CPU per call
of grpc.aio; ``backend="aio"`` serves them on grpcio's grpc.aio instead, with the
same limits and stop (see "Choosing the server" in docs/grpc.md).

Example::

    async def main() -> None:
        add = addsvc_pb2.DESCRIPTOR.services_by_name["Add"]
        await serve({add: {"Sum": sum_server, "Concat": concat_server}}, port=8082, grace=10)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Literal, Protocol, TypeAlias

from pygokit._extras import missing_extra
from pygokit.transport._signals import stop_on_signals

try:
    import grpc
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.transport.grpc.serve", "grpc") from exc

from pygokit.transport.grpc.grpclib_server import GrpclibServer
from pygokit.transport.grpc.service import DEFAULT_MAX_MESSAGE_BYTES, Services, new_server

__all__ = ["Backend", "serve"]

Backend: TypeAlias = Literal["aio", "grpclib"]
"""The HTTP/2 server under pygokit's handlers: grpcio's ``grpc.aio`` or grpclib."""


class _Runnable(Protocol):
    """What serve needs of a server: ``grpc.aio.Server`` and `GrpclibServer` both have it."""

    def add_insecure_port(self, address: str) -> int: ...

    async def start(self) -> None: ...

    async def stop(self, grace: float | None) -> None: ...

    async def wait_for_termination(self, timeout: float | None = None) -> bool: ...  # noqa: ASYNC109


async def serve(
    services: Services | grpc.aio.Server | GrpclibServer,
    *,
    backend: Backend = "grpclib",
    host: str = "127.0.0.1",
    port: int = 50051,
    grace: float = 10.0,
    max_message_bytes: int | None = None,
    max_concurrent_rpcs: int | None = None,
    stop: asyncio.Event | None = None,
    on_listen: Callable[[str, int], None] | None = None,
) -> None:
    """Serve on host:port until SIGINT/SIGTERM or *stop*, then stop gracefully.

    Args:
        services: Handlers by method name by service descriptor (see
            `pygokit.transport.grpc.service.register`), or a server that is
            built but not started (`new_server`'s ``grpc.aio.Server`` or a
            `GrpclibServer`).
        backend: What serves *services*: ``"grpclib"`` (`GrpclibServer`, the
            default) or ``"aio"`` (grpcio's ``grpc.aio``); see "Choosing the
            server" in docs/grpc.md. Ignored for a server built by hand.
        host: The address to listen on; ``"0.0.0.0"`` or ``"::"`` for every interface.
        port: The port; 0 picks a free one (``on_listen`` learns which).
        grace: Seconds that RPCs in flight get to finish once stopping begins.
        max_message_bytes: The largest request or reply (default 4 MiB); only
            with *services* (a server you built has its limits already).
        max_concurrent_rpcs: RPCs beyond this many in flight get
            ``RESOURCE_EXHAUSTED`` at once; only with *services*.
        stop: Stop when this is set. When None, ``serve`` stops on SIGINT or
            SIGTERM (a second signal skips the wait for RPCs in flight).
        on_listen: Called with (host, port) once the server accepts RPCs.

    Raises:
        OSError: The address cannot be bound (for example, the port is taken).
        ValueError: A limit was given along with a server, or *grace* < 0.
    """
    if grace < 0:
        raise ValueError(f"grace must be >= 0, got {grace}")
    server: _Runnable
    if isinstance(services, grpc.aio.Server | GrpclibServer):
        if max_message_bytes is not None or max_concurrent_rpcs is not None:
            raise ValueError("pass the limits to new_server() when you build the server yourself")
        server = services
    else:
        build = GrpclibServer if backend == "grpclib" else new_server
        server = build(
            services,
            max_message_bytes=(
                DEFAULT_MAX_MESSAGE_BYTES if max_message_bytes is None else max_message_bytes
            ),
            max_concurrent_rpcs=max_concurrent_rpcs,
        )
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except (RuntimeError, OSError) as exc:
        raise OSError(f"cannot listen on {address}; is the port taken?") from exc
    stopping = stop if stop is not None else asyncio.Event()
    forced = asyncio.Event()
    # Shielded: a start cancelled halfway leaves grpcio's server in a state its own
    # shutdown trips over ("Task exception was never retrieved ... InvalidStateError").
    started = asyncio.ensure_future(server.start())
    try:
        await asyncio.shield(started)
        with stop_on_signals(stopping, forced.set) if stop is None else contextlib.nullcontext():
            if on_listen is not None:
                on_listen(host, bound)
            if await _stopping_or_terminated(server, stopping):
                await _drain(server, grace, forced)
    finally:  # cancelled, or on_listen raised: stop at once (a no-op once stopped)
        await asyncio.shield(_stop_once_started(server, started))


async def _stop_once_started(server: _Runnable, started: asyncio.Future[None]) -> None:
    """Let a start in progress finish, then stop *server* with no grace."""
    with contextlib.suppress(Exception):  # a failed start leaves nothing to drain
        await started
    await server.stop(None)


async def _stopping_or_terminated(server: _Runnable, stopping: asyncio.Event) -> bool:
    """Wait for *stopping* (True) or for the server to end on its own (False)."""
    asked = asyncio.ensure_future(stopping.wait())
    ended = asyncio.ensure_future(_terminated(server))
    try:
        await asyncio.wait((asked, ended), return_when=asyncio.FIRST_COMPLETED)
    finally:
        asked.cancel()
        ended.cancel()
    if ended.done() and not ended.cancelled():
        ended.result()  # raises what crashed the server, if anything did
        return False
    return True


async def _terminated(server: _Runnable) -> None:
    """Return when *server* has stopped; safe to cancel.

    ``wait_for_termination()`` without a timeout awaits grpcio's own shutdown
    future unshielded, so cancelling it would break the server's later ``stop``;
    with a timeout it is shielded.
    """
    running = True
    while running:
        running = await server.wait_for_termination(timeout=3600)  # True: timed out


async def _drain(server: _Runnable, grace: float, forced: asyncio.Event) -> None:
    """``server.stop(grace)``, cut short by *forced*."""
    stopping = asyncio.ensure_future(server.stop(grace))
    forcing = asyncio.ensure_future(forced.wait())
    try:
        await asyncio.wait((stopping, forcing), return_when=asyncio.FIRST_COMPLETED)
        if not stopping.done():
            await server.stop(None)  # the shorter grace wins
        await stopping
    finally:
        forcing.cancel()
