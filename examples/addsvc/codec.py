"""JSON as Go kit's addsvc reads and writes it, shared by the HTTP and JSON-RPC transports.

Go kit decodes requests with Go's ``encoding/json`` into structs without JSON
tags, and its clients send ``{"A":1,"B":2}``; curl users send ``{"a":1,"b":2}``.
To serve both exactly as Go kit does, `sum_request` and `concat_request` read a
JSON object the way Go does: field names match case-insensitively, unknown fields
are ignored, and a missing or null field is the zero value. Types stay strict, as
in Go: an integer field takes a JSON integer in the int64 range (never ``1.5``,
``"1"`` or ``true``), a string field a JSON string. A mismatch raises `InvalidField`,
which each transport answers as bad input.

`go_json` writes what Go's ``json.Encoder`` writes, byte for byte: compact, with
``<``, ``>``, ``&``, U+2028 and U+2029 escaped, and a trailing newline.
"""

from __future__ import annotations

import json
import re

from examples.addsvc.endpoints import ConcatRequest, ConcatResponse, SumRequest, SumResponse

__all__ = [
    "InvalidField",
    "concat_reply",
    "concat_request",
    "go_json",
    "sum_reply",
    "sum_request",
]

_INT64 = range(-(2**63), 2**63)
_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)
_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidField(ValueError):
    """A JSON document does not fit the request or reply; the message names the field."""


def _fields(document: object, names: tuple[str, ...], what: str) -> dict[str, object]:
    """The values of *names* in a JSON object, matched as Go matches struct fields."""
    if document is None:  # Go decodes null into the zero value
        return {}
    if type(document) is not dict:
        raise InvalidField(f"{what} must be a JSON object, got {_kind(document)}")
    found: dict[str, object] = {}
    for key, value in document.items():
        name = key.lower()
        if name in names and value is not None:
            found[name] = value
    return found


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _int(fields: dict[str, object], name: str) -> int:
    value = fields.get(name, 0)
    if type(value) is not int:
        raise InvalidField(f"field {name!r} must be an integer, got {_kind(value)}")
    if value not in _INT64:
        raise InvalidField(f"field {name!r} must fit in 64 bits, got {value}")
    return value


def _str(fields: dict[str, object], name: str) -> str:
    value = fields.get(name, "")
    if type(value) is not str:
        raise InvalidField(f"field {name!r} must be a string, got {_kind(value)}")
    return value


def sum_request(document: object) -> SumRequest:
    """Read ``{"a": int, "b": int}`` (or ``{"A": ..., "B": ...}``) into a `SumRequest`."""
    fields = _fields(document, ("a", "b"), "a sum request")
    return SumRequest(_int(fields, "a"), _int(fields, "b"))


def concat_request(document: object) -> ConcatRequest:
    """Read ``{"a": str, "b": str}`` (or ``{"A": ..., "B": ...}``) into a `ConcatRequest`."""
    fields = _fields(document, ("a", "b"), "a concat request")
    return ConcatRequest(_str(fields, "a"), _str(fields, "b"))


def sum_reply(document: object) -> SumResponse:
    """Read a sum reply ``{"v": int}`` (a client's side of `go_json`)."""
    return SumResponse(v=_int(_fields(document, ("v",), "a sum reply"), "v"))


def concat_reply(document: object) -> ConcatResponse:
    """Read a concat reply ``{"v": str}``."""
    return ConcatResponse(v=_str(_fields(document, ("v",), "a concat reply"), "v"))


def go_json(value: object) -> bytes:
    """Serialise *value* (dicts, lists, str, int) exactly as Go's ``json.Encoder`` does.

    A lone surrogate, which Python strings can hold and UTF-8 cannot, becomes
    U+FFFD, as Go turns invalid UTF-8 into it.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = _SURROGATE.sub("\ufffd", text.translate(_GO_ESCAPES))
    return text.encode() + b"\n"
