"""What the examples' end-to-end tests share: serve an app in this process, or run an example.

`serving` runs an app under uvicorn on a free loopback port for the length of an
``async with`` block; `run_example` runs ``python -m <example>`` as a real process,
calls it, and stops it with SIGTERM as an operator would. For the examples that call
other services, `stringsvc_backend` serves a stringsvc2 instance whose `Backend.calls`
tell which calls it served, `closed_port` is an address where nothing answers, and
`post` makes one call.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from examples.stringsvc1.transport import serve_http
from examples.stringsvc2.__main__ import build_app as build_stringsvc2_app
from pygokit.testing import CapturingLogger
from pygokit.transport.http import Router

__all__ = [
    "PATIENT",
    "ROOT",
    "Backend",
    "backend",
    "closed_port",
    "post",
    "run_example",
    "serving",
    "stringsvc_backend",
    "usage_error",
]

ROOT = Path(__file__).resolve().parents[2]
"""The project's root: where ``python -m examples.<name>`` finds the examples."""
PATIENT = 10.0
"""Seconds a test proxy or gateway gives each call, so a busy machine cannot fail a test."""


@asynccontextmanager
async def serving(app: Router, logger: CapturingLogger) -> AsyncIterator[str]:
    """Serve *app* with serve_http on a free loopback port; yield its base URL, then stop."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve_http(app, "127.0.0.1", 0, logger, stop=stop))
    async with asyncio.timeout(20):
        while not any(e.get("msg") == "listening" for e in logger.events):
            assert not task.done(), "server stopped before it listened"
            await asyncio.sleep(0.01)
    addr = next(e["addr"] for e in logger.events if e.get("msg") == "listening")
    try:
        yield f"http://{addr}"
    finally:
        stop.set()
        async with asyncio.timeout(20):
            await task


async def run_example(
    module: str, args: Sequence[str], calls: Callable[[str], Awaitable[None]]
) -> tuple[int, list[str]]:
    """Run ``python -m <module>`` on a free port, await *calls(base_url)*, then SIGTERM it.

    Returns the exit status and the log lines it wrote to stderr.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args, cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while "msg=listening" not in (line := (await process.stderr.readline()).decode()):
                assert line, f"{module} exited before it listened: {lines}"
                lines.append(line)
            lines.append(line)
            addr = line.split(" addr=")[1].split()[0]
            await calls(f"http://{addr}")
            process.send_signal(signal.SIGTERM)
            rest = await process.stderr.read()
            lines.extend(rest.decode().splitlines(keepends=True))
            status = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return status, lines


def closed_port() -> str:
    """A loopback host:port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


async def post(url: str, body: str) -> tuple[int, bytes]:
    """POST *body* to *url*; return the status and the body."""
    async with aiohttp.ClientSession() as session, session.post(url, data=body) as reply:
        return reply.status, await reply.read()


class Backend:
    """A service instance served in this process: its address and what it logged."""

    def __init__(self) -> None:
        self.logger = CapturingLogger()
        self.instance = ""

    def calls(self, method: str, key: str = "input") -> list[object]:
        """The *key* values of the *method* calls its service logged, in order."""
        events = self.logger.events
        return [e[key] for e in events if e.get("method") == method and key in e]


@asynccontextmanager
async def backend(app: Router, server: Backend) -> AsyncIterator[Backend]:
    """Serve *app*, which logs to ``server.logger``, while the block runs."""
    async with serving(app, server.logger) as url:
        server.instance = url.removeprefix("http://")
        yield server


def stringsvc_backend() -> AbstractAsyncContextManager[Backend]:
    """Serve a stringsvc2 instance on a free loopback port while the block runs."""
    server = Backend()
    return backend(build_stringsvc2_app(server.logger, CollectorRegistry()), server)


async def usage_error(
    main: Callable[[Sequence[str]], Awaitable[object]],
    args: Sequence[str],
    capsys: pytest.CaptureFixture[str],
) -> str:
    """Run an example's ``main(args)``, which must exit with a usage error; return its stderr."""
    with pytest.raises(SystemExit) as exited:
        await main(args)
    assert exited.value.code == 2
    return capsys.readouterr().err
