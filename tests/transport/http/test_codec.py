"""Codecs: typed JSON decoding, JSON encoding, and the secure default error encoder."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import enum
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NotRequired, Required, TypedDict

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygokit.transport.http import (
    BadRequest,
    HTTPError,
    PayloadTooLarge,
    Request,
    Response,
    UnsupportedMediaType,
    default_error_encoder,
    encode_json_response,
    json_decoder,
    json_encoder,
)
from pygokit.transport.http.codec import _stdlib_dumps
from tests.transport.http.server_harness import Message, http_scope


class Colour(enum.Enum):
    RED = "red"
    ONE = 1


@dataclass(frozen=True)
class Point:
    x: int
    y: float


@dataclass
class Shape:
    name: str
    points: list[Point]
    closed: bool = False
    colour: Colour | None = None
    tags: dict[str, str] = field(default_factory=dict)
    kind: Literal["poly", "line"] = "poly"
    box: tuple[int, int] | None = None
    extra: Any = None


@dataclass
class Node:
    value: int
    children: list[Node] = field(default_factory=list)


@dataclass(kw_only=True)
class Named:
    name: str
    ids: tuple[int, ...] = ()


@dataclass
class Positive:
    n: int

    def __post_init__(self) -> None:
        if self.n <= 0:
            raise ValueError("secret-XYZ internal check")


@dataclass
class Checked:
    n: int
    m: int = 1

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("negative")


@dataclass
class Polite:
    n: int

    def __post_init__(self) -> None:
        if self.n <= 0:
            raise BadRequest("n must be positive")


class Movie(TypedDict):
    title: str
    year: int
    rating: NotRequired[float]


class Partial(TypedDict, total=False):
    id: Required[int]
    note: str


async def test_decodes_partial_typed_dicts_annotated_and_float_lists() -> None:
    """total=False with Required, Annotated hints and floats inside containers decode."""
    assert await decode(Partial, {"id": 1}) == {"id": 1}
    assert await decode(Partial, {"id": 1, "note": "n"}) == {"id": 1, "note": "n"}
    assert await refusal(Partial, {"note": "n"}) == "field 'id': required but missing"
    assert await decode(Annotated[int, "meta"], 3) == 3
    assert await decode(list[float], [1, 2.5]) == [1.0, 2.5]
    assert "expected object, got array" in await refusal(dict[str, int], [])


def request_with(body: bytes, content_type: bytes | None = b"application/json") -> Request:
    """A request whose body is *body*, declared with *content_type* (or none)."""
    fields = [] if content_type is None else [(b"content-type", content_type)]
    messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return messages.pop(0)

    return Request(http_scope(headers=fields), receive, max_body_bytes=100_000)


async def decode(type_: Any, document: object) -> Any:
    """Decode the JSON for *document* into *type_*."""
    return await json_decoder(type_)(request_with(json.dumps(document).encode()))


async def refusal(type_: Any, document: object) -> str:
    """The BadRequest message for decoding *document* into *type_*."""
    with pytest.raises(BadRequest) as raised:
        await decode(type_, document)
    return str(raised.value)


async def test_decodes_nested_dataclasses_with_defaults() -> None:
    """Nested dataclasses, lists, enums, dicts, Literal, tuples and defaults all decode."""
    shape = await decode(
        Shape,
        {
            "name": "tri",
            "points": [{"x": 1, "y": 2}, {"x": 3, "y": 4.5}],
            "colour": "red",
            "tags": {"k": "v"},
            "kind": "line",
            "box": [1, 2],
            "extra": {"any": [1]},
        },
    )

    assert shape == Shape(
        "tri",
        [Point(1, 2.0), Point(3, 4.5)],
        False,
        Colour.RED,
        {"k": "v"},
        "line",
        (1, 2),
        {"any": [1]},
    )
    assert type(shape.points[0].y) is float
    assert await decode(Shape, {"name": "n", "points": []}) == Shape("n", [])


async def test_decodes_recursive_keyword_only_and_typed_dicts() -> None:
    """Recursive dataclasses, kw_only dataclasses, TypedDicts and plain containers decode."""
    tree = await decode(Node, {"value": 1, "children": [{"value": 2, "children": []}]})
    assert tree == Node(1, [Node(2)])
    assert await decode(Named, {"name": "a", "ids": [1, 2]}) == Named(name="a", ids=(1, 2))
    assert await decode(Named, {"name": "a"}) == Named(name="a")
    assert await decode(Movie, {"title": "M", "year": 1999}) == {"title": "M", "year": 1999}
    assert await decode(Movie, {"title": "M", "year": 1, "rating": 2}) == {
        "title": "M",
        "year": 1,
        "rating": 2.0,
    }
    assert await decode(list[int], [1, 2]) == [1, 2]
    assert await decode(dict, {"a": [1]}) == {"a": [1]}
    assert await decode(list, [1, "a"]) == [1, "a"]
    assert await decode(Sequence[str], ["a"]) == ["a"]
    assert await decode(Mapping[str, int], {"a": 1}) == {"a": 1}
    assert await decode(object, None) is None
    assert await decode(Colour, 1) is Colour.ONE


@pytest.mark.parametrize(
    ("type_", "document", "message"),
    [
        (Point, {"x": True, "y": 1}, "field 'x': expected integer, got boolean"),
        (Point, {"x": 1.0, "y": 1}, "field 'x': expected integer, got number"),
        (Point, {"x": "1", "y": 1}, "field 'x': expected integer, got string"),
        (Point, {"x": 1, "y": False}, "field 'y': expected number, got boolean"),
        (Point, {"x": 1}, "field 'y': required but missing"),
        (Point, {"x": 1, "y": 2, "z": 3}, "field 'z': not a field of Point"),
        (Point, [1, 2], "request body: expected object, got array"),
        (Point, None, "request body: expected object, got null"),
        (
            Shape,
            {"name": "s", "points": [{"x": 1, "y": 1}, {"x": 1}]},
            "field 'points[1].y': required but missing",
        ),
        (Shape, {"name": "s", "points": {}}, "field 'points': expected array, got object"),
        (Shape, {"name": 1, "points": []}, "field 'name': expected string, got integer"),
        (Shape, {"name": "s", "points": [], "closed": 1}, "field 'closed': expected boolean"),
        (
            Shape,
            {"name": "s", "points": [], "colour": "blue"},
            "field 'colour': expected Colour or null, got string",
        ),
        (Shape, {"name": "s", "points": [], "kind": "circle"}, "field 'kind': expected one of"),
        (
            Shape,
            {"name": "s", "points": [], "tags": {"k": 1}},
            "field 'tags.k': expected string, got integer",
        ),
        (
            Shape,
            {"name": "s", "points": [], "box": [1]},
            "field 'box': expected tuple or null, got array",
        ),
        (
            Node,
            {"value": 1, "children": [{"value": "x"}]},
            "field 'children[0].value': expected integer, got string",
        ),
        (Movie, {"title": "M"}, "field 'year': required but missing"),
        (Movie, {"title": "M", "year": 1, "x" * 100: 1}, "..."),
        (list[int], [1, None], "field '[1]': expected integer, got null"),
        (Colour, [1], 'request body: expected one of "red", 1, got array'),
        (Named, {"name": "a", "ids": [1, "2"]}, "field 'ids[1]': expected integer"),
    ],
)
async def test_mismatches_are_400s_naming_the_field(
    type_: Any, document: object, message: str
) -> None:
    """T2: a wrong type, a missing or unknown field is a BadRequest that names the field."""
    assert message in await refusal(type_, document)


async def test_post_init_checks_are_400s_that_only_speak_when_asked() -> None:
    """A failing __post_init__ is a 400; its message shows only if it is a BadRequest."""
    message = await refusal(Positive, {"n": 0})
    assert message == "request body: rejected by Positive's checks"
    assert "secret" not in message
    assert await refusal(Polite, {"n": 0}) == "n must be positive"
    assert await refusal(Checked, {"n": -1}) == "request body: rejected by Checked's checks"
    assert await decode(Checked, {"n": 1}) == Checked(1)


async def test_malformed_json_and_deep_nesting_are_400s() -> None:
    """Bad JSON, NaN, and nesting deeper than the parser allows are 400s."""
    for body in (b"", b"{", b"NaN", b'{"a":1}x', b"\xff"):
        with pytest.raises(BadRequest, match="not valid JSON"):
            await json_decoder(Any)(request_with(body))
    with pytest.raises(BadRequest, match=r"^request body is nested too deeply$"):
        await json_decoder(Any)(request_with(b"[" * 5000))


async def test_deep_recursive_documents_are_400s() -> None:
    """A recursive type nested past Python's stack depth gives a 400, not a 500."""
    depth = 500  # 1,000 JSON levels: beyond Python's stack
    body = b'{"value":1,"children":[' * depth + b'{"value":1}' + b"]}" * depth
    with pytest.raises(BadRequest, match=r"^request body is nested too deeply$"):
        await json_decoder(Node)(request_with(body))


