"""JSONRPCServer: ids, invalid requests, parse errors, notifications and batches."""

from __future__ import annotations

import asyncio
import json

import pytest

from pygokit.transport.http.jsonrpc import MethodNotFound, ParseError, context
from tests.transport.http.jsonrpc.support import (
    SECRET,
    Reported,
    Service,
    call_body,
    echo,
    failing,
    only,
    rpc,
    spec_server,
    wire,
)


@pytest.mark.parametrize(
    "call_id",
    ["abc", "", "1", 0, -1, 7, 1.5, -0.25, 2**63, 2**70, -(2**70), 18446744073709551615, None],
)
async def test_ids_are_echoed_exactly(call_id: object) -> None:
    """String, number and null ids come back as sent, integers beyond 64 bits included."""
    text = (
        b'{"jsonrpc": "2.0", "method": "m", "params": [], "id": %b}' % json.dumps(call_id).encode()
    )

    reply = await rpc(only(echo), text)

    answer = json.loads(reply.body)  # the standard library keeps every digit
    assert answer == {"jsonrpc": "2.0", "result": [], "id": call_id}
    assert type(answer["id"]) is type(call_id)


@pytest.mark.parametrize("bad_id", ["true", "false", "[]", "{}", '{"a": 1}', "[1]"])
async def test_ids_of_other_types_make_an_invalid_request(bad_id: str) -> None:
    """A boolean, array or object id is an Invalid Request answered with id null."""
    text = b'{"jsonrpc": "2.0", "method": "m", "id": %b}' % bad_id.encode()

    reply = await rpc(only(echo), text)

    assert wire(reply) == {
        "jsonrpc": "2.0",
        "error": {"code": -32600, "message": "Invalid Request"},
        "id": None,
    }


@pytest.mark.parametrize(
    "call",
    [
        {"jsonrpc": "2.0", "method": "m", "params": None, "id": 5},
        {"jsonrpc": "2.0", "method": "m", "params": 3, "id": 5},
        {"jsonrpc": "2.0", "method": "m", "params": "x", "id": 5},
        {"jsonrpc": "1.0", "method": "m", "id": 5},
        {"jsonrpc": 2.0, "method": "m", "id": 5},
        {"method": "m", "id": 5},
        {"jsonrpc": "2.0", "id": 5},
        {"jsonrpc": "2.0", "method": None, "id": 5},
    ],
)
async def test_invalid_requests_with_a_valid_id_are_answered_with_it(call: object) -> None:
    """A Request object broken elsewhere is answered -32600 with its own id."""
    reply = await rpc(only(echo), json.dumps(call).encode())

    assert wire(reply) == {
        "jsonrpc": "2.0",
        "error": {"code": -32600, "message": "Invalid Request"},
        "id": 5,
    }


