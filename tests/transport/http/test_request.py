"""Request: lazy views of the scope, the size-limited body, request ids; Headers."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygokit.transport.http import (
    BadRequest,
    Headers,
    HTTPError,
    MethodNotAllowed,
    PayloadTooLarge,
    Request,
    UnsupportedMediaType,
)
from pygokit.transport.http.request import _stdlib_loads, parse_json
from tests.transport.http.server_harness import Message, http_scope


class Feed:
    """An ASGI receive callable that plays back body chunks and counts the calls."""

    def __init__(self, *chunks: bytes, disconnect: bool = False) -> None:
        self.messages: list[Message] = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1 or disconnect}
            for i, c in enumerate(chunks)
        ]
        if disconnect:
            self.messages.append({"type": "http.disconnect"})
        self.calls = 0

    async def __call__(self) -> Message:
        self.calls += 1
        return self.messages.pop(0)


def make(*fields: tuple[bytes, bytes], feed: Feed | None = None, limit: int = 100) -> Request:
    """A request with the given header fields and body feed."""
    return Request(http_scope(headers=fields), feed or Feed(b""), max_body_bytes=limit)


def test_request_exposes_the_request_line_and_peer() -> None:
    """method, path, raw_path, query, scheme, version and client come from the scope."""
    scope = http_scope("GET", "/a b", query=b"x=1&x=2&y=&z=%C3%A9")
    scope["raw_path"] = b"/a%20b"
    request = Request(scope, Feed())

    assert (request.method, request.path, request.raw_path) == ("GET", "/a b", b"/a%20b")
    assert request.query_string == b"x=1&x=2&y=&z=%C3%A9"
    assert request.query == {"x": ["1", "2"], "y": [""], "z": ["é"]}
    assert request.query is request.query
    assert (request.scheme, request.http_version) == ("http", "1.1")
    assert request.client == ("127.0.0.1", 50123)
    assert repr(request) == "<Request GET '/a b'>"


def test_request_defaults_for_a_sparse_scope() -> None:
    """A scope without the optional keys still answers every property."""
    scope = {"type": "http", "method": "GET", "path": "/é", "headers": []}
    request = Request(scope, Feed())

    assert request.raw_path == "/é".encode()
    assert request.query_string == b""
    assert request.query == {}
    assert request.client is None
    assert (request.scheme, request.http_version) == ("http", "1.1")


def test_headers_are_a_case_insensitive_multi_dict() -> None:
    """Lookups ignore case; get_all and multi_items keep repeated fields in order."""
    headers = make((b"accept", b"a"), (b"x-n", b"1"), (b"x-n", b"2")).headers

    assert headers["Accept"] == "a"
    assert headers.get("X-N") == "1"
    assert headers.get_all("x-n") == ["1", "2"]
    assert headers.get_all("missing") == []
    assert headers.get("missing") is None
    assert "ACCEPT" in headers
    assert "nope" not in headers
    assert 3 not in headers  # type: ignore[comparison-overlap]
    assert list(headers) == ["accept", "x-n"]
    assert len(headers) == 2
    assert headers.multi_items() == [("accept", "a"), ("x-n", "1"), ("x-n", "2")]
    with pytest.raises(KeyError):
        headers["missing"]


def test_headers_can_be_built_from_a_mapping_pairs_or_headers() -> None:
    """Headers() takes a mapping, (name, value) pairs or another Headers."""
    from_mapping = Headers({"Content-Type": "text/plain"})
    from_pairs = Headers([("A", "1"), ("a", "2")])

    assert from_mapping.raw == [(b"content-type", b"text/plain")]
    assert from_pairs.get_all("a") == ["1", "2"]
    assert Headers(from_pairs).raw == from_pairs.raw
    assert Headers(from_pairs).raw is not from_pairs.raw


def test_headers_repr_hides_credentials() -> None:
    """Authorization and cookies never show in a repr, so logging headers is safe."""
    headers = Headers({"authorization": "Bearer s3cret", "cookie": "id=s3cret", "accept": "x"})

    assert "s3cret" not in repr(headers)
    assert "('accept', 'x')" in repr(headers)


def test_request_header_returns_raw_bytes() -> None:
    """header() finds the first field by its lower-case byte name."""
    request = make((b"content-type", b"application/json"), (b"content-type", b"text/plain"))

    assert request.header(b"content-type") == b"application/json"
    assert request.header(b"accept") is None


async def test_body_is_read_once_and_kept() -> None:
    """The body of several messages is joined, and a second call reads nothing more."""
    feed = Feed(b"ab", b"cd", b"")
    request = make(feed=feed)

    assert await request.body() == b"abcd"
    assert await request.body() == b"abcd"
    assert feed.calls == 3


async def test_json_parses_the_body() -> None:
    """json() parses the body; malformed JSON is a BadRequest that hides the parser's words."""
    assert await make(feed=Feed(b'{"a": [1, 2.5, null]}')).json() == {"a": [1, 2.5, None]}
    with pytest.raises(BadRequest, match=r"^request body is not valid JSON$"):
        await make(feed=Feed(b"{'a': 1}")).json()


