"""Turning messages into endpoint values and back, and errors into gRPC statuses.

A `Server` takes a decoder ``(request message) -> Req`` and an encoder
``(Resp) -> reply message``; a `Client` the reverse pair. They are plain
functions, as in Go kit: the message is already in memory.

Errors become statuses in `default_error_encoder`, which is secure by default.
Go kit returns endpoint errors as they are, and gRPC then answers ``UNKNOWN``
with the error's text (grpcio sends ``"Unexpected <class ...>: <message>"``), so
internals reach the client. Here:

* an error with ``grpc_status`` (a ``StatusCode``, `GRPCStatuser`) gets that code;
* an error with an int ``status_code`` in 400-599 (HTTP's `StatusCoder`) gets the
  matching code (`code_for_http_status`: 404 is ``NOT_FOUND``, 503 ``UNAVAILABLE``);
* a ``TimeoutError`` (a timeout middleware's, a downstream deadline's) gets
  ``DEADLINE_EXCEEDED``;
* anything else gets ``INTERNAL``.

The details are the error's message only if it declares ``expose = True``;
otherwise they are generic (``"not found"``; for ``INTERNAL``,
``"internal error; request id 3f9c..."``).

Every error status carries the request id in an ``x-request-id`` trailer; the
server gives the error handler the real error with the same id in
`pygokit.transport.grpc.context.request_id`. `StatusError` is the error to raise
for a status with a message meant for the client.

Example::

    async def lookup(request: Lookup) -> Profile:
        if request.id not in profiles:
            raise StatusError(grpc.StatusCode.NOT_FOUND, f"no profile {request.id}")
        return profiles[request.id]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, TypeVar

from pygokit._extras import missing_extra

try:
    import grpc
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.transport.grpc.codec", "grpc") from exc

from pygokit.errors import GoKitError
from pygokit.transport.grpc.metadata import Pairs

__all__ = [
    "DecodeRequest",
    "DecodeResponse",
    "EncodeRequest",
    "EncodeResponse",
    "ErrorEncoder",
    "Finalizer",
    "GRPCStatuser",
    "Status",
    "StatusError",
    "code_for_http_status",
    "default_error_encoder",
]

Req = TypeVar("Req")
Resp = TypeVar("Resp")

DecodeRequest: TypeAlias = Callable[[Any], Req]
"""Server side: turns the request message into the endpoint's request."""

EncodeResponse: TypeAlias = Callable[[Resp], Any]
"""Server side: turns the endpoint's response into the reply message."""

EncodeRequest: TypeAlias = Callable[[Req], Any]
"""Client side: turns the endpoint's request into the request message."""

DecodeResponse: TypeAlias = Callable[[Any], Resp]
"""Client side: turns the reply message into the endpoint's response."""

Finalizer: TypeAlias = Callable[[grpc.StatusCode, BaseException | None], None]
"""Runs last, always, with the status code and the error (Go kit's ``ServerFinalizer``).

On a server the code is the one sent (``CANCELLED`` or ``DEADLINE_EXCEEDED``
when the RPC was cut short) and the error is what the endpoint, a codec or a
hook raised. On a client the code is the one received, ``CANCELLED`` if the
caller was cancelled, or ``INTERNAL`` for a failure before or after the RPC
(encoding, metadata, decoding).
"""


@dataclass(frozen=True, slots=True)
class Status:
    """A gRPC status to answer with: code, details and trailing metadata."""

    code: grpc.StatusCode
    details: str
    trailers: Pairs = ()


ErrorEncoder: TypeAlias = Callable[[Exception, str], Status]
"""Turns an error and the request id into the status the client gets."""


class GRPCStatuser(Protocol):
    """An error that chooses its gRPC status code (the gRPC twin of HTTP's `StatusCoder`)."""

    @property
    def grpc_status(self) -> grpc.StatusCode:
        """The code to answer with."""


class StatusError(GoKitError):
    """An error whose code and message are meant for the client.

    It declares ``grpc_status`` and ``expose = True``, so `default_error_encoder`
    answers with this code and shows this message.

    Attributes:
        grpc_status: The status code.
    """

    expose = True

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        if code is grpc.StatusCode.OK:
            raise ValueError("a StatusError needs an error code, not OK")
        super().__init__(message)
        self.grpc_status = code


_HTTP_TO_GRPC = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    408: grpc.StatusCode.DEADLINE_EXCEEDED,
    409: grpc.StatusCode.ABORTED,
    412: grpc.StatusCode.FAILED_PRECONDITION,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    416: grpc.StatusCode.OUT_OF_RANGE,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    499: grpc.StatusCode.CANCELLED,
    501: grpc.StatusCode.UNIMPLEMENTED,
    502: grpc.StatusCode.UNAVAILABLE,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}


def code_for_http_status(status: int) -> grpc.StatusCode:
    """The gRPC code for an HTTP status, as google.rpc.Code documents the pairs.

    400 ``INVALID_ARGUMENT``, 401 ``UNAUTHENTICATED``, 403 ``PERMISSION_DENIED``,
    404 ``NOT_FOUND``, 408 and 504 ``DEADLINE_EXCEEDED``, 409 ``ABORTED``, 412
    ``FAILED_PRECONDITION``, 413 and 429 ``RESOURCE_EXHAUSTED``, 416
    ``OUT_OF_RANGE``, 499 ``CANCELLED``, 501 ``UNIMPLEMENTED``, 502 and 503
    ``UNAVAILABLE``; any other 4xx ``INVALID_ARGUMENT`` (the client's mistake) and
    anything else ``INTERNAL``.
    """
    code = _HTTP_TO_GRPC.get(status)
    if code is not None:
        return code
    return grpc.StatusCode.INVALID_ARGUMENT if 400 <= status <= 499 else grpc.StatusCode.INTERNAL


def _generic(code: grpc.StatusCode) -> str:
    if code is grpc.StatusCode.INTERNAL:
        return "internal error"
    return code.name.lower().replace("_", " ")


def _code(error: Exception) -> grpc.StatusCode:
    declared = getattr(error, "grpc_status", None)
    if isinstance(declared, grpc.StatusCode) and declared is not grpc.StatusCode.OK:
        return declared
    status = getattr(error, "status_code", None)
    if type(status) is int and 400 <= status <= 599:
        return code_for_http_status(status)
    if isinstance(error, TimeoutError):
        return grpc.StatusCode.DEADLINE_EXCEEDED
    return grpc.StatusCode.INTERNAL


def default_error_encoder(error: Exception, request_id: str) -> Status:
    """Answer with the code the table in the module docstring gives, and safe details.

    The details are the error's own message only if it declares ``expose =
    True`` (as `StatusError` and pygokit's `HTTPError` do); otherwise they are
    generic ("not found", "internal error; request id 3f9c..."), so no internal
    detail, class name, path or traceback reaches the client. The request id
    travels in an ``x-request-id`` trailer, and the server hands the error to its
    error handler with the same id.
    """
    code = _code(error)
    details = ""
    if getattr(error, "expose", False) is True:
        try:
            details = str(error)
        except Exception:  # a broken __str__ must not break the error status
            details = ""
    if not details:
        details = _generic(code)
        if code is grpc.StatusCode.INTERNAL:
            details = f"{details}; request id {request_id}"
    return Status(code, details, (("x-request-id", request_id),))
