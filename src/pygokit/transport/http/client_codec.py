"""Request encoders and response decoders for the HTTP `Client`.

Go kit's ``EncodeJSONRequest`` and ``EncodeXMLRequest`` are `encode_json_request`
and `encode_xml_request`; a request with a ``headers`` mapping (Go kit's
``Headerer``) also sets those headers. Go kit has no response decoder, so every
client wrote one by hand; `json_response_decoder` derives it from a type
(dataclass, TypedDict, list, dict, tuple, union, Literal, enum, JSON scalars):

* a status other than 2xx raises `UnexpectedStatus` with the status and the start
  of the body (Go kit leaves this check to each decoder);
* a body larger than *max_bytes* raises `ResponseTooLarge` before it is buffered;
* a body that is not JSON or does not fit the type raises `InvalidResponse`,
  naming the field (``items[2].price``) and what was wrong with it.

Checks are strict like the server's decoders (an ``int`` field takes an integer,
never a boolean; a ``float`` takes any number), with one difference on purpose:
fields the type does not know are ignored, so a server can add a field to a
response without breaking the clients already deployed.

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
import json
import types
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,
    Required,
    TypeAlias,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

from pygokit.errors import GoKitError
from pygokit.transport.http.client import ClientRequest, ClientResponse, DecodeResponse

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
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _stdlib_dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=_default).encode()


_dumps: Callable[[object], bytes]
_loads: Callable[[bytes], Any]
try:
    from orjson import dumps as _dumps
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson comes with the json extra
    _dumps, _loads = _stdlib_dumps, json.loads


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
    it is installed). A request with a ``headers`` mapping or sequence of pairs
    (make it a property, so it is not a field of the body) sets those headers.
    """
    http_request.set_header("Content-Type", JSON_CONTENT_TYPE)
    _set_headers(request, http_request)
    http_request.body = _dumps(request)


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
    convert = _converter(type_, {})

    async def decode(response: ClientResponse) -> T:
        await check_status(response)
        body = await response.read(max_bytes=max_bytes)
        try:
            document = _loads(body) if body else None
        except ValueError as exc:
            raise InvalidResponse(
                f"the response to {response.description} is not valid JSON: {exc}",
                path="",
                problem="not JSON",
            ) from exc
        try:
            result: T = convert(document)
        except _Mismatch as exc:
            path = _path(exc.path)
            where = f"field {path!r}" if path else "the body"
            raise InvalidResponse(
                f"the response to {response.description} does not fit "
                f"{_name(type_)}: {where}: {exc.problem}",
                path=path,
                problem=exc.problem,
            ) from exc.__cause__
        return result

    return decode


# --- converters from JSON documents to typed values --------------------------------------

_Convert: TypeAlias = Callable[[Any], Any]

