"""JSONRPCServer's error model: generic errors with a request id, and ErrorCoders shown as-is."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pygokit.transport.http.jsonrpc import InvalidParams, JSONRPCError, Params
from tests.transport.http.jsonrpc.support import (
    SECRET,
    Reported,
    call_body,
    echo,
    failing,
    identity,
    only,
    rpc,
    wire,
)


async def test_a_decoder_raising_invalid_params_is_shown_as_raised() -> None:
    """InvalidParams from a decoder is -32602 with its message and data."""

    def decode(params: Params) -> int:
        raise InvalidParams("need one number", data={"got": params})

    reply = await rpc(only(echo, decode), call_body("m", [1, 2]))

    assert wire(reply)["error"] == {
        "code": -32602,
        "message": "need one number",
        "data": {"got": [1, 2]},
    }


async def test_any_other_decoder_error_is_a_generic_invalid_params() -> None:
    """A decoder's own exception is -32602 "Invalid params" with only a request id as data."""
    reported = Reported()

    def decode(params: Params) -> int:
        raise KeyError(SECRET)

    reply = await rpc(only(echo, decode, error_handler=reported), call_body("m", {}))

    request_id = reply.header("x-request-id")
    assert request_id is not None
    assert wire(reply)["error"] == {
        "code": -32602,
        "message": "Invalid params",
        "data": {"request_id": request_id},
    }
    assert "secret" not in reply.body.decode()
    assert [type(error) for error in reported.errors] == [KeyError]
    assert reported.request_ids == [request_id]


async def test_endpoint_errors_are_generic_internal_errors_with_the_request_id() -> None:
    """S6: an endpoint's exception becomes -32603 with a request id and no text of its own.

    The error handler gets the real error with the same id and the method name.
    """
    reported = Reported()
    server = only(failing, error_handler=reported)

    reply = await rpc(server, call_body("m", call_id=9))

    request_id = reply.header("x-request-id")
    assert reply.status == 200
    assert wire(reply) == {
        "jsonrpc": "2.0",
        "error": {"code": -32603, "message": "Internal error", "data": {"request_id": request_id}},
        "id": 9,
    }
    for leak in ("secret", "RuntimeError", "Traceback", ".py"):
        assert leak not in reply.body.decode()
    assert [str(error) for error in reported.errors] == [SECRET]
    assert reported.request_ids == [request_id]
    assert reported.methods == ["m"]


async def test_a_client_request_id_is_reused_when_it_is_sane() -> None:
    """The X-Request-Id the client sent is the id of the error response and the report."""
    reported = Reported()
    headers = ((b"content-type", b"application/json"), (b"x-request-id", b"trace-42"))

    reply = await rpc(only(failing, error_handler=reported), call_body("m"), headers=headers)

    assert wire(reply)["error"]["data"] == {"request_id": "trace-42"}
    assert reported.request_ids == ["trace-42"]


async def test_encoder_errors_are_internal_errors() -> None:
    """An encoder that raises gives -32603, as an endpoint that raises does."""

    def encode(result: object) -> object:
        raise TypeError(SECRET)

    reply = await rpc(only(echo, identity, encode), call_body("m", [1]))

    assert wire(reply)["error"]["code"] == -32603
    assert "secret" not in reply.body.decode()


@pytest.mark.parametrize(
    "result", [object(), {1, 2}, [2**70, float("nan")], {"k": b"bytes"}], ids=repr
)
async def test_results_that_are_not_json_are_internal_errors(result: object) -> None:
    """A result that cannot be serialised answers -32603; the handler learns why."""
    reported = Reported()

    async def endpoint(request: object) -> object:
        return result

    reply = await rpc(only(endpoint, error_handler=reported), call_body("m", [1], call_id=3))

    assert wire(reply)["error"]["code"] == -32603
    assert wire(reply)["id"] == 3
    assert len(reported.errors) == 1


@dataclass(frozen=True)
class Point:
    """A dataclass result."""

    x: int
    y: int


async def test_dataclass_results_serialise_as_objects() -> None:
    """An endpoint may return a dataclass; it is sent as a JSON object."""

    async def endpoint(request: object) -> Point:
        return Point(1, 2)

    reply = await rpc(only(endpoint), call_body("m"))

    assert wire(reply)["result"] == {"x": 1, "y": 2}


class Locked(Exception):
    """A user error that declares its code and data: an ErrorCoder."""

    code = -32001

    def __init__(self, account: str) -> None:
        super().__init__(f"account {account} is locked")
        self.data = {"account": account}


class BrokenText(Exception):
    """An ErrorCoder whose text cannot be read."""

    code = -32002

    def __str__(self) -> str:
        raise ValueError("no text")


class BadData(Exception):
    """An ErrorCoder whose data is not JSON."""

    code = -32003
    data = object()


class Flag(Exception):
    """Not an ErrorCoder: its code is a boolean."""

    code = True


class Silent(Exception):
    """An ErrorCoder with no message: the standard one for its code is used."""

    code = -32601


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (
            Locked("a-1"),
            {"code": -32001, "message": "account a-1 is locked", "data": {"account": "a-1"}},
        ),
        (JSONRPCError(42, "teapot"), {"code": 42, "message": "teapot"}),
        (JSONRPCError(-32050), {"code": -32050, "message": "Server error"}),
        (Silent(), {"code": -32601, "message": "Method not found"}),
    ],
    ids=["user class", "JSONRPCError", "server error range", "empty message"],
)
async def test_error_coders_are_shown_as_they_are(error: Exception, shown: object) -> None:
    """Go kit's ErrorCoder: the error's code, text and data are the error object."""

    async def endpoint(request: object) -> object:
        raise error

    reply = await rpc(only(endpoint), call_body("m"))

    assert wire(reply)["error"] == shown
    assert reply.header("x-request-id") is None


@pytest.mark.parametrize(
    "error",
    [
        BrokenText(),
        BadData(),
        Flag(SECRET),
        JSONRPCError.from_object(-32001, SECRET),
        JSONRPCError(7, SECRET, expose=False),
    ],
    ids=["broken __str__", "data not JSON", "bool code", "from a client", "expose False"],
)
async def test_errors_that_cannot_be_shown_are_internal_errors(error: Exception) -> None:
    """Broken ErrorCoders, boolean codes and errors with expose False answer -32603."""
    reported = Reported()

    async def endpoint(request: object) -> object:
        raise error

    reply = await rpc(only(endpoint, error_handler=reported), call_body("m"))

    assert wire(reply)["error"]["code"] == -32603
    assert wire(reply)["error"]["message"] == "Internal error"
    assert "secret" not in reply.body.decode()
    assert reported.errors[0] is error


async def test_a_raising_error_handler_does_not_change_the_answer() -> None:
    """An error handler that raises is ignored; the client still gets its error object."""

    class Raising:
        def handle(self, error: Exception) -> None:
            raise OSError("log disk full")

    reply = await rpc(only(failing, error_handler=Raising()), call_body("m"))

    assert wire(reply)["error"]["code"] == -32603