async def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    """T3: a Content-Length over the limit raises 413 without a single receive call."""
    feed = Feed(b"x" * 10)
    request = make((b"content-length", b"1000000000000"), feed=feed, limit=100)

    with pytest.raises(PayloadTooLarge) as raised:
        await request.body()

    assert feed.calls == 0
    assert raised.value.status_code == 413
    assert raised.value.headers == {"connection": "close"}
    assert raised.value.limit == 100


@pytest.mark.parametrize("declared", [b"-1", b"1e3", b"12a", b" 12", b"\xd9\xa1"])
async def test_malformed_content_length_is_a_bad_request(declared: bytes) -> None:
    """A Content-Length that is not plain ASCII digits is a 400, never a 500."""
    with pytest.raises(BadRequest, match="Content-Length"):
        await make((b"content-length", declared)).body()


async def test_streamed_body_over_the_limit_stops_reading() -> None:
    """T3: a chunked body is refused as soon as it passes the limit; the rest is not read."""
    feed = Feed(b"x" * 60, b"x" * 60, b"x" * 60, b"")
    with pytest.raises(PayloadTooLarge):
        await make(feed=feed, limit=100).body()
    assert feed.calls == 2


async def test_single_message_over_the_limit_is_refused() -> None:
    """A body that arrives in one message larger than the limit is a 413."""
    with pytest.raises(PayloadTooLarge):
        await make(feed=Feed(b"x" * 101), limit=100).body()
    assert await make(feed=Feed(b"x" * 100), limit=100).body() == b"x" * 100


async def test_disconnect_before_the_end_of_the_body_is_a_bad_request() -> None:
    """A client that leaves mid-body gets a 400 (which it will never read)."""
    with pytest.raises(BadRequest, match="disconnected"):
        await make(feed=Feed(b"ab", disconnect=True)).body()


@settings(max_examples=1000)
@given(st.text(max_size=80))
def test_request_id_is_the_clients_only_when_it_is_a_sane_token(given_id: str) -> None:
    """S6: X-Request-Id is kept if it is 1-64 of [A-Za-z0-9._-], else replaced by a fresh one."""
    encoded = given_id.encode("utf-8")
    request = make((b"x-request-id", encoded))
    sane = 0 < len(given_id) <= 64 and all(
        c.isascii() and (c.isalnum() or c in "._-") for c in given_id
    )

    assert (request.request_id == given_id) is sane
    assert request.request_id == request.request_id
    assert len(request.request_id) <= 64


def test_fresh_request_ids_differ() -> None:
    """Requests without an id get distinct random ones."""
    assert len({make().request_id for _ in range(100)}) == 100


def test_http_errors_carry_status_headers_and_expose() -> None:
    """Every HTTPError says its status, its headers, and that its message is for the client."""
    errors: list[HTTPError] = [
        HTTPError(404, "no such thing", headers={"x-why": "gone"}),
        BadRequest("bad"),
        PayloadTooLarge(10),
        UnsupportedMediaType("text/plain", "application/json"),
        MethodNotAllowed("DELETE", ["GET", "HEAD"]),
    ]

    assert [e.status_code for e in errors] == [404, 400, 413, 415, 405]
    assert all(e.expose is True for e in errors)
    assert errors[0].headers == {"x-why": "gone"}
    assert errors[4].headers == {"allow": "GET, HEAD"}
    assert str(errors[4]) == "method 'DELETE' is not allowed; use GET, HEAD"
    assert "text/plain" in str(errors[3])
    with pytest.raises(ValueError, match="400-599"):
        HTTPError(302, "moved")


def test_stdlib_parser_refuses_what_msgspec_refuses() -> None:
    """The fallback parser rejects NaN and Infinity, like msgspec, and agrees otherwise."""
    for text in (b"NaN", b"[Infinity]", b"-Infinity"):
        with pytest.raises(ValueError, match="not JSON"):
            _stdlib_loads(text)
        with pytest.raises(ValueError):  # noqa: PT011 -- msgspec's message varies
            parse_json(text)
    document = b'{"a": [1, 2.5, "x", true, null, {"b": -0.0}], "big": 123456789012345678901234}'
    assert _stdlib_loads(document) == parse_json(document)
    assert parse_json(document)["big"] == 123456789012345678901234  # every digit kept
    assert math.copysign(1, _stdlib_loads(b"-0.0")) == -1


@settings(max_examples=1000)
@given(st.binary(max_size=200))
async def test_json_never_fails_with_anything_but_bad_request(body: bytes) -> None:
    """T2: whatever the body, json() parses it or raises BadRequest."""
    with contextlib.suppress(BadRequest):
        await make(feed=Feed(body), limit=1000).json()
