"""stringsvc1 end to end: service, endpoints, the ASGI app in-process, and real uvicorn."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import aiohttp
import pytest

from examples.stringsvc1.__main__ import build_app, main, parse_address, serve
from examples.stringsvc1.endpoints import (
    CountRequest,
    UppercaseRequest,
    UppercaseResponse,
    make_uppercase_endpoint,
)
from examples.stringsvc1.service import BasicStringService, EmptyStringError
from examples.stringsvc1.transport import MAX_BODY_BYTES, ASGIApp, make_http_app
from pygokit.log.middleware import logging_middleware
from pygokit.testing import CapturingLogger, RecordingEndpoint
from pygokit.transport import ErrorHandlerFunc


async def call_asgi(
    app: ASGIApp, path: str, chunks: list[bytes], method: str = "POST"
) -> tuple[int, dict[str, Any]]:
    """Send one HTTP request through *app* in-process and return status and JSON body."""
    scope = {"type": "http", "method": method, "path": path, "headers": []}
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ] or [{"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent
    return start["status"], json.loads(body["body"])


def test_service_uppercases_counts_and_refuses_empty() -> None:
    """The service uppercases, counts characters, and raises on an empty string."""
    svc = BasicStringService()
    assert svc.uppercase("héllo") == "HÉLLO"
    assert svc.count("héllo") == 5
    with pytest.raises(EmptyStringError, match="empty string"):
        svc.uppercase("")


async def test_business_error_travels_in_the_response_and_is_logged() -> None:
    """An empty string yields a response whose failed() reports it; the middleware logs it."""
    logger = CapturingLogger()
    endpoint = logging_middleware(logger, method="uppercase")(
        make_uppercase_endpoint(BasicStringService())
    )

    response = await endpoint(UppercaseRequest(""))

    assert response == UppercaseResponse(v="", err="empty string")
    assert str(response.failed()) == "empty string"
    assert [(e["method"], str(e["err"])) for e in logger.events] == [("uppercase", "empty string")]


async def test_logging_middleware_logs_and_reraises_endpoint_errors() -> None:
    """An endpoint error is logged with its method and reaches the caller unchanged."""
    logger = CapturingLogger()
    endpoint = logging_middleware(logger, method="count")(
        RecordingEndpoint[CountRequest, int](RuntimeError("db down"))
    )

    with pytest.raises(RuntimeError, match="db down"):
        await endpoint(CountRequest("x"))
    assert repr(logger.events[0]["err"]) == "RuntimeError('db down')"


@pytest.mark.parametrize(
    ("path", "body", "want"),
    [
        ("/uppercase", {"s": "hello, world"}, {"v": "HELLO, WORLD"}),
        ("/uppercase", {"s": ""}, {"v": "", "err": "empty string"}),
        ("/count", {"s": "hello"}, {"v": 5}),
    ],
)
async def test_http_app_serves_both_methods(path: str, body: object, want: object) -> None:
    """Each method answers 200 with Go kit stringsvc1's JSON shapes."""
    app = build_app(CapturingLogger())
    assert await call_asgi(app, path, [json.dumps(body).encode()]) == (200, want)


@pytest.mark.parametrize(
    ("path", "method", "chunks", "status"),
    [
        ("/count", "POST", [b"not json"], 400),
        ("/count", "POST", [b'{"s": 3}'], 400),
        ("/count", "POST", [b"[]"], 400),
        ("/count", "POST", [], 400),
        ("/nope", "POST", [b"{}"], 404),
        ("/count", "GET", [b""], 405),
        ("/count", "POST", [b"x" * 1024] * (MAX_BODY_BYTES // 1024 + 1), 413),
    ],
)
async def test_http_app_answers_bad_requests_with_clear_errors(
    path: str, method: str, chunks: list[bytes], status: int
) -> None:
    """Malformed, misrouted, disconnected or oversized requests get a 4xx and a message."""
    status_got, body = await call_asgi(build_app(CapturingLogger()), path, chunks, method)
    assert status_got == status
    assert body["error"]


async def test_http_app_hides_internal_errors_and_hands_them_to_the_error_handler() -> None:
    """An unexpected endpoint error gives a generic 500; the error handler gets the error."""
    secret = RuntimeError("password=hunter2 in /srv/app/db.py")
    handled: list[Exception] = []
    app = make_http_app(
        RecordingEndpoint[UppercaseRequest, Any](secret),
        RecordingEndpoint[CountRequest, Any](),
        error_handler=ErrorHandlerFunc(handled.append),
    )

    status, body = await call_asgi(app, "/uppercase", [b'{"s": "x"}'])

    assert (status, body) == (500, {"error": "internal error"})
    assert handled == [secret]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_serves_over_real_http_until_stopped() -> None:
    """Under uvicorn on loopback the service answers, then shuts down when stop is set."""
    logger = CapturingLogger()
    port = free_port()
    stop = asyncio.Event()
    async with asyncio.timeout(20):
        server = asyncio.create_task(serve(build_app(logger), "127.0.0.1", port, stop, logger))
        while not any(e.get("msg") == "listening" for e in logger.events):
            assert not server.done(), "server stopped before it listened"
            await asyncio.sleep(0.01)
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}/uppercase", json={"s": "go kit"}) as reply,
        ):
            assert reply.status == 200
            assert await reply.json() == {"v": "GO KIT"}
        stop.set()
        await server

    assert logger.events[-1] == {"transport": "http", "msg": "stopped"}
    assert {"level": "info", "method": "uppercase"}.items() <= logger.events[1].items()


def test_parse_address_accepts_host_port_and_rejects_the_rest() -> None:
    """host:port splits; a missing or out-of-range port is a ValueError naming the input."""
    assert parse_address("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_address("[::1]:80") == ("[::1]", 80)
    for bad in ("8080", "localhost:", "localhost:99999", ":80"):
        with pytest.raises(ValueError, match="address must look like"):
            parse_address(bad)


async def test_main_rejects_a_bad_address_with_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A malformed --http-addr exits with status 2 and says what is wrong."""
    with pytest.raises(SystemExit) as exited:
        await main(["--http-addr", "nonsense"])
    assert exited.value.code == 2
    assert "address must look like" in capsys.readouterr().err
