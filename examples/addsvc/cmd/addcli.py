"""Call addsvc over any transport (Go kit's ``cmd/addcli``).

``python -m examples.addsvc.cmd.addcli [--transport http|jsonrpc|grpc] [--method sum|concat]
[--http-addr A] [--grpc-addr A] [--jsonrpc-addr A] a b``

Flags take one dash or two, as in `examples.addsvc.cmd.addsvc`, and the addresses
default to addsvc's. Without ``--transport``, the transport is the one whose address
was given (Go kit's addcli chooses that way), else HTTP. The call goes through the
client-side endpoint set, with its rate limiter and circuit breakers, and prints
``1 + 2 = 3`` (or ``"a" + "b" = "ab"``). Any failure prints ``error: <what>`` on
standard error and exits with status 1; bad usage exits with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Sequence

import aiohttp
import grpc

from examples.addsvc.cmd.addsvc import Addresses
from examples.addsvc.service import AddService
from examples.addsvc.transport_grpc import make_grpc_client_set
from examples.addsvc.transport_http import make_http_client_set
from examples.addsvc.transport_jsonrpc import make_jsonrpc_client_set

__all__ = ["TIMEOUT", "call", "connect", "main", "parse_args"]

TIMEOUT = 5.0
"""Seconds a call may take before addcli gives up."""

_TRANSPORTS = ("http", "grpc", "jsonrpc")  # Go kit's addcli tries the addresses in this order


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the flags and the two arguments; bad usage exits with status 2."""
    parser = argparse.ArgumentParser(prog="addcli", description="Call addsvc.")
    parser.add_argument(
        "-transport",
        "--transport",
        choices=_TRANSPORTS,
        help="default: the one whose address is given, else http",
    )
    parser.add_argument("-method", "--method", choices=("sum", "concat"), default="sum")
    defaults = Addresses()
    for transport in _TRANSPORTS:
        flag = f"{transport}-addr"
        parser.add_argument(
            f"-{flag}",
            f"--{flag}",
            dest=f"{transport}_addr",
            metavar="ADDR",
            help=f"addsvc's {transport} address (default {getattr(defaults, transport)})",
        )
    parser.add_argument("a")
    parser.add_argument("b")
    args = parser.parse_args(argv)
    given = [t for t in _TRANSPORTS if getattr(args, f"{t}_addr") is not None]
    args.transport = args.transport or (given[0] if given else "http")
    args.address = getattr(args, f"{args.transport}_addr") or getattr(defaults, args.transport)
    if args.method == "sum":
        try:
            int(args.a), int(args.b)
        except ValueError:
            parser.error(f"sum takes two integers, got {args.a!r} and {args.b!r}")
    return args


@contextlib.asynccontextmanager
async def connect(transport: str, address: str) -> AsyncIterator[AddService]:
    """The addsvc at *address* over *transport*, as an `AddService`, while the context lasts."""
    if transport == "grpc":
        async with grpc.aio.insecure_channel(address) as channel:
            yield make_grpc_client_set(channel)
        return
    async with aiohttp.ClientSession() as session:
        if transport == "http":
            yield make_http_client_set(address, session=session)
        else:
            yield make_jsonrpc_client_set(address, session=session)


async def call(svc: AddService, method: str, a: str, b: str) -> str:
    """Call *method* with the arguments as typed; describe the result as Go kit's addcli does.

    For sum, *a* and *b* are integers in decimal (ValueError otherwise).
    """
    if method == "sum":
        x, y = int(a), int(b)
        return f"{x} + {y} = {await svc.sum(x, y)}"
    v = await svc.concat(a, b)
    return f"{_quote(a)} + {_quote(b)} = {_quote(v)}"


def _quote(s: str) -> str:
    """Quote like Go's ``%q``, near enough: double quotes, escapes, Unicode as it is."""
    return json.dumps(s, ensure_ascii=False)


async def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, make the call, print the result; return the exit status."""
    args = parse_args(argv)
    try:
        async with asyncio.timeout(TIMEOUT), connect(args.transport, args.address) as svc:
            print(await call(svc, args.method, args.a, args.b))
    except TimeoutError:
        print(f"error: no answer from {args.address} within {TIMEOUT:g}s", file=sys.stderr)
        return 1
    except Exception as exc:  # any failure is reported, never as a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
