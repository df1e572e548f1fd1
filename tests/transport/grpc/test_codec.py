"""Errors into gRPC statuses: the mapping table, no leaks, request ids, custom encoders."""

from __future__ import annotations

import grpc
import pytest

from pygokit.resilience import DeadlineExceeded
from pygokit.testing import CapturingLogger, RecordingEndpoint
from pygokit.transport import ErrorHandlerFunc, LogErrorHandler
from pygokit.transport.grpc import (
    Server,
    Status,
    StatusError,
    code_for_http_status,
    default_error_encoder,
)
from pygokit.transport.grpc import context as grpc_context
from pygokit.transport.http import BadRequest
from tests.transport.grpc.harness import decode_say, encode_text, raw_call, running, say_bytes

Code = grpc.StatusCode


class Declared(Exception):
    """An error that declares a gRPC code but not that its message is safe."""

    grpc_status = Code.NOT_FOUND


class HTTPish(Exception):
    """An error with an HTTP status (a StatusCoder), exposed or not."""

    def __init__(self, message: str, status: int, *, expose: bool = False) -> None:
        super().__init__(message)
        self.status_code = status
        self.expose = expose


class BrokenStr(Exception):
    """An exposed error whose __str__ fails."""

    grpc_status = Code.ABORTED
    expose = True

    def __str__(self) -> str:
        raise RuntimeError("no text")


async def answer(
    error: Exception, *, metadata: list[tuple[str, str]] | None = None
) -> tuple[Code, str, str | bytes | None]:
    """The (code, details, x-request-id trailer) a server answers when its endpoint raises."""
    endpoint = RecordingEndpoint[str, str](then=error)
    async with running({"Say": Server(endpoint, decode_say, encode_text)}) as port:
        reply = await raw_call(port, say_bytes(), metadata=metadata or [])
    return reply.code, reply.details, reply.trailer.get("x-request-id")


@pytest.mark.parametrize(
    ("error", "code", "details"),
    [
        (StatusError(Code.NOT_FOUND, "no profile 42"), Code.NOT_FOUND, "no profile 42"),
        (Declared("user 42 not in table t_users"), Code.NOT_FOUND, "not found"),
        (HTTPish("locked by job 7", 409), Code.ABORTED, "aborted"),
        (HTTPish("slow down", 429, expose=True), Code.RESOURCE_EXHAUSTED, "slow down"),
        (BadRequest("field 'a' is required"), Code.INVALID_ARGUMENT, "field 'a' is required"),
        (HTTPish("teapot", 418), Code.INVALID_ARGUMENT, "invalid argument"),
        (HTTPish("db down at 10.0.0.3", 503), Code.UNAVAILABLE, "unavailable"),
        (HTTPish("odd", 200), Code.INTERNAL, None),
        (DeadlineExceeded(0.5), Code.DEADLINE_EXCEEDED, "deadline exceeded"),
        (TimeoutError("db took 30s"), Code.DEADLINE_EXCEEDED, "deadline exceeded"),
        (BrokenStr(), Code.ABORTED, "aborted"),
    ],
)
async def test_error_mapping_table(error: Exception, code: Code, details: str | None) -> None:
    """Each kind of error gets its code; only exposed messages reach the client."""
    got_code, got_details, rid = await answer(error)

    assert got_code == code
    if details is not None:
        assert got_details == details
    assert rid


@pytest.mark.parametrize(
    "error", [RuntimeError("secret-XYZ"), KeyError("secret-XYZ"), Declared("secret-XYZ")]
)
async def test_no_internal_text_is_leaked(error: Exception) -> None:
    """S6/T8: an endpoint raising 'secret-XYZ' answers without the text, class or traceback."""
    code, details, rid = await answer(error)

    assert isinstance(rid, str)
    for leak in ("secret-XYZ", "RuntimeError", "KeyError", "Traceback", ".py", "Unexpected"):
        assert leak not in details
    if code == Code.INTERNAL:
        assert details == f"internal error; request id {rid}"


async def test_the_error_handler_gets_the_real_error_with_the_same_request_id() -> None:
    """The id in the status is the one in context.request_id while the error is handled."""
    logged: list[tuple[Exception, str]] = []
    failure = RuntimeError("secret-XYZ")
    endpoint = RecordingEndpoint[str, str](then=failure)
    handler = ErrorHandlerFunc(lambda error: logged.append((error, grpc_context.request_id.get())))
    async with running(
        {"Say": Server(endpoint, decode_say, encode_text, error_handler=handler)}
    ) as port:
        reply = await raw_call(port, say_bytes())

    assert logged == [(failure, reply.trailer["x-request-id"])]
    assert reply.details.endswith(logged[0][1])


