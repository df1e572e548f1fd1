"""TCPSender: payloads over a managed TCP connection, drops counted, manager left open."""

from __future__ import annotations

import pytest

from pygokit.metrics.push import PushLoop, Sender, TCPSender, pack_lines
from pygokit.testing import FakeClock
from pygokit.util.conn import ConnectionUnavailable, Manager, tcp
from tests.metrics.receivers import TCPReceiver, free_port


class Lines:
    """An Emitter whose lines the test queues by hand."""

    def __init__(self) -> None:
        self.queued: list[bytes] = []

    def drain(self, max_payload: int, /) -> list[bytes]:
        """Hand over the queued lines, packed."""
        lines, self.queued = self.queued, []
        return pack_lines(lines, max_payload)


def test_tcp_sender_is_a_sender_and_checks_its_limit() -> None:
    """TCPSender fits the Sender protocol, defaults to 64 KiB payloads, refuses 0."""
    manager = Manager(tcp("127.0.0.1", 2003))
    sender = TCPSender(manager)
    assert isinstance(sender, Sender)
    assert sender.max_payload == 65536
    assert repr(sender) == "TCPSender(tcp://127.0.0.1:2003)"
    with pytest.raises(ValueError, match="max_payload"):
        TCPSender(manager, max_payload=0)


async def test_payloads_arrive_in_order_and_closing_the_sender_keeps_the_manager() -> None:
    """Each payload is written to the stream; aclose leaves the manager's connection open."""
    clock = FakeClock()
    async with (
        TCPReceiver() as receiver,
        Manager(tcp("127.0.0.1", receiver.port), clock=clock, sleep=clock.sleep) as manager,
    ):
        emitter = Lines()
        loop = PushLoop(emitter, TCPSender(manager, max_payload=8))
        emitter.queued = [b"a 1 0\n", b"b 2 0\n", b"c 3 0\n"]
        await loop.aclose()
        await receiver.wait_for_bytes(18)
        assert receiver.lines == ["a 1 0", "b 2 0", "c 3 0"]
        assert (loop.sent, loop.dropped) == (3, 0)
        assert manager.connected
        await manager.write(b"d 4 0\n")
        await receiver.wait_for_bytes(24)
    assert receiver.lines[-1] == "d 4 0"


async def test_without_a_connection_send_raises_and_the_loop_counts_the_drop() -> None:
    """send raises ConnectionUnavailable while refused; PushLoop counts it, raises nothing."""
    clock = FakeClock()
    async with Manager(tcp("127.0.0.1", free_port()), clock=clock, sleep=clock.sleep) as manager:
        sender = TCPSender(manager)
        with pytest.raises(ConnectionUnavailable):
            await sender.send(b"a 1 0\n")
        emitter = Lines()
        loop = PushLoop(emitter, sender)
        emitter.queued = [b"a 1 0\n"]
        await loop.flush()
        assert (loop.sent, loop.dropped) == (0, 1)
