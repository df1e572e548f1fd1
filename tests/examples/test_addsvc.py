"""addsvc end to end: rules, middleware, Go kit's wire on every transport, addsvc and addcli."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import grpc
import pytest
from google.protobuf.message import Message

from examples.addsvc.cmd.addcli import main as addcli
from examples.addsvc.cmd.addcli import parse_args as parse_cli_args
from examples.addsvc.cmd.addsvc import Addresses, parse_address, parse_args, run
from examples.addsvc.codec import InvalidField, concat_request, go_json, sum_request
from examples.addsvc.endpoints import (
    ConcatRequest,
    ConcatResponse,
    Set,
    SumRequest,
    SumResponse,
    instrumenting_middleware,
    make_client_set,
    make_set,
)
from examples.addsvc.pb import addsvc_pb2
from examples.addsvc.service import (
    INT_MAX,
    INT_MIN,
    AddServiceError,
    BasicAddService,
    IntOverflow,
    MaxSizeExceeded,
    TwoZeroes,
    error_from_message,
    make_service,
)
from examples.addsvc.transport_grpc import make_grpc_client_set, make_grpc_services
from examples.addsvc.transport_http import make_http_client_set, make_http_handler
from examples.addsvc.transport_jsonrpc import make_jsonrpc_client_set, make_jsonrpc_handler
from pygokit._asgi import Receive, Scope, Send
from pygokit.circuitbreaker import CircuitOpen
from pygokit.metrics import generic
from pygokit.ratelimit import AllowerFunc, RateLimited, TokenBucket
from pygokit.testing import CapturingLogger, FakeClock, RecordingEndpoint
from pygokit.transport.grpc import Services
from pygokit.transport.grpc import serve as serve_grpc
from pygokit.transport.http import Response, Router, serve
from pygokit.transport.http.client_codec import InvalidResponse, UnexpectedStatus
from pygokit.transport.http.jsonrpc import JSONRPCError, JSONRPCServer

ROOT = Path(__file__).resolve().parents[2]
JSON = "application/json; charset=utf-8"

# --- the service ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        (1, 2, 3),
        (0, 1, 1),
        (INT_MAX - 1, 1, INT_MAX),
        (INT_MIN + 1, -1, INT_MIN),
        (2**40, 0, 2**40),  # Go kit checks the sum only against b, so this passes there too
    ],
)
async def test_sum_adds_within_int32(a: int, b: int, want: int) -> None:
    """Sums inside int32 succeed, with Go kit's exact overflow check."""
    assert await BasicAddService().sum(a, b) == want


@pytest.mark.parametrize(
    ("a", "b", "error", "message"),
    [
        (0, 0, TwoZeroes, "can't sum two zeroes"),
        (INT_MAX, 1, IntOverflow, "integer overflow"),
        (INT_MIN, -1, IntOverflow, "integer overflow"),
    ],
)
async def test_sum_refuses_with_go_kits_errors(
    a: int, b: int, error: type[AddServiceError], message: str
) -> None:
    """Two zeroes and int32 overflow raise Go kit's errors with Go kit's text."""
    with pytest.raises(error) as raised:
        await BasicAddService().sum(a, b)
    assert str(raised.value) == message


async def test_concat_counts_utf8_bytes_like_go() -> None:
    """Concat allows 10 UTF-8 bytes and refuses 11, counting bytes as Go's len does."""
    svc = BasicAddService()
    assert await svc.concat("12345", "67890") == "1234567890"
    with pytest.raises(MaxSizeExceeded, match=r"^result exceeds maximum size$"):
        await svc.concat("12345", "678901")
    with pytest.raises(MaxSizeExceeded):
        await svc.concat("éééé", "éé")  # 6 characters, 12 bytes
    with pytest.raises(MaxSizeExceeded):
        await svc.concat("\ud800" * 3, "x" * 2)  # a lone surrogate counts 3 bytes, as U+FFFD


def test_error_from_message_rebuilds_known_errors_by_type() -> None:
    """Known texts give their own classes; other texts a plain AddServiceError."""
    assert type(error_from_message("can't sum two zeroes")) is TwoZeroes
    assert type(error_from_message("integer overflow")) is IntOverflow
    assert type(error_from_message("result exceeds maximum size")) is MaxSizeExceeded
    other = error_from_message("something new")
    assert (type(other), str(other)) == (AddServiceError, "something new")


