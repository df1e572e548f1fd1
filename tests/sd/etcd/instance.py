"""One service instance for the end-to-end test, run as its own process so it can be killed.

``python -m tests.sd.etcd.instance ETCD_ADDRESS PREFIX TTL`` serves ``POST /sum``
(``{"a": 1, "b": 2}`` in, ``{"v": 3}`` out) with a pygokit `Server` under uvicorn on a free
loopback port, registers ``PREFIX + host:port`` = ``host:port`` in etcd with an
`EtcdRegistrar`, prints ``host:port`` once registered, and serves until SIGTERM. A
SIGKILL skips the deregistration, as a crash would: the lease then expires after TTL.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from pygokit.sd.etcd import EtcdRegistrar, etcd_client
from pygokit.transport.http import Server, json_decoder, json_encoder, serve


@dataclass(frozen=True, slots=True)
class SumRequest:
    """The two numbers to add."""

    a: int
    b: int


@dataclass(frozen=True, slots=True)
class SumResponse:
    """Their sum."""

    v: int


async def add(request: SumRequest) -> SumResponse:
    """The endpoint: add the two numbers."""
    return SumResponse(request.a + request.b)


async def main(etcd: str, prefix: str, ttl: float) -> None:
    """Serve /sum, register in etcd once listening, and print the address."""
    listening: asyncio.Future[tuple[str, int]] = asyncio.get_running_loop().create_future()
    server = Server(add, json_decoder(SumRequest), json_encoder(), methods=("POST",))
    async with asyncio.TaskGroup() as group:
        serving = group.create_task(
            serve(
                server,
                host="127.0.0.1",
                port=0,
                grace=0,
                on_listen=lambda *a: listening.set_result(a),
            )
        )
        host, port = await listening
        address = f"{host}:{port}"
        async with (
            etcd_client(etcd, timeout=2.0) as client,
            EtcdRegistrar(client, prefix + address, address, ttl=ttl, timeout=2.0) as registrar,
        ):
            await registrar.register()
            print(address, flush=True)
            await serving


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