@pytest.mark.parametrize(
    ("sent", "kept"), [("req-42.a_b", True), ("bad id!", False), ("x" * 65, False)]
)
async def test_a_sane_client_request_id_is_reused(sent: str, kept: bool) -> None:
    """A client's x-request-id is echoed when it is a sane token, replaced otherwise."""
    _, _, rid = await answer(RuntimeError("boom"), metadata=[("x-request-id", sent)])

    assert (rid == sent) is kept
    assert isinstance(rid, str)
    assert 1 <= len(rid) <= 64


async def test_a_custom_error_encoder_chooses_status_and_trailers() -> None:
    """An error encoder may answer any code, details and (checked) trailers."""

    def encoder(error: Exception, request_id: str) -> Status:
        return Status(Code.FAILED_PRECONDITION, f"custom: {request_id}", (("x-retry", "no"),))

    endpoint = RecordingEndpoint[str, str](then=RuntimeError("x"))
    server = Server(endpoint, decode_say, encode_text, error_encoder=encoder)
    async with running({"Say": server}) as port:
        reply = await raw_call(port, say_bytes(), metadata=[("x-request-id", "r1")])

    assert (reply.code, reply.details, reply.trailer["x-retry"]) == (
        Code.FAILED_PRECONDITION,
        "custom: r1",
        "no",
    )


@pytest.mark.parametrize(
    "returned",
    [
        "not a status",
        Status(Code.OK, "fine"),
        Status(Code.NOT_FOUND, b"bytes"),  # type: ignore[arg-type]
        Status(Code.NOT_FOUND, "x", (("x-evil", "a\nb"),)),
        RuntimeError("encoder broke"),
    ],
)
async def test_a_broken_error_encoder_falls_back_to_a_generic_internal_status(
    returned: object,
) -> None:
    """An encoder that raises or returns nonsense is reported; the client gets INTERNAL."""
    logger = CapturingLogger()

    def encoder(error: Exception, request_id: str) -> Status:
        if isinstance(returned, Exception):
            raise returned
        return returned  # type: ignore[return-value]

    endpoint = RecordingEndpoint[str, str](then=ValueError("first"))
    server = Server(
        endpoint,
        decode_say,
        encode_text,
        error_encoder=encoder,
        error_handler=LogErrorHandler(logger),
    )
    async with running({"Say": server}) as port:
        reply = await raw_call(port, say_bytes())

    assert reply.code == Code.INTERNAL
    assert reply.details == f"internal error; request id {reply.trailer['x-request-id']!s}"
    assert len(logger.events) == 2


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, Code.INVALID_ARGUMENT),
        (401, Code.UNAUTHENTICATED),
        (403, Code.PERMISSION_DENIED),
        (404, Code.NOT_FOUND),
        (408, Code.DEADLINE_EXCEEDED),
        (409, Code.ABORTED),
        (412, Code.FAILED_PRECONDITION),
        (413, Code.RESOURCE_EXHAUSTED),
        (416, Code.OUT_OF_RANGE),
        (422, Code.INVALID_ARGUMENT),
        (429, Code.RESOURCE_EXHAUSTED),
        (499, Code.CANCELLED),
        (500, Code.INTERNAL),
        (501, Code.UNIMPLEMENTED),
        (502, Code.UNAVAILABLE),
        (503, Code.UNAVAILABLE),
        (504, Code.DEADLINE_EXCEEDED),
        (507, Code.INTERNAL),
    ],
)
def test_http_statuses_map_to_grpc_codes(status: int, code: Code) -> None:
    """HTTP statuses map to the gRPC codes google.rpc.Code pairs them with."""
    assert code_for_http_status(status) is code


def test_default_error_encoder_directly() -> None:
    """The encoder is a plain function: code, details and the request id trailer."""
    status = default_error_encoder(RuntimeError("x"), "abc")

    assert status == Status(
        Code.INTERNAL, "internal error; request id abc", (("x-request-id", "abc"),)
    )


def test_a_status_error_needs_an_error_code() -> None:
    """StatusError(OK, ...) is a mistake caught at once."""
    with pytest.raises(ValueError, match="not OK"):
        StatusError(Code.OK, "fine")
