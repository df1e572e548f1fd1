"""The reconnecting connection manager, against a real TCP server on loopback.

Backoff runs on a `FakeClock`: a test advances it to trigger the next dial, and a
fixed ``rng`` makes the waits exact. The dials themselves are real.
"""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import Callable

import pytest

from pygokit.errors import GoKitError
from pygokit.testing import FakeClock
from pygokit.transport import ErrorHandler, ErrorHandlerFunc
from pygokit.util.conn import ConnectionUnavailable, Dial, Manager, tcp
from tests.metrics.receivers import WAIT, TCPReceiver, free_port


def fixed(draw: float) -> Callable[[], float]:
    """An rng that always returns *draw*."""
    return lambda: draw


MIDDLE = fixed(0.5)
"""Jitter factor exactly 1."""


class Waits:
    """The fake clock's sleep, noting every wait the manager asks for."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        """Note *seconds*, then sleep on the fake clock."""
        self.waits.append(seconds)
        await self.clock.sleep(seconds)

    async def next(self) -> float:
        """Wait until the manager sleeps, then let that sleep end; return its length."""
        await self.clock.wait_for_sleepers(1)
        self.clock.advance(self.waits[-1])
        return self.waits[-1]


def manager(
    port: int,
    clock: FakeClock,
    waits: Waits,
    *,
    initial_backoff: float = 1.0,
    max_backoff: float = 60.0,
    write_timeout: float | None = 10.0,
    error_handler: ErrorHandler | None = None,
) -> Manager:
    """A manager dialling 127.0.0.1:*port* on the fake clock, with jitter factor 1."""
    return Manager(
        tcp("127.0.0.1", port),
        initial_backoff=initial_backoff,
        max_backoff=max_backoff,
        clock=clock,
        sleep=waits.sleep,
        rng=MIDDLE,
        write_timeout=write_timeout,
        error_handler=error_handler,
    )


async def test_connects_on_entry_and_writes_through() -> None:
    """Entering dials at once; write delivers the bytes to the receiver."""
    clock = FakeClock()
    async with TCPReceiver() as receiver, manager(receiver.port, clock, Waits(clock)) as m:
        assert m.connected
        assert m.take() is not None
        await m.write(b"a 1 0\n")
        await receiver.wait_for_bytes(6)
        assert receiver.lines == ["a 1 0"]
        assert m.connects == 1
        assert repr(m) == f"Manager(tcp://127.0.0.1:{receiver.port}, connected, connects=1)"
    assert not m.connected


async def test_what_the_receiver_says_is_read_and_discarded() -> None:
    """A receiver that talks back does not fill a buffer or break the connection."""
    clock = FakeClock()
    lines: list[bytes] = []
    heard = asyncio.Event()

    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"welcome\n" * 10_000)
        lines.append(await reader.readline())
        heard.set()
        writer.close()

    server = await asyncio.start_server(chatty, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with manager(port, clock, Waits(clock)) as m:
            for _ in range(10):
                await asyncio.sleep(0)
            assert m.connected
            await m.write(b"a 1 0\n")
            async with asyncio.timeout(WAIT):
                await heard.wait()
    finally:
        server.close()
        await server.wait_closed()
    assert lines == [b"a 1 0\n"]


async def test_closing_twice_or_without_entering_is_harmless() -> None:
    """aclose on a manager that never ran, or already closed, does nothing."""
    clock = FakeClock()
    async with TCPReceiver() as receiver:
        m = manager(receiver.port, clock, Waits(clock))
        await m.aclose()
        async with m:
            assert m.connected
        await m.aclose()
        assert not m.connected


async def test_failed_dials_back_off_exponentially_up_to_the_cap() -> None:
    """With the jitter factor fixed at 1, waits go 1, 2, 4, ... and stop at max_backoff."""
    clock = FakeClock()
    waits = Waits(clock)
    async with manager(free_port(), clock, waits, max_backoff=30.0) as m:
        assert not m.connected
        for _ in range(7):
            await waits.next()
        await clock.wait_for_sleepers(1)
    assert waits.waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


async def test_jitter_scales_each_wait_between_half_and_one_and_a_half() -> None:
    """Each wait is the doubling delay times a factor from [0.5, 1.5): here 0.5 and 1.25."""
    for draw, expected in [(0.0, [0.5, 1.0, 2.0]), (0.75, [1.25, 2.5, 5.0])]:
        clock = FakeClock()
        waits = Waits(clock)
        dial = tcp("127.0.0.1", free_port())
        async with Manager(dial, clock=clock, sleep=waits.sleep, rng=fixed(draw)):
            for _ in range(2):
                await waits.next()
            await clock.wait_for_sleepers(1)
        assert waits.waits == expected


async def test_writes_fail_fast_with_when_the_next_attempt_is_due() -> None:
    """While down, write raises ConnectionUnavailable at once, with retry_in and the cause."""
    clock = FakeClock()
    port = free_port()
    async with manager(port, clock, Waits(clock), initial_backoff=4.0) as m:
        await clock.wait_for_sleepers(1)
        clock.advance(1.5)
        with pytest.raises(ConnectionUnavailable) as caught:
            await m.write(b"lost\n")
    error = caught.value
    assert isinstance(error, GoKitError)
    assert error.retry_in == 2.5
    assert error.address == f"tcp://127.0.0.1:{port}"
    assert isinstance(error.__cause__, ConnectionRefusedError)
    assert str(error).startswith(f"no connection to tcp://127.0.0.1:{port} (ConnectionRefused")
    assert str(error).endswith("; next attempt in 2.5s; the data was not written")


async def test_reconnects_when_the_receiver_comes_up_and_resets_the_backoff() -> None:
    """A receiver started late is reached on the next attempt; a good connection resets
    the backoff, so after it breaks the manager dials at once, then waits 1s again."""
    clock = FakeClock()
    waits = Waits(clock)
    port = free_port()
    receiver = TCPReceiver()
    async with manager(port, clock, waits) as m:
        await waits.next()
        await waits.next()
        await clock.wait_for_sleepers(1)
        await receiver.start(port)
        clock.advance(waits.waits[-1])
        async with asyncio.timeout(WAIT):
            await m.wait_connected()
        await m.write(b"up 1 0\n")
        await receiver.wait_for_bytes(7)

        clock.advance(60)  # the connection has proved itself
        await receiver.stop()
        await clock.wait_for_sleepers(1)  # redialled at once, refused, now backing off
        assert waits.waits == [1.0, 2.0, 4.0, 1.0]
        assert not m.connected
    assert receiver.lines == ["up 1 0"]


async def test_a_receiver_restart_loses_no_write() -> None:
    """The manager notices the receiver hang up and reconnects before the next write,
    so the first write after a restart arrives (Go kit's manager loses it)."""
    clock = FakeClock()
    waits = Waits(clock)
    async with TCPReceiver() as receiver, manager(receiver.port, clock, waits) as m:
        clock.advance(60)
        await receiver.stop()
        await clock.wait_for_sleepers(1)
        await receiver.start(receiver.port)
        clock.advance(waits.waits[-1])
        async with asyncio.timeout(WAIT):
            await m.wait_connected()
        await m.write(b"after 1 0\n")
        await receiver.wait_for_bytes(10)
        assert receiver.lines == ["after 1 0"]
        assert (receiver.connections, m.connects) == (2, 2)


async def test_put_an_error_replaces_the_connection_at_once() -> None:
    """put(error) closes the connection; a connection that had proved itself is redialled
    without waiting. put(None) changes nothing."""
    clock = FakeClock()
    waits = Waits(clock)
    errors: list[Exception] = []
    async with (
        TCPReceiver() as receiver,
        manager(receiver.port, clock, waits, error_handler=ErrorHandlerFunc(errors.append)) as m,
    ):
        first = m.take()
        m.put(None)
        assert m.take() is first
        clock.advance(5)
        boom = OSError("boom")
        m.put(boom)
        assert m.take() is None
        async with asyncio.timeout(WAIT):
            await m.wait_connected()
        assert m.take() is not first
        assert waits.waits == []
        assert errors == [boom]
        assert m.connects == 2


async def test_a_connection_that_dies_young_counts_as_a_failed_dial() -> None:
    """A receiver that accepts and hangs up at once is dialled with growing waits."""
    clock = FakeClock()
    waits = Waits(clock)

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with manager(port, clock, waits) as m:
            for _ in range(3):
                await waits.next()
            await clock.wait_for_sleepers(1)
            assert m.connects == 4
    finally:
        server.close()
        await server.wait_closed()
    assert waits.waits == [1.0, 2.0, 4.0, 8.0]


async def test_a_hanging_dial_never_blocks_writers_and_close_cancels_it() -> None:
    """While a dial hangs, write raises at once with retry_in 0; aclose cancels the dial."""
    clock = FakeClock()
    waits = Waits(clock)
    calls = 0
    hanging, never = asyncio.Event(), asyncio.Event()

    async def dial() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionRefusedError("not yet")
        hanging.set()
        await never.wait()
        raise AssertionError("unreachable")

    async with asyncio.timeout(WAIT):
        async with Manager(dial, clock=clock, sleep=waits.sleep, rng=MIDDLE, name="slow") as m:
            await waits.next()
            await hanging.wait()
            with pytest.raises(ConnectionUnavailable, match="reconnecting now") as caught:
                await m.write(b"x\n")
            assert caught.value.retry_in == 0.0
            assert caught.value.address == "slow"


async def test_a_failing_write_replaces_the_connection() -> None:
    """A write that fails raises its error and the manager dials again."""
    clock = FakeClock()
    ours, theirs = socket.socketpair()
    dials: list[socket.socket] = [ours]

    async def dial() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if not dials:
            raise ConnectionRefusedError("only one")
        return await asyncio.open_connection(sock=dials.pop())

    async with Manager(dial, clock=clock, sleep=Waits(clock).sleep, rng=MIDDLE) as m:
        theirs.close()
        with pytest.raises(ConnectionError):
            await m.write(b"x" * 100)
        assert m.take() is None
        await clock.wait_for_sleepers(1)
        with pytest.raises(ConnectionUnavailable, match=r"next attempt in 1\.0s"):
            await m.write(b"y\n")


async def test_a_stalled_receiver_times_the_write_out_and_the_close() -> None:
    """A receiver that stops reading makes write raise TimeoutError after write_timeout,
    and aclose abort after the same time rather than hang."""
    clock = FakeClock()
    chunk = b"x" * (1 << 20)

    async def fill(m: Manager) -> None:
        for _ in range(256):
            await m.write(chunk)

    async with TCPReceiver(reading=False) as receiver, asyncio.timeout(WAIT):
        async with manager(receiver.port, clock, Waits(clock), write_timeout=0.1) as m:
            with pytest.raises(TimeoutError, match=r"took no data for 0\.1s"):
                await fill(m)
            assert m.take() is None
            await clock.wait_for_sleepers(1)
            clock.advance(1)
            await m.wait_connected()
            writer = m.take()
            assert writer is not None
            writer.write(chunk * 16)  # Go kit style: take, write, no drain; more than buffers hold
        assert writer.transport.is_closing()


async def test_a_crash_in_the_background_task_surfaces_on_close() -> None:
    """If the reconnect task dies (here its sleep fails), writes say the manager is not
    running and aclose raises the error."""

    async def broken_sleep(seconds: float) -> None:
        raise ValueError("sleep broke")

    m = Manager(tcp("127.0.0.1", free_port()), sleep=broken_sleep)
    await m.__aenter__()
    for _ in range(3):
        await asyncio.sleep(0)
    with pytest.raises(ConnectionUnavailable) as caught:
        await m.write(b"x\n")
    assert math.isinf(caught.value.retry_in)
    with pytest.raises(ValueError, match="sleep broke"):
        await m.aclose()


async def test_a_manager_must_be_entered_once() -> None:
    """Writing before entering raises ConnectionUnavailable saying so; entering twice
    raises RuntimeError."""
    clock = FakeClock()
    m = manager(free_port(), clock, Waits(clock))
    with pytest.raises(ConnectionUnavailable, match=r"is not running .* enter it with 'async with"):
        await m.write(b"x\n")
    async with m:
        with pytest.raises(RuntimeError, match="already running"):
            await m.__aenter__()


def test_arguments_are_checked() -> None:
    """Bad backoffs, timeouts and dial timeouts raise ValueError at construction."""
    dial: Dial = tcp("127.0.0.1", 9)
    assert repr(dial) == "tcp://127.0.0.1:9"
    with pytest.raises(ValueError, match="initial_backoff"):
        Manager(dial, initial_backoff=0)
    with pytest.raises(ValueError, match="max_backoff"):
        Manager(dial, initial_backoff=2, max_backoff=1)
    with pytest.raises(ValueError, match="write_timeout"):
        Manager(dial, write_timeout=0)
    with pytest.raises(ValueError, match="timeout"):
        tcp("127.0.0.1", 9, timeout=-1)
