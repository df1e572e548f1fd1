"""CorkedTransport: the writes of one loop turn leave as one send, in order, and none is lost."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from typing import NamedTuple

import pytest

from pygokit.transport.grpc._corked import CorkedTransport


class Counting(asyncio.Protocol):
    """A protocol that only holds on to its transport."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport


class Pair(NamedTuple):
    """A corked transport, the real transport under it, what that one was asked to write,
    and the socket at the other end."""

    corked: CorkedTransport
    transport: asyncio.Transport
    sends: list[bytes]
    peer: socket.socket


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    """A corked transport over a real socket pair."""
    ours, peer = socket.socketpair()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(Counting, sock=ours)
    assert isinstance(transport, asyncio.Transport)
    sends: list[bytes] = []
    write = transport.write

    def counted(data: bytes | bytearray | memoryview) -> None:
        sends.append(bytes(data))
        write(data)

    transport.write = counted  # type: ignore[method-assign]  # observe the real transport
    peer.setblocking(False)
    yield Pair(CorkedTransport(transport, loop), transport, sends, peer)
    transport.close()
    peer.close()
    await asyncio.sleep(0)


async def received(peer: socket.socket, size: int) -> bytes:
    """Read *size* bytes from the peer socket."""
    loop = asyncio.get_running_loop()
    data = b""
    while len(data) < size:
        data += await loop.sock_recv(peer, size - len(data))
    return data


async def test_writes_of_one_turn_leave_as_one_write_at_its_end(
    pair: Pair,
) -> None:
    """Three writes in one turn reach the transport as one write, after the turn."""
    corked, _, sends, peer = pair
    corked.write(b"head")
    corked.write(bytearray(b"-body"))
    corked.write(b"")  # nothing to send: ignored
    corked.write(memoryview(b"-tail"))
    assert sends == []

    await asyncio.sleep(0)

    assert sends == [b"head-body-tail"]
    assert await received(peer, 14) == b"head-body-tail"


async def test_one_write_is_passed_as_it_is(
    pair: Pair,
) -> None:
    """A lone write is sent unchanged, and flushing with nothing waiting sends nothing."""
    corked, _, sends, peer = pair
    corked.write(b"only")
    corked.flush()
    corked.flush()
    await asyncio.sleep(0)
    assert sends == [b"only"]
    assert await received(peer, 4) == b"only"


async def test_write_eof_sends_what_waits_first(
    pair: Pair,
) -> None:
    """Half-closing sends the waiting bytes before the end of file."""
    corked, _, _, peer = pair
    corked.write(b"last words")
    corked.write_eof()
    assert await received(peer, 10) == b"last words"
    assert await asyncio.get_running_loop().sock_recv(peer, 10) == b""


async def test_close_sends_what_waits_first_and_later_writes_are_dropped(
    pair: Pair,
) -> None:
    """Closing sends the waiting bytes; a write after that never reaches the closed transport."""
    corked, transport, sends, peer = pair
    corked.write(b"bye")
    corked.close()
    corked.write(b"too late")
    await asyncio.sleep(0)
    assert transport.is_closing()
    assert sends == [b"bye"]
    assert await received(peer, 3) == b"bye"


async def test_other_attributes_are_the_transports(
    pair: Pair,
) -> None:
    """Anything but writing and closing is the wrapped transport's."""
    corked, transport, _, _ = pair
    assert corked.get_extra_info("socket") is transport.get_extra_info("socket")
    assert corked.is_closing() is False


async def test_half_closing_a_connection_the_peer_reset_closes_it() -> None:
    """write_eof after the peer reset the connection closes it instead of raising."""
    loop = asyncio.get_running_loop()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        port = listener.getsockname()[1]
        transport, _ = await loop.create_connection(Counting, "127.0.0.1", port)
        assert isinstance(transport, asyncio.Transport)
        peer, _ = await loop.sock_accept(listener)
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.close()  # a reset, not a goodbye
        corked = CorkedTransport(transport, loop)
        for _ in range(100):  # until the reset has arrived
            try:
                transport.get_extra_info("socket").getpeername()
            except OSError:
                break
            await asyncio.sleep(0.01)
        corked.write_eof()
        assert transport.is_closing()
        await asyncio.sleep(0)
