"""JSONRPCClient against a JSONRPCServer (or a scripted peer) on a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from pygokit.transport.http import Request
from pygokit.transport.http.client import (
    ClientOutcome,
    ClientRequest,
    ClientResponse,
)
from pygokit.transport.http.jsonrpc import (
    EndpointCodec,
    InternalError,
    InvalidParams,
    JSONRPCError,
    JSONRPCRequest,
    JSONRPCServer,
    MethodNotFound,
)
from pygokit.transport.http.jsonrpc.client import AutoIncrementID, JSONRPCClient
from tests.transport.http.client_server import running_uvicorn
from tests.transport.http.jsonrpc.support import Service, Subtract, identity, spec_server

Message = MutableMapping[str, Any]


@dataclass
class Upstream:
    """The specification's service, served with two more methods, recording every call."""

    service: Service = field(default_factory=Service)
    calls: list[JSONRPCRequest] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)

    def server(self) -> JSONRPCServer:
        """The JSON-RPC server for this upstream."""

        async def boom(request: object) -> object:
            raise RuntimeError("secret-XYZ")

        async def coder(request: object) -> object:
            raise JSONRPCError(-32042, "declared", data={"got": request})

        def record(request: Request, call: JSONRPCRequest) -> None:
            self.calls.append(call)
            self.headers.append(request.headers.get("x-trace", ""))

        extra = {
            "boom": EndpointCodec(boom, identity, identity),
            "coder": EndpointCodec(coder, identity, identity),
        }
        return spec_server(self.service, extra, before_codec=[record])


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The caller's session, closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def upstream() -> Upstream:
    """The upstream service; tests read what it recorded."""
    return Upstream()


@pytest.fixture
async def url(upstream: Upstream) -> AsyncIterator[str]:
    """The URL of the upstream's JSON-RPC server on uvicorn."""
    async with running_uvicorn(upstream.server()) as base:
        yield base + "/rpc"


def subtract_client(url: str, session: aiohttp.ClientSession, **options: Any) -> Any:
    """A client of ``subtract`` that sends params by name."""
    return JSONRPCClient(
        url, "subtract", session=session, encode=dataclasses.asdict, decode=int, **options
    )


async def test_a_call_returns_the_decoded_result(url: str, session: aiohttp.ClientSession) -> None:
    """Named and positional params reach the method; the result comes back decoded."""
    by_name = subtract_client(url, session)
    by_position: JSONRPCClient[Subtract, str] = JSONRPCClient(
        url,
        "subtract",
        session=session,
        encode=lambda r: [r.minuend, r.subtrahend],
        decode=str,
    )

    assert await by_name(Subtract(42, 23)) == 19
    assert await by_position(Subtract(23, 42)) == "-19"


async def test_ids_auto_increment_from_zero(
    url: str, session: aiohttp.ClientSession, upstream: Upstream
) -> None:
    """Go kit's default generator: the calls carry ids 0, 1, 2."""
    client = subtract_client(url, session)

    for _ in range(3):
        await client(Subtract(1, 1))

    assert [call.id for call in upstream.calls] == [0, 1, 2]


async def test_a_custom_id_generator_supplies_the_ids(
    url: str, session: aiohttp.ClientSession, upstream: Upstream
) -> None:
    """String ids from a generator are sent, and their responses accepted."""
    ids = iter(["a", "b"])
    client = subtract_client(url, session, id_generator=lambda: next(ids))

    assert [await client(Subtract(2, 1)), await client(Subtract(3, 1))] == [1, 2]
    assert [call.id for call in upstream.calls] == ["a", "b"]


async def test_an_id_generator_returning_a_non_id_is_refused(
    url: str, session: aiohttp.ClientSession
) -> None:
    """An id that is not a string or number raises TypeError before anything is sent."""
    client = subtract_client(url, session, id_generator=lambda: True)

    with pytest.raises(TypeError, match="id generator"):
        await client(Subtract(1, 1))


@pytest.mark.parametrize(
    ("method", "kind", "code", "message", "data"),
    [
        ("nope", MethodNotFound, -32601, "Method not found", None),
        ("coder", JSONRPCError, -32042, "declared", {"got": {"minuend": 1, "subtrahend": 2}}),
    ],
)
async def test_error_objects_raise_jsonrpc_errors(
    url: str,
    session: aiohttp.ClientSession,
    method: str,
    kind: type[JSONRPCError],
    code: int,
    message: str,
    data: object,
) -> None:
    """An error response raises JSONRPCError (its subclass for standard codes) with its fields."""
    client = JSONRPCClient(url, method, session=session, encode=dataclasses.asdict, decode=int)

    with pytest.raises(kind) as caught:
        await client(Subtract(1, 2))

    assert (caught.value.code, caught.value.message, caught.value.data) == (code, message, data)
    assert caught.value.expose is False


async def test_internal_errors_carry_only_the_request_id(
    url: str, session: aiohttp.ClientSession
) -> None:
    """The server's failure reaches the client as InternalError with a request id as data."""
    client = JSONRPCClient(url, "boom", session=session, encode=identity, decode=identity)

    with pytest.raises(InternalError) as caught:
        await client([1])

    assert isinstance(caught.value.data, dict)
    assert set(caught.value.data) == {"request_id"}
    assert "secret" not in repr(caught.value)


