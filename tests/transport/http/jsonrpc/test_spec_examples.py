"""Every example of the JSON-RPC 2.0 specification (section 7), verbatim, gets its exact response.

The requests and responses below are the specification's text. Responses are
compared as parsed JSON; batch responses in order, as this server answers a
batch in the order of its calls (the specification allows any order).
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.transport.http.client_server import running_uvicorn
from tests.transport.http.jsonrpc.support import Service, rpc, spec_server, wire

EXAMPLES: list[tuple[str, str, str | None]] = [
    (
        "positional params",
        '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
        '{"jsonrpc": "2.0", "result": 19, "id": 1}',
    ),
    (
        "positional params, reversed",
        '{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}',
        '{"jsonrpc": "2.0", "result": -19, "id": 2}',
    ),
    (
        "named params",
        '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, '
        '"id": 3}',
        '{"jsonrpc": "2.0", "result": 19, "id": 3}',
    ),
    (
        "named params, other order",
        '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, '
        '"id": 4}',
        '{"jsonrpc": "2.0", "result": 19, "id": 4}',
    ),
    (
        "notification",
        '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}',
        None,
    ),
    (
        "notification of a method that does not exist",
        '{"jsonrpc": "2.0", "method": "foobar"}',
        None,
    ),
    (
        "non-existent method",
        '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
        '{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}',
    ),
    (
        "invalid JSON",
        '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
        '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}',
    ),
    (
        "invalid Request object",
        '{"jsonrpc": "2.0", "method": 1, "params": "bar"}',
        '{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}',
    ),
    (
        "batch, invalid JSON",
        """[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]""",
        '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}',
    ),
    (
        "empty array",
        "[]",
        '{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}',
    ),
    (
        "invalid batch, but not empty",
        "[1]",
        """[
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}
]""",
    ),
    (
        "invalid batch",
        "[1,2,3]",
        """[
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}
]""",
    ),
    (
        "batch",
        """[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]""",
        """[
        {"jsonrpc": "2.0", "result": 7, "id": "1"},
        {"jsonrpc": "2.0", "result": 19, "id": "2"},
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
        {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
        {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
    ]""",
    ),
    (
        "batch of notifications only",
        """[
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]""",
        None,
    ),
]


def expected(response: str | None) -> Any:
    """The specification's response parsed; None where it says nothing is returned."""
    return None if response is None else json.loads(response)


@pytest.mark.parametrize(
    ("request_text", "response_text"),
    [pytest.param(request, response, id=name) for name, request, response in EXAMPLES],
)
async def test_spec_example_gets_the_spec_response(
    request_text: str, response_text: str | None
) -> None:
    """The example's request gets exactly the specification's response, with HTTP 200.

    Where the specification returns nothing (notifications), the reply is HTTP 204
    with an empty body.
    """
    reply = await rpc(spec_server(Service()), request_text.encode())

    if response_text is None:
        assert (reply.status, reply.body) == (204, b"")
    else:
        assert reply.status == 200
        assert reply.header("content-type") == "application/json; charset=utf-8"
        assert wire(reply) == expected(response_text)


async def test_spec_notifications_are_served_though_unanswered() -> None:
    """The notifications of the examples reach their endpoints; the unknown one reaches none."""
    service = Service()
    server = spec_server(service)

    requests = {label: request for label, request, _ in EXAMPLES}
    for name in (
        "notification",
        "notification of a method that does not exist",
        "batch of notifications only",
    ):
        await rpc(server, requests[name].encode())

    assert service.seen == [
        ("update", [1, 2, 3, 4, 5]),
        ("notify_sum", [1, 2, 4]),
        ("notify_hello", [7]),
    ]


async def test_spec_examples_over_uvicorn() -> None:
    """Over real HTTP on 127.0.0.1 every example gets the specification's response too."""
    async with (
        running_uvicorn(spec_server(Service())) as url,
        aiohttp.ClientSession() as session,
    ):
        for name, request_text, response_text in EXAMPLES:
            async with session.post(
                url,
                data=request_text.encode(),
                headers={"content-type": "application/json"},
            ) as response:
                body = await response.read()
            if response_text is None:
                assert (response.status, body) == (204, b""), name
            else:
                assert response.status == 200, name
                assert json.loads(body) == expected(response_text), name
