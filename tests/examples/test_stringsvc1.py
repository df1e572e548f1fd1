"""stringsvc1 end to end: service, endpoints, the router in-process, uvicorn, the process."""

from __future__ import annotations

import json

import aiohttp
import pytest

from examples.stringsvc1.__main__ import build_app, main
from examples.stringsvc1.endpoints import (
    CountRequest,
    CountResponse,
    UppercaseRequest,
    UppercaseResponse,
    make_uppercase_endpoint,
)
from examples.stringsvc1.service import BasicStringService, EmptyStringError
from examples.stringsvc1.transport import (
    MAX_BODY_BYTES,
    make_http_app,
    parse_address,
)
from pygokit.log.middleware import logging_middleware
from pygokit.testing import CapturingLogger, RecordingEndpoint
from pygokit.transport import ErrorHandlerFunc
from tests.examples.harness import run_example, serving
from tests.transport.http.server_harness import call

FORM = ((b"content-type", b"application/x-www-form-urlencoded"),)
"""What ``curl -d`` sends, as in Go kit's tutorial."""


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
        ("/uppercase", b'{"s":"hello, world"}', b'{"v":"HELLO, WORLD"}'),
        ("/uppercase", b'{"s":""}', b'{"v":"","err":"empty string"}'),
        ("/uppercase", b"{}", b'{"v":"","err":"empty string"}'),
        ("/count", b'{"s":"hello"}', b'{"v":5}'),
        ("/count", b'{"s":"hello","extra":1}', b'{"v":5}'),
    ],
)
async def test_http_app_speaks_go_kits_wire(path: str, body: bytes, want: bytes) -> None:
    """Each method answers 200 with Go kit stringsvc1's JSON, even for curl -d's form type."""
    reply = await call(build_app(CapturingLogger()), body, path=path, headers=FORM)
    assert (reply.status, reply.body) == (200, want)
    assert reply.header("content-type") == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("path", "method", "body", "status"),
    [
        ("/count", "POST", b"not json", 400),
        ("/count", "POST", b'{"s": 3}', 400),
        ("/uppercase", "POST", b"[]", 400),
        ("/nope", "POST", b"{}", 404),
        ("/count", "GET", b"", 405),
        ("/count", "POST", b"x" * (MAX_BODY_BYTES + 1), 413),
    ],
)
async def test_http_app_answers_bad_requests_with_clear_errors(
    path: str, method: str, body: bytes, status: int
) -> None:
    """Malformed, misrouted or oversized requests get a 4xx and a JSON error message."""
    reply = await call(build_app(CapturingLogger()), body, method=method, path=path)
    assert reply.status == status
    assert json.loads(reply.body)["error"]


async def test_http_app_refuses_a_body_the_client_abandoned() -> None:
    """A client that disconnects before the end of its body gets a 400."""
    reply = await call(build_app(CapturingLogger()), [b'{"s":'], path="/count", disconnect=True)
    assert reply.status == 400


async def test_http_app_hides_internal_errors_and_hands_them_to_the_error_handler() -> None:
    """An unexpected endpoint error gives a generic 500; the error handler gets the error."""
    secret = RuntimeError("password=hunter2 in /srv/app/db.py")
    handled: list[Exception] = []
    app = make_http_app(
        RecordingEndpoint[UppercaseRequest, UppercaseResponse](secret),
        RecordingEndpoint[CountRequest, CountResponse](),
        error_handler=ErrorHandlerFunc(handled.append),
    )

    reply = await call(app, b'{"s": "x"}', path="/uppercase")

    assert reply.status == 500
    assert json.loads(reply.body) == {
        "error": "internal error",
        "request_id": reply.header("x-request-id"),
    }
    assert handled == [secret]


async def test_serves_over_real_http_until_stopped() -> None:
    """Under uvicorn on loopback the service answers, then shuts down when stop is set."""
    logger = CapturingLogger()
    async with (
        serving(build_app(logger), logger) as url,
        aiohttp.ClientSession() as session,
        session.post(f"{url}/uppercase", data='{"s":"go kit"}') as reply,
    ):
        assert reply.status == 200
        assert await reply.read() == b'{"v":"GO KIT"}'

    assert logger.events[-1] == {"transport": "http", "msg": "stopped"}
    assert {"level": "info", "method": "uppercase"}.items() <= logger.events[1].items()


def test_parse_address_accepts_host_port_and_rejects_the_rest() -> None:
    """host:port splits (port 0 included); a missing or out-of-range port is a ValueError."""
    assert parse_address("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_address("[::1]:80") == ("[::1]", 80)
    assert parse_address("127.0.0.1:0") == ("127.0.0.1", 0)
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


async def test_the_process_serves_and_stops_on_sigterm() -> None:
    """The process ``make run`` starts serves, then exits 0 on SIGTERM (T7)."""

    async def calls(url: str) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{url}/count", data='{"s":"hello"}') as reply,
        ):
            assert await reply.read() == b'{"v":5}'

    status, lines = await run_example("examples.stringsvc1", ["--http-addr", "127.0.0.1:0"], calls)
    assert status == 0
    assert any("level=info" in line and "method=count took=" in line for line in lines)
    assert "transport=http msg=stopped" in lines[-1]
