"""JSON-RPC 2.0 error codes, and the error that carries one across the wire.

The specification reserves five codes; `error_message` gives each its standard
message. A server answers with an error object ``{"code", "message", "data"}``;
a `JSONRPCClient` raises that object as a `JSONRPCError` (or the subclass for its
code, such as `MethodNotFound`).

On the server side an endpoint, decoder or encoder chooses the error its caller
sees by raising an `ErrorCoder`: any exception with an int ``code`` attribute
(and optionally ``data``). Its code, its ``str()`` and its ``data`` go on the wire
as they are, so raise one only with text written for the client. Every other
exception is answered with a generic "Internal error" (or "Invalid params", when a
decoder raised it) and the server's request id, never with its own text.

Example::

    class InsufficientFunds(JSONRPCError):
        def __init__(self, missing: int) -> None:
            super().__init__(-32010, "insufficient funds", {"missing": missing})
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from pygokit.errors import GoKitError

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "ErrorCoder",
    "InternalError",
    "InvalidParams",
    "InvalidRequest",
    "JSONRPCError",
    "MethodNotFound",
    "ParseError",
    "error_message",
]

PARSE_ERROR = -32700
"""The body is not JSON."""
INVALID_REQUEST = -32600
"""The JSON is not a valid Request object (or is an empty batch)."""
METHOD_NOT_FOUND = -32601
"""No method of that name is served."""
INVALID_PARAMS = -32602
"""The method's decoder refused the params."""
INTERNAL_ERROR = -32603
"""The server failed; the details went to its error handler, not to the client."""

_MESSAGES = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
}


def error_message(code: int) -> str:
    """The specification's message for *code*: ``"Method not found"`` for -32601, and so on.

    Codes -32000 to -32099 (reserved for implementation-defined server errors) are
    ``"Server error"``; any other code is ``"Error"``.
    """
    message = _MESSAGES.get(code)
    if message is not None:
        return message
    return "Server error" if -32099 <= code <= -32000 else "Error"


@runtime_checkable
class ErrorCoder(Protocol):
    """An exception that chooses its JSON-RPC error code (Go kit's ``ErrorCode()``).

    A server shows such an error as it is: the code, ``str(error)`` as the
    message and, if the error has one, its ``data`` attribute. An error that
    sets ``expose = False`` is treated as any other exception (generic message).
    """

    @property
    def code(self) -> int:
        """The error code to answer with."""


class JSONRPCError(GoKitError):
    """A JSON-RPC error object as an exception: ``code``, ``message`` and ``data``.

    Raise it from an endpoint, decoder or encoder to answer with exactly this
    error (it is an `ErrorCoder`); a `JSONRPCClient` raises it when the server
    answers with an error object.

    Args:
        code: The error code; the range -32768 to -32000 is the protocol's own.
        message: A short sentence for the client; defaults to `error_message`.
        data: Any JSON-serialisable detail, or None for none.
        expose: Whether a `JSONRPCServer` may show this error to its client as
            it is. The client sets it to False on the errors it raises, so that
            an upstream's error that escapes an endpoint becomes an internal error
            instead of passing through; re-raise it on purpose to pass it on.

    Example::

        raise JSONRPCError(-32001, "account is locked", data={"account": account_id})
    """

    code: int
    message: str
    data: object
    expose: bool

    def __init__(
        self, code: int, message: str | None = None, data: object = None, *, expose: bool = True
    ) -> None:
        if type(code) is not int:
            raise TypeError(f"a JSON-RPC error code is an int, got {type(code).__name__}")
        self.code = code
        self.message = message or error_message(code)
        self.data = data
        self.expose = expose
        super().__init__(self.message)

    @classmethod
    def from_object(cls, code: int, message: str, data: object = None) -> JSONRPCError:
        """The error a client raises for an error object: the subclass for a standard code.

        Its ``expose`` is False (see the class docs).
        """
        kind = _BY_CODE.get(code)
        if kind is None:
            return JSONRPCError(code, message, data, expose=False)
        error = kind(message, data)
        error.expose = False
        return error

    def __repr__(self) -> str:
        data = "" if self.data is None else f", data={self.data!r}"
        return f"{type(self).__name__}(code={self.code}, message={self.message!r}{data})"


class ParseError(JSONRPCError):
    """-32700: the body is not valid JSON."""

    def __init__(self, message: str | None = None, data: object = None) -> None:
        super().__init__(PARSE_ERROR, message, data)


class InvalidRequest(JSONRPCError):
    """-32600: the JSON is not a valid Request object."""

    def __init__(self, message: str | None = None, data: object = None) -> None:
        super().__init__(INVALID_REQUEST, message, data)


class MethodNotFound(JSONRPCError):
    """-32601: the server serves no method of that name."""

    def __init__(self, message: str | None = None, data: object = None) -> None:
        super().__init__(METHOD_NOT_FOUND, message, data)


class InvalidParams(JSONRPCError):
    """-32602: the params do not fit the method; raise it from a params decoder.

    Example::

        def decode(params: Params) -> Subtract:
            if not isinstance(params, list) or len(params) != 2:
                raise InvalidParams(data="expected [minuend, subtrahend]")
            return Subtract(*params)
    """

    def __init__(self, message: str | None = None, data: object = None) -> None:
        super().__init__(INVALID_PARAMS, message, data)


class InternalError(JSONRPCError):
    """-32603: the server failed; the client learns nothing more than that."""

    def __init__(self, message: str | None = None, data: object = None) -> None:
        super().__init__(INTERNAL_ERROR, message, data)


_BY_CODE: dict[int, Callable[[str, object], JSONRPCError]] = {
    PARSE_ERROR: ParseError,
    INVALID_REQUEST: InvalidRequest,
    METHOD_NOT_FOUND: MethodNotFound,
    INVALID_PARAMS: InvalidParams,
    INTERNAL_ERROR: InternalError,
}
