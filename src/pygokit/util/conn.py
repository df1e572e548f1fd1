"""A connection that heals itself: Go kit's ``util/conn.Manager`` for asyncio.

A `Manager` holds at most one stream connection to a receiver (a Graphite or StatsD
server over TCP, say) and dials it again from a background task it owns whenever
the connection breaks. Writers never wait for a reconnect: while there is no
connection, `Manager.write` raises `ConnectionUnavailable` at once, saying when the
next attempt is due (``retry_in``), and a `pygokit.metrics.push.PushLoop` counts the
payload as dropped and carries on.

The manager notices a broken connection three ways: a write fails, a caller reports
an error with `Manager.put`, or the receiver closes the connection. The last one
Go kit does not watch for, so there the first write after a receiver restart is
lost; here the connection is replaced as soon as the receiver hangs up.

Failed dials back off exponentially with jitter, as in Go kit: the n-th wait is
*initial_backoff* times 2^(n-1), at most *max_backoff*, times a factor drawn from
[0.5, 1.5) and capped again (a `pygokit.retry.backoff.Exponential`; Go kit compounds
the factors from one wait to the next, which only makes the spread wider). A
connection that stays up for *initial_backoff* seconds or more
resets the backoff, and when it later breaks the manager dials again at once. One
that breaks sooner counts as a failed attempt, so a receiver that accepts and hangs
up straight away is not dialled in a hot loop (Go kit would).

Example::

    async with Manager(tcp("127.0.0.1", 2003)) as manager:
        async with PushLoop(graphite, TCPSender(manager), interval=10):
            await serve()
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self, TypeAlias

from pygokit.clock import Clock, Sleep
from pygokit.errors import GoKitError
from pygokit.log import NopLogger
from pygokit.retry.backoff import Exponential
from pygokit.transport import ErrorHandler, LogErrorHandler

__all__ = ["ConnectionUnavailable", "Dial", "Manager", "tcp"]

Dial: TypeAlias = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
"""Opens a connection, as `asyncio.open_connection` does, or raises."""

_READ_CHUNK = 4096


class ConnectionUnavailable(GoKitError):
    """There is no connection to write to; the manager is reconnecting (or not running).

    Attributes:
        address: What the manager connects to.
        retry_in: Seconds until the next dial attempt: 0 while one is under way,
            infinity when the manager is not running.
    """

    def __init__(self, address: str, retry_in: float, reason: str) -> None:
        self.address = address
        self.retry_in = retry_in
        if math.isinf(retry_in):
            what = f"the connection manager for {address} is not running ({reason})"
            todo = "enter it with 'async with Manager(...)' before writing"
        else:
            what = f"no connection to {address} ({reason})"
            todo = f"next attempt in {retry_in:.1f}s" if retry_in > 0 else "reconnecting now"
        super().__init__(f"{what}; {todo}; the data was not written")


class _TCPDial:
    """Dials host:port over TCP, giving up after *timeout* seconds."""

    __slots__ = ("_host", "_port", "_timeout")

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._host, self._port, self._timeout = host, port, timeout

    async def __call__(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with asyncio.timeout(self._timeout):
            return await asyncio.open_connection(self._host, self._port)

    def __repr__(self) -> str:
        return f"tcp://{self._host}:{self._port}"


def tcp(host: str, port: int, *, timeout: float = 5.0) -> Dial:
    """A `Dial` that opens a TCP connection to *host*:*port* within *timeout* seconds.

    Its ``repr`` is ``tcp://host:port``, which the manager uses in its messages.
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return _TCPDial(host, port, timeout)