@pytest.mark.parametrize(
    "content_type",
    [
        b"application/json",
        b"application/json; charset=utf-8",
        b"APPLICATION/JSON",
        b"application/problem+json",
        None,
    ],
)
async def test_json_content_types_are_accepted(content_type: bytes | None) -> None:
    """application/json, its parameters, +json types, or no Content-Type at all decode."""
    request = request_with(b'{"x": 1, "y": 2}', content_type)
    assert await json_decoder(Point)(request) == Point(1, 2.0)


@pytest.mark.parametrize("content_type", [b"text/plain", b"application/xml", b"", b"json"])
async def test_other_content_types_are_415s(content_type: bytes) -> None:
    """A Content-Type that is not JSON is refused with 415 before the body is read."""
    with pytest.raises(UnsupportedMediaType) as raised:
        await json_decoder(Point)(request_with(b'{"x": 1, "y": 2}', content_type))
    assert raised.value.status_code == 415


def test_unsupported_types_fail_when_the_decoder_is_made() -> None:
    """A type json_decoder cannot read raises TypeError at construction, not per request."""

    class Plain:
        pass

    with pytest.raises(TypeError, match="cannot derive a decoder"):
        json_decoder(Plain)
    with pytest.raises(TypeError, match="cannot derive a decoder"):
        json_decoder(set[int])


