"""The reverse proxy against real upstreams: a raw ASGI origin on uvicorn, served for real."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import urllib.parse
from collections.abc import AsyncIterator, Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import yarl

from pygokit.transport import ErrorHandlerFunc
from pygokit.transport.http import Request, Response, context
from pygokit.transport.http.client import UnsafeRequest
from pygokit.transport.http.rp import BadGateway, GatewayTimeout, ProxyRequest, ReverseProxy
from tests.transport.http.client_server import RawListener, running_uvicorn
from tests.transport.http.server_harness import call, served

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]

tenant: ContextVar[str] = ContextVar("test_rp.tenant", default="")


@dataclass(frozen=True)
class Seen:
    """One request as the origin saw it."""

    method: str
    raw_path: str
    query: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> list[str]:
        """Every value of header *name*."""
        return [v for k, v in self.headers if k == name]


@dataclass
class Origin:
    """A raw ASGI origin; routes by the path after an optional ``/api`` prefix.

    ``/echo``: streams the body back as it arrives. ``/sink``: reads the whole
    body, then answers its size. ``/slow``: answers once `release` is set.
    ``/redirect``: 302. ``/hop``: answers with hop-by-hop fields. ``/status/N``:
    that status. ``/gather?n=N``: answers once N such requests wait, with the
    request's X-Tenant. ``/big?size=N``: N bytes in 64 KiB pieces.
    """

    seen: list[Seen] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    first_chunk: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0
    gathered: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] != "http":
            return
        raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        query = scope["query_string"].decode()
        seen = Seen(scope["method"], scope["raw_path"].decode(), query, raw)
        self.seen.append(seen)
        self.arrived.set()
        route = scope["path"].removeprefix("/api")
        params = dict(urllib.parse.parse_qsl(query))
        if route.startswith("/echo"):
            await self._echo(receive, send)
            return
        await _drain(receive)
        if route == "/sink":
            await _answer(send, 200, b"ok")
        elif route == "/slow":
            await self.release.wait()
            await _answer(send, 200, b"late")
        elif route == "/redirect":
            await _answer(send, 302, b"", [(b"location", b"/elsewhere")])
        elif route == "/hop":
            await _answer(send, 200, b"hop", HOP_FIELDS)
        elif route.startswith("/status/"):
            await _answer(send, int(route.removeprefix("/status/")), b"upstream says no")
        elif route == "/gather":
            await self._gather(int(params["n"]), send, seen)
        elif route == "/big":
            await self._big(int(params["size"]), send)
        else:
            await _answer(send, 404, b"no such route")

    async def _echo(self, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        more = True
        while more:
            message = await receive()
            self.first_chunk.set()
            more = message.get("more_body", False)
            await send({"type": "http.response.body", "body": message["body"], "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def _gather(self, n: int, send: Send, seen: Seen) -> None:
        self.waiting += 1
        if self.waiting == n:
            self.gathered.set()
        await self.gathered.wait()
        await _answer(send, 200, seen.header("x-tenant")[0].encode())

    async def _big(self, size: int, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for start in range(0, size, 65536):
            piece = bytes([start // 65536 % 256]) * min(65536, size - start)
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


HOP_FIELDS = [
    (b"connection", b"x-hop-named"),
    (b"x-hop-named", b"1"),
    (b"keep-alive", b"timeout=5"),
    (b"proxy-authenticate", b"Basic"),
    (b"trailer", b"x-t"),
    (b"set-cookie", b"a=1"),
    (b"set-cookie", b"b=2"),
]


async def _drain(receive: Receive) -> None:
    more = True
    while more:
        more = (await receive()).get("more_body", False)


async def _answer(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", b"text/plain"), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def origin() -> AsyncIterator[tuple[Origin, str]]:
    """The origin app and its base URL, served by uvicorn on 127.0.0.1."""
    app = Origin()
    async with running_uvicorn(app) as url:
        yield app, url
        app.release.set()


@contextlib.asynccontextmanager
async def proxied(upstream: str, **options: Any) -> AsyncIterator[str]:
    """A ReverseProxy to *upstream* served by uvicorn on 127.0.0.1; yields its base URL."""
    async with ReverseProxy(upstream, **options) as proxy, running_uvicorn(proxy) as url:
        yield url


async def fetch(url: str, method: str = "GET", **kwargs: Any) -> tuple[int, Any, bytes]:
    """One request with a fresh session: status, headers and body."""
    async with aiohttp.ClientSession() as session, session.request(method, url, **kwargs) as r:
        return r.status, r.headers, await r.read()


class Errors:
    """An error handler that keeps what it is given, with the request id in force."""

    def __init__(self) -> None:
        self.errors: list[tuple[Exception, str]] = []

    def handle(self, error: Exception) -> None:
        """Keep *error*."""
        self.errors.append((error, context.request_id.get()))


# --- forwarding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "expected_path", "expected_query"),
    [
        ("", "/echo/a%20b", "x=2&y"),
        ("/api", "/api/echo/a%20b", "x=2&y"),
        ("/api/?k=1", "/api/echo/a%20b", "k=1&x=2&y"),
    ],
)
async def test_paths_join_the_base_path_and_queries_merge(
    origin: tuple[Origin, str], base: str, expected_path: str, expected_query: str
) -> None:
    """The base path is joined with the request's raw path; both queries are kept, in order."""
    app, url = origin
    async with proxied(url + base) as front:
        target = yarl.URL(f"{front}/echo/a%20b?x=2&y", encoded=True)
        status, _, body = await fetch(str(target), "POST", data=b"hi")
    assert (status, body) == (200, b"hi")
    [seen] = app.seen
    assert (seen.method, seen.raw_path, seen.query) == ("POST", expected_path, expected_query)


