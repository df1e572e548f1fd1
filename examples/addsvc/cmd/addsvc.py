"""Run addsvc: every transport at once until SIGINT or SIGTERM (Go kit's ``cmd/addsvc``).

``python -m examples.addsvc.cmd.addsvc [-debug.addr A] [-http-addr A] [-grpc-addr A]
[-jsonrpc-addr A] [-thrift-addr A]``

The flags are Go kit's, spelt with one dash or two (``-http-addr 127.0.0.1:8081``,
``--http-addr=127.0.0.1:8081``). The ports are Go kit's too, on 127.0.0.1 unless
told otherwise: 8080 debug (``/metrics`` and ``/health``), 8081 HTTP, 8082 gRPC,
8083 Thrift (not available yet), 8084 JSON-RPC (at ``/``). An address ``:8081``
listens on every interface, as in Go; an empty address turns that transport off.

Logs are logfmt on standard output. Once everything listens, a summary of where,
with an ``addcli`` call and a ``curl`` line to try, goes to standard error. The
first SIGINT or SIGTERM stops every server gracefully (requests in flight get up to
10 seconds); a second one stops at once.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from typing import TextIO

from examples.addsvc.endpoints import Set, make_set
from examples.addsvc.service import make_service
from examples.addsvc.transport_grpc import make_grpc_services
from examples.addsvc.transport_http import make_http_handler
from examples.addsvc.transport_jsonrpc import make_jsonrpc_handler
from pygokit.log import LogfmtLogger, Logger, caller, timestamp_utc, with_
from pygokit.log.sync import SyncWriter
from pygokit.metrics.prometheus import PrometheusProvider
from pygokit.ratelimit import Allower
from pygokit.transport.grpc import serve as serve_grpc
from pygokit.transport.http import Request, Router, Server, json_encoder, serve

__all__ = [
    "Addresses",
    "CannotListen",
    "main",
    "make_debug_app",
    "parse_address",
    "parse_args",
    "run",
]

OnListen = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class Addresses:
    """Where each transport listens (``host:port``); an empty string turns it off."""

    debug: str = "127.0.0.1:8080"
    http: str = "127.0.0.1:8081"
    grpc: str = "127.0.0.1:8082"
    thrift: str = "127.0.0.1:8083"
    jsonrpc: str = "127.0.0.1:8084"


_FLAGS = {
    "debug": ("debug.addr", "Debug and metrics listen address"),
    "http": ("http-addr", "HTTP listen address"),
    "grpc": ("grpc-addr", "gRPC listen address"),
    "thrift": ("thrift-addr", "Thrift listen address (not available yet)"),
    "jsonrpc": ("jsonrpc-addr", "JSON RPC listen address"),
}


class CannotListen(Exception):
    """A transport could not bind its address; the message names both."""


def parse_address(address: str) -> tuple[str, int]:
    """Split ``host:port`` (``[::1]:80`` for IPv6; ``:80`` for every interface).

    Raises ValueError with a message naming the address.
    """
    host, colon, port = address.rpartition(":")
    if not colon or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"an address looks like 127.0.0.1:8081 or :8081, got {address!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host or "0.0.0.0", int(port)


def parse_args(argv: Sequence[str] | None = None) -> Addresses:
    """Read Go kit's flags; a malformed address exits with status 2 and says why."""
    parser = argparse.ArgumentParser(
        prog="addsvc", description="Serve addsvc over every transport until SIGINT or SIGTERM."
    )
    defaults = Addresses()
    for field in fields(Addresses):
        flag, help_ = _FLAGS[field.name]
        default = getattr(defaults, field.name)
        parser.add_argument(
            f"-{flag}",
            f"--{flag}",
            dest=field.name,
            default=default,
            metavar="ADDR",
            help=f"{help_} (default {default})",
        )
    args = parser.parse_args(argv)
    for field in fields(Addresses):
        address = getattr(args, field.name)
        if address:
            try:
                parse_address(address)
            except ValueError as exc:
                parser.error(f"-{_FLAGS[field.name][0]}: {exc}")
    return Addresses(**{field.name: getattr(args, field.name) for field in fields(Addresses)})


async def _no_request(request: Request) -> None:
    return None


async def _healthy(request: None) -> dict[str, str]:
    return {"status": "ok"}


def make_debug_app(metrics: PrometheusProvider) -> Router:
    """The debug listener: ``GET /metrics`` and ``GET /health`` (``{"status":"ok"}``)."""
    router = Router()
    router.mount("/metrics", metrics.app())
    router.route(
        "GET", "/health", Server(_healthy, _no_request, json_encoder(), methods=("GET", "HEAD"))
    )
    return router


@dataclass(frozen=True, slots=True)
class _Listener:
    transport: str
    address: str
    serve: Callable[..., Awaitable[None]]  # serve(host=, port=, on_listen=)

    async def run(self, on_listen: OnListen) -> None:
        host, port = parse_address(self.address)
        try:
            await self.serve(host=host, port=port, on_listen=on_listen)
        except OSError as exc:
            if exc.errno is None:  # a message of its own, naming the address
                raise CannotListen(f"{self.transport}: {exc}") from exc
            raise CannotListen(
                f"{self.transport}: cannot listen on {self.address}: {os.strerror(exc.errno)}"
            ) from exc