async def test_service_middleware_logs_values_and_counts_successes() -> None:
    """make_service logs each call's values and counts ints summed and chars concatenated."""
    logger = CapturingLogger()
    ints, chars = generic.Counter("ints"), generic.Counter("chars")
    svc = make_service(logger, ints, chars)

    assert await svc.sum(-5, 2) == -3
    with pytest.raises(TwoZeroes):
        await svc.sum(0, 0)
    assert await svc.concat("ab", "cé") == "abcé"
    with pytest.raises(MaxSizeExceeded):
        await svc.concat("x" * 6, "y" * 6)

    assert (ints.value(), chars.value()) == (2, 4)
    events = [{k: str(v) for k, v in e.items() if k != "level"} for e in logger.events]
    assert events == [
        {"method": "sum", "a": "-5", "b": "2", "v": "-3"},
        {"method": "sum", "a": "0", "b": "0", "err": "can't sum two zeroes"},
        {"method": "concat", "a": "ab", "b": "cé", "v": "abcé"},
        {"method": "concat", "a": "x" * 6, "b": "y" * 6, "err": "result exceeds maximum size"},
    ]
    assert [str(e["level"]) for e in logger.events] == ["info", "error", "info", "error"]


# --- endpoints --------------------------------------------------------------------------


async def test_set_is_a_service_that_raises_the_business_error_it_receives() -> None:
    """A Set returns v, and raises the business error its endpoint's response carries."""
    endpoints = Set(
        RecordingEndpoint[SumRequest, SumResponse](SumResponse(3), SumResponse(err=TwoZeroes())),
        RecordingEndpoint[ConcatRequest, ConcatResponse](
            ConcatResponse("xy"), ConcatResponse(err=MaxSizeExceeded())
        ),
    )
    assert await endpoints.sum(1, 2) == 3
    with pytest.raises(TwoZeroes):
        await endpoints.sum(0, 0)
    assert await endpoints.concat("x", "y") == "xy"
    with pytest.raises(MaxSizeExceeded):
        await endpoints.concat("x", "y")


async def test_server_set_limits_sum_to_one_a_second_without_opening_the_breaker() -> None:
    """Go kit's 1/s limit on sum refuses fast; refusals never trip the breaker (R7)."""
    clock = FakeClock()
    duration = generic.Histogram("duration")
    svc = make_service(CapturingLogger(), *_counters())
    endpoints = make_set(svc, CapturingLogger(), duration, clock=clock)

    assert await endpoints.sum(1, 2) == 3
    for _ in range(10):  # gobreaker would open after 6 consecutive failures
        with pytest.raises(RateLimited):
            await endpoints.sum(1, 2)
    clock.advance(1.0)
    assert await endpoints.sum(1, 2) == 3
    clock.advance(1.0)
    with pytest.raises(TwoZeroes):
        await endpoints.sum(0, 0)
    for _ in range(100):  # concat: bursts of 100
        assert await endpoints.concat("a", "b") == "ab"
    with pytest.raises(RateLimited):
        await endpoints.concat("a", "b")

    sums = duration.labels(method="sum")
    assert sums.labels(success="true").count() == 3  # the business error is a success, as in Go
    assert sums.labels(success="false").count() == 10


async def test_instrumenting_middleware_observes_success_and_failure_durations() -> None:
    """Durations go under success=true or false by whether the endpoint raised."""
    clock = FakeClock(auto_advance=False)
    duration = generic.Histogram("duration")
    endpoint = instrumenting_middleware(duration, clock=clock)(
        RecordingEndpoint[int, int](1, RuntimeError("down"))
    )
    assert await endpoint(0) == 1
    with pytest.raises(RuntimeError):
        await endpoint(0)
    assert duration.labels(success="true").count() == 1
    assert duration.labels(success="false").count() == 1


async def test_client_set_shares_one_limiter_and_has_a_breaker_per_method() -> None:
    """Both methods draw on one limiter; a failing method opens only its own breaker."""
    clock = FakeClock()
    sums = RecordingEndpoint[SumRequest, SumResponse](then=ConnectionError("down"))
    concats = RecordingEndpoint[ConcatRequest, ConcatResponse](then=ConcatResponse("ab"))
    endpoints = make_client_set(sums, concats, limiter=TokenBucket(1, 8, clock=clock), clock=clock)

    for _ in range(6):
        with pytest.raises(ConnectionError):
            await endpoints.sum(1, 2)
    with pytest.raises(CircuitOpen, match=r"'sum' is open; next probe in 30\.0s"):
        await endpoints.sum(1, 2)
    assert await endpoints.concat("a", "b") == "ab"
    assert await endpoints.concat("a", "b") == "ab"
    with pytest.raises(RateLimited):  # 6 + 2 calls spent the burst of 8
        await endpoints.concat("a", "b")