async def test_end_to_end_headers_pass_both_ways(origin: tuple[Origin, str]) -> None:
    """Repeated and custom fields reach the origin; its fields (two Set-Cookie) reach the client."""
    app, url = origin
    headers = [("X-Multi", "1"), ("X-Multi", "2"), ("Content-Type", "text/x"), ("Cookie", "c=1")]
    async with proxied(url) as front:
        status, received, body = await fetch(f"{front}/hop", headers=headers)
    assert (status, body) == (200, b"hop")
    [seen] = app.seen
    assert seen.header("x-multi") == ["1", "2"]
    assert seen.header("content-type") == ["text/x"]
    assert seen.header("cookie") == ["c=1"]
    assert seen.header("host") == [url.removeprefix("http://")]
    assert received.getall("set-cookie") == ["a=1", "b=2"]


async def test_hop_by_hop_fields_are_stripped_both_ways(origin: tuple[Origin, str]) -> None:
    """Connection and the fields it names, Keep-Alive, Proxy-*, TE, Trailer, Upgrade: dropped."""
    app, url = origin
    hop = [
        (b"connection", b"keep-alive, X-Named"),
        (b"x-named", b"1"),
        (b"keep-alive", b"timeout=5"),
        (b"proxy-authorization", b"Basic eA=="),
        (b"proxy-connection", b"keep-alive"),
        (b"te", b"trailers"),
        (b"trailer", b"x-t"),
        (b"upgrade", b"h2c"),
        (b"transfer-encoding", b"chunked"),
        (b"x-end", b"kept"),
    ]
    async with ReverseProxy(url) as proxy:
        reply = await call(proxy, b"", method="GET", path="/hop", headers=hop)
    [seen] = app.seen
    assert {name for name, _ in seen.headers} & {n.decode() for n, _ in hop} == {"x-end"}
    names = {name for name, _ in reply.headers}
    assert not names & {b"connection", b"x-hop-named", b"keep-alive", b"proxy-authenticate"}
    assert b"trailer" not in names
    assert reply.header("set-cookie") == "a=1"


async def test_a_client_cannot_have_a_hooks_field_stripped(origin: tuple[Origin, str]) -> None:
    """S5: fields named in the client's Connection are dropped before hooks run, not after."""
    app, url = origin

    def add_user(request: ProxyRequest) -> None:
        request.headers["x-user"] = "alice"

    async with ReverseProxy(url, before=[add_user]) as proxy:
        await call(proxy, b"", method="GET", path="/sink", headers=[(b"connection", b"x-user")])
    assert app.seen[0].header("x-user") == ["alice"]


