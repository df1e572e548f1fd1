"""Turning HTTP requests into endpoint requests and endpoint results into HTTP responses.

A server takes three functions: a decoder ``async (Request) -> Req``, an encoder
``async (Resp) -> Response`` and an error encoder ``(Exception, Request) -> Response``.
Go kit users write the first two by hand for every method; here `json_decoder`
derives a decoder from a type and `json_encoder` serialises any result, so a JSON
method needs neither.

`json_decoder` reads dataclasses (nested too), TypedDicts, lists, dicts, tuples,
unions and Optional, Literal, enums and the JSON scalars, and checks types
strictly: an ``int`` field takes a JSON integer, never ``true`` or ``1.5``; a
``float`` field takes any number. A missing or unknown field, a wrong type or
malformed JSON is a 400 whose message names the field; a Content-Type that is not
JSON is a 415. A dataclass's ``__post_init__`` may raise `BadRequest` to add its
own checks.

It also reads ``msgspec.Struct`` subclasses and pydantic v2 ``BaseModel``
subclasses with their own libraries (msgspec's typed decoder in strict mode;
``model_validate_json`` in strict mode unless the model's config sets ``strict``),
and answers their errors with the same kind of 400. What the model's config
decides stays with it: unknown fields are ignored unless the Struct has
``forbid_unknown_fields=True`` or the model ``extra="forbid"``, and pydantic
accepts ``NaN`` unless ``allow_inf_nan=False``. Neither library is imported unless
such a type is used. The encoders serialise Structs and models too, anywhere in
the response.

Errors become responses in `default_error_encoder`, which is secure by default
(unlike Go kit's, which writes ``err.Error()``): the body is
``{"error": ..., "request_id": ...}`` and the error's own message appears only if
the error declares ``expose = True``, as every `HTTPError` does. The status comes
from the error's ``status_code`` (`StatusCoder`) and, for exposed errors, extra
headers from its ``headers`` (`Headerer`); the same two protocols shape
`encode_json_response`.

Example::

    server = Server(sum_endpoint, json_decoder(SumRequest), json_encoder())
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import json
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar

from pygokit.transport.http._flat import flat_record_decoder
from pygokit.transport.http._models import model_decoder, to_builtins
from pygokit.transport.http._typed import Invalid, converter
from pygokit.transport.http.request import BadRequest, UnsupportedMediaType, parse_json
from pygokit.transport.http.response import HeaderFields, Response

if TYPE_CHECKING:
    from pygokit.transport.http.request import Request

__all__ = [
    "JSON_CONTENT_TYPE",
    "DecodeRequest",
    "EncodeResponse",
    "ErrorEncoder",
    "Headerer",
    "StatusCoder",
    "default_error_encoder",
    "encode_json_response",
    "json_decoder",
    "json_encoder",
]

T = TypeVar("T")
Req = TypeVar("Req")
Resp = TypeVar("Resp", contravariant=True)

DecodeRequest: TypeAlias = Callable[["Request"], Awaitable[Req]]
"""Turns an HTTP request into the endpoint's request; raises `BadRequest` for bad input."""

EncodeResponse: TypeAlias = Callable[[Resp], Awaitable[Response]]
"""Turns the endpoint's response into an HTTP response."""

ErrorEncoder: TypeAlias = Callable[[Exception, "Request"], Response]
"""Turns an error raised while serving a request into the HTTP response the client gets."""

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
"""The Content-Type of every JSON response: ``application/json; charset=utf-8``."""
_JSON_FIELD = (b"content-type", JSON_CONTENT_TYPE.encode())


class StatusCoder(Protocol):
    """A response or error that chooses its HTTP status (Go kit's ``StatusCode()``)."""

    @property
    def status_code(self) -> int:
        """The HTTP status to answer with."""


class Headerer(Protocol):
    """A response or error that adds HTTP headers (Go kit's ``Headers()``)."""

    @property
    def headers(self) -> HeaderFields:
        """Fields added to the response; a name may repeat in a sequence of pairs."""


# --- JSON out ---------------------------------------------------------------------------


def _stdlib_default(value: object) -> object:
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
    """Serialise like orjson does, with the standard library (ASCII-escaped, so never fails
    on a lone surrogate)."""
    return json.dumps(value, separators=(",", ":"), default=_stdlib_default).encode()


_dumps: Callable[[object], bytes]
_dumps_models: Callable[[object], bytes]
try:
    import orjson
except ImportError:  # pragma: no cover - orjson comes with the json extra
    _dumps = _dumps_models = _stdlib_dumps
else:
    _dumps = orjson.dumps
    _dumps_models = functools.partial(orjson.dumps, default=to_builtins)


def _json_bytes(value: object) -> bytes:
    """Serialise *value*, msgspec Structs and pydantic models included.

    orjson goes first without a ``default`` hook, so plain values pay nothing for
    model support; what it refuses is tried again with the hook.
    """
    try:
        return _dumps(value)
    except TypeError:  # a msgspec Struct or pydantic model somewhere in it, or not JSON at all
        return _dumps_models(value)


def _status(value: object, default: int) -> int:
    status = getattr(value, "status_code", default)
    return status if type(status) is int and 200 <= status <= 599 else default


def _add_headers(response: Response, value: object) -> None:
    fields = getattr(value, "headers", None)
    if fields is not None and not callable(fields):
        response.headers.extend(fields)