# --- Go's JSON --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "want"),
    [
        ({"a": 1, "b": 2}, SumRequest(1, 2)),
        ({"A": 1, "B": 2}, SumRequest(1, 2)),  # what Go kit's client sends
        ({"a": 1, "b": 2, "c": "ignored"}, SumRequest(1, 2)),
        ({"a": 5}, SumRequest(5, 0)),
        ({"a": None, "b": 7}, SumRequest(0, 7)),
        (None, SumRequest(0, 0)),
        ({"a": 2**63 - 1, "b": -(2**63)}, SumRequest(2**63 - 1, -(2**63))),
    ],
)
def test_sum_request_reads_json_as_go_does(document: object, want: SumRequest) -> None:
    """Names match case-insensitively; unknown fields are ignored; missing or null is 0."""
    assert sum_request(document) == want


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"a": "1", "b": 2}, "field 'a' must be an integer, got a string"),
        ({"a": 1.5, "b": 2}, "field 'a' must be an integer, got a number"),
        ({"a": True, "b": 2}, "field 'a' must be an integer, got a boolean"),
        ({"a": 1, "b": [2]}, "field 'b' must be an integer, got an array"),
        ({"a": 1, "b": {}}, "field 'b' must be an integer, got an object"),
        ({"a": 2**63, "b": 0}, "field 'a' must fit in 64 bits"),
        ([1, 2], "a sum request must be a JSON object, got an array"),
        ("1", "a sum request must be a JSON object, got a string"),
    ],
)
def test_sum_request_refuses_what_go_refuses(document: object, problem: str) -> None:
    """Wrong types, out-of-range integers and non-objects raise InvalidField naming the field."""
    with pytest.raises(InvalidField, match=problem.replace("[", r"\[")):
        sum_request(document)


def test_concat_request_reads_strings_strictly() -> None:
    """Concat fields are strings, matched case-insensitively; numbers are refused."""
    assert concat_request({"A": "x", "b": "y"}) == ConcatRequest("x", "y")
    with pytest.raises(InvalidField, match="field 'b' must be a string, got a number"):
        concat_request({"a": "x", "b": 1})


def test_go_json_writes_what_gos_encoder_writes() -> None:
    """Compact, HTML characters and line separators escaped, lone surrogates as U+FFFD, newline."""
    assert go_json({"v": 3}) == b'{"v":3}\n'
    assert go_json({"v": "<a&b>\u2028é\n"}) == (
        b'{"v":"\\u003ca\\u0026b\\u003e\\u2028\xc3\xa9\\n"}\n'
    )
    assert go_json({"v": "\ud800"}) == b'{"v":"\xef\xbf\xbd"}\n'


# --- real servers -----------------------------------------------------------------------


@dataclass
class Running:
    """An addsvc served in-process by `run`, and where each transport listens."""

    addresses: dict[str, str]
    logger: CapturingLogger
    summary: str

    def url(self, transport: str, path: str = "") -> str:
        """The http URL of *path* on *transport*."""
        return f"http://{self.addresses[transport]}{path}"


@pytest.fixture
async def addsvc() -> AsyncIterator[Running]:
    """addsvc on free ports of 127.0.0.1, with no limit on sum so tests may call it often."""
    logger = CapturingLogger()
    stop = asyncio.Event()
    out = io.StringIO()
    everywhere = Addresses(
        debug="127.0.0.1:0",
        http="127.0.0.1:0",
        grpc="127.0.0.1:0",
        thrift="",
        jsonrpc="127.0.0.1:0",
    )
    unlimited = TokenBucket(rate=math.inf, burst=1)
    task = asyncio.create_task(run(everywhere, logger, stop, out=out, sum_limiter=unlimited))
    async with asyncio.timeout(20):
        while "Try:" not in out.getvalue():
            assert not task.done(), "addsvc stopped before it listened"
            await asyncio.sleep(0.01)
    events = [e for e in logger.events if e.get("msg") == "listening"]
    yield Running({str(e["transport"]): str(e["addr"]) for e in events}, logger, out.getvalue())
    stop.set()
    async with asyncio.timeout(20):
        await task


@contextlib.asynccontextmanager
async def serving(app: Router | JSONRPCServer | Services) -> AsyncIterator[str]:
    """Serve *app* (an ASGI app, or gRPC services) on a free port; yield ``127.0.0.1:<port>``."""
    stop = asyncio.Event()
    bound: list[int] = []

    def listening(host: str, port: int) -> None:
        bound.append(port)

    if isinstance(app, Router | JSONRPCServer):
        task = asyncio.create_task(serve(app, port=0, stop=stop, on_listen=listening))
    else:
        task = asyncio.create_task(serve_grpc(app, port=0, stop=stop, on_listen=listening))
    try:
        async with asyncio.timeout(20):
            while not bound:
                assert not task.done(), "the server stopped before it listened"
                await asyncio.sleep(0.01)
        yield f"127.0.0.1:{bound[0]}"
    finally:
        stop.set()
        async with asyncio.timeout(20):
            await task