async def test_x_forwarded_fields_are_set_and_appended(origin: tuple[Origin, str]) -> None:
    """S5: X-Forwarded-For gets the peer appended; -Host and -Proto are the proxy's own."""
    app, url = origin
    spoof = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Host": "evil",
        "X-Forwarded-Proto": "ftp",
    }
    with served(ReverseProxy(url)) as front:  # serve() trusts no forwarded fields of its own
        status, _, _ = await asyncio.to_thread(
            _blocking_get, f"http://127.0.0.1:{front.port}/sink", spoof
        )
    assert status == 200
    [seen] = app.seen
    assert seen.header("x-forwarded-for") == ["203.0.113.9, 127.0.0.1"]
    assert seen.header("x-forwarded-host") == [f"127.0.0.1:{front.port}"]
    assert seen.header("x-forwarded-proto") == ["http"]


def _blocking_get(url: str, headers: dict[str, str]) -> tuple[int, Any, bytes]:
    """GET from another thread's event loop (the proxy runs in a thread of its own)."""
    return asyncio.run(fetch(url, headers=headers))


async def test_a_client_without_an_address_keeps_the_prior_chain(
    origin: tuple[Origin, str],
) -> None:
    """With no peer address to append, X-Forwarded-For is passed on as it was."""
    app, url = origin
    proxy = ReverseProxy(url)

    async def no_peer(scope: Scope, receive: Receive, send: Send) -> None:
        await proxy({**scope, "client": None}, receive, send)

    async with proxy:
        prior = [(b"x-forwarded-for", b"10.0.0.1")]
        await call(no_peer, b"", method="GET", path="/sink", headers=prior)
        await call(no_peer, b"", method="GET", path="/sink", headers=[])
    assert app.seen[0].header("x-forwarded-for") == ["10.0.0.1"]
    assert app.seen[1].header("x-forwarded-for") == []


# --- hooks and context --------------------------------------------------------------------


async def test_hooks_run_in_order_and_may_rewrite_the_request(origin: tuple[Origin, str]) -> None:
    """Each hook sees the changes of the ones before; method, path, query and headers change."""
    app, url = origin
    order: list[str] = []

    def first(request: ProxyRequest) -> None:
        order.append(f"first {request.method} {request.path} {request.query}")
        request.method, request.path, request.query = "PUT", "/sink", "q=1"
        request.headers["x-first"] = "1"
        request.headers["host"] = "example.test"

    def second(request: ProxyRequest) -> None:
        order.append(f"second {request.method} {request.url} {request.headers['x-first']}")
        order.append(repr(request))
        assert request.incoming.path == "/anything"
        del request.headers["x-forwarded-for"]

    async with proxied(url, before=[first, second]) as front:
        status, _, body = await fetch(f"{front}/anything")
    assert (status, body) == (200, b"ok")
    assert order == [
        "first GET /anything ",
        f"second PUT {url}/sink?q=1 1",
        f"<ProxyRequest PUT {url}/sink>",
    ]
    [seen] = app.seen
    assert (seen.method, seen.raw_path, seen.query) == ("PUT", "/sink", "q=1")
    assert seen.header("x-forwarded-for") == []
    assert seen.header("host") == ["example.test"]


