"""Real peers for the HTTP client tests: a raw ASGI app on uvicorn, and a raw TCP listener.

`UpstreamApp` is a small raw ASGI application that records every request it
gets, so tests can check what reached the wire. `running_uvicorn` serves it on
127.0.0.1 at a port the kernel picks, in a task of the test's own event loop,
without uvicorn's signal handlers. `RawListener` accepts TCP connections and
records every byte, for the tests that must prove that nothing was sent, and can
answer with a scripted raw reply (a response cut short, say).

Routes of `UpstreamApp`:

* ``POST /sum``: ``{"a": 1, "b": 2}`` in, ``{"v": 3}`` out.
* ``POST /echo``: answers with the request body and its Content-Type.
* ``/status/<code>``: answers with that status and a text body; ``?size=N``
  makes the body N bytes long.
* ``/headers``: answers 200 with an ``X-Upstream`` header and a 2-byte body.
* ``/stream``: answers 200 with a chunked body of three parts; the last two
  wait for `UpstreamApp.release_stream`.
* ``/chunked?size=N``: a chunked body of N bytes (no Content-Length).
* ``/hang``: reads the request, then waits until the client goes away, and
  records that in `UpstreamApp.disconnected`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn

__all__ = ["RawListener", "Recorded", "UpstreamApp", "running_uvicorn"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    client_port: int


@dataclass
class UpstreamApp:
    """A raw ASGI app that records requests; see the module docstring for its routes."""

    requests: list[Recorded] = field(default_factory=list)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    release_stream: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope["path"]
        query = scope["query_string"].decode()
        self.requests.append(
            Recorded(scope["method"], path, query, headers, body, scope["client"][1])
        )
        params = dict(urllib.parse.parse_qsl(query))
        if path == "/sum":
            operands = json.loads(body)
            await _answer(send, 200, json.dumps({"v": operands["a"] + operands["b"]}).encode())
        elif path == "/echo":
            content_type = headers.get("content-type", "application/octet-stream")
            await _answer(send, 200, body, content_type=content_type)
        elif path.startswith("/status/"):
            size = int(params.get("size", "0"))
            status = int(path.removeprefix("/status/"))
            text = b"upstream says no" if not size else b"e" * size
            await _answer(send, status, b"" if status == 204 else text, "text/plain")
        elif path == "/headers":
            await _answer(send, 200, b"ok", "text/plain", extra=[(b"x-upstream", b"yes")])
        elif path == "/stream":
            await self._stream(send)
        elif path == "/chunked":
            await _chunked(send, [b"x" * int(params["size"])])
        elif path == "/hang":
            await self._hang(receive)
        else:
            await _answer(send, 404, b"no such route", "text/plain")

    async def _stream(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"one,", "more_body": True})
        await self.release_stream.wait()
        await send({"type": "http.response.body", "body": b"two,", "more_body": True})
        await send({"type": "http.response.body", "body": b"three"})

    async def _hang(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.disconnected.set()


async def _answer(
    send: Send,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _chunked(send: Send, parts: list[bytes]) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for part in parts:
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: the test owns the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def running_uvicorn(app: Callable[..., Awaitable[None]]) -> AsyncIterator[str]:
    """Serve *app* with uvicorn on 127.0.0.1 for the ``async with`` block; yield its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = _QuietServer(config)
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if serving.done():
                    serving.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await serving


class RawListener:
    """A TCP listener on 127.0.0.1 that records connections and bytes, and may answer.

    Use it as ``async with RawListener(reply=b"...") as listener``; ``listener.url``
    is its base URL. With a *reply*, each connection gets it once the request's
    head has arrived, and is then closed.
    """

    def __init__(self, reply: bytes | None = None) -> None:
        self.reply = reply
        self.connections = 0
        self.received = b""
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> RawListener:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            if self.reply is not None:
                self.received += await reader.readuntil(b"\r\n\r\n")
                writer.write(self.reply)
                await writer.drain()
            else:
                while chunk := await reader.read(65536):
                    self.received += chunk
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
