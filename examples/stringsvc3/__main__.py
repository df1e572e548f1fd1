"""Run stringsvc3: stringsvc2, with ``uppercase`` proxied to the instances ``--proxy`` names.

``python -m examples.stringsvc3 [--listen HOST:PORT] [--proxy HOST:PORT,...]``
(default 127.0.0.1:8080, no proxy) serves ``/uppercase``, ``/count`` and
``/metrics`` and logs in logfmt to standard error, as Go kit's stringsvc3 does.
SIGINT or SIGTERM stops it gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import aiohttp
from prometheus_client import CollectorRegistry

from examples.stringsvc1.endpoints import UppercaseRequest, UppercaseResponse
from examples.stringsvc1.transport import (
    MAX_BODY_BYTES,
    decode_uppercase_request,
    encode_response,
    parse_address,
    serve_http,
)
from examples.stringsvc2.__main__ import build_app as build_stringsvc2_app
from examples.stringsvc3.proxying import proxy_uppercase, split_instances
from pygokit.endpoint import Endpoint
from pygokit.log import LogfmtLogger, Logger, with_
from pygokit.log.middleware import logging_middleware
from pygokit.log.sync import SyncWriter
from pygokit.transport import LogErrorHandler
from pygokit.transport.http import Router, Server

__all__ = ["build_app", "main"]

DEFAULT_LISTEN = "127.0.0.1:8080"


def build_app(
    logger: Logger,
    registry: CollectorRegistry,
    proxy: Endpoint[UppercaseRequest, UppercaseResponse] | None = None,
) -> Router:
    """Return stringsvc2's app, with ``POST /uppercase`` served by *proxy* if there is one."""
    app = build_stringsvc2_app(logger, registry)
    if proxy is None:
        return app
    uppercase = Server(
        logging_middleware(logger, method="uppercase")(proxy),
        decode_uppercase_request,
        encode_response,
        methods=("POST",),
        error_handler=LogErrorHandler(logger),
        max_body_bytes=MAX_BODY_BYTES,
    )
    router = Router()
    router.route("POST", "/uppercase", uppercase)  # an exact route wins over the mount
    router.mount("/", app)
    return router


async def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags, build the graph, serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="stringsvc3", description=__doc__)
    parser.add_argument(
        "--listen", default=DEFAULT_LISTEN, help="HTTP listen address (default %(default)s)"
    )
    parser.add_argument(
        "--proxy",
        default="",
        help="comma-separated host:port instances to proxy uppercase requests to",
    )
    args = parser.parse_args(argv)
    try:
        host, port = parse_address(args.listen)
    except ValueError as exc:
        parser.error(str(exc))
    instances = split_instances(args.proxy)

    logger = with_(LogfmtLogger(SyncWriter(sys.stderr)), listen=args.listen)
    logger.log(proxy_to=",".join(instances) or "none")
    async with aiohttp.ClientSession() as session:
        proxy = None
        if instances:
            try:
                proxy = proxy_uppercase(instances, session)
            except ValueError as exc:
                parser.error(f"--proxy: {exc}")
        await serve_http(build_app(logger, CollectorRegistry(), proxy), host, port, logger)


if __name__ == "__main__":
    asyncio.run(main())
