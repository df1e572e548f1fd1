"""Real loopback receivers for the push backends' tests, and a StatsD server's arithmetic.

`UDPReceiver` and `TCPReceiver` listen on 127.0.0.1 (a free port, or a given one so
a test can restart them where they were) and keep every line that arrives.
`CountingSender` wraps a real sender and counts the bytes it delivered, so a test
can wait until exactly that much has arrived. `StatsdAggregate` applies received
lines the way a StatsD server does, so the conformance suite can read values back.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from pygokit.metrics.push import Emitter, PushLoop, Sender, TCPSender, UDPSender
from pygokit.testing import FakeClock
from pygokit.testing.metrics import QUANTILES
from pygokit.util.conn import Manager, tcp

WAIT = 5.0
"""Seconds a test waits for data that should arrive at once on loopback."""


class _Arrivals:
    """Lines and a byte count that tasks can wait on."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.received = 0
        self._changed = asyncio.Event()
        self._taken = 0

    def add(self, data: bytes, lines: Iterable[bytes]) -> None:
        self.received += len(data)
        self.lines.extend(line.decode() for line in lines)
        self._changed.set()

    async def wait_for_bytes(self, count: int) -> None:
        """Return once *count* bytes have arrived in all; fail after `WAIT` seconds."""
        async with asyncio.timeout(WAIT):
            while self.received < count:
                self._changed.clear()
                await self._changed.wait()

    def take_lines(self) -> list[str]:
        """The lines that arrived since the last call."""
        lines = self.lines[self._taken :]
        self._taken = len(self.lines)
        return lines


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, arrivals: _Arrivals, datagrams: list[bytes]) -> None:
        self._arrivals = arrivals
        self._datagrams = datagrams

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._datagrams.append(data)
        self._arrivals.add(data, data.splitlines())