async def encode_json_response(response: object) -> Response:
    """Serialise *response* as JSON, as Go kit's ``EncodeJSONResponse`` does.

    Content-Type is ``application/json; charset=utf-8``; a ``status_code`` int
    attribute (`StatusCoder`) sets the status, else 200; ``headers``
    (`Headerer`) are added; a 204 has no body. Dataclasses, dicts, lists,
    enums, datetimes and UUIDs serialise as orjson serialises them; msgspec Structs
    and pydantic models as their libraries serialise them.
    """
    if type(response) is dict:  # the common case: a plain dict has neither attribute
        try:  # inline, not _json_bytes: a call costs more than the try on this path
            body = _dumps(response)
        except TypeError:
            body = _dumps_models(response)
        return Response._trusted(body, 200, [_JSON_FIELD])
    status = _status(response, 200)
    body = b"" if status == 204 else _json_bytes(response)
    encoded = Response._trusted(body, status, [_JSON_FIELD])
    _add_headers(encoded, response)
    return encoded


def json_encoder(*, status: int = 200) -> EncodeResponse[object]:
    """Return an encoder like `encode_json_response` whose default status is *status*.

    ``json_encoder(status=201)`` suits a method that creates something; a
    response's own ``status_code`` still wins.
    """
    if not 200 <= status <= 599:
        raise ValueError(f"a response status is 200-599, got {status}")
    if status == 200:
        return encode_json_response

    async def encode(response: object) -> Response:
        code = _status(response, status)
        body = b"" if code == 204 else _json_bytes(response)
        encoded = Response._trusted(body, code, [_JSON_FIELD])
        _add_headers(encoded, response)
        return encoded

    return encode


# --- errors out -------------------------------------------------------------------------


def _public_message(error: Exception, status: int, exposed: bool) -> str:
    if exposed:
        try:
            return str(error)
        except Exception:  # a broken __str__ must not break the error response
            pass
    return "internal error" if status == 500 else HTTPStatus(status).phrase.lower()


def default_error_encoder(error: Exception, request: Request) -> Response:
    """Answer ``{"error": "<message>", "request_id": "<id>"}`` with the error's status.

    The status is the error's ``status_code`` if it is an int in 400-599, else
    500. The message is the error's own only if it declares ``expose = True``;
    otherwise it is generic ("internal error", "not found", ...), so no internal
    detail, class name, path or traceback reaches the client. The error's
    ``headers`` are added only if it is exposed too: aiohttp's
    ``ClientResponseError``, for one, carries the headers of an upstream response,
    which must not leak. The request id is `Request.request_id`, also sent as
    ``X-Request-Id``; the server gives the same id to its error handler, so the
    log entry can be found from the response.
    """
    status = _status(error, 500)
    if status < 400:
        status = 500
    rid = request.request_id
    exposed = getattr(error, "expose", False) is True
    payload = {"error": _public_message(error, status, exposed), "request_id": rid}
    try:
        body = _dumps(payload)
    except TypeError:  # orjson refuses lone surrogates; the stdlib escapes them
        body = _stdlib_dumps(payload)
    response = Response._trusted(body, status, [_JSON_FIELD, (b"x-request-id", rid.encode())])
    if exposed:
        _add_headers(response, error)
    return response


# --- JSON in ----------------------------------------------------------------------------


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _refuse_unless_json(content_type: bytes) -> None:
    media = content_type.decode("latin-1")
    if not _is_json(media):
        raise UnsupportedMediaType(media, "application/json")


def json_decoder(type_: type[T]) -> DecodeRequest[T]:
    """Return a decoder that reads a JSON body into a *type_* (a dataclass, TypedDict, ...).

    The decoder answers 415 if the request declares a Content-Type that is not
    JSON (``application/json`` or ``application/*+json``), 413 if the body is
    over the server's limit, and 400 for malformed JSON or a document that does
    not match *type_*, naming the first field that is wrong. A ``msgspec.Struct``
    or pydantic ``BaseModel`` type is decoded by its own library, straight from
    the body's bytes. Unsupported types raise ``TypeError`` here, not per request.

    Example::

        @dataclass(frozen=True)
        class SumRequest:
            a: int
            b: int

        decode = json_decoder(SumRequest)
    """
    from_bytes = model_decoder(type_)
    if from_bytes is not None:

        async def decode_model(request: Request) -> T:
            content_type = request.header(b"content-type")
            if content_type is not None and content_type != b"application/json":
                _refuse_unless_json(content_type)
            body = await request.body()
            try:
                decoded: T = from_bytes(body)
            except ValueError:
                raise BadRequest("request body is not valid JSON") from None
            except Invalid as exc:
                raise BadRequest(exc.describe()) from exc.__cause__
            except RecursionError:
                raise BadRequest("request body is nested too deeply") from None
            return decoded

        return decode_model

    convert = converter(type_)
    fast = flat_record_decoder(type_)

    async def decode(request: Request) -> T:
        content_type = request.header(b"content-type")
        if content_type is not None and content_type != b"application/json":
            _refuse_unless_json(content_type)
        body = await request.body()
        if fast is not None:
            record: T | None = fast(body)
            if record is not None:
                return record
        try:
            document = parse_json(body)
        except ValueError:
            raise BadRequest("request body is not valid JSON") from None
        except RecursionError:
            raise BadRequest("request body is nested too deeply") from None
        try:
            decoded: T = convert(document)
        except Invalid as exc:
            raise BadRequest(exc.describe()) from exc.__cause__
        except RecursionError:
            raise BadRequest("request body is nested too deeply") from None
        return decoded

    return decode
