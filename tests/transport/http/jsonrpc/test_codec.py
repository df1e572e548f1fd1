"""params_decoder, the error codes and JSONRPCError."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict

import pytest

from pygokit.errors import GoKitError
from pygokit.transport.http import BadRequest
from pygokit.transport.http.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    ErrorCoder,
    InternalError,
    InvalidParams,
    InvalidRequest,
    JSONRPCError,
    MethodNotFound,
    Params,
    ParseError,
    error_message,
    params_decoder,
)


@dataclass(frozen=True)
class Move:
    """Params with a default and a keyword-only field."""

    x: int
    y: int = 0
    label: str = field(default="", kw_only=True)


class Range(TypedDict):
    """TypedDict params."""

    low: int
    high: int


@dataclass(frozen=True)
class Positive:
    """Params with their own checks."""

    n: int

    def __post_init__(self) -> None:
        if self.n == 0:
            raise BadRequest("n must not be zero")
        if self.n < 0:
            raise ValueError("negative")


@dataclass(frozen=True)
class Tree:
    """A recursive type."""

    children: list[Tree]


@pytest.mark.parametrize(
    ("params", "decoded"),
    [
        ([3, 4], Move(3, 4)),
        ([3], Move(3)),
        ({"x": 3, "y": 4, "label": "a"}, Move(3, 4, label="a")),
        ({"y": 4, "x": 3}, Move(3, 4)),
    ],
)
def test_dataclass_params_by_position_or_by_name(params: Params, decoded: Move) -> None:
    """Positional params fill fields in order; named params fill them by name."""
    assert params_decoder(Move)(params) == decoded


def test_typed_dict_params_by_position_or_by_name() -> None:
    """TypedDicts take positional params in declaration order too."""
    decode = params_decoder(Range)

    assert decode([1, 5]) == decode({"high": 5, "low": 1}) == {"low": 1, "high": 5}


def test_no_params_is_no_named_params() -> None:
    """A call without params builds a record from its defaults, or names what is missing."""

    @dataclass(frozen=True)
    class Defaults:
        page: int = 1

    assert params_decoder(Defaults)(None) == Defaults()
    with pytest.raises(InvalidParams) as caught:
        params_decoder(Move)(None)
    assert caught.value.data == "params.x: required but missing"


def test_other_types_take_the_params_as_they_are() -> None:
    """A list or dict type decodes the params themselves."""
    assert params_decoder(list[int])([1, 2, 4]) == [1, 2, 4]
    assert params_decoder(dict[str, float])({"a": 1}) == {"a": 1.0}


@pytest.mark.parametrize(
    ("type_", "params", "data"),
    [
        (Move, ["3"], "params.x: expected integer, got string"),
        (Move, [1, 2, 3], "takes at most 2 positional params, got 3"),
        (Move, {"x": 1, "z": 2}, "params.z: not a field of Move"),
        (Move, {"x": True}, "params.x: expected integer, got boolean"),
        (list[int], {"a": 1}, "params: expected array, got object"),
        (list[int], [1, "2"], "params[1]: expected integer, got string"),
        (Positive, [0], "n must not be zero"),
        (Positive, [-1], "params: rejected by Positive's checks"),
    ],
)
def test_params_that_do_not_fit_raise_invalid_params(type_: Any, params: Params, data: str) -> None:
    """Wrong types, unknown fields and too many params raise -32602 naming the problem."""
    with pytest.raises(InvalidParams) as caught:
        params_decoder(type_)(params)

    assert caught.value.code == INVALID_PARAMS
    assert caught.value.message == "Invalid params"
    assert caught.value.data == data


def test_params_nested_too_deeply_are_invalid() -> None:
    """A recursive type fed deeper than Python's stack is refused, not crashed."""
    deep: dict[str, Any] = {"children": []}
    for _ in range(5000):
        deep = {"children": [deep]}

    with pytest.raises(InvalidParams) as caught:
        params_decoder(Tree)(deep)

    assert caught.value.data == "params are nested too deeply"


def test_unsupported_types_are_refused_when_the_decoder_is_built() -> None:
    """A type the decoder cannot derive raises TypeError at once, not per call."""
    with pytest.raises(TypeError):
        params_decoder(complex)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (PARSE_ERROR, "Parse error"),
        (INVALID_REQUEST, "Invalid Request"),
        (METHOD_NOT_FOUND, "Method not found"),
        (INVALID_PARAMS, "Invalid params"),
        (INTERNAL_ERROR, "Internal error"),
        (-32000, "Server error"),
        (-32099, "Server error"),
        (-32100, "Error"),
        (1, "Error"),
    ],
)
def test_error_message_is_the_specifications(code: int, message: str) -> None:
    """The five codes have the spec's messages; the server range is "Server error"."""
    assert error_message(code) == message


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (ParseError, PARSE_ERROR),
        (InvalidRequest, INVALID_REQUEST),
        (MethodNotFound, METHOD_NOT_FOUND),
        (InvalidParams, INVALID_PARAMS),
        (InternalError, INTERNAL_ERROR),
    ],
)
def test_standard_errors_carry_their_code_and_message(
    kind: Callable[[], JSONRPCError], code: int
) -> None:
    """Each standard error is a JSONRPCError and a GoKitError with its code and message."""
    error = kind()

    assert (error.code, error.message, error.data) == (code, error_message(code), None)
    assert str(error) == error_message(code)
    assert isinstance(error, GoKitError)
    assert isinstance(error, ErrorCoder)
    assert error.expose is True


def test_from_object_builds_the_subclass_and_never_exposes() -> None:
    """A client's errors are the subclass for standard codes, and never shown by a server."""
    standard = JSONRPCError.from_object(-32601, "Method not found", {"m": "x"})
    custom = JSONRPCError.from_object(-32001, "locked")

    assert type(standard) is MethodNotFound
    assert (standard.code, standard.message, standard.data) == (
        -32601,
        "Method not found",
        {"m": "x"},
    )
    assert type(custom) is JSONRPCError
    assert (custom.code, custom.message) == (-32001, "locked")
    assert standard.expose is custom.expose is False


def test_error_code_must_be_an_int() -> None:
    """A JSONRPCError with a code that is not an int (a bool included) is refused."""
    with pytest.raises(TypeError):
        JSONRPCError(True)
    with pytest.raises(TypeError):
        JSONRPCError("1")  # type: ignore[arg-type]


def test_error_repr_shows_code_message_and_data() -> None:
    """The repr names the class, the code, the message and any data."""
    assert repr(MethodNotFound()) == "MethodNotFound(code=-32601, message='Method not found')"
    assert repr(JSONRPCError(7, "x", [1])) == "JSONRPCError(code=7, message='x', data=[1])"