async def test_invalid_params_reach_the_client_with_their_detail(
    url: str, session: aiohttp.ClientSession
) -> None:
    """The params decoder's complaint comes back as InvalidParams with data naming the field."""
    client: JSONRPCClient[str, int] = JSONRPCClient(
        url,
        "subtract",
        session=session,
        encode=lambda r: {"minuend": r, "subtrahend": 1},
        decode=int,
    )

    with pytest.raises(InvalidParams) as caught:
        await client("x")

    assert caught.value.data == "params.minuend: expected integer, got string"


async def test_notify_sends_a_notification(
    url: str, session: aiohttp.ClientSession, upstream: Upstream
) -> None:
    """notify sends no id; the server serves it and answers nothing."""
    client: JSONRPCClient[tuple[int, ...], object] = JSONRPCClient(
        url, "update", session=session, encode=list, decode=identity
    )

    await client.notify((1, 2, 3))

    assert upstream.calls == [JSONRPCRequest("update", [1, 2, 3], None, notification=True)]
    assert upstream.service.seen == [("update", [1, 2, 3])]


async def test_params_of_none_are_left_out(
    url: str, session: aiohttp.ClientSession, upstream: Upstream
) -> None:
    """An encoder returning None sends a call without params."""
    client = JSONRPCClient(url, "get_data", session=session, encode=identity, decode=tuple)

    assert await client(None) == ("hello", 5)
    assert upstream.calls[0].params is None


async def test_batch_returns_results_and_errors_in_order(
    url: str, session: aiohttp.ClientSession
) -> None:
    """batch sends one request for many calls; each gets its result or its error."""
    client = JSONRPCClient(url, "sum", session=session, encode=identity, decode=int)

    results = await client.batch([[1, 2], ["x"], [3, 4, 5]])

    assert results[0] == 3
    assert isinstance(results[1], InvalidParams)
    assert results[2] == 12


async def test_an_empty_batch_sends_nothing(session: aiohttp.ClientSession) -> None:
    """batch([]) returns [] without a request (an empty batch is invalid)."""
    client = JSONRPCClient(
        "http://127.0.0.1:9/rpc", "sum", session=session, encode=identity, decode=int
    )

    assert await client.batch([]) == []


async def test_hooks_see_the_exchange_and_finalizers_see_jsonrpc_errors(
    url: str, session: aiohttp.ClientSession, upstream: Upstream
) -> None:
    """Before hooks edit the request, after hooks see the response, finalizers see the error."""
    statuses: list[int] = []
    outcomes: list[ClientOutcome] = []

    def trace(request: ClientRequest) -> None:
        request.set_header("X-Trace", "t-1")

    def after(response: ClientResponse) -> None:
        statuses.append(response.status)

    client = JSONRPCClient(
        url,
        "coder",
        session=session,
        encode=identity,
        decode=identity,
        before=[trace],
        after=[after],
        finalizers=[outcomes.append],
    )

    with pytest.raises(JSONRPCError) as caught:
        await client([])

    assert upstream.headers == ["t-1"]
    assert statuses == [200]
    assert outcomes[0].error is caught.value
    assert outcomes[0].request is not None
    assert outcomes[0].request.headers["X-Trace"] == "t-1"


async def test_an_encoder_error_is_raised_and_finalized(session: aiohttp.ClientSession) -> None:
    """Params that are not an array or object raise TypeError, seen by finalizers; no I/O."""
    outcomes: list[ClientOutcome] = []
    client = JSONRPCClient(
        "http://127.0.0.1:9/rpc",
        "m",
        session=session,
        encode=identity,
        decode=identity,
        finalizers=[outcomes.append],
    )

    with pytest.raises(TypeError, match="array or object"):
        await client(5)

    assert isinstance(outcomes[0].error, TypeError)
    assert outcomes[0].response is None


async def test_concurrent_calls_each_get_their_own_answer(
    url: str, session: aiohttp.ClientSession
) -> None:
    """Many calls in flight on one client never mix up their responses."""
    client = subtract_client(url, session)

    results = await asyncio.gather(*(client(Subtract(n, 0)) for n in range(40)))

    assert results == list(range(40))


async def test_an_upstream_error_does_not_pass_through_a_proxy(
    url: str, session: aiohttp.ClientSession
) -> None:
    """An upstream's error escaping a proxying endpoint is an internal error downstream."""
    upstream_coder = JSONRPCClient(url, "coder", session=session, encode=identity, decode=identity)
    proxy = JSONRPCServer({"relay": EndpointCodec(upstream_coder, identity, identity)})

    async with running_uvicorn(proxy) as proxy_url:
        relay = JSONRPCClient(proxy_url, "relay", session=session, encode=identity, decode=identity)
        with pytest.raises(InternalError):
            await relay([1])


def test_auto_increment_ids_are_unique_across_threads() -> None:
    """AutoIncrementID hands out every id exactly once when threads share it."""
    ids = AutoIncrementID(5)
    seen: list[int] = []

    def take() -> None:
        seen.extend(ids() for _ in range(2000))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(seen) == list(range(5, 5 + 16000))
    assert repr(ids) == "AutoIncrementID(next=16005)"


def test_bad_arguments_are_refused() -> None:
    """A method that is not a non-empty string, or a start that is not an int, raises."""
    with pytest.raises(TypeError):
        AutoIncrementID("0")  # type: ignore[arg-type]

    async def build() -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(TypeError):
                JSONRPCClient("http://h/rpc", "", session=session, encode=id, decode=id)
            client = JSONRPCClient("http://h/rpc", "m", session=session, encode=id, decode=id)
            assert repr(client) == 'JSONRPCClient(Client(POST http://h/rpc), method="m")'

    asyncio.run(build())