def raw_rpc(
    channel: grpc.aio.Channel, method: str
) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
    """Call ``/pb.Add/<method>`` with bytes in and out, as any gRPC client puts them on the wire."""
    return channel.unary_unary(f"/pb.Add/{method}")


async def post(url: str, body: bytes, content_type: str | None = None) -> tuple[int, str, bytes]:
    """POST *body* as Go's client does (no Content-Type unless given); status, type, body."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    async with (
        aiohttp.ClientSession(skip_auto_headers=["Content-Type"]) as session,
        session.post(url, data=body, headers=headers) as reply,
    ):
        return reply.status, reply.headers.get("Content-Type", ""), await reply.read()


GO_KIT_HTTP = [
    ("/sum", b'{"A":1,"B":2}\n', 200, b'{"v":3}\n'),
    ("/sum", b'{"A":-7,"B":2}\n', 200, b'{"v":-5}\n'),
    ("/sum", b'{"A":0,"B":0}\n', 400, b'{"error":"can\'t sum two zeroes"}\n'),
    ("/sum", b'{"A":2147483647,"B":1}\n', 400, b'{"error":"integer overflow"}\n'),
    ("/concat", b'{"A":"1","B":"2"}\n', 200, b'{"v":"12"}\n'),
    ("/concat", b'{"A":"<a>","B":"&"}\n', 200, b'{"v":"\\u003ca\\u003e\\u0026"}\n'),
    (
        "/concat",
        b'{"A":"go kit","B":" rocks"}\n',
        400,
        b'{"error":"result exceeds maximum size"}\n',
    ),
]


@pytest.mark.parametrize(("path", "body", "status", "want"), GO_KIT_HTTP)
async def test_http_answers_go_kits_client_with_go_kits_bytes(
    addsvc: Running, path: str, body: bytes, status: int, want: bytes
) -> None:
    """A request shaped as Go kit's HTTP client sends it gets Go kit's status and exact body."""
    assert await post(addsvc.url("HTTP", path), body) == (status, JSON, want)


async def test_http_serves_curl_shaped_requests() -> None:
    """Lowercase fields and a form Content-Type (curl -d) are served, as Go kit serves them."""
    endpoints = make_set(BasicAddService(), CapturingLogger(), generic.Histogram("d"))
    async with serving(make_http_handler(endpoints, CapturingLogger())) as address:
        got = await post(
            f"http://{address}/sum", b'{"a":1,"b":2}', "application/x-www-form-urlencoded"
        )
    assert got == (200, JSON, b'{"v":3}\n')


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/sum", b"not json", 400, "request body is not valid JSON"),
        ("POST", "/sum", b'{"a":"1","b":2}', 400, "field 'a' must be an integer, got a string"),
        ("POST", "/concat", b"[]", 400, "a concat request must be a JSON object, got an array"),
        ("GET", "/sum", b"", 405, "method 'GET' is not allowed; use POST"),
        ("POST", "/nope", b"{}", 404, "no route matches this path"),
    ],
)
async def test_http_refuses_bad_requests_with_a_clear_4xx(
    addsvc: Running, method: str, path: str, body: bytes, status: int, error: str
) -> None:
    """Malformed or misrouted requests get a 4xx whose JSON names the problem (T2)."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, addsvc.url("HTTP", path), data=body) as reply,
    ):
        assert reply.status == status
        assert (await reply.json())["error"].startswith(error)


async def test_http_shows_refusals_but_hides_internal_errors() -> None:
    """Rate limiting is a 500 with its text, as in Go kit; other errors a generic 500 + id (S6)."""
    secret = RuntimeError("password=hunter2")
    refusing = make_set(
        BasicAddService(),
        CapturingLogger(),
        generic.Histogram("d"),
        sum_limiter=AllowerFunc(lambda: False),
    )
    endpoints = Set(refusing.sum_endpoint, RecordingEndpoint[ConcatRequest, ConcatResponse](secret))
    logger = CapturingLogger()
    async with serving(make_http_handler(endpoints, logger)) as address:
        limited = await post(f"http://{address}/sum", b'{"a":1,"b":2}')
        failed = await post(f"http://{address}/concat", b'{"a":"x","b":"y"}')
    assert limited == (500, JSON, b'{"error":"rate limit exceeded"}\n')
    assert failed[0] == 500
    assert b"hunter2" not in failed[2]
    document = json.loads(failed[2])
    assert document["error"] == "internal error"
    assert document["request_id"]
    assert secret in [e["err"] for e in logger.events]


