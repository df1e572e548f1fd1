"""The server under other ASGI servers and routers than uvicorn and pygokit's own.

`Server` and `Router` are plain ASGI apps. These tests run ``asgi_app.app`` under
real hypercorn and granian processes on 127.0.0.1 and check the whole contract
over the wire (answers, client mistakes as 4xx, no internals on a 500, request
facts and path parameters, the lifespan), and mount the same app inside Starlette
and FastAPI in process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.transport.http.asgi_app import SECRET, app
from tests.transport.http.server_harness import call

REPO = Path(__file__).resolve().parents[3]
APP = "tests.transport.http.asgi_app:app"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _commands(port: int) -> dict[str, list[str]]:
    return {
        "hypercorn": [
            sys.executable, "-m", "hypercorn", APP,
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--graceful-timeout", "2",
        ],
        "granian": [
            sys.executable, "-m", "granian", APP,
            "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--log-level", "warning",
        ],
    }  # fmt: skip


@contextlib.contextmanager
def _running(server: str, tmp_path: Path) -> Iterator[str]:
    """Run *server* over the app for the block; yield its base URL; stop it with SIGTERM."""
    port = _free_port()
    log = (tmp_path / f"{server}.log").open("wb")
    process = subprocess.Popen(
        _commands(port)[server], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    output = (tmp_path / f"{server}.log").read_text(errors="replace")
                    pytest.fail(f"{server} did not start:\n{output[-2000:]}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
            pytest.fail(f"{server} did not stop on SIGTERM")
        log.close()


@pytest.fixture(params=["hypercorn", "granian"])
async def base_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of the app served by each ASGI server in turn."""
    with _running(request.param, tmp_path) as url:
        yield url


async def _body_in_pieces(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // 256):
        yield b" " * 256


async def test_the_app_keeps_its_contract_under_other_asgi_servers(base_url: str) -> None:
    """Answers, 4xx for every client mistake with a JSON error, and nothing internal on a 500."""
    async with aiohttp.ClientSession(base_url) as session:
        async with session.post("/sum", json={"a": 1, "b": 2}) as reply:
            assert (reply.status, await reply.json()) == (200, {"v": 3})
        for body, problem in [(b'{"a": 1', "not valid JSON"), (b'{"a": "1", "b": 2}', "'a'")]:
            async with session.post(
                "/sum", data=body, headers={"content-type": "application/json"}
            ) as reply:
                assert reply.status == 400
                assert problem in (await reply.json())["error"]
        async with session.post("/sum", data=b"a=1", headers={"content-type": "text/plain"}) as r:
            assert r.status == 415
        async with session.post(
            "/sum", data=b"{" + b" " * 2000 + b"}", headers={"content-type": "application/json"}
        ) as reply:
            assert reply.status == 413  # from Content-Length, before the body is read
        async with session.post(
            "/sum", data=_body_in_pieces(4096), headers={"content-type": "application/json"}
        ) as reply:
            assert reply.status == 413  # chunked: counted while it streams
        async with session.get("/sum") as reply:
            assert (reply.status, reply.headers["allow"]) == (405, "POST")
        async with session.get("/nowhere") as reply:
            assert reply.status == 404
            assert "error" in await reply.json()
        async with session.post("/fail") as reply:
            text = await reply.text()
            assert reply.status == 500
            assert SECRET not in text
            assert "Traceback" not in text
            assert "RuntimeError" not in text
            assert json.loads(text)["request_id"] == reply.headers["x-request-id"]


async def test_request_facts_and_path_parameters_under_other_asgi_servers(base_url: str) -> None:
    """populate_request_context and the router's {name} read the server's scope right."""
    async with (
        aiohttp.ClientSession(base_url) as session,
        session.get("/hello/ann%20b", headers={"user-agent": "probe/1"}) as reply,
    ):
        assert reply.status == 200
        facts = await reply.json()
    assert facts["hello"] == "ann b"
    assert facts["method"] == "GET"
    assert facts["path"] == "/hello/ann b"
    assert facts["host"] == base_url.removeprefix("http://")
    assert facts["user_agent"] == "probe/1"


@pytest.mark.parametrize("framework", ["starlette", "fastapi"])
async def test_the_app_mounts_in_starlette_and_fastapi(framework: str) -> None:
    """Mounted under a prefix, the router finds its routes below it and answers as itself."""
    if framework == "starlette":
        from starlette.applications import Starlette
        from starlette.routing import Mount

        outer = Starlette(routes=[Mount("/api", app=app)])
    else:
        from fastapi import FastAPI

        outer = FastAPI()
        outer.mount("/api", app)
    reply = await call(outer, b'{"a": 2, "b": 3}', path="/api/sum")
    assert (reply.status, json.loads(reply.body)) == (200, {"v": 5})
    reply = await call(outer, b"", method="GET", path="/api/hello/bo")
    assert (reply.status, json.loads(reply.body)["hello"]) == (200, "bo")
    reply = await call(outer, b'{"a": true, "b": 3}', path="/api/sum")
    assert reply.status == 400
    reply = await call(outer, b"", method="GET", path="/api/sum")
    assert reply.status == 405
