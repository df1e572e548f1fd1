"""Run stringsvc1: build the onion from the inside out, then serve until a signal.

``python -m examples.stringsvc1 [--http-addr HOST:PORT]``; the default address is
127.0.0.1:8080, or the ``STRINGSVC_HTTP_ADDR`` environment variable. SIGINT or
SIGTERM stops it gracefully: requests in flight finish first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from examples.stringsvc1.endpoints import make_count_endpoint, make_uppercase_endpoint
from examples.stringsvc1.service import BasicStringService
from examples.stringsvc1.transport import make_http_app, parse_address, serve_http
from pygokit.log import LogfmtLogger, Logger, caller, timestamp_utc, with_
from pygokit.log.middleware import logging_middleware
from pygokit.log.sync import SyncWriter
from pygokit.transport import LogErrorHandler
from pygokit.transport.http import Router

__all__ = ["build_app", "main"]

DEFAULT_HTTP_ADDR = "127.0.0.1:8080"


def build_app(logger: Logger) -> Router:
    """Wire service, endpoints and middleware, and return the HTTP application."""
    svc = BasicStringService()
    uppercase = logging_middleware(logger, method="uppercase")(make_uppercase_endpoint(svc))
    count = logging_middleware(logger, method="count")(make_count_endpoint(svc))
    return make_http_app(uppercase, count, error_handler=LogErrorHandler(logger))


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
    await serve_http(build_app(logger), host, port, logger)


if __name__ == "__main__":
    asyncio.run(main())