async def test_oversized_bodies_are_413s_through_the_decoder() -> None:
    """The decoder reads through Request.body, so the size limit applies."""
    request = Request(http_scope(), request_with(b"[" + b"1," * 10_000 + b"1]")._receive)
    request._max_body_bytes = 100
    with pytest.raises(PayloadTooLarge):
        await json_decoder(list[int])(request)


@dataclass
class Created:
    id: int
    status_code: int = 201
    headers: dict[str, str] = field(default_factory=lambda: {"location": "/things/7"})


@dataclass
class Empty:
    status_code: int = 204


async def test_encode_json_response_follows_go_kits_rules() -> None:
    """JSON Content-Type, StatusCoder status, Headerer headers added, 204 without a body."""
    plain = await encode_json_response({"v": 3})
    created = await encode_json_response(Created(7))
    empty = await encode_json_response(Empty())

    assert (plain.status, plain.body) == (200, b'{"v":3}')
    assert plain.headers["content-type"] == "application/json; charset=utf-8"
    assert created.status == 201
    assert created.headers["location"] == "/things/7"
    assert orjson.loads(created.body)["id"] == 7
    assert (empty.status, empty.body) == (204, b"")


async def test_json_encoder_sets_a_default_status() -> None:
    """json_encoder(status=201) answers 201 unless the response says otherwise."""
    assert json_encoder() is encode_json_response
    encode = json_encoder(status=201)
    assert (await encode({"id": 1})).status == 201
    assert (await encode(Empty())).status == 204
    assert (await encode(Empty())).body == b""
    with pytest.raises(ValueError, match="200-599"):
        json_encoder(status=99)


async def test_encoder_ignores_bogus_status_codes_and_callable_headers() -> None:
    """A status_code that is not an int in 200-599 is ignored, as is a headers() method."""

    class Odd:
        status_code = "201"

        def headers(self) -> dict[str, str]:
            return {"x": "y"}

        def __init__(self) -> None:
            self.value = 1

    response = await json_encoder()({"status_code": 999})
    assert response.status == 200
    odd = await json_encoder(status=202)(dataclasses.make_dataclass("D", [])())
    assert odd.status == 202
    with pytest.raises(TypeError):
        await encode_json_response(Odd())  # not JSON serialisable: an encode error


