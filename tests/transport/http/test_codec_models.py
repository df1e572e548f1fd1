"""Codecs for msgspec Structs and pydantic models: decoding, errors, encoding, the client side."""

from __future__ import annotations

import enum
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import aiohttp
import msgspec
import orjson
import pydantic
import pydantic_core
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygokit.transport.http import (
    BadRequest,
    Server,
    UnsupportedMediaType,
    client_codec,
    codec,
    encode_json_response,
    json_decoder,
    json_encoder,
)
from pygokit.transport.http._models import model_decoder, to_builtins
from pygokit.transport.http.client import Client, ClientRequest
from pygokit.transport.http.client_codec import (
    InvalidResponse,
    encode_json_request,
    json_response_decoder,
)
from tests.transport.http.client_server import UpstreamApp, running_uvicorn
from tests.transport.http.server_harness import call
from tests.transport.http.test_codec import json_values, request_with

T = TypeVar("T")


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(msgspec.Struct):
    x: int
    y: float


class Shape(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    points: list[Point]
    tags: dict[str, int] = {}
    colour: Colour | None = None
    size: Annotated[int, msgspec.Meta(ge=0)] = 0


class Loose(msgspec.Struct):
    n: int


class Box(msgspec.Struct, Generic[T]):
    item: T


class Checked(msgspec.Struct):
    n: int

    def __post_init__(self) -> None:
        if self.n == 0:
            raise ValueError("secret-XYZ internal check")
        if self.n == 1:
            raise BadRequest("n must not be 1")
        if self.n == 2:
            raise msgspec.ValidationError("n must not be 2")


class PPoint(pydantic.BaseModel):
    x: int
    y: float


class PShape(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    name: str
    points: list[PPoint]
    tags: dict[str, int] = {}
    colour: Colour | None = None

    @pydantic.field_validator("name")
    @classmethod
    def check_name(cls, name: str) -> str:
        """Refuse a few names, each in its own way."""
        if name == "secret":
            raise ValueError("secret-XYZ internal check")
        if name == "assert":
            raise AssertionError("secret-XYZ assertion")
        if name == "polite":
            raise BadRequest("name must not be polite")
        if name == "custom":
            raise pydantic_core.PydanticCustomError(
                "name_taken", "name {name} is taken", {"name": name}
            )
        return name


class PLoose(pydantic.BaseModel):
    n: int


class PLax(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(strict=False)

    n: int


@dataclass
class Holder:
    shape: Shape
    pshape: PShape


async def decode(type_: Any, document: object) -> Any:
    """Decode the JSON for *document* into *type_*."""
    return await json_decoder(type_)(request_with(json.dumps(document).encode()))


async def refusal(type_: Any, body: object) -> str:
    """The BadRequest message for decoding *body* (bytes, or a document) into *type_*."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(BadRequest) as raised:
        await json_decoder(type_)(request_with(raw))
    return str(raised.value)


SHAPE = {"name": "tri", "points": [{"x": 1, "y": 2}], "tags": {"k": 1}, "colour": "red"}


async def test_structs_and_models_decode_with_their_own_libraries() -> None:
    """A Struct and a BaseModel decode from the body, nested types and enums included."""
    shape = await decode(Shape, SHAPE)
    assert shape == Shape("tri", [Point(1, 2.0)], {"k": 1}, Colour.RED)
    assert type(shape.points[0].y) is float
    pshape = await decode(PShape, SHAPE)
    assert pshape == PShape(
        name="tri", points=[PPoint(x=1, y=2.0)], tags={"k": 1}, colour=Colour.RED
    )
    assert await decode(Box[int], {"item": 3}) == Box(3)


async def test_models_nested_in_other_types_decode() -> None:
    """Structs and models inside a dataclass or a list go through the same checks."""
    holder = await decode(Holder, {"shape": SHAPE, "pshape": SHAPE})
    assert holder.shape.points == [Point(1, 2.0)]
    assert holder.pshape.colour is Colour.RED
    assert await decode(list[Point], [{"x": 1, "y": 1}]) == [Point(1, 1.0)]
    assert await decode(dict[str, PPoint], {"a": {"x": 1, "y": 1}}) == {"a": PPoint(x=1, y=1)}


EMPTY = {"name": "s", "points": []}
BAD_X = {"name": "s", "points": [{"x": "1", "y": 1}]}
IN_POINTS = "field 'points[0].x': "


@pytest.mark.parametrize(
    ("type_", "document", "message"),
    [
        (Shape, BAD_X, IN_POINTS + "expected integer, got string"),
        (
            Shape,
            {**EMPTY, "points": [{"x": 1.0, "y": 1}]},
            IN_POINTS + "expected integer, got number",
        ),
        (
            Shape,
            {**EMPTY, "points": [{"x": True, "y": 1}]},
            IN_POINTS + "expected integer, got boolean",
        ),
        (Shape, {**EMPTY, "points": [{"x": 1}]}, "field 'points[0].y': required but missing"),
        (Shape, {"name": "s"}, "field 'points': required but missing"),
        (Shape, {**EMPTY, "z": 1}, "field 'z': not a known field"),
        (Shape, {**EMPTY, "x" * 100: 1}, "field '" + "x" * 64 + "...': not a known field"),
        (Shape, {**EMPTY, "tags": {"k": "v"}}, "field 'tags.*': expected integer, got string"),
        (Shape, {**EMPTY, "colour": "green"}, "field 'colour': not one of the allowed values"),
        (Shape, {**EMPTY, "colour": 1}, "field 'colour': expected string or null, got integer"),
        (Shape, {**EMPTY, "size": -1}, "field 'size': expected integer >= 0"),
        (Shape, [1], "request body: expected object, got array"),
        (list[Point], [{"x": 1, "y": 1}, {"x": 1}], "field '[1].y': required but missing"),
        (PShape, BAD_X, IN_POINTS + "input should be a valid integer"),
        (
            PShape,
            {**EMPTY, "points": [{"x": 1.5, "y": 1}]},
            IN_POINTS + "input should be a valid integer",
        ),
        (PShape, {"name": "s"}, "field 'points': required but missing"),
        (PShape, {**EMPTY, "z": 1}, "field 'z': not a known field"),
        (PShape, {**EMPTY, "tags": {"k": "v"}}, "field 'tags.k': input should be a valid integer"),
        (PShape, [1], "request body: input should be an object"),
        (
            Holder,
            {"shape": BAD_X, "pshape": SHAPE},
            "field 'shape.points[0].x': expected integer, got string",
        ),
        (
            Holder,
            {"shape": SHAPE, "pshape": {**EMPTY, "name": 1}},
            "field 'pshape.name': input should be a valid string",
        ),
    ],
)
async def test_mismatches_are_400s_naming_the_field(
    type_: Any, document: object, message: str
) -> None:
    """T2: Structs and models refuse wrong types, missing and unknown fields with a named 400."""
    assert await refusal(type_, document) == message


async def test_strict_unless_the_model_says_otherwise() -> None:
    """Strings are not ints for Structs and models, unless a model's config sets strict itself."""
    assert await refusal(Loose, {"n": "1"}) == "field 'n': expected integer, got string"
    assert await refusal(PLoose, {"n": "1"}) == "field 'n': input should be a valid integer"
    assert await decode(PLax, {"n": "1"}) == PLax(n=1)


async def test_unknown_fields_follow_the_models_config() -> None:
    """A Struct or model that does not forbid unknown fields ignores them, as its library does."""
    assert await decode(Loose, {"n": 1, "extra": 2}) == Loose(1)
    assert await decode(PLoose, {"n": 1, "extra": 2}) == PLoose(n=1)


async def test_checks_in_model_code_only_speak_when_asked() -> None:
    """S6: ValueError/assert messages are hidden; BadRequest and the libraries' own errors show."""
    assert await refusal(Checked, {"n": 0}) == "request body: rejected by Checked's checks"
    assert await refusal(Checked, {"n": 1}) == "n must not be 1"
    assert await refusal(Checked, {"n": 2}) == "request body: n must not be 2"
    assert await refusal(PShape, {"name": "secret", "points": []}) == (
        "field 'name': rejected by PShape's checks"
    )
    assert "secret" not in await refusal(PShape, {"name": "assert", "points": []})
    assert await refusal(PShape, {"name": "polite", "points": []}) == "name must not be polite"
    assert await refusal(PShape, {"name": "custom", "points": []}) == (
        "field 'name': name custom is taken"
    )


@pytest.mark.parametrize("type_", [Shape, PShape])
async def test_malformed_and_deeply_nested_bodies_are_400s(type_: Any) -> None:
    """Bad JSON, trailing bytes, bad UTF-8 and nesting past the parser's limits are 400s."""
    for body in (b"", b"{", b"x", b'{"name":"a","points":[]}x', b"\xff", b"[" * 5000):
        message = await refusal(type_, body)
        assert message == "request body is not valid JSON" or message.startswith("request body:")


async def test_recursion_past_pythons_stack_is_a_400() -> None:
    """A recursive Struct nested past the stack depth gives a 400, not a 500."""
    depth = 3000
    body = b'{"value":1,"children":[' * depth + b'{"value":1}' + b"]}" * depth
    assert await refusal(Tree, body) == "request body is nested too deeply"


class Tree(msgspec.Struct):
    value: int
    children: list[Tree] = []


@pytest.mark.parametrize("type_", [Shape, PShape])
async def test_model_decoders_refuse_other_content_types(type_: Any) -> None:
    """A Content-Type that is not JSON is a 415 for model decoders too; +json is fine."""
    body = json.dumps(SHAPE).encode()
    with pytest.raises(UnsupportedMediaType):
        await json_decoder(type_)(request_with(body, b"text/plain"))
    assert (await json_decoder(type_)(request_with(body, b"application/x+json"))).name == "tri"


# --- encoding ---------------------------------------------------------------------------


class Created(msgspec.Struct):
    id: int
    status_code: int = 201


async def test_encoders_serialise_structs_and_models_anywhere() -> None:
    """Structs and models serialise at the top, in dicts, lists and dataclasses."""
    shape = Shape("tri", [Point(1, 2.0)], colour=Colour.RED)
    pshape = PShape(name="tri", points=[PPoint(x=1, y=2.0)], colour=Colour.BLUE)
    expected = {"name": "tri", "points": [{"x": 1, "y": 2.0}], "tags": {}}
    for value, colour in ((shape, "red"), (pshape, "blue")):
        body = (await encode_json_response(value)).body
        assert orjson.loads(body) == {**expected, "colour": colour, **_size(value)}
    nested = (await encode_json_response({"a": [shape], "b": pshape})).body
    assert orjson.loads(nested)["b"]["colour"] == "blue"
    holder = (await json_encoder(status=202)(Holder(shape, pshape))).body
    assert orjson.loads(holder)["shape"]["points"] == [{"x": 1, "y": 2.0}]


def _size(value: object) -> dict[str, int]:
    return {"size": 0} if isinstance(value, Shape) else {}


async def test_a_struct_can_choose_its_status() -> None:
    """A Struct's status_code field is honoured like a dataclass's, and is in the body too."""
    response = await encode_json_response(Created(7))
    assert (response.status, orjson.loads(response.body)) == (201, {"id": 7, "status_code": 201})


async def test_values_that_are_not_json_still_fail_to_encode() -> None:
    """Model support does not make arbitrary objects serialisable."""
    with pytest.raises(TypeError):
        await encode_json_response({"x": object()})
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        to_builtins(object())


def test_stdlib_fallbacks_serialise_models() -> None:
    """Without orjson, both stdlib serialisers write Structs and models like orjson does."""
    value = {"s": Point(1, 2.5), "p": PPoint(x=1, y=2.5)}
    for dumps in (codec._stdlib_dumps, client_codec._stdlib_dumps):
        assert orjson.loads(dumps(value)) == {"s": {"x": 1, "y": 2.5}, "p": {"x": 1, "y": 2.5}}


def test_dataclasses_never_import_pydantic() -> None:
    """Decoding and encoding dataclasses never imports pydantic; msgspec is the JSON parser."""
    script = """
import asyncio, dataclasses, sys
from pygokit.transport.http import json_decoder, encode_json_response
from pygokit.transport.http.client_codec import json_response_decoder

@dataclasses.dataclass
class P:
    x: int

json_decoder(P)
json_response_decoder(P)
asyncio.run(encode_json_response(P(1)))
try:
    asyncio.run(encode_json_response(object()))
except TypeError:
    pass
print(sorted(m for m in ("msgspec", "pydantic") if m in sys.modules))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.strip() == "['msgspec']"


def test_types_are_not_models_when_their_library_is_not_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With msgspec and pydantic absent from sys.modules, nothing is taken for a model."""
    monkeypatch.delitem(sys.modules, "msgspec")
    monkeypatch.delitem(sys.modules, "pydantic")
    assert model_decoder(Point) is None
    assert model_decoder(PPoint) is None
    with pytest.raises(TypeError, match="not JSON serializable"):
        to_builtins(Point(1, 2.0))


# --- the client side --------------------------------------------------------------------


@pytest.fixture
async def echo() -> AsyncIterator[str]:
    """The URL of a real uvicorn upstream that echoes the request body."""
    async with running_uvicorn(UpstreamApp()) as url:
        yield f"{url}/echo"


async def round_trip(url: str, request: object, type_: Any) -> Any:
    """Send *request* as JSON to the echo route and decode the answer into *type_*."""
    async with aiohttp.ClientSession() as session:
        client = Client(
            "POST", url, encode_json_request, json_response_decoder(type_), session=session
        )
        return await client(request)


async def test_client_round_trips_structs_and_models(echo: str) -> None:
    """Structs and models go out as JSON and come back typed, through a real server."""
    shape = Shape("tri", [Point(1, 2.5)], colour=Colour.RED)
    assert await round_trip(echo, shape, Shape) == shape
    pshape = PShape(name="tri", points=[PPoint(x=1, y=2.5)])
    assert await round_trip(echo, pshape, PShape) == pshape
    assert await round_trip(echo, {"item": Point(1, 2.0)}, Box[Point]) == Box(Point(1, 2.0))


async def test_client_model_decoders_name_what_does_not_fit(echo: str) -> None:
    """A body that does not fit the model, or is not JSON, is an InvalidResponse with the path."""
    with pytest.raises(
        InvalidResponse, match=r"field 'points\[0\]\.x': expected integer"
    ) as raised:
        await round_trip(echo, {"name": "s", "points": [{"x": "1", "y": 1}]}, Shape)
    assert raised.value.path == "points[0].x"
    with pytest.raises(InvalidResponse, match="field 'points': required but missing"):
        await round_trip(echo, {"name": "s"}, PShape)
    with pytest.raises(InvalidResponse, match="the body: expected object, got null"):
        await round_trip(echo, None, Loose)
    with pytest.raises(InvalidResponse, match="the body: input should be an object"):
        await round_trip(echo, "a string", PLoose)
    assert await round_trip(echo, {"n": 1, "new": 2}, Loose) == Loose(1)


async def test_client_refuses_bytes_that_are_not_json(echo: str) -> None:
    """A model decoder reports bytes that are not JSON as 'not valid JSON'."""

    def raw(request: object, http_request: ClientRequest) -> None:
        http_request.body = b"{oops"

    for type_ in (Loose, PLoose):
        async with aiohttp.ClientSession() as session:
            client = Client("POST", echo, raw, json_response_decoder(type_), session=session)
            with pytest.raises(InvalidResponse, match="not valid JSON"):
                await client(None)


# --- never a 5xx --------------------------------------------------------------------------


async def echo_endpoint(request: object) -> object:
    """Return the decoded request, so the encoder runs too."""
    return request


SERVERS = [
    Server(echo_endpoint, json_decoder(kind), json_encoder()) for kind in (Shape, PShape, Holder)
]
bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda doc: json.dumps(doc).encode()),
    st.fixed_dictionaries({"name": json_values, "points": json_values}).map(
        lambda doc: json.dumps(doc).encode()
    ),
)


@settings(max_examples=1000, deadline=None)
@given(bodies, st.sampled_from(SERVERS))
async def test_random_bodies_never_get_a_5xx(body: bytes, server: Server[Any, Any]) -> None:
    """T2: any body sent to a Struct, model or mixed decoder answers 200 or 400, never 5xx."""
    reply = await call(server, body)
    assert reply.status in (200, 400), reply.body