GO_KIT_JSONRPC = [
    (
        b'{"jsonrpc":"2.0","method":"sum","params":{"A":1,"B":2},"id":0}\n',
        b'{"jsonrpc":"2.0","result":{"v":3},"id":0}',
    ),
    (
        b'{"jsonrpc":"2.0","method":"concat","params":{"A":"x","B":"y"},"id":1}\n',
        b'{"jsonrpc":"2.0","result":{"v":"xy"},"id":1}',
    ),
    (
        b'{"jsonrpc":"2.0","method":"sum","params":{"A":0,"B":0},"id":2}\n',
        b'{"jsonrpc":"2.0","error":{"code":-32000,"message":"can\'t sum two zeroes"},"id":2}',
    ),
    (
        b'{"jsonrpc":"2.0","method":"sum","params":{"A":-2147483648,"B":-1},"id":3}\n',
        b'{"jsonrpc":"2.0","error":{"code":-32000,"message":"integer overflow"},"id":3}',
    ),
    (
        b'{"jsonrpc":"2.0","method":"concat","params":{"A":"12345","B":"678901"},"id":4}\n',
        b'{"jsonrpc":"2.0","error":{"code":-32000,"message":"result exceeds maximum size"},"id":4}',
    ),
]


@pytest.mark.parametrize(("body", "want"), GO_KIT_JSONRPC)
async def test_jsonrpc_answers_go_kits_client(addsvc: Running, body: bytes, want: bytes) -> None:
    """A call as Go kit's JSON-RPC client sends it gets Go kit's result (Go adds a newline)."""
    url = addsvc.url("JSONRPC over HTTP", "/")
    assert await post(url, body, JSON) == (200, JSON, want)


async def test_jsonrpc_answers_go_kit_0_10s_client_too(addsvc: Running) -> None:
    """Go kit 0.10's JSON-RPC client leaves "jsonrpc" empty; addsvc serves it all the same."""
    body = b'{"jsonrpc":"","method":"sum","params":{"A":1,"B":2},"id":0}\n'
    want = b'{"jsonrpc":"2.0","result":{"v":3},"id":0}'
    assert await post(addsvc.url("JSONRPC over HTTP", "/"), body, JSON) == (200, JSON, want)


@pytest.mark.parametrize(
    ("body", "data"),
    [
        (b'{"jsonrpc":"2.0","method":"sum","id":1}', 'params are required, like {"a":1,"b":2}'),
        (b'{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1}', "must be a JSON object"),
        (b'{"jsonrpc":"2.0","method":"concat","params":{"a":1},"id":1}', "field 'a' must be"),
        (b'{"jsonrpc":"2.0","method":"concat","id":1}', "params are required"),
    ],
)
async def test_jsonrpc_refuses_bad_params_as_invalid_params(
    addsvc: Running, body: bytes, data: str
) -> None:
    """Params that do not fit are -32602 with the reason in data."""
    status, _, reply = await post(addsvc.url("JSONRPC over HTTP", "/"), body, JSON)
    error = json.loads(reply)["error"]
    assert (status, error["code"], error["message"]) == (200, -32602, "Invalid params")
    assert data in error["data"]


async def test_jsonrpc_shows_refusals_as_internal_errors_with_their_text() -> None:
    """A rate-limited call is -32603 with the limiter's text, as Go kit answers it."""
    endpoints = make_set(
        BasicAddService(),
        CapturingLogger(),
        generic.Histogram("d"),
        sum_limiter=AllowerFunc(lambda: False),
    )
    async with serving(make_jsonrpc_handler(endpoints, CapturingLogger())) as address:
        _, _, reply = await post(
            f"http://{address}/",
            b'{"jsonrpc":"2.0","method":"sum","params":{"a":1,"b":2},"id":7}',
            JSON,
        )
    assert reply == (
        b'{"jsonrpc":"2.0","error":{"code":-32603,"message":"rate limit exceeded"},"id":7}'
    )


GO_KIT_GRPC = [
    ("Sum", b"\x08\x01\x10\x02", b"\x08\x03"),  # SumRequest{a:1 b:2} -> SumReply{v:3}
    ("Sum", addsvc_pb2.SumRequest(a=-7, b=2), addsvc_pb2.SumReply(v=-5)),
    ("Sum", b"", b"\x12\x14can't sum two zeroes"),  # SumRequest{} -> SumReply{err:...}
    ("Sum", addsvc_pb2.SumRequest(a=INT_MAX, b=1), addsvc_pb2.SumReply(err="integer overflow")),
    ("Concat", b"\x0a\x01x\x12\x01y", b"\x0a\x02xy"),
    (
        "Concat",
        addsvc_pb2.ConcatRequest(a="go kit", b="rocks"),
        addsvc_pb2.ConcatReply(err="result exceeds maximum size"),
    ),
]


