"""The JSON-RPC 2.0 envelope on the wire: parsing it exactly, and writing it as bytes.

Shared by the server and the client. Responses and requests are written as bytes
around separately serialised parts, so a result that cannot be serialised fails
alone, and a batch response is its parts joined by commas.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pygokit.transport.http.codec import _stdlib_default
from pygokit.transport.http.jsonrpc.codec import JSONRPCRequest, RequestID
from pygokit.transport.http.jsonrpc.errors import error_message
from pygokit.transport.http.request import parse_json

__all__ = [
    "SPEC_VERSIONS",
    "BadCall",
    "dumps",
    "error_object",
    "is_id",
    "loads",
    "parse_call",
    "public_error",
    "result_object",
]


def _stdlib_dumps(value: object) -> bytes:
    return json.dumps(
        value, separators=(",", ":"), default=_stdlib_default, allow_nan=False
    ).encode()


_fast_dumps: Callable[[Any], bytes]
try:
    from orjson import dumps as _fast_dumps
except ImportError:  # pragma: no cover - orjson comes with the json extra
    _fast_dumps = _stdlib_dumps


def dumps(value: object) -> bytes:
    """Serialise *value* as compact JSON; ``TypeError`` or ``ValueError`` if it is not JSON.

    orjson when it is installed; the standard library for what orjson refuses
    (integers beyond 64 bits, lone surrogates, which it escapes).
    """
    try:
        return _fast_dumps(value)
    except TypeError:
        return _stdlib_dumps(value)


def loads(body: bytes) -> Any:
    """Parse a JSON body; ``ValueError`` or ``RecursionError`` if it is not JSON.

    Every digit of an integer id is kept (see `parse_json`), so it is echoed
    exactly as sent.
    """
    return parse_json(body)


def is_id(value: object) -> bool:
    """Whether *value* is a valid request id: a string, a number (not a boolean) or null."""
    return value is None or type(value) in (str, int, float)


class BadCall:
    """An element that is not a valid Request object, and the id to answer it with."""

    __slots__ = ("id",)

    def __init__(self, call_id: RequestID) -> None:
        self.id = call_id


SPEC_VERSIONS = frozenset({"2.0"})
"""The values of the ``jsonrpc`` member the specification allows: exactly ``"2.0"``."""


def parse_call(
    element: object, versions: frozenset[str] = SPEC_VERSIONS
) -> JSONRPCRequest | BadCall:
    """Check one Request object; a notification is a valid call without an ``id`` member.

    An invalid one is answered with its id when that id is valid, else with null. The
    ``jsonrpc`` member must be one of *versions*.
    """
    if type(element) is not dict:
        return BadCall(None)
    notification = "id" not in element
    call_id = element.get("id")
    if not is_id(call_id):
        return BadCall(None)
    version, method = element.get("jsonrpc"), element.get("method")
    if type(version) is not str or version not in versions or type(method) is not str:
        return BadCall(call_id)
    params = element.get("params")
    if type(params) not in (list, dict) and "params" in element:  # present, so structured
        return BadCall(call_id)
    return JSONRPCRequest(method, params, call_id, notification)


def result_object(result: object, call_id: RequestID) -> bytes:
    """A success Response object."""
    return b'{"jsonrpc":"2.0","result":%b,"id":%b}' % (dumps(result), dumps(call_id))


def error_object(code: int, message: str, data: object, call_id: RequestID) -> bytes:
    """An error Response object; ``data`` is left out when it is None."""
    error: dict[str, object] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return b'{"jsonrpc":"2.0","error":%b,"id":%b}' % (dumps(error), dumps(call_id))


def public_error(error: BaseException) -> tuple[int, str, object] | None:
    """The (code, message, data) an `ErrorCoder` declares, or None for any other error.

    An error is an ErrorCoder when its ``code`` is an int (not a bool) and it
    does not set ``expose = False``. Reading a broken error never raises.
    """
    try:
        code = getattr(error, "code", None)
        if type(code) is not int or getattr(error, "expose", True) is False:
            return None
        message = str(error) or error_message(code)
        return code, message, getattr(error, "data", None)
    except Exception:  # a broken __str__ or property: treat it as an internal error
        return None
