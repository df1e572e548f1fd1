"""JSONRPCClient against a scripted peer on uvicorn: responses a JSONRPCServer never sends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp
import pytest

from pygokit.transport.http.client import ResponseTooLarge
from pygokit.transport.http.client_codec import InvalidResponse, UnexpectedStatus
from pygokit.transport.http.jsonrpc import JSONRPCError
from pygokit.transport.http.jsonrpc.client import JSONRPCClient
from tests.transport.http.client_server import running_uvicorn
from tests.transport.http.jsonrpc.support import identity

Message = MutableMapping[str, Any]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The caller's session, closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield session


Reply = tuple[int, bytes]
Script = Callable[[bytes], Reply]


def scripted(script: Script) -> Callable[..., Awaitable[None]]:
    """A raw ASGI app that answers every request with script(body)."""

    async def app(scope: Message, receive: Callable[[], Awaitable[Message]], send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status, reply = script(body)
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(reply))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": reply})

    return app


@pytest.mark.parametrize(
    ("reply", "path"),
    [
        ((200, b"not json"), ""),
        ((200, b""), ""),
        ((200, b"[1]"), ""),
        ((200, b'{"result": 1, "id": 0}'), ""),
        ((200, b'{"jsonrpc": "2.0", "id": 0}'), ""),
        ((200, b'{"jsonrpc": "2.0", "result": 1, "id": 7}'), "id"),
        ((200, b'{"jsonrpc": "2.0", "result": 1, "id": true}'), "id"),
        ((200, b'{"jsonrpc": "2.0", "error": "bad", "id": 0}'), "error"),
        ((200, b'{"jsonrpc": "2.0", "error": {"code": "1", "message": "m"}, "id": 0}'), "error"),
    ],
)
async def test_responses_that_break_the_protocol_raise_invalid_response(
    session: aiohttp.ClientSession, reply: Reply, path: str
) -> None:
    """Bodies that are not a Response object to this call raise InvalidResponse."""
    async with running_uvicorn(scripted(lambda body: reply)) as base:
        client = JSONRPCClient(base, "m", session=session, encode=identity, decode=identity)
        with pytest.raises(InvalidResponse) as caught:
            await client([1])

    assert caught.value.path == path


async def test_error_statuses_raise_the_error_object_or_unexpected_status(
    session: aiohttp.ClientSession,
) -> None:
    """A non-2xx reply with an error object raises it; without one, UnexpectedStatus."""
    error_object = b'{"jsonrpc": "2.0", "error": {"code": -32000, "message": "busy"}, "id": null}'
    replies = iter([(503, error_object), (502, b"bad gateway"), (500, b"oops")])

    async with running_uvicorn(scripted(lambda body: next(replies))) as base:
        client = JSONRPCClient(base, "m", session=session, encode=identity, decode=identity)
        with pytest.raises(JSONRPCError, match="busy") as caught:
            await client([1])
        assert caught.value.code == -32000
        with pytest.raises(UnexpectedStatus) as status:
            await client([1])
        assert status.value.status == 502
        with pytest.raises(UnexpectedStatus):
            await client.notify([1])


@pytest.mark.parametrize(
    ("reply", "raised"),
    [
        (
            b'{"jsonrpc": "2.0", "error": {"code": -32600, "message": "too big"}, "id": null}',
            JSONRPCError,
        ),
        (b'{"jsonrpc": "2.0", "result": 1, "id": 0}', InvalidResponse),
        (b'[1, {"jsonrpc": "2.0", "result": 1, "id": 0}]', InvalidResponse),
    ],
    ids=["refused whole", "not an array", "a response missing"],
)
async def test_batch_responses_must_answer_every_call(
    session: aiohttp.ClientSession, reply: bytes, raised: type[Exception]
) -> None:
    """A batch refused as a whole raises its error; a missing response raises InvalidResponse."""
    async with running_uvicorn(scripted(lambda body: (200, reply))) as base:
        client = JSONRPCClient(base, "m", session=session, encode=identity, decode=identity)
        with pytest.raises(raised):
            await client.batch([[1], [2]])


async def test_large_responses_are_refused(session: aiohttp.ClientSession) -> None:
    """A response over max_response_bytes raises ResponseTooLarge."""
    big = b'{"jsonrpc": "2.0", "result": "' + b"x" * 5000 + b'", "id": 0}'

    async with running_uvicorn(scripted(lambda body: (200, big))) as base:
        client = JSONRPCClient(
            base, "m", session=session, encode=identity, decode=identity, max_response_bytes=1000
        )
        with pytest.raises(ResponseTooLarge):
            await client([1])


async def test_requests_are_json_rpc_2_envelopes(session: aiohttp.ClientSession) -> None:
    """Calls, notifications and batches go out as the specification's Request objects."""
    bodies: list[bytes] = []

    def script(body: bytes) -> Reply:
        bodies.append(body)
        if body.startswith(b"["):
            return (
                200,
                b'[{"jsonrpc": "2.0", "result": 2, "id": 2}, {"jsonrpc":"2.0","result":1,"id":1}]',
            )
        return 200, b'{"jsonrpc": "2.0", "result": 0, "id": 0}'

    async with running_uvicorn(scripted(script)) as base:
        client = JSONRPCClient(base, "a.b", session=session, encode=identity, decode=identity)
        await client({"k": "v"})
        await client.notify(None)
        assert await client.batch([[1], [2]]) == [1, 2]

    assert bodies == [
        b'{"jsonrpc":"2.0","method":"a.b","params":{"k":"v"},"id":0}',
        b'{"jsonrpc":"2.0","method":"a.b"}',
        b'[{"jsonrpc":"2.0","method":"a.b","params":[1],"id":1},'
        b'{"jsonrpc":"2.0","method":"a.b","params":[2],"id":2}]',
    ]


async def test_notify_ignores_any_2xx_body(session: aiohttp.ClientSession) -> None:
    """A server that answers a notification with a body anyway does not fail it."""
    async with running_uvicorn(scripted(lambda body: (200, b"whatever"))) as base:
        client = JSONRPCClient(base, "m", session=session, encode=identity, decode=identity)
        await client.notify([1])