@pytest.mark.parametrize("accept_go_kit_v0_10", [False, True])
async def test_go_kit_0_10_calls_with_an_empty_version_are_accepted_only_when_asked(
    accept_go_kit_v0_10: bool,
) -> None:
    """An empty ``jsonrpc`` (Go kit 0.10's client) is served only with accept_go_kit_v0_10."""
    server = only(echo, accept_go_kit_v0_10=accept_go_kit_v0_10)
    old_client = b'{"jsonrpc":"","method":"m","params":{"a":1},"id":1}'
    other = b'{"jsonrpc":"1.0","method":"m","params":{"a":1},"id":1}'

    served, refused = wire(await rpc(server, old_client)), wire(await rpc(server, other))

    invalid = {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": 1}
    assert served == (
        {"jsonrpc": "2.0", "result": {"a": 1}, "id": 1} if accept_go_kit_v0_10 else invalid
    )
    assert refused == invalid


@pytest.mark.parametrize("document", [b"1", b'"x"', b"null", b"true", b"  3.5 "])
async def test_a_body_that_is_neither_object_nor_array_is_an_invalid_request(
    document: bytes,
) -> None:
    """JSON that is not a Request object or a batch gets one -32600 error with id null."""
    reply = await rpc(only(echo), document)

    assert wire(reply)["error"] == {"code": -32600, "message": "Invalid Request"}


@pytest.mark.parametrize("body", [b"", b"{", b"[" * 5000 + b"]" * 5000, b"\xff\xfe", b"NaN"])
async def test_bodies_that_are_not_json_are_parse_errors(body: bytes) -> None:
    """Empty, truncated, too deeply nested or non-UTF-8 bodies get -32700 with id null."""
    reported = Reported()

    reply = await rpc(only(echo, error_handler=reported), body)

    assert reply.status == 200
    assert wire(reply) == {
        "jsonrpc": "2.0",
        "error": {"code": -32700, "message": "Parse error"},
        "id": None,
    }
    assert [type(error) for error in reported.errors] == [ParseError]


async def test_unknown_method_is_method_not_found_and_reported() -> None:
    """Go kit's unknown-method case: -32601 with the call's id; the handler sees it too."""
    reported = Reported()

    reply = await rpc(only(echo, error_handler=reported), call_body("nope", call_id="q"))

    assert wire(reply) == {
        "jsonrpc": "2.0",
        "error": {"code": -32601, "message": "Method not found"},
        "id": "q",
    }
    assert [type(error) for error in reported.errors] == [MethodNotFound]
    assert reported.methods == ["nope"]


async def test_call_with_id_null_is_answered() -> None:
    """A call whose id is null is a call, not a notification: it gets a response."""
    reply = await rpc(only(echo), b'{"jsonrpc": "2.0", "method": "m", "params": [1], "id": null}')

    assert wire(reply) == {"jsonrpc": "2.0", "result": [1], "id": None}


async def test_notification_errors_are_reported_but_not_answered() -> None:
    """A failing notification gets HTTP 204; the error handler still sees the error."""
    reported = Reported()

    reply = await rpc(
        only(failing, error_handler=reported), b'{"jsonrpc": "2.0", "method": "m", "params": []}'
    )

    assert (reply.status, reply.body) == (204, b"")
    assert [str(error) for error in reported.errors] == [SECRET]


async def test_endpoint_sees_the_method_and_id_in_context() -> None:
    """rpc_method and rpc_id hold the call being served (Go kit's ContextKeyRequestMethod)."""

    async def endpoint(request: object) -> object:
        return [context.rpc_method.get(), context.rpc_id.get()]

    reply = await rpc(only(endpoint), call_body("m", call_id="x7"))

    assert wire(reply)["result"] == ["m", "x7"]


async def test_batch_calls_run_concurrently_and_answer_in_order() -> None:
    """The calls of a batch run at the same time; responses follow the order of the calls."""
    arrived: list[int] = []
    everyone = asyncio.Event()

    async def meet(request: list[int]) -> int:
        arrived.append(request[0])
        if len(arrived) == 3:
            everyone.set()
        async with asyncio.timeout(5):  # would hang if the calls ran one after another
            await everyone.wait()
        return request[0]

    batch = b"[" + b",".join(call_body("m", [n], call_id=n) for n in (3, 1, 2)) + b"]"

    reply = await rpc(only(meet), batch)

    assert [answer["result"] for answer in wire(reply)] == [3, 1, 2]
    assert [answer["id"] for answer in wire(reply)] == [3, 1, 2]


async def test_batch_calls_each_have_their_own_context() -> None:
    """What one call of a batch sets in its context, another never sees."""

    async def endpoint(request: list[int]) -> object:
        await asyncio.sleep(0)  # let the other calls run and set their values
        return [context.rpc_id.get(), context.rpc_method.get()]

    batch = b"[" + b",".join(call_body("m", [n], call_id=n) for n in range(5)) + b"]"

    reply = await rpc(only(endpoint), batch)

    assert [answer["result"] for answer in wire(reply)] == [[n, "m"] for n in range(5)]


async def test_one_failing_call_does_not_fail_its_batch() -> None:
    """Each call of a batch succeeds or fails alone."""

    async def endpoint(request: list[int]) -> int:
        if request[0] == 2:
            raise RuntimeError(SECRET)
        return request[0]

    batch = b"[" + b",".join(call_body("m", [n], call_id=n) for n in (1, 2, 3)) + b"]"

    reply = await rpc(only(endpoint), batch)

    answers = wire(reply)
    assert [answer.get("result") for answer in answers] == [1, None, 3]
    assert answers[1]["error"]["code"] == -32603


async def test_batches_over_the_limit_get_one_invalid_request() -> None:
    """A batch of more than max_batch_size calls is refused whole, with one error object."""
    reported = Reported()
    server = spec_server(Service(), max_batch_size=2, error_handler=reported)
    batch = b"[" + b",".join(call_body("sum", [n]) for n in range(3)) + b"]"

    reply = await rpc(server, batch)

    assert wire(reply) == {
        "jsonrpc": "2.0",
        "error": {
            "code": -32600,
            "message": "Invalid Request",
            "data": "a batch holds at most 2 calls",
        },
        "id": None,
    }
    assert len(reported.errors) == 1


async def test_cancellation_passes_through_and_is_not_reported() -> None:
    """Cancelling the request's task cancels the endpoint; no error is reported or sent."""
    reported = Reported()
    started = asyncio.Event()

    async def endpoint(request: object) -> object:
        started.set()
        await asyncio.Event().wait()
        return None

    task = asyncio.create_task(rpc(only(endpoint, error_handler=reported), call_body("m")))
    await started.wait()
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert reported.errors == []
