"""Router: exact and templated routes, 404/405/Allow, HEAD, mounts, lifespan, isolation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygokit._asgi import Receive, Scope, Send
from pygokit.transport.http import Request, Router, Server, json_encoder, path_params
from tests.transport.http.server_harness import (
    Message,
    exchange,
    http_scope,
    served,
    split_response,
)


class Echo:
    """An ASGI app that answers 200 with its name, the scope's paths and the path params."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for _ in range(3):  # let other requests run in between, as real ones would
            await asyncio.sleep(0)
        body = {
            "app": self.name,
            "path": scope["path"],
            "root_path": scope.get("root_path", ""),
            "scope_params": scope.get("path_params"),
            "params": dict(path_params()),
        }
        payload = json.dumps(body).encode()
        headers = [(b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


@dataclass
class Reply:
    """What the router sent back for one in-process request."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def channel(*incoming: Message) -> tuple[Receive, Send, list[Message]]:
    """A receive that replays *incoming*, and a send that records into the list returned."""
    messages, sent = list(incoming), []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    return receive, send, sent


async def request(app: Any, method: str, path: str, **scope_fields: Any) -> Reply:
    """Send one bodiless request through *app* in its own task, as an ASGI server runs it."""
    scope = http_scope(method, path)
    scope.update(scope_fields)
    receive, send, sent = channel({"type": "http.request", "body": b"", "more_body": False})
    await asyncio.create_task(app(scope, receive, send))
    start, body = sent
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return Reply(start["status"], headers, body["body"])


def profiles_router() -> Router:
    """A router in the shape of Go kit's profilesvc, plus a few exact routes."""
    router = Router()
    router.route("POST", "/profiles", Echo("post-profiles"))
    router.route("GET", "/profiles/{id}", Echo("get-profile"))
    router.route("PUT", "/profiles/{id}", Echo("put-profile"))
    router.route("GET", "/profiles/me", Echo("get-me"))
    router.route("GET", "/profiles/{id}/addresses/{addressID}", Echo("get-address"))
    router.route("*", "/any", Echo("any"))
    router.route("POST", "/any", Echo("post-any"))
    router.route("get", "/", Echo("root"))
    return router


@pytest.mark.parametrize(
    ("method", "path", "app"),
    [
        ("POST", "/profiles", "post-profiles"),
        ("GET", "/profiles/42", "get-profile"),
        ("PUT", "/profiles/42", "put-profile"),
        ("GET", "/profiles/me", "get-me"),
        ("PUT", "/profiles/me", "put-profile"),
        ("GET", "/profiles/7/addresses/home", "get-address"),
        ("DELETE", "/any", "any"),
        ("POST", "/any", "post-any"),
        ("GET", "/", "root"),
        ("HEAD", "/profiles/42", "get-profile"),
    ],
)
async def test_routes_each_request_to_its_app(method: str, path: str, app: str) -> None:
    """A request reaches the app registered for its method and path (exact, template or *)."""
    reply = await request(profiles_router(), method, path)
    assert (reply.status, reply.json()["app"]) == (200, app)


@pytest.mark.parametrize(
    "path",
    ["/nope", "/profiles/", "/profiles//addresses/x", "/profiles/1/addresses", "/profiles/1/x/2"],
)
async def test_unknown_path_is_404_with_a_json_error(path: str) -> None:
    """A path no route or mount matches gets 404 and a JSON error, whatever the method."""
    reply = await request(profiles_router(), "POST", path)
    assert reply.status == 404
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    assert reply.json() == {"error": "no route matches this path"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/profiles", "POST"),
        ("DELETE", "/profiles/42", "GET, HEAD, PUT"),
        ("DELETE", "/profiles/me", "GET, HEAD, PUT"),
        ("POST", "/profiles/1/addresses/2", "GET, HEAD"),
    ],
)
async def test_known_path_with_wrong_method_is_405_with_allow(
    method: str, path: str, allow: str
) -> None:
    """A path routed for other methods gets 405, the methods in Allow and in the error."""
    reply = await request(profiles_router(), method, path)
    assert reply.status == 405
    assert reply.headers["allow"] == allow
    assert reply.json() == {"error": f"method {method!r} is not allowed; use {allow}"}


async def test_head_refusal_has_no_body() -> None:
    """A HEAD request where no GET route exists gets 405 headers and an empty body."""
    reply = await request(profiles_router(), "HEAD", "/profiles")
    assert (reply.status, reply.headers["allow"], reply.body) == (405, "POST", b"")


async def test_explicit_head_route_wins_over_the_implied_one() -> None:
    """A HEAD route registered after GET serves HEAD; GET keeps its own app."""
    router = Router()
    router.route("GET", "/x", Echo("get"))
    router.route("HEAD", "/x", Echo("head"))
    assert (await request(router, "HEAD", "/x")).json()["app"] == "head"
    assert (await request(router, "GET", "/x")).json()["app"] == "get"


async def test_exact_route_wins_over_a_template_registered_first() -> None:
    """An exact path beats a template that also matches it, whatever the order."""
    router = Router()
    router.route("GET", "/users/{name}", Echo("template"))
    router.route("GET", "/users/admin", Echo("exact"))
    assert (await request(router, "GET", "/users/admin")).json()["app"] == "exact"
    assert (await request(router, "GET", "/users/bob")).json()["app"] == "template"


async def test_templates_are_tried_in_registration_order() -> None:
    """Of two templates matching a path, the one registered first serves it."""
    router = Router()
    router.route("GET", "/{kind}/me", Echo("first"))
    router.route("GET", "/users/{id}", Echo("second"))
    assert (await request(router, "GET", "/users/me")).json()["app"] == "first"
    assert (await request(router, "GET", "/users/7")).json()["app"] == "second"


async def test_template_values_are_in_scope_and_context() -> None:
    """The {name} values are in scope["path_params"] and path_params(), decoded as sent."""
    reply = await request(profiles_router(), "GET", "/profiles/café/addresses/a b")
    params = {"id": "café", "addressID": "a b"}
    assert reply.json()["params"] == params
    assert reply.json()["scope_params"] == params


async def test_template_values_merge_into_an_outer_routers_params() -> None:
    """Params an outer router put in the scope are kept; the inner template's are added."""
    reply = await request(profiles_router(), "GET", "/profiles/7", path_params={"tenant": "acme"})
    assert reply.json()["scope_params"] == {"tenant": "acme", "id": "7"}


async def test_exact_route_leaves_the_params_empty() -> None:
    """A request served by an exact route sees no path params."""
    reply = await request(profiles_router(), "GET", "/profiles/me")
    assert (reply.json()["params"], reply.json()["scope_params"]) == ({}, None)
    assert path_params() == {}


async def test_path_params_are_isolated_between_concurrent_requests() -> None:
    """Concurrent requests through one router each see only their own path params."""
    router = profiles_router()
    replies = await asyncio.gather(
        *(request(router, "GET", f"/profiles/{i}/addresses/a{i}") for i in range(200))
    )
    assert [r.json()["params"] for r in replies] == [
        {"id": str(i), "addressID": f"a{i}"} for i in range(200)
    ]


def test_templates_match_percent_decoded_segments_over_real_http() -> None:
    """Under uvicorn, %C3%A9 and %20 decode into the value, and %2F splits segments."""
    with served(profiles_router()) as server:
        head = b" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        raw = exchange(server.port, b"GET /profiles/caf%C3%A9/addresses/a%20b" + head)
        status, _, body = split_response(raw)
        assert status == 200
        assert json.loads(body)["params"] == {"id": "café", "addressID": "a b"}
        assert split_response(exchange(server.port, b"GET /profiles/a%2Fb" + head))[0] == 404


async def test_serves_pygokit_servers_whose_decoders_read_path_params() -> None:
    """A pygokit Server is a route app like any other; its decoder reads path_params()."""

    async def decode_profile_id(request: Request) -> str:
        return path_params()["id"]

    async def get_profile(profile_id: str) -> dict[str, str]:
        return {"id": profile_id}

    router = Router()
    server = Server(get_profile, decode_profile_id, json_encoder(), methods=("GET", "HEAD"))
    router.route("GET", "/profiles/{id}", server)
    reply = await request(router, "GET", "/profiles/42")
    assert (reply.status, reply.body) == (200, b'{"id":"42"}')
    assert (await request(router, "HEAD", "/profiles/42")).body == b""


def mounted_router() -> Router:
    """A router with nested routers and plain apps mounted at several prefixes."""
    inner = Router()
    inner.route("GET", "/", Echo("inner-root"))
    inner.route("GET", "/users/{id}", Echo("inner-user"))
    router = Router()
    router.route("GET", "/api/health", Echo("health"))
    router.mount("/api", inner)
    router.mount("/api/v2/", Echo("v2"))
    router.mount("/metrics", Echo("metrics"))
    return router


@pytest.mark.parametrize(
    ("path", "app", "root_path"),
    [
        ("/api/health", "health", ""),
        ("/api", "inner-root", "/api"),
        ("/api/", "inner-root", "/api"),
        ("/api/users/7", "inner-user", "/api"),
        ("/api/v2/users/7", "v2", "/api/v2"),
        ("/api/v2", "v2", "/api/v2"),
        ("/metrics", "metrics", "/metrics"),
    ],
)
async def test_mounts_extend_root_path_and_keep_path(path: str, app: str, root_path: str) -> None:
    """A mounted app gets root_path + prefix and the full path; the longest prefix wins."""
    reply = (await request(mounted_router(), "GET", path)).json()
    assert (reply["app"], reply["path"], reply["root_path"]) == (app, path, root_path)


async def test_a_mount_prefix_is_a_whole_segment() -> None:
    """/metricsx is not under /metrics: it is a 404."""
    assert (await request(mounted_router(), "GET", "/metricsx")).status == 404


async def test_routes_under_an_outer_root_path() -> None:
    """A router served under a root_path routes on the path below it."""
    reply = await request(mounted_router(), "GET", "/base/api/users/7", root_path="/base")
    assert reply.json() == {
        "app": "inner-user",
        "path": "/base/api/users/7",
        "root_path": "/base/api",
        "scope_params": {"id": "7"},
        "params": {"id": "7"},
    }


async def test_a_path_outside_the_root_path_is_routed_as_is() -> None:
    """A path that does not start with root_path (an older server's scope) is used whole."""
    reply = await request(mounted_router(), "GET", "/api/health", root_path="/ap")
    assert reply.json()["app"] == "health"


async def test_catch_all_mount_gets_what_no_route_matched() -> None:
    """mount("/") serves every path that nothing else matched, before any 405."""
    router = Router()
    router.route("POST", "/sum", Echo("sum"))
    router.mount("/", Echo("fallback"))
    assert (await request(router, "GET", "/sum")).json()["app"] == "fallback"
    assert (await request(router, "GET", "/other")).json()["root_path"] == ""


async def test_mounts_a_starlette_app() -> None:
    """A Starlette app mounted at a prefix sees its own routes below it (ASGI root_path)."""
    starlette_applications = pytest.importorskip("starlette.applications")
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(req: StarletteRequest) -> PlainTextResponse:
        return PlainTextResponse(f"hello {req.path_params['name']}")

    router = Router()
    router.mount("/legacy", starlette_applications.Starlette(routes=[Route("/hi/{name}", hello)]))
    reply = await request(router, "GET", "/legacy/hi/ann")
    assert (reply.status, reply.body) == (200, b"hello ann")


@pytest.mark.parametrize(
    ("method", "path", "problem"),
    [
        ("GET", "sum", "starting with '/'"),
        ("G T", "/sum", "HTTP method name"),
        ("", "/sum", "HTTP method name"),
        ("GET", "/a{b}", "whole segment"),
        ("GET", "/{1x}", "whole segment"),
        ("GET", "/a/}", "whole segment"),
        ("GET", "/{a}/{a}", "names a parameter twice"),
        ("GET", "/profiles/{id}", "already routed"),
        ("GET", "/profiles/{name}", "same parameter names"),
        ("POST", "/profiles", "already routed"),
        ("*", "/any", "already routed"),
    ],
)
def test_bad_or_duplicate_routes_are_refused_at_registration(
    method: str, path: str, problem: str
) -> None:
    """Malformed methods or paths, and routes registered twice, raise ValueError."""
    with pytest.raises(ValueError, match=problem):
        profiles_router().route(method, path, Echo("x"))


@pytest.mark.parametrize(
    ("prefix", "problem"),
    [("api", "starting with '/'"), ("/{x}", "literal"), ("/api/", "already mounted")],
)
def test_bad_or_duplicate_mounts_are_refused(prefix: str, problem: str) -> None:
    """A prefix without a leading slash, with a template, or mounted twice is a ValueError."""
    router = Router()
    router.mount("/api", Echo("api"))
    with pytest.raises(ValueError, match=problem):
        router.mount(prefix, Echo("x"))


async def test_lifespan_is_answered_by_the_router_and_not_forwarded() -> None:
    """Startup and shutdown complete once each; no routed or mounted app sees the lifespan."""
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    router = Router()
    router.route("GET", "/x", app)
    router.mount("/", app)
    receive, send, sent = channel({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"})
    await router({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert seen == []


async def test_websocket_is_routed_as_get_and_refused_when_unmatched() -> None:
    """A WebSocket reaches the GET route at its path; elsewhere it is closed before accept."""
    seen: list[Mapping[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(dict(scope))

    router = Router()
    router.route("GET", "/ws/{room}", app)
    receive, send, sent = channel({"type": "websocket.connect"})
    await router({"type": "websocket", "path": "/ws/lobby"}, receive, send)
    await router({"type": "websocket", "path": "/other"}, receive, send)
    assert seen[0]["path_params"] == {"room": "lobby"}
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def test_unknown_scope_type_is_a_value_error() -> None:
    """A scope type the router does not know raises instead of being ignored."""
    receive, send, _ = channel()
    with pytest.raises(ValueError, match="unsupported ASGI scope type 'webtransport'"):
        await Router()({"type": "webtransport"}, receive, send)


def test_repr_counts_what_is_registered() -> None:
    """The repr says how many exact paths, templates and mounts the router has."""
    assert repr(mounted_router()) == "Router(1 exact paths, 0 templates, 3 mounts)"


PATH_SEGMENTS = st.lists(
    st.sampled_from(["profiles", "me", "42", "addresses", "", "api", "users", "%2F"])
    | st.text(max_size=8),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "BREW"]),
    segments=PATH_SEGMENTS,
)
def test_random_requests_never_get_a_5xx(method: str, segments: list[str]) -> None:
    """Any method and path gets 200, 404 or 405 (never a 5xx or an exception)."""
    router = profiles_router()
    router.mount("/api", mounted_router())
    reply = asyncio.run(request(router, method, "/" + "/".join(segments)))
    assert reply.status in (200, 404, 405)
    if reply.status == 405:
        assert reply.headers["allow"]
