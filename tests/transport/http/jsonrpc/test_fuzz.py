"""Hypothesis-generated bodies: the server always answers well-formed JSON-RPC, never a 5xx.

Bodies are random bytes, JSON values, near-valid Request objects and batches of
them, serialised or cut short. For each, an oracle derived from the
specification says how many responses must come back and with which ids; the
reply must match it, be JSON, carry no traceback or internal text, and the error
handler must see only the protocol's own errors and the planted failure.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pygokit.transport.http.jsonrpc import EndpointCodec, JSONRPCError, JSONRPCServer
from pygokit.transport.http.request import parse_json
from tests.transport.http.jsonrpc.support import Reported, Service, identity, rpc, spec_server

SECRET = "secret-XYZ"
ABSENT = object()


def mostly(valid: st.SearchStrategy[object], other: st.SearchStrategy[object]) -> Any:
    """Draw from *valid* nine times in ten, from *other* otherwise."""
    return st.integers(0, 9).flatmap(lambda n: valid if n else other)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
methods = mostly(
    st.sampled_from(["subtract", "sum", "get_data", "update", "boom", "coder", "rpc.x", ""]),
    st.text(max_size=6),
)
params = st.one_of(
    st.just(ABSENT),
    st.lists(st.integers(), min_size=2, max_size=2),
    st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=3),
    st.fixed_dictionaries({"minuend": st.integers(), "subtrahend": st.integers()}),
    values,
)


@st.composite
def calls(draw: st.DrawFn) -> object:
    """A Request object, valid or nearly so: each member may be missing or of a wrong type."""
    call: dict[str, object] = {}
    members = {
        "jsonrpc": mostly(st.just("2.0"), values),
        "method": mostly(methods, values),
        "params": mostly(params, values),
        "id": mostly(st.just(ABSENT) | st.integers() | st.text(max_size=4) | st.none(), values),
    }
    for name, strategy in members.items():
        if draw(st.integers(0, 19)):
            value = draw(strategy)
            if value is not ABSENT:
                call[name] = value
    if not draw(st.integers(0, 4)):
        call.update(draw(st.dictionaries(st.text(max_size=4), values, max_size=2)))
    return call


documents = st.one_of(calls(), st.lists(calls() | values, max_size=6), values)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """A document serialised, perhaps cut short or spliced with bytes; or bytes alone."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=64))
    text = json.dumps(draw(documents), ensure_ascii=draw(st.booleans())).encode()
    if kind == 1:
        return text[: draw(st.integers(0, len(text)))]
    if kind == 2:
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.binary(min_size=1, max_size=4)) + text[at:]
    return text


def fuzz_server(reported: Reported) -> JSONRPCServer:
    """The specification's service plus a method that fails and one that raises an ErrorCoder."""

    async def boom(request: object) -> object:
        raise RuntimeError(SECRET)

    async def coder(request: object) -> object:
        raise JSONRPCError(-32042, "declared", data=request)

    extra = {
        "boom": EndpointCodec(boom, identity, identity),
        "coder": EndpointCodec(coder, identity, identity),
    }
    return spec_server(Service(), extra, error_handler=reported)


def is_id(value: object) -> bool:
    """The specification's id types: string, number, null (a boolean is not a number)."""
    return value is None or type(value) in (str, int, float)


def is_notification(element: object) -> bool:
    """A valid Request object without an id member."""
    if type(element) is not dict or "id" in element:
        return False
    params_ok = "params" not in element or type(element["params"]) in (list, dict)
    return element.get("jsonrpc") == "2.0" and type(element.get("method")) is str and params_ok


def expected_id(element: object) -> object:
    """The id a response to *element* must carry."""
    if type(element) is dict and is_id(element.get("id")):
        return element.get("id")
    return None


def expected_ids(body: bytes) -> list[object] | object:
    """The ids of the responses the body must get (a list for a batch), ABSENT for none."""
    try:
        document = parse_json(body)  # the server's parser decides what is JSON
    except (ValueError, RecursionError):
        return None
    if type(document) is list and document:
        answered = [expected_id(element) for element in document if not is_notification(element)]
        return answered if answered else ABSENT
    if type(document) is list:
        return None
    return ABSENT if is_notification(document) else expected_id(document)


def check_response(response: object) -> object:
    """Check one Response object's shape; return its id."""
    assert type(response) is dict
    assert response["jsonrpc"] == "2.0"
    assert set(response) in ({"jsonrpc", "result", "id"}, {"jsonrpc", "error", "id"})
    if "error" not in response:
        event("a result")
    else:
        error = response["error"]
        event(f"an error {error['code']}")
        assert type(error["code"]) is int
        assert type(error["message"]) is str
        assert set(error) <= {"code", "message", "data"}
        if error["code"] == -32603:
            assert set(error["data"]) == {"request_id"}
    return response["id"]


def same(have: object, want: object) -> bool:
    """Equal and of the same JSON type (1 and 1.0 differ; so do 1 and true)."""
    return type(have) is type(want) and have == want


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies())
async def test_any_body_gets_a_well_formed_answer(body: bytes) -> None:
    """T2 for JSON-RPC: every body gets 200 or 204 and exactly the responses the spec asks for.

    No reply is a 5xx, none is anything but JSON, none leaks the planted secret or a
    traceback, and the error handler sees nothing but JSON-RPC errors and the planted one.
    """
    reported = Reported()

    reply = await rpc(fuzz_server(reported), body)

    want = expected_ids(body)
    if want is ABSENT:
        event("no response")
        assert (reply.status, reply.body) == (204, b"")
    else:
        assert reply.status == 200
        assert reply.header("content-type") == "application/json; charset=utf-8"
        text = reply.body.decode()
        assert SECRET not in text
        assert "Traceback" not in text
        answer: Any = json.loads(text)
        if type(want) is list:
            event("a batch")
            assert type(answer) is list
            have = [check_response(response) for response in answer]
            assert len(have) == len(want)
            assert all(same(h, w) for h, w in zip(have, want, strict=True))
        else:
            assert same(check_response(answer), want)
    for error in reported.errors:
        assert isinstance(error, JSONRPCError) or str(error) == SECRET, repr(error)
