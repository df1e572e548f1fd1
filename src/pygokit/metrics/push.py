"""Shipping buffered metrics on an interval: the loop every push backend runs under.

A push backend (StatsD, DogStatsD, Influx StatsD, Graphite, InfluxDB) records into
memory and is an `Emitter`: ``drain`` hands over everything recorded since the last
drain, as payloads ready for the wire. A `Sender` delivers payloads (UDP datagrams,
a TCP stream, an HTTP request). `PushLoop` drains the emitter into the sender every
*interval* seconds from a task it owns, and once more when it closes.

A receiver that is down never blocks or crashes the service: a payload that cannot
be sent is dropped and counted (`PushLoop.dropped`), the error goes to the error
handler, and the next flush tries again.

Example::

    statsd = Statsd(prefix="addsvc.")
    async with PushLoop(statsd, UDPSender("127.0.0.1", 8125), interval=10):
        await serve(statsd.counter("requests"))
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from pygokit.log import NopLogger
from pygokit.transport import ErrorHandler, LogErrorHandler
from pygokit.util.conn import Manager

__all__ = ["Emitter", "PushLoop", "Sender", "TCPSender", "UDPSender", "pack_lines"]


@runtime_checkable
class Emitter(Protocol):
    """A backend that buffers metrics and hands them over for sending."""

    def drain(self, max_payload: int, /) -> list[bytes]:
        """Take everything recorded since the last drain, as payloads of at most
        *max_payload* bytes each (a single line longer than that goes alone)."""


@runtime_checkable
class Sender(Protocol):
    """Delivers payloads to a receiver."""

    max_payload: int
    """The largest payload this sender wants in one `send`."""

    async def send(self, payload: bytes, /) -> None:
        """Deliver *payload*; raise if it cannot be delivered."""

    async def aclose(self) -> None:
        """Release the connection, if any."""


def pack_lines(lines: Iterable[bytes], max_payload: int) -> list[bytes]:
    """Join newline-terminated *lines* into as few payloads of at most *max_payload* as
    possible, never splitting a line."""
    payloads: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        if current and size + len(line) > max_payload:
            payloads.append(b"".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        payloads.append(b"".join(current))
    return payloads


class _Datagrams(asyncio.DatagramProtocol):
    """Remembers the last error the socket reported, such as 'connection refused'."""

    def __init__(self) -> None:
        self.error: Exception | None = None

    def error_received(self, exc: Exception) -> None:
        self.error = exc


class UDPSender:
    """Sends each payload as one UDP datagram to *host*:*port*.

    UDP gives no delivery report; a receiver that is down usually shows as
    'connection refused' on a later send, which is then raised (and counted by the
    loop). The socket is opened on the first send.

    Args:
        host: The receiver's address.
        port: The receiver's port.
        max_payload: The largest datagram to send; 1432 bytes fits a typical
            Ethernet MTU, as StatsD clients assume.
    """

    def __init__(self, host: str, port: int, *, max_payload: int = 1432) -> None:
        if max_payload < 1:
            raise ValueError(f"max_payload must be at least 1 byte, got {max_payload}")
        self.max_payload = max_payload
        self._address = (host, port)
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _Datagrams | None = None

    async def send(self, payload: bytes, /) -> None:
        """Send *payload* as one datagram; raise the socket's last reported error."""
        if self._transport is None or self._protocol is None or self._transport.is_closing():
            loop = asyncio.get_running_loop()
            self._transport, self._protocol = await loop.create_datagram_endpoint(
                _Datagrams, remote_addr=self._address
            )
        error, self._protocol.error = self._protocol.error, None
        if error is not None:
            raise error
        self._transport.sendto(payload)

    async def aclose(self) -> None:
        """Close the socket."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def __repr__(self) -> str:
        return f"UDPSender({self._address[0]!r}, {self._address[1]})"


class PushLoop:
    """Drains an `Emitter` into a `Sender` every *interval* seconds, as an async context.

    Entering starts the loop in a task owned by this object; leaving stops it, sends
    what is left, and closes the sender. A payload that cannot be sent is dropped,
    counted in `dropped`, and its error goes to *error_handler*.

    Args:
        emitter: The backend to drain.
        sender: Where payloads go.
        interval: Seconds between flushes.
        error_handler: Observes send failures; by default they are only counted.
        sleep: Waits between flushes; pass a `pygokit.testing.FakeClock`'s in tests.
    """

    def __init__(
        self,
        emitter: Emitter,
        sender: Sender,
        *,
        interval: float = 10.0,
        error_handler: ErrorHandler | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}")
        self._emitter = emitter
        self._sender = sender
        self._interval = interval
        self._error_handler = error_handler or LogErrorHandler(NopLogger())
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        """Payloads delivered so far."""
        self.dropped = 0
        """Payloads given up so far because the sender failed."""

    async def flush(self) -> None:
        """Drain the emitter now and send every payload; failures are counted, not raised."""
        for payload in self._emitter.drain(self._sender.max_payload):
            try:
                await self._sender.send(payload)
            except Exception as exc:  # the receiver's trouble must never become the service's
                self.dropped += 1
                self._error_handler.handle(exc)
            else:
                self.sent += 1

    async def _run(self) -> None:
        while True:
            await self._sleep(self._interval)
            await self.flush()

    async def __aenter__(self) -> Self:
        if self._task is not None:
            raise RuntimeError("this PushLoop is already running")
        self._task = asyncio.create_task(self._run(), name=f"pygokit push to {self._sender!r}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the loop, send what is left, close the sender. Errors of the loop surface here."""
        task, self._task = self._task, None
        try:
            if task is not None:
                task.cancel()
                try:
                    await task  # re-raises whatever killed the loop, if something did
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # we are being cancelled ourselves: let it through
            await self.flush()
        finally:
            await self._sender.aclose()


class TCPSender:
    """Writes each payload to a TCP stream kept open by a `pygokit.util.conn.Manager`.

    While the manager has no connection, `send` raises
    `pygokit.util.conn.ConnectionUnavailable` at once (the loop counts the payload
    as dropped) and the manager reconnects in the background. The manager belongs
    to whoever entered it, so `aclose` leaves it open: close the `PushLoop` first,
    then the manager, and the last flush still goes out.

    Args:
        manager: The connection to write to.
        max_payload: The most bytes to write in one `send`.

    Example::

        async with Manager(tcp("127.0.0.1", 2003)) as manager:
            async with PushLoop(graphite, TCPSender(manager)):
                ...
    """

    def __init__(self, manager: Manager, *, max_payload: int = 65536) -> None:
        if max_payload < 1:
            raise ValueError(f"max_payload must be at least 1 byte, got {max_payload}")
        self.max_payload = max_payload
        self._manager = manager

    async def send(self, payload: bytes, /) -> None:
        """Write *payload* and wait until the connection has taken it; raise if it cannot."""
        await self._manager.write(payload)

    async def aclose(self) -> None:
        """Nothing to release: the manager is closed by its owner."""

    def __repr__(self) -> str:
        return f"TCPSender({self._manager.address})"
