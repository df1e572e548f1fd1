"""PushLoop, UDPSender and pack_lines: shipping buffered metrics without hurting the service."""

from __future__ import annotations

import asyncio
import socket

import pytest

from pygokit.metrics.push import Emitter, PushLoop, Sender, UDPSender, pack_lines
from pygokit.testing import FakeClock
from pygokit.transport import ErrorHandlerFunc


class Lines:
    """An Emitter whose lines the test queues by hand."""

    def __init__(self) -> None:
        self.queued: list[bytes] = []

    def drain(self, max_payload: int, /) -> list[bytes]:
        """Hand over the queued lines, packed."""
        lines, self.queued = self.queued, []
        return pack_lines(lines, max_payload)


class Recorder:
    """A Sender that keeps payloads, or fails while `down` is set."""

    max_payload = 16

    def __init__(self) -> None:
        self.payloads: list[bytes] = []
        self.down = False
        self.closed = False

    async def send(self, payload: bytes, /) -> None:
        """Keep *payload*, or raise as a dead receiver would."""
        if self.down:
            raise ConnectionRefusedError("receiver down")
        self.payloads.append(payload)

    async def aclose(self) -> None:
        """Note that the loop closed us."""
        self.closed = True


def test_pack_lines_fills_payloads_without_splitting_lines() -> None:
    """Lines are joined up to the limit; an oversized line travels alone."""
    lines = [b"aaaa\n", b"bbbb\n", b"cccc\n", b"x" * 20 + b"\n", b"dd\n"]
    assert pack_lines(lines, 10) == [b"aaaa\nbbbb\n", b"cccc\n", b"x" * 20 + b"\n", b"dd\n"]
    assert pack_lines([], 10) == []


def test_doubles_fit_the_protocols() -> None:
    """The test's emitter and sender satisfy Emitter and Sender, as UDPSender does."""
    assert isinstance(Lines(), Emitter)
    assert isinstance(Recorder(), Sender)
    assert isinstance(UDPSender("127.0.0.1", 9), Sender)


async def test_flush_sends_everything_and_counts_it() -> None:
    """flush drains the emitter into payloads within the sender's limit and counts them."""
    emitter, sender = Lines(), Recorder()
    loop = PushLoop(emitter, sender)
    emitter.queued = [b"a:1|c\n", b"b:2|c\n", b"c:3|c\n"]

    await loop.flush()

    assert sender.payloads == [b"a:1|c\nb:2|c\n", b"c:3|c\n"]
    assert (loop.sent, loop.dropped) == (2, 0)


async def test_a_dead_receiver_is_counted_never_raised() -> None:
    """Payloads the sender cannot deliver are dropped, counted and handed to the error handler."""
    emitter, sender = Lines(), Recorder()
    errors: list[Exception] = []
    loop = PushLoop(emitter, sender, error_handler=ErrorHandlerFunc(errors.append))
    sender.down = True
    emitter.queued = [b"a:1|c\n"]

    await loop.flush()
    sender.down = False
    emitter.queued = [b"b:1|c\n"]
    await loop.flush()

    assert (loop.sent, loop.dropped) == (1, 1)
    assert [type(e) for e in errors] == [ConnectionRefusedError]
    assert sender.payloads == [b"b:1|c\n"]


async def test_loop_flushes_every_interval_and_once_more_on_exit() -> None:
    """Inside the block the loop flushes each interval; leaving flushes the rest and closes."""
    clock = FakeClock()
    emitter, sender = Lines(), Recorder()
    async with PushLoop(emitter, sender, interval=10, sleep=clock.sleep):
        emitter.queued = [b"first\n"]
        await clock.wait_for_sleepers(1)
        clock.advance(10)
        await clock.wait_for_sleepers(1)  # back asleep: the flush happened
        assert sender.payloads == [b"first\n"]
        emitter.queued = [b"last\n"]
    assert sender.payloads == [b"first\n", b"last\n"]
    assert sender.closed


async def test_a_broken_emitter_surfaces_to_the_owner() -> None:
    """An error that kills the loop (a bug, not a dead receiver) is raised on exit."""

    class Broken:
        def drain(self, max_payload: int, /) -> list[bytes]:
            raise ZeroDivisionError("bug")

    clock = FakeClock(auto_advance=True)
    sender = Recorder()

    async def run_briefly() -> None:
        async with PushLoop(Broken(), sender, interval=1, sleep=clock.sleep):
            await asyncio.sleep(0)
            await asyncio.sleep(0)

    with pytest.raises(ZeroDivisionError):
        await run_briefly()
    assert sender.closed


async def test_loop_cannot_be_entered_twice_and_checks_its_interval() -> None:
    """Entering a running loop is a RuntimeError; a non-positive interval a ValueError."""
    loop = PushLoop(Lines(), Recorder(), sleep=FakeClock().sleep)
    async with loop:
        with pytest.raises(RuntimeError, match="already running"):
            await loop.__aenter__()
    with pytest.raises(ValueError, match="interval"):
        PushLoop(Lines(), Recorder(), interval=0)


async def test_cancelling_the_owner_during_close_propagates() -> None:
    """If the task closing the loop is itself cancelled, the cancellation is not swallowed."""
    clock = FakeClock()
    sender = Recorder()
    loop = PushLoop(Lines(), sender, sleep=clock.sleep)
    await loop.__aenter__()
    closing = asyncio.create_task(loop.aclose())
    await asyncio.sleep(0)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert sender.closed


async def test_udp_sender_delivers_datagrams_to_a_real_socket() -> None:
    """Payloads arrive as datagrams on a UDP socket bound on loopback."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    sender = UDPSender("127.0.0.1", receiver.getsockname()[1])
    try:
        await sender.send(b"hits:1|c\n")
        await sender.send(b"hits:2|c\n")
        got = [receiver.recv(2048), receiver.recv(2048)]
    finally:
        await sender.aclose()
        receiver.close()
    assert got == [b"hits:1|c\n", b"hits:2|c\n"]
    assert repr(sender).startswith("UDPSender('127.0.0.1', ")


async def test_udp_sender_reports_a_closed_port_on_a_later_send() -> None:
    """With nothing listening, a later send raises the refusal the kernel reported."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    sender = UDPSender("127.0.0.1", port)

    async def send_until_refused() -> None:
        async with asyncio.timeout(5):
            while True:
                await sender.send(b"x:1|c\n")
                await asyncio.sleep(0.01)

    try:
        with pytest.raises(ConnectionRefusedError):
            await send_until_refused()
    finally:
        await sender.aclose()


def test_udp_sender_refuses_a_zero_payload_limit() -> None:
    """max_payload below one byte is a ValueError."""
    with pytest.raises(ValueError, match="max_payload"):
        UDPSender("127.0.0.1", 9, max_payload=0)