@pytest.mark.parametrize(("method", "request_", "reply"), GO_KIT_GRPC)
async def test_grpc_answers_go_kits_messages_with_go_kits_replies(
    addsvc: Running, method: str, request_: bytes | Message, reply: bytes | Message
) -> None:
    """pb.Add messages, as Go kit's client sends them, get Go kit's reply bytes and OK."""
    raw = request_ if isinstance(request_, bytes) else request_.SerializeToString()
    want = reply if isinstance(reply, bytes) else reply.SerializeToString()
    async with grpc.aio.insecure_channel(addsvc.addresses["gRPC"]) as channel:
        got = await raw_rpc(channel, method)(raw, timeout=10)
    assert got == want


async def test_grpc_shows_refusals_and_hides_internal_errors() -> None:
    """Rate limiting is UNKNOWN with its text (Go kit's status); other errors INTERNAL + id (S6)."""
    refusing = make_set(
        BasicAddService(),
        CapturingLogger(),
        generic.Histogram("d"),
        sum_limiter=AllowerFunc(lambda: False),
    )
    secret = RuntimeError("password=hunter2")
    endpoints = Set(refusing.sum_endpoint, RecordingEndpoint[ConcatRequest, ConcatResponse](secret))
    async with (
        serving(make_grpc_services(endpoints, CapturingLogger())) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as limited:
            await raw_rpc(channel, "Sum")(b"\x08\x01")
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await raw_rpc(channel, "Concat")(b"")
    assert (limited.value.code(), limited.value.details()) == (
        grpc.StatusCode.UNKNOWN,
        "rate limit exceeded",
    )
    assert failed.value.code() is grpc.StatusCode.INTERNAL
    assert "hunter2" not in (failed.value.details() or "")
    assert (failed.value.details() or "").startswith("internal error; request id ")


@contextlib.asynccontextmanager
async def client_set(transport: str, address: str) -> AsyncIterator[Set]:
    """The client-side Set of *transport* for the addsvc at *address*."""
    if transport == "gRPC":
        async with grpc.aio.insecure_channel(address) as channel:
            yield make_grpc_client_set(channel)
        return
    make = make_http_client_set if transport == "HTTP" else make_jsonrpc_client_set
    async with aiohttp.ClientSession() as session:
        yield make(address, session=session)


@pytest.mark.parametrize("transport", ["HTTP", "gRPC", "JSONRPC over HTTP"])
async def test_client_sets_call_the_service_and_raise_its_business_errors(
    addsvc: Running, transport: str
) -> None:
    """Through each client set, results come back and business errors raise their own class."""
    async with client_set(transport, addsvc.addresses[transport]) as svc:
        assert await svc.sum(1, 2) == 3
        assert await svc.concat("go", "kit") == "gokit"
        with pytest.raises(TwoZeroes):
            await svc.sum(0, 0)
        with pytest.raises(IntOverflow):
            await svc.sum(INT_MAX, 1)
        with pytest.raises(MaxSizeExceeded):
            await svc.concat("go kit", "rocks")
        for _ in range(10):  # business errors never open the client's breaker
            with pytest.raises(TwoZeroes):
                await svc.sum(0, 0)
        assert await svc.sum(2, 2) == 4


def canned(status: int, body: bytes) -> Router:
    """An HTTP server that answers every POST /sum with *status* and *body*."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await Response(body, status=status).send(send)

    router = Router()
    router.route("POST", "/sum", app)
    return router


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (500, b'{"error":"rate limit exceeded"}\n', UnexpectedStatus, "500 Internal Server Error"),
        (400, b"bad request", UnexpectedStatus, "400 Bad Request: bad request"),
        (200, b'{"v":"3"}', InvalidResponse, "field 'v' must be an integer, got a string"),
        (200, b"3 apples", InvalidResponse, "is not an addsvc reply"),
    ],
)
async def test_http_client_raises_for_answers_that_are_not_replies(
    status: int, body: bytes, error: type[Exception], text: str
) -> None:
    """Other statuses, 400s without an error body, and bodies that do not fit all raise."""
    async with serving(canned(status, body)) as address, aiohttp.ClientSession() as session:
        with pytest.raises(error, match=text):
            await make_http_client_set(address, session=session).sum(1, 2)


async def test_jsonrpc_client_raises_errors_that_are_not_business_errors() -> None:
    """A -32603 from a rate-limited server raises JSONRPCError; only -32000 is a business error."""
    refusing = make_set(
        BasicAddService(),
        CapturingLogger(),
        generic.Histogram("d"),
        sum_limiter=AllowerFunc(lambda: False),
    )
    async with (
        serving(make_jsonrpc_handler(refusing, CapturingLogger())) as address,
        aiohttp.ClientSession() as session,
    ):
        with pytest.raises(JSONRPCError, match="rate limit exceeded") as raised:
            await make_jsonrpc_client_set(address, session=session).sum(1, 2)
    assert raised.value.code == -32603


async def test_debug_listener_serves_metrics_and_health(addsvc: Running) -> None:
    """GET /health is ok; /metrics shows Go kit's counters and the duration histogram."""
    async with aiohttp.ClientSession() as session:
        await make_http_client_set(addsvc.addresses["HTTP"], session=session).sum(1, 2)
        async with session.get(addsvc.url("debug/HTTP", "/health")) as reply:
            assert (reply.status, await reply.json()) == (200, {"status": "ok"})
        async with session.get(addsvc.url("debug/HTTP", "/metrics")) as reply:
            metrics = await reply.text()
    assert "example_addsvc_integers_summed_total 2.0" in metrics
    assert "example_addsvc_characters_concatenated_total 0.0" in metrics
    assert 'example_addsvc_request_duration_seconds_count{method="sum",success="true"} 1.0' in (
        metrics
    )


async def test_run_logs_and_summarises_where_each_transport_listens(addsvc: Running) -> None:
    """Each transport logs its address; the summary names them, an addcli call and curl."""
    assert set(addsvc.addresses) == {"debug/HTTP", "HTTP", "gRPC", "JSONRPC over HTTP"}
    http = addsvc.addresses["HTTP"]
    assert f"http://{http}" in addsvc.summary
    assert f"--transport http --http-addr {http} --method sum 1 2" in addsvc.summary
    assert f"""curl -s -d '{{"a":1,"b":2}}' http://{http}/sum""" in addsvc.summary


# --- addcli and addsvc as programs ------------------------------------------------------


async def python(*args: str) -> tuple[int, str, str]:
    """Run ``python -m <args>`` from the repository root; exit status, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(45):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:  # timed out: do not leave it running
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


CLI_FLAGS = {"http": "-http-addr", "grpc": "--grpc-addr", "jsonrpc": "-jsonrpc-addr"}
TRANSPORT_NAMES = {"http": "HTTP", "grpc": "gRPC", "jsonrpc": "JSONRPC over HTTP"}


@pytest.mark.parametrize("transport", ["http", "grpc", "jsonrpc"])
@pytest.mark.parametrize(
    ("args", "status", "out", "err"),
    [
        (["1", "2"], 0, "1 + 2 = 3\n", ""),
        (["-method", "concat", "go", "kit"], 0, '"go" + "kit" = "gokit"\n', ""),
        (["0", "0"], 1, "", "error: can't sum two zeroes\n"),
        (["2147483647", "1"], 1, "", "error: integer overflow\n"),
        (["--method=concat", "go kit", "rocks"], 1, "", "error: result exceeds maximum size\n"),
    ],
)
async def test_addcli_calls_every_method_on_every_transport(
    addsvc: Running,
    capsys: pytest.CaptureFixture[str],
    transport: str,
    args: list[str],
    status: int,
    out: str,
    err: str,
) -> None:
    """addcli prints Go kit's result line, or "error: <text>" and returns 1, on each transport."""
    address = addsvc.addresses[TRANSPORT_NAMES[transport]]
    assert await addcli([CLI_FLAGS[transport], address, *args]) == status
    assert capsys.readouterr() == (out, err)


async def test_addcli_program_gets_3_for_sum_1_2_on_every_transport(addsvc: Running) -> None:
    """``python -m examples.addsvc.cmd.addcli ... 1 2`` prints ``1 + 2 = 3`` over each transport."""
    runs = [
        python(
            "examples.addsvc.cmd.addcli",
            *("--transport", transport, CLI_FLAGS[transport]),
            *(addsvc.addresses[TRANSPORT_NAMES[transport]], "1", "2"),
        )
        for transport in CLI_FLAGS
    ]
    assert await asyncio.gather(*runs) == 3 * [(0, "1 + 2 = 3\n", "")]


async def test_addcli_reports_failures_and_bad_usage_without_a_traceback() -> None:
    """No server (HTTP, gRPC) and non-integers for sum: one line each, never a traceback."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{unused.getsockname()[1]}"
        http, grpc_, usage = await asyncio.gather(
            python("examples.addsvc.cmd.addcli", "--http-addr", address, "1", "2"),
            python("examples.addsvc.cmd.addcli", "--grpc-addr", address, "1", "2"),
            python("examples.addsvc.cmd.addcli", "one", "2"),
        )
    assert http[0] == 1
    assert http[2].startswith(f"error: POST http://{address}/sum failed")
    assert grpc_[0] == 1
    assert grpc_[2].startswith("error: /pb.Add/Sum failed with UNAVAILABLE")
    assert usage[0] == 2
    assert "sum takes two integers, got 'one' and '2'" in usage[2]
    for _, out, err in (http, grpc_, usage):
        assert out == ""
        assert err.count("\n") <= 4
        assert "Traceback" not in err


def test_addcli_picks_the_transport_whose_address_is_given() -> None:
    """Without --transport, the transport is the one given an address (Go kit's rule)."""
    assert parse_cli_args(["1", "2"]).transport == "http"
    chosen = parse_cli_args(["-jsonrpc-addr", "10.0.0.1:1", "1", "2"])
    assert (chosen.transport, chosen.address) == ("jsonrpc", "10.0.0.1:1")
    assert parse_cli_args(["--transport", "jsonrpc", "1", "2"]).address == "127.0.0.1:8084"


def test_addsvc_flags_take_one_dash_or_two() -> None:
    """Go kit's flag names work with one dash or two, '=' or a separate value."""
    got = parse_args(["-http-addr", ":9001", "--grpc-addr=", "-debug.addr=127.0.0.1:9000"])
    assert got == Addresses(debug="127.0.0.1:9000", http=":9001", grpc="")


def test_parse_address_reads_gos_forms() -> None:
    """host:port, [v6]:port and :port (every interface, as in Go); others are refused."""
    assert parse_address("127.0.0.1:8081") == ("127.0.0.1", 8081)
    assert parse_address("[::1]:80") == ("::1", 80)
    assert parse_address(":8081") == ("0.0.0.0", 8081)
    for bad in ("8081", "localhost:", "localhost:99999", "h:x"):
        with pytest.raises(ValueError, match="an address looks like"):
            parse_address(bad)


async def test_addsvc_rejects_a_bad_address_with_a_usage_error() -> None:
    """A malformed address exits 2 and names the flag."""
    status, _, err = await python("examples.addsvc.cmd.addsvc", "-http-addr", "nonsense")
    assert status == 2
    assert "-http-addr: an address looks like" in err


@contextlib.asynccontextmanager
async def addsvc_process(*args: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """Start addsvc on free ports; yield it and its HTTP address once everything listens."""
    flags = [
        *("-debug.addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0", "-grpc-addr", "127.0.0.1:0"),
        *("-thrift-addr", "", "-jsonrpc-addr", "127.0.0.1:0", *args),
    ]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "examples.addsvc.cmd.addsvc",
        *flags,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        listening: dict[str, str] = {}
        async with asyncio.timeout(30):
            while len(listening) < 4:  # debug, HTTP, gRPC, JSON-RPC
                line = (await process.stdout.readline()).decode()
                assert line, "addsvc ended before everything listened"
                if "msg=listening" in line:
                    transport = line.split("transport=")[1].split(" addr=")[0]
                    listening[transport] = line.split("addr=")[1].split()[0]
        yield process, listening["HTTP"]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_addsvc_serves_until_sigterm_then_exits_cleanly() -> None:
    """Started as a program, addsvc answers, prints its summary, and exits 0 on SIGTERM (T7)."""
    async with addsvc_process() as (process, http):
        assert await post(f"http://{http}/sum", b'{"a":1,"b":2}') == (200, JSON, b'{"v":3}\n')
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            out, err = await process.communicate()
    assert process.returncode == 0
    assert "signal=SIGTERM msg=stopping" in out.decode()
    assert "exit=stopped" in out.decode()
    assert "addsvc is listening:" in err.decode()
    assert "curl -s -d" in err.decode()


async def test_a_second_signal_stops_addsvc_without_waiting_for_requests_in_flight() -> None:
    """With a request in flight, SIGINT starts draining and a second SIGINT exits at once."""
    async with addsvc_process() as (process, http):
        host, port = http.rsplit(":", 1)
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /sum HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()  # the body never completes: the request stays in flight
        assert process.stdout is not None
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            while b"msg=stopping" not in await process.stdout.readline():
                pass
            process.send_signal(signal.SIGINT)
            out, _ = await process.communicate()
        writer.close()
    assert process.returncode == 1
    assert "exit=forced" in out.decode()


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("-http-addr", "HTTP: cannot listen on {}: Address already in use"),
        ("-grpc-addr", "gRPC: cannot listen on {}; is the port taken?"),
    ],
)
async def test_addsvc_says_which_address_it_cannot_bind_and_exits_1(flag: str, reason: str) -> None:
    """A port in use ends addsvc with status 1 and a line naming the transport and address."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        # gRPC stays off while HTTP fails: grpcio logs an InvalidStateError when its server
        # is cancelled during start(), which is the gRPC transport's to fix.
        free = ("-http-addr", "-jsonrpc-addr", "-debug.addr")
        flags = [part for other in free if other != flag for part in (other, "127.0.0.1:0")]
        status, out, err = await python(
            "examples.addsvc.cmd.addsvc", "-grpc-addr", "", *flags, flag, address
        )
    assert status == 1
    assert f"addsvc: {reason.format(address)}\n" in err
    assert "during=Listen" in out
    assert "Traceback" not in err


def _counters() -> tuple[generic.Counter, generic.Counter]:
    return generic.Counter("ints"), generic.Counter("chars")
