"""Run the API gateway: route HTTP calls to the stringsvc and addsvc instances it discovers.

``python -m examples.apigateway [--http-addr HOST:PORT] [--etcd-addr HOST:PORT
[--etcd-prefix /services/]] [--stringsvc-instances A,B] [--addsvc-instances A,B]
[--retry-max N] [--retry-timeout SECONDS]``

With ``--etcd-addr``, the instances of a service are the values of the etcd keys
under ``<prefix><service>/`` (``/services/stringsvc/127.0.0.1:8001`` =
``127.0.0.1:8001``), followed as they come and go; an `EtcdRegistrar` in each
instance keeps its key there. Without it, they are the fixed lists the
``--*-instances`` flags give. Go kit's gateway discovers them in Consul. It listens on
127.0.0.1:8000 unless told otherwise, logs in logfmt to standard error, and stops
gracefully on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack

import aiohttp

from examples.apigateway.gateway import RETRY_MAX, RETRY_TIMEOUT, gateway
from examples.stringsvc1.transport import parse_address, serve_http
from examples.stringsvc3.proxying import split_instances
from pygokit.log import LogfmtLogger, Logger, timestamp_utc, with_
from pygokit.log.sync import SyncWriter
from pygokit.sd import FixedInstancer, Instancer

__all__ = ["discover", "main", "parse_args"]

DEFAULT_HTTP_ADDR = "127.0.0.1:8000"
SERVICES = ("stringsvc", "addsvc")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the flags; exit with a usage error (status 2) if one is malformed."""
    parser = argparse.ArgumentParser(prog="apigateway", description=__doc__)
    parser.add_argument(
        "--http-addr", default=DEFAULT_HTTP_ADDR, help="HTTP listen address (%(default)s)"
    )
    parser.add_argument(
        "--etcd-addr", default="", help="discover instances in the etcd at this host:port"
    )
    parser.add_argument(
        "--etcd-prefix", default="/services/", help="etcd key prefix of the services (%(default)s)"
    )
    for service in SERVICES:
        parser.add_argument(
            f"--{service}-instances",
            default="",
            help=f"comma-separated host:port of {service} instances, without --etcd-addr",
        )
    parser.add_argument(
        "--retry-max", type=int, default=RETRY_MAX, help="attempts per call (%(default)s)"
    )
    parser.add_argument(
        "--retry-timeout",
        type=float,
        default=RETRY_TIMEOUT,
        help="seconds per call, retries included (%(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        parse_address(args.http_addr)
        if args.etcd_addr:
            parse_address(args.etcd_addr)
    except ValueError as exc:
        parser.error(str(exc))
    if args.retry_max < 1:
        parser.error(f"--retry-max must be at least 1, got {args.retry_max}")
    if not 0 < args.retry_timeout < float("inf"):
        parser.error(f"--retry-timeout must be a positive number, got {args.retry_timeout}")
    if args.etcd_addr and not args.etcd_prefix.endswith("/"):
        parser.error(f"--etcd-prefix must end with '/', got {args.etcd_prefix!r}")
    return args


async def discover(
    stack: AsyncExitStack, args: argparse.Namespace, logger: Logger
) -> dict[str, Instancer]:
    """The instancer of each service: etcd's if ``--etcd-addr`` is given, else fixed lists."""
    if not args.etcd_addr:
        return {
            service: FixedInstancer(split_instances(getattr(args, f"{service}_instances")))
            for service in SERVICES
        }
    from pygokit.sd.etcd import EtcdInstancer, etcd_client  # the etcd extra, only when asked

    client = await stack.enter_async_context(etcd_client(args.etcd_addr))
    instancers: dict[str, Instancer] = {}
    for service in SERVICES:
        instancer = EtcdInstancer(client, f"{args.etcd_prefix}{service}/", logger=logger)
        instancers[service] = await stack.enter_async_context(instancer)
    return instancers


async def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags, discover the services, serve the gateway until SIGINT or SIGTERM."""
    args = parse_args(argv)
    host, port = parse_address(args.http_addr)
    logger = with_(LogfmtLogger(SyncWriter(sys.stderr)), ts=timestamp_utc)
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())
        instancers = await discover(stack, args, logger)
        app = await stack.enter_async_context(
            gateway(
                stringsvc=instancers["stringsvc"],
                addsvc=instancers["addsvc"],
                session=session,
                logger=logger,
                retry_max=args.retry_max,
                retry_timeout=args.retry_timeout,
            )
        )
        await serve_http(app, host, port, logger)


if __name__ == "__main__":
    asyncio.run(main())