async def test_context_set_by_a_hook_is_seen_by_everything_after_it(
    origin: tuple[Origin, str],
) -> None:
    """Go kit's dropped-context bug fixed: later hooks, the upstream call and finalizers see it."""
    app, url = origin
    seen: dict[str, str] = {}

    def set_tenant(request: ProxyRequest) -> None:
        tenant.set(request.incoming.headers["x-tenant"])

    def forward_tenant(request: ProxyRequest) -> None:
        request.headers["x-seen-tenant"] = tenant.get()

    async def on_request_start(*_: Any) -> None:
        seen["upstream call"] = tenant.get()

    def finalize(request: Request, status: int) -> None:
        seen["finalizer"] = f"{tenant.get()} {status} {context.response_size.get()}"

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    jar = aiohttp.DummyCookieJar()
    async with aiohttp.ClientSession(trace_configs=[trace], cookie_jar=jar) as session:
        options = {"before": [set_tenant, forward_tenant], "finalizers": [finalize]}
        async with proxied(url, session=session, **options) as front:
            status, _, _ = await fetch(f"{front}/sink", headers={"x-tenant": "acme"})
        assert not session.closed  # the caller's session is the caller's to close
    assert status == 200
    assert app.seen[0].header("x-seen-tenant") == ["acme"]
    assert seen == {"upstream call": "acme", "finalizer": "acme 200 2"}


async def test_context_values_never_leak_between_concurrent_requests(
    origin: tuple[Origin, str],
) -> None:
    """20 requests in flight at once each see only their own hook's value."""
    _app, url = origin
    finals: list[tuple[str, str]] = []

    def set_tenant(request: ProxyRequest) -> None:
        tenant.set(request.incoming.headers["x-tenant"])
        request.headers["x-tenant"] = tenant.get()

    def finalize(request: Request, status: int) -> None:
        finals.append((request.headers["x-tenant"], tenant.get()))

    n = 20
    async with proxied(url, before=[set_tenant], finalizers=[finalize]) as front:
        replies = await asyncio.gather(
            *(fetch(f"{front}/gather?n={n}", headers={"x-tenant": f"t{i}"}) for i in range(n))
        )
    assert [body for _, _, body in replies] == [f"t{i}".encode() for i in range(n)]
    assert len(finals) == n
    assert all(sent == seen for sent, seen in finals)
    assert tenant.get() == ""


# --- bodies -------------------------------------------------------------------------------


async def test_bodies_stream_both_ways_without_buffering(origin: tuple[Origin, str]) -> None:
    """A 5 MiB upload is echoed through the proxy while it is still being sent, in both ways."""
    app, url = origin
    piece = b"p" * (1024 * 1024)
    echoed = asyncio.Event()

    async def upload() -> AsyncIterator[bytes]:
        yield piece
        await app.first_chunk.wait()  # the origin has bytes before the client sent the rest
        await echoed.wait()  # and the client has the echo before it sent the rest
        for _ in range(4):
            yield piece

    async with (
        proxied(url, max_body_bytes=8 * 1024 * 1024) as front,
        asyncio.timeout(30),
        aiohttp.ClientSession() as session,
        session.post(f"{front}/echo", data=upload()) as response,
    ):
        digest, size = hashlib.sha256(), 0
        async for chunk in response.content.iter_any():
            echoed.set()
            digest.update(chunk)
            size += len(chunk)
    assert size == 5 * len(piece)
    assert digest.digest() == hashlib.sha256(piece * 5).digest()


async def test_a_large_download_arrives_whole(origin: tuple[Origin, str]) -> None:
    """An upstream answer larger than any limit streams through byte for byte."""
    _, url = origin
    size = 3 * 1024 * 1024 + 7
    async with proxied(url) as front:
        status, _, body = await fetch(f"{front}/big?size={size}")
    assert (status, len(body)) == (200, size)
    assert body[65536] == 1
    assert body[-1] == (size - 1) // 65536 % 256


async def test_bodies_over_the_limit_are_413s(origin: tuple[Origin, str]) -> None:
    """T3: a declared length over the limit never reaches the origin; a chunked one is cut off."""
    app, url = origin

    async def chunked() -> AsyncIterator[bytes]:
        yield b"x" * 400
        await app.arrived.wait()  # the proxy is streaming to the origin when the limit passes
        for _ in range(9):
            yield b"x" * 400

    async with proxied(url, max_body_bytes=1000) as front:
        declared = await fetch(f"{front}/sink", "POST", data=b"x" * 1001)
        streamed = await fetch(f"{front}/sink", "POST", data=chunked())
        fits = await fetch(f"{front}/sink", "POST", data=b"x" * 1000)
    assert declared[0] == 413
    assert b"larger than 1000 bytes" in declared[2]
    assert streamed[0] == 413
    assert fits[:3:2] == (200, b"ok")
    assert len(app.seen) == 2  # the declared one never left the proxy


