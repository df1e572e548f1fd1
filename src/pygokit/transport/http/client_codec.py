"""Request encoders and response decoders for the HTTP `Client`.

Go kit's ``EncodeJSONRequest`` and ``EncodeXMLRequest`` are `encode_json_request`
and `encode_xml_request`; a request with a ``headers`` mapping (Go kit's
``Headerer``) also sets those headers. Go kit has no response decoder, so every
client wrote one by hand; `json_response_decoder` derives it from a type
(dataclass, TypedDict, list, dict, tuple, union, Literal, enum, JSON scalars, or a
``msgspec.Struct`` or pydantic ``BaseModel``, which its own library decodes):

* a status other than 2xx raises `UnexpectedStatus` with the status and the start
  of the body (Go kit leaves this check to each decoder);
* a body larger than *max_bytes* raises `ResponseTooLarge` before it is buffered;
* a body that is not JSON or does not fit the type raises `InvalidResponse`,
  naming the field (``items[2].price``) and what was wrong with it.

Checks are strict like the server's decoders (an ``int`` field takes an integer,
never a boolean; a ``float`` takes any number), with one difference on purpose:
fields the type does not know are ignored, so a server can add a field to a
response without breaking the clients already deployed (a Struct or model
follows its own config here: ``forbid_unknown_fields`` or ``extra="forbid"``
refuse them).

Example::

    @dataclass(frozen=True)
    class SumResponse:
        v: int

    client = Client("POST", url, encode_json_request, json_response_decoder(SumResponse),
                    session=session)
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from typing import (
    Any,
    TypeVar,
)

from pygokit.errors import GoKitError
from pygokit.transport.http._flat import flat_record_decoder
from pygokit.transport.http._models import model_decoder, to_builtins
from pygokit.transport.http._typed import Invalid, converter
from pygokit.transport.http.client import ClientRequest, ClientResponse, DecodeResponse
from pygokit.transport.http.request import parse_json

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "JSON_CONTENT_TYPE",
    "XML_CONTENT_TYPE",
    "InvalidResponse",
    "UnexpectedStatus",
    "check_status",
    "encode_json_request",
    "encode_xml_request",
    "json_response_decoder",
]

T = TypeVar("T")

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"

DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
"""`json_response_decoder` refuses larger bodies (10 MiB) unless told otherwise."""

_ERROR_BODY_BYTES = 1024
_ERROR_BODY_CHARS = 200


class UnexpectedStatus(GoKitError):
    """The server answered with a status the decoder does not accept (not 2xx).

    The status is ``status``, not ``status_code``, on purpose: an endpoint that
    lets this error escape into a pygokit server must not pass the upstream's
    status (a 401, say) on to its own caller.

    Attributes:
        status: The HTTP status code.
        reason: The reason phrase.
        body: The start of the body as text, at most 200 characters.
    """

    def __init__(self, message: str, *, status: int, reason: str, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.body = body


class InvalidResponse(GoKitError, ValueError):
    """A 2xx response body is not JSON, or does not fit the decoder's type.

    Attributes:
        path: Where in the document the problem is (``"items[2].price"``), or
            ``""`` for the document itself.
        problem: What is wrong there.
    """

    def __init__(self, message: str, *, path: str, problem: str) -> None:
        super().__init__(message)
        self.path = path
        self.problem = problem


# --- encoders ---------------------------------------------------------------------------


def _default(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return to_builtins(value)  # a msgspec Struct or pydantic model; else TypeError


def _stdlib_dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=_default).encode()


_dumps: Callable[[object], bytes]
_dumps_models: Callable[[object], bytes]
try:
    import orjson
except ImportError:  # pragma: no cover - orjson comes with the json extra
    _dumps = _dumps_models = _stdlib_dumps
else:
    _dumps = orjson.dumps
    _dumps_models = functools.partial(orjson.dumps, default=to_builtins)


def _set_headers(request: object, http_request: ClientRequest) -> None:
    """Set the headers of a Headerer request: each name once, to its first value (Go kit)."""
    fields = getattr(request, "headers", None)
    if fields is None or callable(fields):
        return
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    seen: set[str] = set()
    for name, value in pairs:
        if name.lower() not in seen:
            seen.add(name.lower())
            http_request.set_header(name, value)


def encode_json_request(request: object, http_request: ClientRequest) -> None:
    """Send *request* as JSON, with Content-Type ``application/json; charset=utf-8``.

    Dataclasses, dicts, lists, enums, dates and UUIDs serialise (with orjson when
    it is installed), and so do msgspec Structs and pydantic models. A request
    with a ``headers`` mapping or sequence of pairs (make it a property, so it is
    not a field of the body) sets those headers.
    """
    http_request.set_header("Content-Type", JSON_CONTENT_TYPE)
    _set_headers(request, http_request)
    try:  # orjson without a default hook first: plain values pay nothing for model support
        http_request.body = _dumps(request)
    except TypeError:  # a msgspec Struct or pydantic model in it, or not JSON at all
        http_request.body = _dumps_models(request)


def encode_xml_request(request: object, http_request: ClientRequest) -> None:
    """Send *request* as XML, with Content-Type ``text/xml; charset=utf-8``.

    *request* is an ``xml.etree.ElementTree.Element``, or has a ``to_xml()``
    method returning the document as str or bytes (Python has no struct-tag
    serialiser like Go's ``encoding/xml``). ``headers`` work as in
    `encode_json_request`.
    """
    if isinstance(request, ET.Element):
        body: object = ET.tostring(request, encoding="utf-8")
    else:
        to_xml = getattr(request, "to_xml", None)
        if not callable(to_xml):
            raise TypeError(
                f"encode_xml_request needs an xml.etree Element or an object with to_xml(), "
                f"got {type(request).__name__}"
            )
        body = to_xml()
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, bytes):
        raise TypeError(f"to_xml() must return str or bytes, got {type(body).__name__}")
    http_request.set_header("Content-Type", XML_CONTENT_TYPE)
    _set_headers(request, http_request)
    http_request.body = body


# --- decoders ---------------------------------------------------------------------------


async def check_status(response: ClientResponse) -> None:
    """Raise `UnexpectedStatus` unless the status is 2xx; for hand-written decoders."""
    if 200 <= response.status <= 299:
        return
    text = (await response.read_prefix(_ERROR_BODY_BYTES)).decode("utf-8", errors="replace")
    text = text.strip()
    if len(text) > _ERROR_BODY_CHARS:
        text = text[: _ERROR_BODY_CHARS - 1] + "…"
    raise UnexpectedStatus(
        f"{response.description} answered {response.status} {response.reason}"
        + (f": {text}" if text else ""),
        status=response.status,
        reason=response.reason,
        body=text,
    )


def json_response_decoder(
    type_: type[T], *, max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
) -> DecodeResponse[T]:
    """Build a decoder that checks for 2xx and turns the JSON body into a *type_*.

    An empty body reads as JSON ``null`` (fine for ``None``-typed responses).
    The type is read once, here; an unreadable type raises ``TypeError`` now.

    Example::

        decode = json_response_decoder(list[Profile])
    """
    parse = _parser(type_)

    async def decode(response: ClientResponse) -> T:
        await check_status(response)
        body = await response.read(max_bytes=max_bytes)
        try:
            result: T = parse(body or b"null")
        except ValueError as exc:
            raise InvalidResponse(
                f"the response to {response.description} is not valid JSON: {exc}",
                path="",
                problem="not JSON",
            ) from exc
        except Invalid as exc:
            path = _path(exc.path)
            where = f"field {path!r}" if path else "the body"
            raise InvalidResponse(
                f"the response to {response.description} does not fit "
                f"{getattr(type_, '__name__', str(type_))}: {where}: {exc.problem}",
                path=path,
                problem=exc.problem,
            ) from exc.__cause__
        return result

    return decode


def _parser(type_: Any) -> Callable[[bytes], Any]:
    """Bytes to a *type_*: a Struct's or model's own decoder, else parse and convert.

    Raises ``ValueError`` for a body that is not JSON and `Invalid` for one that
    does not fit; fields the type does not know are ignored (for a model, as
    its config says).
    """
    from_bytes = model_decoder(type_)
    if from_bytes is not None:
        return from_bytes
    convert = converter(type_, ignore_unknown=True)
    fast = flat_record_decoder(type_, ignore_unknown=True)
    if fast is not None:

        def parse_record(body: bytes) -> Any:
            record = fast(body)
            return record if record is not None else convert(parse_json(body))

        return parse_record

    def parse(body: bytes) -> Any:
        return convert(parse_json(body))

    return parse


def _path(steps: Sequence[str | int]) -> str:
    """``items[2].name`` for the steps ``["items", 2, "name"]``."""
    path = ""
    for step in steps:
        path += f"[{step}]" if isinstance(step, int) else f".{step}" if path else step
    return path
