"""A transport that gathers the writes of one event-loop turn into one send.

grpclib writes each response in three pieces (headers, message, trailers), and
every ``write`` on an asyncio transport is a ``send`` system call and, with
``TCP_NODELAY``, a TCP segment of its own. `CorkedTransport` keeps the pieces
until the callbacks of the current loop turn have run, then sends them with one
write: fewer system calls and segments, and no added latency beyond that turn.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["CorkedTransport"]


class CorkedTransport:
    """Pass everything through to *transport*, except that writes wait for the loop's next turn.

    ``write_eof`` and ``close`` send what is waiting first, so nothing written is lost
    or reordered.
    """

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Keep *data* for the send at the end of this loop turn."""
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def flush(self) -> None:
        """Send what is waiting now, as one write."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        if not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def write_eof(self) -> None:
        """Send what is waiting, then half-close; close if the peer has gone already."""
        self.flush()
        try:
            self._transport.write_eof()
        except OSError:  # not connected any more (the peer reset it): nothing to half-close
            self._transport.close()

    def close(self) -> None:
        """Send what is waiting, then close."""
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