async def test_bad_bodies_from_the_asgi_server_are_refused(origin: tuple[Origin, str]) -> None:
    """A malformed Content-Length, an oversized single message and a vanished client: 4xx."""
    _app, url = origin
    async with ReverseProxy(url, max_body_bytes=10) as proxy:
        bad_length = await call(proxy, b"", path="/sink", headers=[(b"content-length", b"1e3")])
        oversized = await call(proxy, b"x" * 11, path="/sink", headers=[])
        gone = await call(proxy, [b"abc", b"def"], path="/sink", headers=[], disconnect=True)
    assert (bad_length.status, oversized.status, gone.status) == (400, 413, 400)
    assert b"Content-Length must be" in bad_length.body
    assert b"went away" in gone.body


async def test_bodies_in_many_messages_keep_their_declared_length(
    origin: tuple[Origin, str],
) -> None:
    """A body streamed in pieces goes on with its Content-Length, not chunked; empty pieces too."""
    app, url = origin
    pieces = [b"ab", b"", b"cd"]
    async with ReverseProxy(url) as proxy:
        declared = await call(proxy, pieces, path="/echo", headers=[(b"content-length", b"4")])
        chunked = await call(proxy, pieces, path="/echo", headers=[])
    assert (declared.body, chunked.body) == (b"abcd", b"abcd")
    assert app.seen[0].header("content-length") == ["4"]
    assert app.seen[0].header("transfer-encoding") == []
    assert app.seen[1].header("transfer-encoding") == ["chunked"]


async def test_header_values_keep_their_bytes_when_they_are_utf8(
    origin: tuple[Origin, str],
) -> None:
    """UTF-8 field values arrive byte for byte; other bytes are sent as UTF-8 of their Latin-1."""
    app, url = origin
    fields = [(b"x-utf8", "café".encode()), (b"x-latin1", b"caf\xe9")]
    async with ReverseProxy(url) as proxy:
        await call(proxy, b"", method="GET", path="/sink", headers=fields)
    [seen] = app.seen
    assert seen.header("x-utf8") == ["café".encode().decode("latin-1")]
    assert seen.header("x-latin1") == ["café".encode().decode("latin-1")]


# --- the upstream's failures --------------------------------------------------------------


