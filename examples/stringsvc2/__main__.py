"""Run stringsvc2: the service wrapped in logging and instrumenting middleware, then served.

``python -m examples.stringsvc2 [--listen HOST:PORT]`` (default 127.0.0.1:8080)
serves ``/uppercase``, ``/count`` and ``/metrics`` on one listener and logs in
logfmt to standard error, as Go kit's stringsvc2 does. SIGINT or SIGTERM stops it
gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from prometheus_client import CollectorRegistry

from examples.stringsvc1.endpoints import make_count_endpoint, make_uppercase_endpoint
from examples.stringsvc1.transport import parse_address, serve_http
from examples.stringsvc2.instrumenting import InstrumentingMiddleware
from examples.stringsvc2.logging import LoggingMiddleware
from examples.stringsvc2.service import BasicStringService, StringService
from examples.stringsvc2.transport import make_http_app
from pygokit.log import LogfmtLogger, Logger
from pygokit.log.sync import SyncWriter
from pygokit.metrics.prometheus import Counter, Summary
from pygokit.transport import LogErrorHandler
from pygokit.transport.http import Router

__all__ = ["build_app", "main"]

DEFAULT_LISTEN = "127.0.0.1:8080"


def build_app(logger: Logger, registry: CollectorRegistry) -> Router:
    """Register the metrics in *registry*, wrap the service, and return the HTTP application."""
    field_keys = ("method", "error")
    request_count = Counter(
        "request_count",
        "Number of requests received.",
        namespace="my_group",
        subsystem="string_service",
        label_names=field_keys,
        registry=registry,
    )
    request_latency = Summary(
        "request_latency_microseconds",
        "Total duration of requests in microseconds.",
        namespace="my_group",
        subsystem="string_service",
        label_names=field_keys,
        registry=registry,
    )
    count_result = Summary(
        "count_result",
        "The result of each count method.",
        namespace="my_group",
        subsystem="string_service",
        registry=registry,
    )

    svc: StringService = BasicStringService()
    svc = LoggingMiddleware(logger, svc)
    svc = InstrumentingMiddleware(request_count, request_latency, count_result, svc)

    return make_http_app(
        make_uppercase_endpoint(svc),
        make_count_endpoint(svc),
        registry,
        error_handler=LogErrorHandler(logger),
    )


async def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags, build the graph, serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="stringsvc2", description=__doc__)
    parser.add_argument(
        "--listen", default=DEFAULT_LISTEN, help="HTTP listen address (default %(default)s)"
    )
    args = parser.parse_args(argv)
    try:
        host, port = parse_address(args.listen)
    except ValueError as exc:
        parser.error(str(exc))

    logger = LogfmtLogger(SyncWriter(sys.stderr))
    await serve_http(build_app(logger, CollectorRegistry()), host, port, logger)


if __name__ == "__main__":
    asyncio.run(main())