def _listeners(
    addresses: Addresses,
    endpoints: Set,
    metrics: PrometheusProvider,
    logger: Logger,
    stop: asyncio.Event,
) -> list[_Listener]:
    listeners = []
    if addresses.debug:
        debug = functools.partial(serve, make_debug_app(metrics), stop=stop)
        listeners.append(_Listener("debug/HTTP", addresses.debug, debug))
    if addresses.http:
        http = functools.partial(serve, make_http_handler(endpoints, logger), stop=stop)
        listeners.append(_Listener("HTTP", addresses.http, http))
    if addresses.grpc:
        services = make_grpc_services(endpoints, logger)
        listeners.append(
            _Listener("gRPC", addresses.grpc, functools.partial(serve_grpc, services, stop=stop))
        )
    if addresses.jsonrpc:
        jsonrpc = functools.partial(serve, make_jsonrpc_handler(endpoints, logger), stop=stop)
        listeners.append(_Listener("JSONRPC over HTTP", addresses.jsonrpc, jsonrpc))
    return listeners


def _host(host: str) -> str:
    """A host to put in a URL: loopback for a wildcard, brackets around IPv6."""
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _summary(bound: dict[str, tuple[str, int]], addresses: Addresses) -> str:
    """What listens where, and an ``addcli`` call and a ``curl`` line to try."""
    lines = ["addsvc is listening:"]
    where = {name: f"{_host(host)}:{port}" for name, (host, port) in bound.items()}
    details = {
        "debug/HTTP": ("http://{}", "GET /metrics, GET /health"),
        "HTTP": ("http://{}", "POST /sum, POST /concat"),
        "gRPC": ("{}", "pb.Add: Sum, Concat"),
        "JSONRPC over HTTP": ("http://{}/", "methods sum, concat"),
    }
    for name, (url, what) in details.items():
        if name in where:
            lines.append(f"  {name:<18} {url.format(where[name]):<28} {what}")
    if addresses.thrift:
        lines.append(f"  {'Thrift':<18} {addresses.thrift:<28} not available yet")
    lines.append("Try:")
    for name, flag, transport in (
        ("HTTP", "http-addr", "http"),
        ("gRPC", "grpc-addr", "grpc"),
        ("JSONRPC over HTTP", "jsonrpc-addr", "jsonrpc"),
    ):
        if name in where:
            default = getattr(Addresses(), transport)
            option = "" if where[name] == default else f" --{flag} {where[name]}"
            lines.append(
                f"  python -m examples.addsvc.cmd.addcli --transport {transport}{option}"
                " --method sum 1 2"
            )
            break
    if "HTTP" in where:
        lines.append(f"""  curl -s -d '{{"a":1,"b":2}}' http://{where["HTTP"]}/sum""")
    return "\n".join(lines)


async def run(
    addresses: Addresses,
    logger: Logger,
    stop: asyncio.Event,
    *,
    out: TextIO = sys.stderr,
    sum_limiter: Allower | None = None,
) -> None:
    """Build the onion from the inside out and serve every transport until *stop* is set.

    Raises an ``ExceptionGroup`` of `CannotListen` if an address cannot be bound
    (the other servers are stopped first). *sum_limiter* replaces Go kit's limit on
    sum (1 call per second), for tests.
    """
    metrics = PrometheusProvider(namespace="example", subsystem="addsvc")
    ints = metrics.counter(
        "integers_summed", help="Total count of integers summed via the Sum method."
    )
    chars = metrics.counter(
        "characters_concatenated",
        help="Total count of characters concatenated via the Concat method.",
    )
    duration = metrics.histogram(
        "request_duration_seconds",
        help="Request duration in seconds.",
        label_names=["method", "success"],
    )
    svc = make_service(logger, ints, chars)
    endpoints = make_set(svc, logger, duration, sum_limiter=sum_limiter)
    listeners = _listeners(addresses, endpoints, metrics, logger, stop)
    if addresses.thrift:
        logger.log(transport="Thrift", addr=addresses.thrift, msg="not available yet")
    bound: dict[str, tuple[str, int]] = {}

    def listening(transport: str, host: str, port: int) -> None:
        bound[transport] = (host, port)
        logger.log(transport=transport, addr=f"{_host(host)}:{port}", msg="listening")
        if len(bound) == len(listeners):
            print(_summary(bound, addresses), file=out, flush=True)

    async with asyncio.TaskGroup() as group:
        for listener in listeners:
            on_listen = functools.partial(listening, listener.transport)
            group.create_task(listener.run(on_listen), name=listener.transport)


async def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, serve until a signal, and return the exit status."""
    addresses = parse_args(argv)
    logger = with_(LogfmtLogger(SyncWriter(sys.stdout)), ts=timestamp_utc, caller=caller)
    stop = asyncio.Event()
    runner = asyncio.create_task(run(addresses, logger, stop))

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():  # a second signal: do not wait for requests in flight
            runner.cancel()
        logger.log(signal=sig.name, msg="stopping")
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await _outcome(runner, logger)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _outcome(runner: asyncio.Task[None], logger: Logger) -> int:
    """Wait for *runner*; log how it ended and return the exit status."""
    try:
        await runner
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if not runner.cancelled() or (current is not None and current.cancelling()):
            raise  # not the second signal: main itself is being cancelled
        logger.log(exit="forced")
        return 1
    except ExceptionGroup as group:
        failed, others = group.split(CannotListen)
        if failed is None or others is not None:
            raise
        for error in failed.exceptions:
            logger.log(during="Listen", err=error)
            print(f"addsvc: {error}", file=sys.stderr)
        return 1
    logger.log(exit="stopped")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