async def test_an_unreachable_upstream_is_a_502_without_internals() -> None:
    """S6: no upstream is a generic 502 JSON; the handler gets the details with the request id."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    errors, statuses = Errors(), []
    finalizer = lambda request, status: statuses.append(status)  # noqa: E731
    async with proxied(
        f"http://127.0.0.1:{port}", error_handler=errors, finalizers=[finalizer]
    ) as front:
        status, headers, body = await fetch(f"{front}/x", headers={"x-request-id": "rid-1"})
    assert status == 502
    assert body == b'{"error":"bad gateway","request_id":"rid-1"}'
    assert headers["content-type"] == "application/json; charset=utf-8"
    [(error, rid)] = errors.errors
    assert isinstance(error, BadGateway)
    assert rid == "rid-1"
    assert isinstance(error.__cause__, aiohttp.ClientConnectorError)
    assert f"127.0.0.1:{port}/x" in str(error)
    assert statuses == [502]


async def test_a_silent_upstream_is_a_504(origin: tuple[Origin, str]) -> None:
    """An upstream that does not answer within the timeout is a 504 and a GatewayTimeout."""
    _, url = origin
    errors = Errors()
    async with proxied(url, timeout=0.2, error_handler=errors) as front:
        status, _, body = await fetch(f"{front}/slow")
    assert status == 504
    assert b'"error":"gateway timeout"' in body
    assert isinstance(errors.errors[0][0], GatewayTimeout)


async def test_upstream_errors_pass_through_unchanged(origin: tuple[Origin, str]) -> None:
    """An upstream 500 is the upstream's answer, not the proxy's error: status and body as sent."""
    _, url = origin
    errors = Errors()
    async with proxied(url, error_handler=errors) as front:
        status, headers, body = await fetch(f"{front}/status/500")
        empty = await fetch(f"{front}/status/204")
        head = await fetch(f"{front}/status/200", "HEAD")
    assert (status, body, headers["content-type"]) == (500, b"upstream says no", "text/plain")
    assert "x-request-id" not in headers
    assert (empty[0], empty[2], head[0], head[2]) == (204, b"", 200, b"")
    assert errors.errors == []


async def test_redirects_are_passed_on_not_followed(origin: tuple[Origin, str]) -> None:
    """A 302 reaches the client with its Location; the proxy makes no second request."""
    app, url = origin
    async with proxied(url) as front:
        status, headers, _ = await fetch(f"{front}/redirect", allow_redirects=False)
    assert (status, headers["location"]) == (302, "/elsewhere")
    assert len(app.seen) == 1


async def test_an_answer_that_breaks_off_is_cut_short_and_reported() -> None:
    """Too late for a 502: the client sees a truncated body and the handler a BadGateway."""
    errors = Errors()
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"
    async with (
        RawListener(reply=reply) as listener,
        proxied(listener.url, error_handler=errors) as front,
    ):
        with pytest.raises(aiohttp.ClientPayloadError):
            await fetch(f"{front}/x")
    assert isinstance(errors.errors[0][0], BadGateway)
    assert "broke off" in str(errors.errors[0][0])


async def test_protocol_upgrades_are_502s() -> None:
    """An upstream that switches protocols (101) is not proxied: the client gets a 502."""
    errors = Errors()
    reply = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n"
    async with (
        RawListener(reply=reply) as listener,
        proxied(listener.url, error_handler=errors) as front,
    ):
        status, _, _ = await fetch(f"{front}/x")
    assert status == 502
    assert "upgrades are not proxied" in str(errors.errors[0][0])


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [b"/../admin", b"/a/./b", b"/a/%2e%2E/b", b"/a/..%2fb", b"/a\\..\\b", b"/a b", b"*", b"/a\x80"],
)
async def test_paths_that_could_climb_out_or_are_not_paths_are_400s(
    origin: tuple[Origin, str], target: bytes
) -> None:
    """Dot segments (encoded too), backslashes, spaces and non-paths never reach the origin."""
    app, url = origin
    proxy = ReverseProxy(url + "/public")

    async def raw_target(scope: Scope, receive: Receive, send: Send) -> None:
        await proxy({**scope, "raw_path": target}, receive, send)

    async with proxy:
        reply = await call(raw_target, b"", method="GET", path="/x", headers=[])
        bad_query = await call(proxy, b"", method="GET", path="/x", headers=[], query=b"a=\x00")
    assert reply.status == 400
    assert bad_query.status == 400
    assert app.seen == []


@pytest.mark.parametrize(
    ("hook", "error"),
    [
        (lambda r: r.headers.__setitem__("x-a", "1\r\nx-b: 2"), ValueError),
        (lambda r: setattr(r, "method", "GET /x"), UnsafeRequest),
        (lambda r: setattr(r, "path", "relative"), UnsafeRequest),
        (lambda r: setattr(r, "path", "/a?b"), UnsafeRequest),
        (lambda r: setattr(r, "query", "a b"), UnsafeRequest),
    ],
)
async def test_unsafe_changes_by_hooks_are_refused_before_the_wire(
    origin: tuple[Origin, str], hook: Callable[[ProxyRequest], None], error: type[Exception]
) -> None:
    """S5: CR/LF in a header, a bad method, path or query set by a hook is a generic 500."""
    app, url = origin
    errors = Errors()
    async with ReverseProxy(url, before=[hook], error_handler=errors) as proxy:
        reply = await call(proxy, b"", path="/sink")
    assert reply.status == 500
    assert b'"error":"internal error"' in reply.body
    assert isinstance(errors.errors[0][0], error)
    assert app.seen == []


async def test_broken_error_encoders_handlers_and_finalizers_are_contained(
    origin: tuple[Origin, str],
) -> None:
    """A failing error encoder gives a generic 500; failing finalizers and handlers are dropped."""
    _, url = origin

    def encoder(error: Exception, request: Request) -> Response:
        raise RuntimeError("encoder broke")

    def finalize(request: Request, status: int) -> None:
        raise RuntimeError("finalizer broke")

    def handle(error: Exception) -> None:
        raise RuntimeError("handler broke")

    proxy = ReverseProxy(
        url,
        before=[proxy_bad_path],
        error_encoder=encoder,
        error_handler=ErrorHandlerFunc(handle),
        finalizers=[finalize],
    )
    reply = await call(proxy, b"", path="/sink")
    assert reply.status == 500
    assert b"internal error" in reply.body

    def not_a_response(error: Exception, request: Request) -> Any:
        return "oops"

    wrong = ReverseProxy(url, before=[proxy_bad_path], error_encoder=not_a_response)
    assert (await call(wrong, b"", path="/sink")).status == 500


def proxy_bad_path(request: ProxyRequest) -> None:
    """A hook that sets a path the proxy refuses."""
    request.path = "bad"


# --- lifecycle and construction -----------------------------------------------------------


async def test_lifespan_shutdown_closes_the_proxys_own_session(origin: tuple[Origin, str]) -> None:
    """The session opened on first use is closed at lifespan shutdown; a later use opens another."""
    _, url = origin
    proxy = ReverseProxy(url)
    assert (await call(proxy, b"", method="GET", path="/sink")).status == 200
    session = proxy._owned
    assert session is not None
    assert not is_closed(session)
    incoming = [
        {"type": "lifespan.startup"},
        {"type": "lifespan.unknown"},
        {"type": "lifespan.shutdown"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await proxy({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert is_closed(session)
    assert proxy._owned is None
    assert (await call(proxy, b"", method="GET", path="/sink")).status == 200
    await proxy.aclose()
    await proxy.aclose()
    assert repr(proxy) == f"ReverseProxy({url!r})"


def is_closed(session: aiohttp.ClientSession) -> bool:
    """Whether *session* is closed (a function, so mypy does not narrow)."""
    return session.closed


async def test_websockets_are_refused_and_unknown_scopes_raise(origin: tuple[Origin, str]) -> None:
    """A WebSocket handshake is closed with 1008; a scope type ASGI does not define is an error."""
    proxy = ReverseProxy(origin[1])
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await proxy({"type": "websocket"}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]
    with pytest.raises(ValueError, match="unsupported ASGI scope type"):
        await proxy({"type": "mystery"}, receive, send)


@pytest.mark.parametrize(
    ("upstream", "options", "message"),
    [
        ("ftp://h/", {}, "absolute http"),
        ("/relative", {}, "absolute http"),
        ("http://user:pw@h/", {}, "no credentials"),
        ("http://h/#frag", {}, "no credentials"),
        ("http://h/a b", {}, "no credentials"),
        ("http://h:99999/", {}, "out of range"),
        ("http://h/", {"timeout": 0}, "timeout must be > 0"),
        ("http://h/", {"max_body_bytes": -1}, "max_body_bytes"),
    ],
)
def test_bad_arguments_fail_at_construction(
    upstream: str, options: dict[str, Any], message: str
) -> None:
    """Bad upstream URLs, timeouts and limits raise ValueError when the proxy is built."""
    with pytest.raises(ValueError, match=message):
        ReverseProxy(upstream, **options)


async def test_a_session_that_keeps_cookies_is_refused() -> None:
    """A session with a real cookie jar would mix clients' cookies; it is refused."""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="DummyCookieJar"):
            ReverseProxy("http://127.0.0.1/", session=session)


def test_errors_carry_their_statuses() -> None:
    """BadGateway is a 502, GatewayTimeout a 504 and a TimeoutError; both hide their message."""
    assert (BadGateway.status_code, GatewayTimeout.status_code) == (502, 504)
    assert issubclass(GatewayTimeout, TimeoutError)
    assert getattr(BadGateway("x"), "expose", False) is False
