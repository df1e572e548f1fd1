"""Helpers for the HTTP server tests: in-process ASGI calls, a served app, raw sockets.

`call` drives an ASGI app in-process, each call in its own task as an ASGI server
would run it. `served` runs an app with `pygokit.transport.http.serve` on a
kernel-chosen 127.0.0.1 port in a background thread with its own event loop, so
that synchronous tests (and hypothesis, which drives them) can talk to it with
plain sockets; `exchange` sends raw bytes and reads until the server closes or
goes quiet.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pygokit._asgi import ASGIApp
from pygokit.transport.http import serve

__all__ = ["Call", "Served", "call", "exchange", "served", "split_response"]

Message = MutableMapping[str, Any]


@dataclass
class Call:
    """What an ASGI app sent back for one in-process request."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    received: int
    """How many times the app called ``receive``."""
    messages: list[Message] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """The first value of header *name*, or None."""
        key = name.lower().encode()
        return next((v.decode("latin-1") for k, v in self.headers if k == key), None)


def http_scope(
    method: str = "POST",
    path: str = "/sum",
    headers: Sequence[tuple[bytes, bytes]] = ((b"content-type", b"application/json"),),
    query: bytes = b"",
) -> MutableMapping[str, Any]:
    """An ASGI ``http`` scope as uvicorn builds it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": list(headers),
        "client": ("127.0.0.1", 50123),
        "server": ("127.0.0.1", 8080),
    }


async def call(
    app: ASGIApp,
    body: bytes | Sequence[bytes] = b"",
    *,
    method: str = "POST",
    path: str = "/sum",
    headers: Sequence[tuple[bytes, bytes]] = ((b"content-type", b"application/json"),),
    query: bytes = b"",
    disconnect: bool = False,
) -> Call:
    """Send one request through *app* in its own task and collect the reply.

    A sequence of bytes is sent as that many body messages; *disconnect* makes
    the client go away after them.
    """
    chunks = [body] if isinstance(body, bytes) else list(body)
    incoming: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1 or disconnect}
        for i, chunk in enumerate(chunks)
    ]
    if disconnect:
        incoming.append({"type": "http.disconnect"})
    received = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal received
        received += 1
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = http_scope(method, path, headers, query)

    async def run() -> None:  # in its own task, with its own context, as servers do
        await app(scope, receive, send)

    await asyncio.create_task(run())
    start, reply = sent[0], sent[1]
    assert start["type"] == "http.response.start"
    assert reply["type"] == "http.response.body"
    return Call(start["status"], list(start["headers"]), reply["body"], received, sent)


@dataclass
class Served:
    """An app being served in a background thread."""

    port: int
    loop: asyncio.AbstractEventLoop
    stop: asyncio.Event


@contextlib.contextmanager
def served(app: ASGIApp, **options: Any) -> Iterator[Served]:
    """Serve *app* with `serve` on 127.0.0.1 in a thread for the ``with`` block."""
    ready: list[Served] = []
    failed: list[BaseException] = []
    started = threading.Event()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_listen(host: str, port: int) -> None:
            ready.append(Served(port, loop, stop))
            started.set()

        await serve(app, host="127.0.0.1", port=0, stop=stop, on_listen=on_listen, **options)

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the test thread below
            failed.append(exc)
        finally:
            started.set()

    thread = threading.Thread(target=run, name="served", daemon=True)
    thread.start()
    started.wait(20)
    if not ready:
        raise RuntimeError(f"serve did not start: {failed!r}")
    try:
        yield ready[0]
    finally:
        ready[0].loop.call_soon_threadsafe(ready[0].stop.set)
        thread.join(20)
        assert not thread.is_alive(), "serve did not stop"
        if failed:
            raise failed[0]


def exchange(port: int, data: bytes | Sequence[bytes], *, quiet: float = 0.5) -> bytes:
    """Send *data* (pieces sent one by one) and read until the server closes or is quiet.

    A connection reset by the server (it may close while the client still writes)
    ends the exchange like a close.
    """
    pieces = [data] if isinstance(data, bytes) else list(data)
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.settimeout(quiet)
        try:
            for piece in pieces:
                sock.sendall(piece)
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError, BrokenPipeError):
            pass
    return bytes(received)


def split_response(raw: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Parse the first response in *raw*: status, header fields and the rest."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    fields = [line.split(": ", 1) for line in lines[1:]]
    return status, [(k.lower(), v) for k, v in fields], rest