_JSON_NAMES: dict[type, str] = {
    dict: "object",
    list: "array",
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


class _Mismatch(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str | int] = []


def _path(steps: Sequence[str | int]) -> str:
    where = ""
    for step in steps:
        where += f"[{step}]" if isinstance(step, int) else f".{step}" if where else step
    return where


def _name(hint: Any) -> str:
    return _JSON_NAMES.get(hint) or str(getattr(hint, "__name__", hint))


def _mismatch(expected: str, value: object) -> _Mismatch:
    return _Mismatch(f"expected {expected}, got {_JSON_NAMES.get(type(value), 'value')}")


def _step(convert: _Convert, value: Any, step: str | int) -> Any:
    try:
        return convert(value)
    except _Mismatch as exc:
        exc.path.insert(0, step)
        raise


def _exact(kind: type) -> _Convert:
    def convert(value: Any) -> Any:
        if type(value) is kind:
            return value
        raise _mismatch(_JSON_NAMES[kind], value)

    return convert


def _number(value: Any) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    raise _mismatch("number", value)


def _any(value: Any) -> Any:
    return value


def _list(item: _Convert, build: Callable[[list[Any]], Any] = list) -> _Convert:
    def convert(value: Any) -> Any:
        if type(value) is not list:
            raise _mismatch("array", value)
        return build([_step(item, v, i) for i, v in enumerate(value)])

    return convert


def _tuple(items: Sequence[_Convert]) -> _Convert:
    def convert(value: Any) -> tuple[Any, ...]:
        if type(value) is not list or len(value) != len(items):
            raise _mismatch(f"array of {len(items)}", value)
        return tuple(_step(c, v, i) for i, (c, v) in enumerate(zip(items, value, strict=True)))

    return convert


def _dict(item: _Convert) -> _Convert:
    def convert(value: Any) -> dict[str, Any]:
        if type(value) is not dict:
            raise _mismatch("object", value)
        return {k: _step(item, v, k) for k, v in value.items()}

    return convert


def _union(options: Sequence[_Convert], expected: str) -> _Convert:
    def convert(value: Any) -> Any:
        for option in options:
            try:
                return option(value)
            except _Mismatch:
                continue
        raise _mismatch(expected, value)

    return convert


def _choice(members: Mapping[tuple[type, object], object], expected: str) -> _Convert:
    def convert(value: Any) -> Any:
        try:
            return members[type(value), value]
        except (KeyError, TypeError):  # TypeError: an unhashable value (array, object)
            raise _mismatch(expected, value) from None

    return convert


def _record(
    kind: Any, hints: Mapping[str, Any], required: frozenset[str], memo: dict[Any, _Convert]
) -> _Convert:
    """A JSON object with known fields; fields it does not know are ignored."""
    spec: list[tuple[str, _Convert]] = []
    build: Callable[..., Any] = dict if is_typeddict(kind) else kind

    def convert(value: Any) -> Any:
        if type(value) is not dict:
            raise _mismatch("object", value)
        arguments = {}
        for name, convert_field in spec:
            if name in value:
                arguments[name] = _step(convert_field, value[name], name)
            elif name in required:
                missing = _Mismatch("required but missing")
                missing.path.append(name)
                raise missing
        try:
            return build(**arguments)
        except (TypeError, ValueError) as exc:  # the type's own checks (__post_init__)
            raise _Mismatch(f"rejected by {kind.__name__}: {exc}") from exc

    memo[kind] = convert  # before the fields, so a recursive type finds itself
    spec.extend((name, _converter(hint, memo)) for name, hint in hints.items())
    return convert


def _dataclass(kind: type, memo: dict[Any, _Convert]) -> _Convert:
    hints = get_type_hints(kind)
    fields = [f for f in dataclasses.fields(kind) if f.init]
    required = frozenset(
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )
    return _record(kind, {f.name: hints[f.name] for f in fields}, required, memo)


def _typeddict(kind: Any, memo: dict[Any, _Convert]) -> _Convert:
    # Under ``from __future__ import annotations`` Python 3.11 cannot see Required and
    # NotRequired when it builds __required_keys__, so read them from the hints here.
    required = set(kind.__required_keys__)
    hints = {}
    for name, hint in get_type_hints(kind, include_extras=True).items():
        while (origin := get_origin(hint)) in (Required, NotRequired, Annotated):
            if origin is Required:
                required.add(name)
            elif origin is NotRequired:
                required.discard(name)
            hint = get_args(hint)[0]
        hints[name] = hint
    return _record(kind, hints, frozenset(required), memo)


def _converter(hint: Any, memo: dict[Any, _Convert]) -> _Convert:
    """The converter for *hint*; ``TypeError`` for a type it cannot read."""
    if hint in memo:
        return memo[hint]
    if hint in (int, str, bool):
        return _exact(hint)
    if hint is float:
        return _number
    if hint is Any or hint is object:
        return _any
    if hint is None or hint is type(None):
        return _exact(type(None))
    origin, args = get_origin(hint), get_args(hint)
    if hint is list or origin in (list, Sequence):
        return _list(_converter(args[0], memo) if args else _any)
    if hint is dict or origin in (dict, Mapping):
        return _dict(_converter(args[1], memo) if args else _any)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _list(_converter(args[0], memo), tuple)
        return _tuple([_converter(arg, memo) for arg in args])
    if origin is Union or origin is types.UnionType:
        expected = " or ".join(_name(arg) for arg in args)
        return _union([_converter(arg, memo) for arg in args], expected)
    if origin is Literal:
        return _choice({(type(a), a): a for a in args}, f"one of {list(args)!r}")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = [m.value for m in hint]
        return _choice({(type(m.value), m.value): m for m in hint}, f"one of {values!r}")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint, memo)
    if is_typeddict(hint):
        return _typeddict(hint, memo)
    raise TypeError(
        f"json_response_decoder cannot read {hint!r}; it reads dataclasses, TypedDicts, list, "
        "dict, tuple, unions, Literal, enums and JSON scalars; write a decoder instead"
    )