def test_stdlib_dumps_matches_orjson() -> None:
    """The fallback serialiser writes what orjson writes for the types both support."""
    when = datetime.datetime(2026, 11, 21, 8, 0, 0, tzinfo=datetime.UTC)
    value = {
        "p": Point(1, 2.5),
        "c": Colour.RED,
        "t": when,
        "d": when.date(),
        "u": uuid.UUID(int=7),
        "l": [1, "é", None, True],
    }
    assert orjson.loads(_stdlib_dumps(value)) == orjson.loads(orjson.dumps(value))
    assert _stdlib_dumps("\ud800") == b'"\\ud800"'
    with pytest.raises(TypeError, match="not JSON serializable"):
        _stdlib_dumps(object())


class Teapot(Exception):
    """An enhanced error: status, headers and a public message (Go kit's enhancedError)."""

    status_code = 418
    headers = {"x-enhanced": "1"}  # noqa: RUF012
    expose = True


class Hidden(Exception):
    """An error with a status but no permission to show its message or headers."""

    status_code = 404
    headers = {"set-cookie": "upstream=secret"}  # noqa: RUF012


class WeirdStatus(Exception):
    status_code = 302


class BrokenStr(Exception):
    expose = True
    status_code = 409

    def __str__(self) -> str:
        raise RuntimeError("no")


def error_body(response: Response) -> dict[str, str]:
    """The JSON body of an error response."""
    body: dict[str, str] = json.loads(response.body)
    return body


def test_default_error_encoder_hides_internal_errors() -> None:
    """S6: a plain exception is a generic 500 with a request id and nothing else."""
    request = Request(
        http_scope(headers=[(b"x-request-id", b"req-42")]), request_with(b"")._receive
    )
    response = default_error_encoder(RuntimeError("secret-XYZ in /srv/app/db.py"), request)

    assert response.status == 500
    assert error_body(response) == {"error": "internal error", "request_id": "req-42"}
    assert response.headers["x-request-id"] == "req-42"
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_default_error_encoder_shows_exposed_errors_with_status_and_headers() -> None:
    """Errors that declare expose=True show their message, status and headers."""
    request = request_with(b"")
    teapot = default_error_encoder(Teapot("short and stout"), request)
    http = default_error_encoder(HTTPError(409, "version conflict", headers={"x": "1"}), request)

    assert teapot.status == 418
    assert error_body(teapot)["error"] == "short and stout"
    assert teapot.headers["x-enhanced"] == "1"
    assert (http.status, error_body(http)["error"], http.headers["x"]) == (
        409,
        "version conflict",
        "1",
    )
    assert error_body(teapot)["request_id"] == request.request_id


def test_default_error_encoder_uses_generic_words_for_unexposed_statuses() -> None:
    """Unexposed errors get the generic phrase and none of their headers; 3xx becomes 500."""
    request = request_with(b"")
    hidden = default_error_encoder(Hidden("secret"), request)
    assert (hidden.status, error_body(hidden)["error"]) == (404, "not found")
    assert "set-cookie" not in hidden.headers
    weird = default_error_encoder(WeirdStatus("secret"), request)
    assert (weird.status, error_body(weird)["error"]) == (500, "internal error")
    broken = default_error_encoder(BrokenStr(), request)
    assert (broken.status, error_body(broken)["error"]) == (409, "conflict")


def test_default_error_encoder_survives_unencodable_messages() -> None:
    """A message orjson cannot encode (a lone surrogate) still yields valid JSON."""
    response = default_error_encoder(BadRequest("bad \ud800 field"), request_with(b""))
    assert error_body(response)["error"] == "bad \ud800 field"


@dataclass
class Sum:
    a: int
    b: int


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)


@settings(max_examples=3000)
@given(st.one_of(json_values, st.fixed_dictionaries({"a": json_values, "b": json_values})))
async def test_any_json_document_decodes_or_is_a_bad_request(document: object) -> None:
    """T2: any JSON document decodes into Sum or raises BadRequest; never anything else."""
    with contextlib.suppress(BadRequest):
        await json_decoder(Sum)(request_with(json.dumps(document).encode()))