class Manager:
    """Keeps one connection open from a background task; an async context manager.

    Entering makes the first dial (and returns whether or not it worked, so a
    receiver that is down never stops a service from starting) and starts the task
    that reconnects; leaving stops the task and closes the connection.

    Args:
        dial: Opens the connection; `tcp` makes one. It should time out by itself:
            while it hangs, the manager cannot try again.
        initial_backoff: Seconds to wait after the first failed dial (times the
            jitter factor), and how long a connection must last to count as good.
        max_backoff: The longest wait between attempts.
        clock: Monotonic seconds; pass a `pygokit.testing.FakeClock` in tests.
        sleep: Waits between attempts; pass the fake clock's ``sleep`` in tests.
        rng: Returns a float in [0, 1) for the jitter; fix it to test the backoff.
        write_timeout: Seconds a write may wait for the receiver to take data before
            the connection counts as broken, and that closing waits for the last
            bytes to go out (None waits forever). A stalled receiver then costs one
            payload per interval, never a stuck `PushLoop`.
        error_handler: Observes every failed dial and broken connection; by default
            they are only remembered for the next `ConnectionUnavailable`.
        name: How messages refer to the receiver; ``repr(dial)`` by default.
    """

    def __init__(
        self,
        dial: Dial,
        *,
        initial_backoff: float = 1.0,
        max_backoff: float = 60.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        write_timeout: float | None = 10.0,
        error_handler: ErrorHandler | None = None,
        name: str | None = None,
    ) -> None:
        if not initial_backoff > 0:
            raise ValueError(f"initial_backoff must be positive seconds, got {initial_backoff!r}")
        if not max_backoff >= initial_backoff:
            raise ValueError(
                f"max_backoff ({max_backoff!r}) must be at least initial_backoff "
                f"({initial_backoff!r})"
            )
        if write_timeout is not None and not write_timeout > 0:
            raise ValueError(
                f"write_timeout must be positive seconds or None, got {write_timeout!r}"
            )
        self._dial = dial
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._clock = clock
        self._sleep = sleep
        self._write_timeout = write_timeout
        self._error_handler = error_handler or LogErrorHandler(NopLogger())
        self.address = name or repr(dial)
        """What this manager connects to, as messages name it."""
        self.connects = 0
        """Connections opened so far."""
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._opened_at = 0.0
        self._backoff = Exponential(
            initial=initial_backoff, multiplier=2.0, maximum=max_backoff, jitter=0.5, rng=rng
        )
        self._failures = 0  # failed dials in a row; 0 after a good connection
        self._redial_now = False  # a good connection broke: dial again without waiting
        self._retry_at: float | None = None  # when the next dial is due, while waiting
        self._last_error: Exception | None = None
        self._up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """Whether there is a connection to write to right now."""
        return self.take() is not None

    def take(self) -> asyncio.StreamWriter | None:
        """The connection's writer, or None while there is none (Go kit's ``Take``)."""
        writer = self._writer
        if writer is None or writer.transport.is_closing():
            return None
        return writer

    def put(self, error: Exception | None) -> None:
        """Report how using the connection went (Go kit's ``Put``).

        An *error* closes the connection and has the manager dial again; None does
        nothing.
        """
        if error is not None and self._writer is not None:
            self._break(self._writer, error)

    async def write(self, data: bytes) -> None:
        """Write *data* and wait until the transport has room again: one take/put cycle.

        Raises:
            ConnectionUnavailable: There is no connection; nothing was written.
            TimeoutError: The receiver took nothing for *write_timeout* seconds; the
                connection is replaced.
            OSError: The write failed; the connection is replaced.
        """
        writer = self.take()
        if writer is None:
            raise self._unavailable() from self._last_error
        try:
            writer.write(data)
            async with asyncio.timeout(self._write_timeout):
                await writer.drain()
        except TimeoutError as exc:
            stalled = TimeoutError(
                f"{self.address} took no data for {self._write_timeout}s; reconnecting"
            )
            self._release(writer, stalled)
            raise stalled from exc
        except Exception as exc:
            self._release(writer, exc)
            raise

    def _release(self, writer: asyncio.StreamWriter, error: Exception) -> None:
        if writer is self._writer:  # not already replaced while we waited
            self._break(writer, error)

    async def wait_connected(self) -> None:
        """Return once a connection is up; bound it with `asyncio.timeout`."""
        while not self.connected:
            await self._up.wait()
            if not self.connected:  # went down again before we ran
                await asyncio.sleep(0)

    def _unavailable(self) -> ConnectionUnavailable:
        if self._task is None or self._task.done():
            return ConnectionUnavailable(self.address, math.inf, self._reason())
        return ConnectionUnavailable(self.address, self._wait_left(), self._reason())

    def _wait_left(self) -> float:
        """Seconds until the next dial is due; 0 while one is due or under way."""
        return 0.0 if self._retry_at is None else max(0.0, self._retry_at - self._clock())

    def _reason(self) -> str:
        error = self._last_error
        if error is None:
            return "not connected yet"
        return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__

    def _break(self, writer: asyncio.StreamWriter, error: Exception) -> None:
        """Drop the current connection, *writer*, because of *error*; the task redials."""
        self._writer = self._reader = None
        self._last_error = error
        self._up.clear()
        writer.transport.abort()  # ends the task's read with EOF
        if self._clock() - self._opened_at >= self._initial_backoff:
            self._failures = 0  # it was a good connection: start over, dial now
            self._redial_now = True
        else:  # it died young: back off as after a failed dial
            self._schedule()
        self._error_handler.handle(error)

    async def _attempt(self) -> None:
        """Dial once; on success the connection is up, on failure the error is kept."""
        self._retry_at = None
        try:
            reader, writer = await self._dial()
        except Exception as exc:  # refused, unreachable, timed out, bad address...
            self._last_error = exc
            self._schedule()
            self._error_handler.handle(exc)
            return
        self._reader, self._writer = reader, writer
        self._opened_at = self._clock()
        self.connects += 1
        self._up.set()

    def _schedule(self) -> None:
        """Set when to dial next after a failure: later after each one."""
        self._failures += 1
        delay = min(self._backoff.delay(self._failures), self._max_backoff)
        self._retry_at = self._clock() + delay

    async def _hold(self, reader: asyncio.StreamReader) -> Exception | None:
        """Wait until the connection ends: EOF from the receiver or from `_break`."""
        try:
            while await reader.read(_READ_CHUNK):
                pass  # a metrics receiver has nothing to say; discard what it says anyway
        except Exception as exc:  # reset by the receiver
            return exc
        return None

    async def _run(self) -> None:
        while True:
            writer, reader = self._writer, self._reader
            if writer is None or reader is None:
                if self._redial_now:
                    self._redial_now = False
                else:
                    await self._sleep(self._wait_left())
                await self._attempt()
                continue
            error = await self._hold(reader)
            if writer is self._writer:  # the receiver hung up; nobody has reported it yet
                hung_up = ConnectionResetError(f"{self.address} closed the connection")
                self._break(writer, error or hung_up)

    async def __aenter__(self) -> Self:
        if self._task is not None:
            raise RuntimeError(f"the connection manager for {self.address} is already running")
        await self._attempt()
        self._task = asyncio.create_task(self._run(), name=f"pygokit connect {self.address}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reconnecting and close the connection, letting written data go out first.

        An error that killed the background task surfaces here.
        """
        task, self._task = self._task, None
        try:
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # we are being cancelled ourselves: let it through
            elif task is not None:
                task.result()  # re-raise whatever killed the task, if something did
        finally:
            self._retry_at = None
            writer, self._writer, self._reader = self._writer, None, None
            self._up.clear()
            if writer is not None:
                await self._close(writer)

    async def _close(self, writer: asyncio.StreamWriter) -> None:
        """Close gracefully so written bytes go out; abort if the receiver will not take
        them within *write_timeout*."""
        writer.close()
        try:
            async with asyncio.timeout(self._write_timeout):
                await writer.wait_closed()
        except TimeoutError:
            writer.transport.abort()
        except Exception:  # reset by the receiver as we closed: nothing left to save
            return

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"Manager({self.address}, {state}, connects={self.connects})"
