"""Run stringsvc1: build the onion from the inside out, then serve until a signal.

``python -m examples.stringsvc1 [--http-addr HOST:PORT]``; the default address is
127.0.0.1:8080, or the ``STRINGSVC_HTTP_ADDR`` environment variable.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence

import uvicorn

from examples.stringsvc1.endpoints import make_count_endpoint, make_uppercase_endpoint
from examples.stringsvc1.service import BasicStringService
from examples.stringsvc1.transport import ASGIApp, make_http_app
from pygokit.log import LogfmtLogger, Logger, caller, timestamp_utc, with_
from pygokit.log.middleware import logging_middleware
from pygokit.log.sync import SyncWriter
from pygokit.transport import LogErrorHandler

__all__ = ["build_app", "main", "parse_address", "serve"]

DEFAULT_HTTP_ADDR = "127.0.0.1:8080"


def build_app(logger: Logger) -> ASGIApp:
    """Wire service, endpoints and middleware, and return the HTTP application."""
    svc = BasicStringService()
    uppercase = logging_middleware(logger, method="uppercase")(make_uppercase_endpoint(svc))
    count = logging_middleware(logger, method="count")(make_count_endpoint(svc))
    return make_http_app(uppercase, count, error_handler=LogErrorHandler(logger))


class _Server(uvicorn.Server):
    """uvicorn, minus its own signal handling: main() owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(app: ASGIApp, host: str, port: int, stop: asyncio.Event, logger: Logger) -> None:
    """Serve *app* on host:port until *stop* is set, then shut down gracefully."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    server = _Server(config)
    async with asyncio.TaskGroup() as group:
        serving = group.create_task(server.serve(), name="http")
        while not server.started and not serving.done():  # noqa: ASYNC110 -- uvicorn has only a flag
            await asyncio.sleep(0.01)
        if server.started:
            logger.log(transport="http", addr=f"{host}:{port}", msg="listening")
        await stop.wait()
        server.should_exit = True
    logger.log(transport="http", msg="stopped")


def parse_address(address: str) -> tuple[str, int]:
    """Split ``host:port`` into its parts; raise ValueError with a clear message."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"address must look like 127.0.0.1:8080, got {address!r}")
    return host, int(port)


async def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags, build the graph, serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="stringsvc1", description=__doc__)
    parser.add_argument(
        "--http-addr",
        default=os.environ.get("STRINGSVC_HTTP_ADDR", DEFAULT_HTTP_ADDR),
        help="HTTP listen address (default %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        host, port = parse_address(args.http_addr)
    except ValueError as exc:
        parser.error(str(exc))

    logger = with_(LogfmtLogger(SyncWriter(sys.stderr)), ts=timestamp_utc, caller=caller)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(build_app(logger), host, port, stop, logger)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
