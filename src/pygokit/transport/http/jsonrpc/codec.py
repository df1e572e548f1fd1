"""What a JSON-RPC method is made of: an endpoint and the codec around it.

A `JSONRPCServer` routes each call by its method name to an `EndpointCodec`
(Go kit's ``EndpointCodecMap`` is a plain ``Mapping[str, EndpointCodec]``). The
codec's ``decode`` turns the call's params (a list, a dict, or None when the
call has none) into the endpoint's request, and raises `InvalidParams` when they
do not fit; ``encode`` turns the endpoint's response into the JSON result. Both
are plain functions: the params were parsed with the envelope, so there is no
I/O left to await.

`params_decoder` derives ``decode`` from a type, as the HTTP transport's
``json_decoder`` does for bodies: a dataclass or TypedDict takes params by name
(``{"minuend": 42, "subtrahend": 23}``) or by position (``[42, 23]``, in field
order); other types (``list[int]``, ``dict[str, float]``, ...) take the params
as they are. Types are checked strictly and the first wrong field is named in
the error's ``data``.

Example::

    @dataclass(frozen=True)
    class Subtract:
        minuend: int
        subtrahend: int

    codecs = {
        "subtract": EndpointCodec(subtract, params_decoder(Subtract), lambda result: result),
    }
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar, get_type_hints, is_typeddict

from pygokit.endpoint import Endpoint
from pygokit.transport.http._typed import Invalid, converter
from pygokit.transport.http.jsonrpc.errors import InvalidParams
from pygokit.transport.http.request import BadRequest

__all__ = [
    "DecodeParams",
    "EncodeResult",
    "EndpointCodec",
    "JSONRPCRequest",
    "Params",
    "RequestID",
    "params_decoder",
]

T = TypeVar("T")
Req = TypeVar("Req")
Resp = TypeVar("Resp")

RequestID: TypeAlias = str | int | float | None
"""A call's id: a string, a number or null, echoed in its response exactly as sent."""

Params: TypeAlias = list[Any] | dict[str, Any] | None
"""A call's params: positional (a list), named (a dict), or None when the call has none."""

DecodeParams: TypeAlias = Callable[[Params], Req]
"""Turns a call's params into the endpoint's request; raises `InvalidParams` if they do not fit."""

EncodeResult: TypeAlias = Callable[[Resp], object]
"""Turns the endpoint's response into the call's result: anything JSON-serialisable."""


@dataclass(frozen=True, slots=True)
class EndpointCodec(Generic[Req, Resp]):
    """One JSON-RPC method: the endpoint, and how its request and response are coded.

    Attributes:
        endpoint: The endpoint that serves the method.
        decode: Params to request (`params_decoder` derives one from a type). Any
            exception it raises that is not an `ErrorCoder` answers "Invalid params".
        encode: Response to result. Dataclasses, enums, dates and UUIDs
            serialise as they do in the HTTP transport; ``lambda r: r`` passes a
            plain value through.
    """

    endpoint: Endpoint[Req, Resp]
    decode: DecodeParams[Req]
    encode: EncodeResult[Resp]


@dataclass(frozen=True, slots=True)
class JSONRPCRequest:
    """A call as the server parsed it from the envelope, for ``before_codec`` hooks.

    Attributes:
        method: The method name.
        params: The params, or None when the call has none.
        id: The call's id; None for a notification (and for a call with id null).
        notification: True when the call has no id member, so gets no response.
    """

    method: str
    params: Params
    id: RequestID
    notification: bool


def _positional_names(type_: Any) -> tuple[str, ...] | None:
    """The fields that params given by position fill, in order; None for non-record types."""
    if isinstance(type_, type) and dataclasses.is_dataclass(type_):
        return tuple(f.name for f in dataclasses.fields(type_) if f.init and not f.kw_only)
    if is_typeddict(type_):
        return tuple(get_type_hints(type_))
    return None


def _describe(error: Invalid) -> str:
    """``params.items[2].price: expected number, got string``: where, then what."""
    where = "".join(f"[{step}]" if type(step) is int else f".{step}" for step in error.path)
    return f"params{where}: {error.problem}"


def params_decoder(type_: type[T]) -> DecodeParams[T]:
    """Return a params decoder that builds a *type_* (a dataclass, TypedDict, list, ...).

    For a dataclass or TypedDict, named params fill the fields by name and
    positional params fill them in declaration order (keyword-only dataclass
    fields only by name); no params at all is an empty set of named params. A
    missing or unknown field, a value of the wrong type, or too many positional
    params raises `InvalidParams` whose ``data`` says which field is wrong and
    how. Unsupported types raise ``TypeError`` here, not per call.

    Example::

        decode = params_decoder(Subtract)
        decode([42, 23]) == decode({"subtrahend": 23, "minuend": 42}) == Subtract(42, 23)
    """
    convert = converter(type_)
    names = _positional_names(type_)

    def decode(params: Params) -> T:
        document: object = params
        if names is not None:
            if params is None:
                document = {}
            elif type(params) is list:
                if len(params) > len(names):
                    detail = f"takes at most {len(names)} positional params, got {len(params)}"
                    raise InvalidParams(data=detail)
                document = dict(zip(names, params, strict=False))
        try:
            decoded: T = convert(document)
        except Invalid as exc:
            raise InvalidParams(data=_describe(exc)) from exc.__cause__
        except BadRequest as exc:  # raised by a dataclass's own checks, for the client to read
            raise InvalidParams(data=str(exc)) from None
        except RecursionError:
            raise InvalidParams(data="params are nested too deeply") from None
        return decoded

    return decode