class UDPReceiver(_Arrivals):
    """A UDP socket on 127.0.0.1 that keeps every datagram and line sent to it."""

    def __init__(self) -> None:
        super().__init__()
        self.datagrams: list[bytes] = []
        self.port = 0
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self, port: int = 0) -> None:
        """Listen on *port* (a free one when 0); a big buffer, so bursts are not lost."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self, self.datagrams), sock=sock
        )

    async def stop(self) -> None:
        """Close the socket; datagrams sent now are refused."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None
            await asyncio.sleep(0)  # let the transport finish closing

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class TCPReceiver(_Arrivals):
    """A TCP server on 127.0.0.1 that keeps every line sent to it.

    With ``reading=False`` it accepts connections but never reads, like a stalled
    receiver.
    """

    def __init__(self, *, reading: bool = True) -> None:
        super().__init__()
        self.port = 0
        self.connections = 0
        self._reading = reading
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    async def start(self, port: int = 0) -> None:
        """Listen on *port* (a free one when 0)."""
        self._stopping = asyncio.Event()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        self.connections += 1
        pending = b""
        try:
            if not self._reading:
                await self._stopping.wait()
                return
            while data := await reader.read(65536):
                *lines, pending = (pending + data).split(b"\n")
                self.add(data, lines)
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            self._handlers.discard(task)

    async def stop(self) -> None:
        """Stop listening and hang up on every client, as a receiver that dies does."""
        self._stopping.set()
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        handlers = list(self._handlers)
        if handlers:
            await asyncio.wait(handlers, timeout=WAIT)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def free_port() -> int:
    """A loopback port with nothing listening on it right now (TCP and UDP alike)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.bind(("127.0.0.1", 0))
        return int(tcp.getsockname()[1])


class CountingSender:
    """A real sender, counting what it delivered; it yields after each send so the
    receiver in the same event loop keeps up with a burst."""

    def __init__(self, inner: Sender) -> None:
        self.inner = inner
        self.max_payload = inner.max_payload
        self.bytes_sent = 0
        self.payloads: list[bytes] = []

    async def send(self, payload: bytes, /) -> None:
        """Send through the real sender; count the payload if that worked."""
        try:
            await self.inner.send(payload)
        finally:
            await asyncio.sleep(0)
        self.bytes_sent += len(payload)
        self.payloads.append(payload)

    async def aclose(self) -> None:
        """Close the real sender."""
        await self.inner.aclose()


@dataclass(frozen=True)
class StatsdLine:
    """One StatsD line, split the way the Datadog agent splits it."""

    bucket: str
    value: str
    kind: str
    rate: float = 1.0
    tags: tuple[str, ...] = ()


def parse_statsd(line: str) -> StatsdLine:
    """Split ``bucket:value|kind[|@rate][|#tags]``; fail on anything else."""
    assert line, "an empty line"
    assert "\n" not in line, f"not a single line: {line!r}"
    head, *sections = line.split("|")
    bucket, value = head.split(":")  # exactly one ':' before the first '|'
    assert sections, f"no type in {line!r}"
    kind, *rest = sections
    assert kind in {"c", "g", "ms", "h"}, f"unknown type in {line!r}"
    rate = 1.0
    tags: tuple[str, ...] = ()
    for section in rest:
        if section.startswith("@"):
            rate = float(section[1:])
        else:
            assert section.startswith("#"), f"unknown section {section!r} in {line!r}"
            tags = tuple(section[1:].split(","))
    float(value)  # the value must be a number
    return StatsdLine(bucket, value, kind, rate, tags)


@dataclass
class StatsdAggregate:
    """What a StatsD server makes of the lines: sums, gauges with relative updates,
    and timing values; keyed by bucket plus tags."""

    counters: dict[str, float] = field(default_factory=dict)
    gauges: dict[str, float] = field(default_factory=dict)
    timings: dict[str, list[float]] = field(default_factory=dict)

    def feed(self, lines: Iterable[str]) -> Self:
        """Apply *lines* in order."""
        for line in lines:
            parsed = parse_statsd(line)
            key = parsed.bucket + ("|#" + ",".join(parsed.tags) if parsed.tags else "")
            value = float(parsed.value)
            if parsed.kind == "c":
                self.counters[key] = self.counters.get(key, 0.0) + value / parsed.rate
            elif parsed.kind == "g":
                if parsed.value[0] in "+-":  # StatsD: a sign means "change by"
                    value += self.gauges.get(key, 0.0)
                self.gauges[key] = value
            else:
                self.timings.setdefault(key, []).append(value)
        return self


R = TypeVar("R", bound=_Arrivals)


class Pipe(Generic[R]):
    """An emitter wired to a real receiver: a `PushLoop` over a `CountingSender` over a
    real sender. `flush` drains, sends, and returns the lines that arrived."""

    def __init__(self, emitter: Emitter, sender: Sender, receiver: R) -> None:
        self.sender = CountingSender(sender)
        self.loop = PushLoop(emitter, self.sender)
        self.receiver = receiver

    async def flush(self) -> list[str]:
        """Flush now and wait for everything sent to arrive; return the new lines."""
        await self.loop.flush()
        await self.receiver.wait_for_bytes(self.sender.bytes_sent)
        return self.receiver.take_lines()


@contextlib.asynccontextmanager
async def udp_pipe(
    emitter: Emitter, *, max_payload: int = 1432
) -> AsyncIterator[Pipe[UDPReceiver]]:
    """*emitter* pushing over a real UDPSender to a `UDPReceiver`."""
    async with UDPReceiver() as receiver:
        pipe = Pipe(
            emitter, UDPSender("127.0.0.1", receiver.port, max_payload=max_payload), receiver
        )
        try:
            yield pipe
        finally:
            await pipe.loop.aclose()


@contextlib.asynccontextmanager
async def tcp_pipe(
    emitter: Emitter, *, max_payload: int = 65536
) -> AsyncIterator[Pipe[TCPReceiver]]:
    """*emitter* pushing over a real TCPSender (and Manager) to a `TCPReceiver`."""
    clock = FakeClock()
    async with (
        TCPReceiver() as receiver,
        Manager(tcp("127.0.0.1", receiver.port), clock=clock, sleep=clock.sleep) as manager,
    ):
        pipe = Pipe(emitter, TCPSender(manager, max_payload=max_payload), receiver)
        try:
            yield pipe
        finally:
            await pipe.loop.aclose()


def quantiles_of(values: list[float]) -> Mapping[float, float]:
    """The conformance suite's quantiles of *values*, as a server would compute them."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {q: cuts[round(q * 100) - 1] for q in QUANTILES}
