"""HTTP client against a real uvicorn server on 127.0.0.1 (and raw TCP peers where needed)."""

from __future__ import annotations

import asyncio
import datetime
import enum
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NotRequired, Required, TypedDict

import aiohttp
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pygokit.retry import Constant, RetriesExhausted, retry
from pygokit.transport.http import client_codec
from pygokit.transport.http.client import (
    Client,
    ClientOutcome,
    ClientRequest,
    ClientResponse,
    ExplicitClient,
    ResponseTooLarge,
    TransportError,
    UnsafeRequest,
)
from pygokit.transport.http.client_codec import (
    JSON_CONTENT_TYPE,
    XML_CONTENT_TYPE,
    InvalidResponse,
    UnexpectedStatus,
    check_status,
    encode_json_request,
    encode_xml_request,
    json_response_decoder,
)
from tests.transport.http.client_server import RawListener, UpstreamApp, running_uvicorn


@dataclass(frozen=True)
class SumRequest:
    a: int
    b: int


@dataclass(frozen=True)
class SumResponse:
    v: int


@pytest.fixture
def app() -> UpstreamApp:
    """The upstream application; tests read what it recorded."""
    return UpstreamApp()


@pytest.fixture
async def base(app: UpstreamApp) -> AsyncIterator[str]:
    """The base URL of a real uvicorn serving `app` on 127.0.0.1."""
    async with running_uvicorn(app) as url:
        yield url
        app.release_stream.set()  # let /stream handlers finish before uvicorn stops


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A caller-owned session with a one-connection pool, so a leaked connection blocks."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        yield session


async def status_of(response: ClientResponse) -> int:
    """A decoder that reads the body and returns the status, whatever it is."""
    await response.read()
    return response.status


async def keep_open(response: ClientResponse) -> ClientResponse:
    """A decoder for buffered streams: hands the open response to the caller."""
    return response


def is_open(response: ClientResponse) -> bool:
    """Whether the response's body is still open (a function, so mypy does not narrow)."""
    return not response.closed


def nothing(request: object, http_request: ClientRequest) -> None:
    """An encoder that leaves the request as the client built it."""


def sum_client(base: str, session: aiohttp.ClientSession) -> Client[SumRequest, SumResponse]:
    """A client for POST /sum."""
    return Client(
        "POST",
        f"{base}/sum",
        encode_json_request,
        json_response_decoder(SumResponse),
        session=session,
    )


# --- the round trip ---------------------------------------------------------------------


async def test_client_round_trips_dataclasses_as_json(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """A dataclass request goes out as JSON and the JSON answer comes back as a dataclass."""
    assert await sum_client(base, session)(SumRequest(a=1, b=2)) == SumResponse(v=3)

    [seen] = app.requests
    assert (seen.method, seen.path, seen.body) == ("POST", "/sum", b'{"a":1,"b":2}')
    assert seen.headers["content-type"] == JSON_CONTENT_TYPE


async def test_client_reuses_a_connection_whose_body_was_read(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """After a decoded call the connection goes back to the pool: the next call reuses it."""
    client = sum_client(base, session)
    await client(SumRequest(a=1, b=2))
    await client(SumRequest(a=3, b=4))

    assert app.requests[0].client_port == app.requests[1].client_port


async def test_a_body_left_unread_closes_the_connection_instead_of_pooling_it(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """A decoder that ignores a body still arriving does not leave a dirty connection pooled."""

    async def status_only(response: ClientResponse) -> int:
        return response.status

    client = Client("GET", f"{base}/stream", nothing, status_only, session=session)
    assert await client(None) == 200
    assert await sum_client(base, session)(SumRequest(a=1, b=2)) == SumResponse(v=3)

    assert app.requests[0].client_port != app.requests[1].client_port


# --- hooks and finalizers (Go kit's client tests) -----------------------------------------


async def test_hooks_decoder_and_finalizers_run_in_go_kit_order(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """Encode, before hooks, the wire, after hooks, decode, finalizers: in that order."""
    trace: list[str] = []
    outcomes: list[ClientOutcome] = []

    def encode(request: str, http_request: ClientRequest) -> None:
        trace.append("encode")
        http_request.body = request.encode()

    def before(tag: str) -> Any:
        def hook(http_request: ClientRequest) -> None:
            trace.append(f"before {tag}")
            http_request.headers[f"X-Before-{tag}"] = tag

        return hook

    def after(tag: str) -> Any:
        def hook(response: ClientResponse) -> None:
            trace.append(f"after {tag} {response.status}")

        return hook

    async def decode(response: ClientResponse) -> bytes:
        trace.append(f"decode, server saw {len(app.requests)}")
        return await response.read()

    def finalizer(tag: str) -> Any:
        def finalize(outcome: ClientOutcome) -> None:
            trace.append(f"finalizer {tag}")
            outcomes.append(outcome)

        return finalize

    client = Client(
        "POST",
        f"{base}/echo",
        encode,
        decode,
        session=session,
        before=[before("1"), before("2")],
        after=[after("1"), after("2")],
        finalizers=[finalizer("1"), finalizer("2")],
    )
    assert await client("hello") == b"hello"

    assert trace == [
        "encode",
        "before 1",
        "before 2",
        "after 1 200",
        "after 2 200",
        "decode, server saw 1",
        "finalizer 1",
        "finalizer 2",
    ]
    assert app.requests[0].headers["x-before-1"] == "1"
    assert app.requests[0].headers["x-before-2"] == "2"
    outcome = outcomes[0]
    assert outcome.error is None
    assert outcome.request is not None
    assert outcome.request.body == b"hello"
    assert outcome.response is not None
    assert outcome.response.status == 200
    assert outcome.response.content_length == 5
    assert outcome.response.closed


async def test_finalizer_sees_the_response_headers_and_size(
    base: str, session: aiohttp.ClientSession
) -> None:
    """Finalizers get the response headers and Content-Length (Go kit's context keys)."""
    outcomes: list[ClientOutcome] = []
    client = Client(
        "GET", f"{base}/headers", nothing, status_of, session=session, finalizers=[outcomes.append]
    )
    await client(None)

    [outcome] = outcomes
    assert outcome.response is not None
    assert outcome.response.headers["X-Upstream"] == "yes"  # looked up case-insensitively
    assert outcome.response.content_length == 2


async def test_non_2xx_statuses_reach_the_decoder_and_are_not_errors(
    base: str, session: aiohttp.ClientSession
) -> None:
    """Go kit: a 4xx or 5xx is not an error of the client; the decoder sees the status."""
    for status in (204, 404, 500, 503):
        client = Client("GET", f"{base}/status/{status}", nothing, status_of, session=session)
        assert await client(None) == status


async def test_non_2xx_reaches_the_decoder_even_if_the_session_raises_for_status(
    base: str,
) -> None:
    """A session made with raise_for_status=True does not turn a 503 into an exception."""
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        client = Client("GET", f"{base}/status/503", nothing, status_of, session=session)
        assert await client(None) == 503


async def test_encode_error_propagates_sends_nothing_and_reaches_finalizers(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """An encoder's error is raised as is; nothing is sent; finalizers see it."""
    outcomes: list[ClientOutcome] = []
    problem = ValueError("cannot encode")

    def encode(request: object, http_request: ClientRequest) -> None:
        raise problem

    client = Client(
        "POST", f"{base}/echo", encode, status_of, session=session, finalizers=[outcomes.append]
    )
    with pytest.raises(ValueError, match="cannot encode"):
        await client(None)

    assert app.requests == []
    [outcome] = outcomes
    assert (outcome.request, outcome.response, outcome.error) == (None, None, problem)


async def test_decode_error_propagates_and_reaches_finalizers(
    base: str, session: aiohttp.ClientSession
) -> None:
    """A decoder's error is raised as is, and finalizers see it with the response."""
    outcomes: list[ClientOutcome] = []
    problem = RuntimeError("cannot decode")

    async def decode(response: ClientResponse) -> None:
        raise problem

    client = Client(
        "GET", f"{base}/headers", nothing, decode, session=session, finalizers=[outcomes.append]
    )
    with pytest.raises(RuntimeError, match="cannot decode"):
        await client(None)

    [outcome] = outcomes
    assert outcome.error is problem
    assert outcome.response is not None
    assert outcome.response.closed
    assert await sum_client(base, session)(SumRequest(1, 1)) == SumResponse(2)  # pool intact


async def test_after_hook_error_skips_the_decoder(
    base: str, session: aiohttp.ClientSession
) -> None:
    """An after hook that raises stops the call before decode, and the error propagates."""
    decoded: list[int] = []

    def refuse(response: ClientResponse) -> None:
        raise PermissionError(f"status {response.status} not allowed")

    async def decode(response: ClientResponse) -> None:
        decoded.append(response.status)

    client = Client("GET", f"{base}/headers", nothing, decode, session=session, after=[refuse])
    with pytest.raises(PermissionError, match="status 200"):
        await client(None)
    assert decoded == []


async def test_explicit_client_sends_the_request_create_request_builds(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """ExplicitClient takes method, URL, headers and body from create_request."""

    def create(item: str) -> ClientRequest:
        return ClientRequest("PUT", f"{base}/echo?item={item}", {"X-Item": item}, b"payload")

    client = ExplicitClient(create, status_of, session=session)
    assert await client("42") == 200

    [seen] = app.requests
    assert (seen.method, seen.query, seen.body) == ("PUT", "item=42", b"payload")
    assert seen.headers["x-item"] == "42"


async def test_explicit_client_create_error_reaches_finalizers_without_a_request(
    base: str, session: aiohttp.ClientSession
) -> None:
    """If create_request fails, finalizers see the error and neither request nor response."""
    outcomes: list[ClientOutcome] = []

    def create(item: str) -> ClientRequest:
        raise KeyError(item)

    client = ExplicitClient(create, status_of, session=session, finalizers=[outcomes.append])
    with pytest.raises(KeyError):
        await client("missing")
    [outcome] = outcomes
    assert (outcome.request, outcome.response) == (None, None)
    assert isinstance(outcome.error, KeyError)


# --- buffered streams -------------------------------------------------------------------


async def test_buffered_stream_leaves_the_body_open_for_the_caller(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """With buffered_stream=True the body is still open, and readable, after the call returns."""
    client = Client(
        "GET", f"{base}/stream", nothing, keep_open, session=session, buffered_stream=True
    )
    response = await client(None)
    assert is_open(response)

    app.release_stream.set()  # the server sends the rest only now
    async with response:
        chunks = [chunk async for chunk in response.iter_chunks()]
    assert b"".join(chunks) == b"one,two,three"
    assert response.closed
    assert await sum_client(base, session)(SumRequest(2, 2)) == SumResponse(4)  # released


async def test_buffered_stream_closed_early_frees_the_connection(
    base: str, session: aiohttp.ClientSession
) -> None:
    """Closing a buffered response before its end gives the pool its slot back."""
    client = Client(
        "GET", f"{base}/stream", nothing, keep_open, session=session, buffered_stream=True
    )
    response = await client(None)
    await response.aclose()
    await response.aclose()  # closing twice is fine

    async with asyncio.timeout(5):
        assert await sum_client(base, session)(SumRequest(1, 2)) == SumResponse(3)


async def test_without_buffered_stream_the_response_is_closed_on_return(
    base: str, session: aiohttp.ClientSession
) -> None:
    """By default the client releases the response before the call returns."""
    client = Client("GET", f"{base}/headers", nothing, keep_open, session=session)
    response = await client(None)
    assert response.closed


async def test_buffered_stream_is_closed_when_the_decoder_fails(
    base: str, session: aiohttp.ClientSession
) -> None:
    """A failing decoder cannot hand over the body, so the client closes it anyway."""
    seen: list[ClientResponse] = []

    async def fail(response: ClientResponse) -> None:
        seen.append(response)
        raise ValueError("no")

    client = Client("GET", f"{base}/stream", nothing, fail, session=session, buffered_stream=True)
    with pytest.raises(ValueError, match="no"):
        await client(None)
    assert seen[0].closed


# --- cancellation and failures ------------------------------------------------------------


async def test_cancelling_a_call_cancels_the_request_and_frees_the_connection(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """The caller's asyncio.timeout ends the exchange: the server sees the client leave."""
    outcomes: list[ClientOutcome] = []
    client = Client(
        "POST", f"{base}/hang", nothing, status_of, session=session, finalizers=[outcomes.append]
    )
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await client(None)

    async with asyncio.timeout(5):
        await app.disconnected.wait()
        assert await sum_client(base, session)(SumRequest(1, 2)) == SumResponse(3)
    assert isinstance(outcomes[0].error, asyncio.CancelledError)


async def test_cancelling_during_decode_closes_the_response(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """A call cancelled while its decoder reads a body closes that body and frees the pool."""
    outcomes: list[ClientOutcome] = []
    client = Client(
        "GET", f"{base}/stream", nothing, status_of, session=session, finalizers=[outcomes.append]
    )
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await client(None)  # the server holds back the end of the body

    [outcome] = outcomes
    assert outcome.response is not None
    assert outcome.response.closed
    async with asyncio.timeout(5):
        assert await sum_client(base, session)(SumRequest(1, 2)) == SumResponse(3)


async def test_server_down_raises_a_retryable_connection_error(
    session: aiohttp.ClientSession,
) -> None:
    """No listener: TransportError, a ConnectionError the retry middleware retries."""
    async with RawListener() as listener:
        url = listener.url
    outcomes: list[ClientOutcome] = []
    client = Client(
        "POST", f"{url}/sum", encode_json_request, status_of, session=session,
        finalizers=[outcomes.append],
    )  # fmt: skip
    retried = retry(
        max_attempts=2,
        backoff=Constant(0.0),
        should_retry=lambda attempt, error: isinstance(error, ConnectionError),
    )(client)

    with pytest.raises(RetriesExhausted) as caught:
        await retried(SumRequest(1, 2))

    assert len(caught.value.attempts) == 2
    error = caught.value.final
    assert isinstance(error, TransportError)
    assert isinstance(error.__cause__, aiohttp.ClientConnectorError)
    assert f"POST {url}/sum failed" in str(error)
    assert [type(outcome.error) for outcome in outcomes] == [TransportError, TransportError]


async def test_a_body_cut_short_raises_transport_error(session: aiohttp.ClientSession) -> None:
    """A server that closes before the announced Content-Length is a TransportError."""
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{"
    async with RawListener(reply=reply) as listener:
        decoder = json_response_decoder(dict)
        client = Client("GET", f"{listener.url}/x", nothing, decoder, session=session)
        with pytest.raises(TransportError, match=r"reading the response to GET http://"):
            await client(None)


async def test_error_messages_hide_credentials_and_query_strings(
    session: aiohttp.ClientSession,
) -> None:
    """A URL's user, password and query (tokens) never appear in an error message."""
    async with RawListener() as listener:
        url = listener.url.replace("http://", "http://user:s3cret@") + "/sum?token=s3cret"
    client = Client("GET", url, nothing, status_of, session=session)
    with pytest.raises(TransportError) as caught:
        await client(None)
    assert "s3cret" not in str(caught.value)
    assert "user" not in str(caught.value)


# --- header injection (S5) ----------------------------------------------------------------

UNSAFE_VALUES = ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b", "\r\n\r\nGET / HTTP/1.1"]


@pytest.mark.parametrize("value", UNSAFE_VALUES)
async def test_header_values_with_cr_or_lf_are_refused_before_the_wire(
    session: aiohttp.ClientSession, value: str
) -> None:
    """S5: a header value with CR, LF or NUL raises UnsafeRequest and nothing is sent."""

    def inject(http_request: ClientRequest) -> None:
        http_request.headers["X-Note"] = value

    async with RawListener() as listener:
        client = Client("GET", listener.url, nothing, status_of, session=session, before=[inject])
        with pytest.raises(UnsafeRequest, match="'X-Note'") as caught:
            await client(None)
        await asyncio.sleep(0.05)  # a connection, had one been made, would be counted by now

    assert (caught.value.part, caught.value.name) == ("header", "X-Note")
    assert isinstance(caught.value, ValueError)
    assert (listener.connections, listener.received) == (0, b"")


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.text(max_size=20),
    breaker=st.sampled_from(["\r", "\n", "\r\n"]),
    suffix=st.text(max_size=20),
)
async def test_any_header_value_containing_cr_or_lf_is_refused(
    session: aiohttp.ClientSession, prefix: str, breaker: str, suffix: str
) -> None:
    """S5 (property): whatever surrounds a CR or LF, the request never reaches the listener."""
    async with RawListener() as listener:
        request = ClientRequest("GET", listener.url, {"X-Value": prefix + breaker + suffix})
        client: ExplicitClient[None, int] = ExplicitClient(
            lambda _: request, status_of, session=session
        )
        with pytest.raises(UnsafeRequest):
            await client(None)
    assert listener.connections == 0


@pytest.mark.parametrize("name", ["X Note", "X-Note\r\nInjected", "X:Note", "", "Ünïcode"])
async def test_header_names_that_are_not_tokens_are_refused(
    session: aiohttp.ClientSession, name: str
) -> None:
    """A header name with spaces, colons, CR/LF or non-ASCII is refused before the wire."""
    async with RawListener() as listener:
        request = ClientRequest("GET", listener.url, {name: "v"})
        client: ExplicitClient[None, int] = ExplicitClient(
            lambda _: request, status_of, session=session
        )
        with pytest.raises(UnsafeRequest, match="not a valid token"):
            await client(None)
    assert listener.connections == 0


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding"])
async def test_framing_headers_cannot_be_set_by_hand(
    session: aiohttp.ClientSession, name: str
) -> None:
    """Content-Length and Transfer-Encoding come from the body; setting them is refused."""
    async with RawListener() as listener:
        request = ClientRequest("POST", listener.url, {name: "1"}, b"0123456789")
        client: ExplicitClient[None, int] = ExplicitClient(
            lambda _: request, status_of, session=session
        )
        with pytest.raises(UnsafeRequest, match="is set from the body") as caught:
            await client(None)
    assert caught.value.name == name
    assert listener.connections == 0


async def test_method_and_url_changed_by_an_encoder_are_checked_too(
    session: aiohttp.ClientSession,
) -> None:
    """An encoder that puts CR/LF into the method or URL gets UnsafeRequest, nothing is sent."""
    async with RawListener() as listener:
        base_url = listener.url

        def bad_method(request: object, http_request: ClientRequest) -> None:
            http_request.method = "GET / HTTP/1.1\r\nX: y"

        def bad_url(request: object, http_request: ClientRequest) -> None:
            http_request.url += "/a\r\nX-Injected: 1"

        for encode, part in ((bad_method, "method"), (bad_url, "url")):
            client = Client("GET", base_url, encode, status_of, session=session)
            with pytest.raises(UnsafeRequest) as caught:
                await client(None)
            assert caught.value.part == part
    assert listener.connections == 0


async def test_a_header_value_that_is_not_a_string_is_a_type_error(
    base: str, session: aiohttp.ClientSession
) -> None:
    """A header value must be a str; an int is a programming error, reported as TypeError."""
    request = ClientRequest("GET", f"{base}/headers", {"X-Count": 3})  # type: ignore[dict-item]
    client: ExplicitClient[None, int] = ExplicitClient(
        lambda _: request, status_of, session=session
    )
    with pytest.raises(TypeError, match="'X-Count' must have a str value"):
        await client(None)


# --- construction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "error"),
    [
        ("GET POST", "http://127.0.0.1:1/", UnsafeRequest),
        ("", "http://127.0.0.1:1/", UnsafeRequest),
        ("GET", "/relative", ValueError),
        ("GET", "ftp://127.0.0.1/file", ValueError),
        ("GET", "http://127.0.0.1:1/\r\nX: 1", UnsafeRequest),
        ("GET", b"http://127.0.0.1:1/", TypeError),
    ],
)
async def test_client_validates_method_and_url_when_built(
    session: aiohttp.ClientSession, method: str, url: Any, error: type[Exception]
) -> None:
    """A bad method or URL fails at construction, before any call."""
    with pytest.raises(error):
        Client(method, url, nothing, status_of, session=session)


def test_client_needs_an_aiohttp_session() -> None:
    """Passing something other than an aiohttp.ClientSession is a TypeError."""
    with pytest.raises(TypeError, match=r"aiohttp\.ClientSession"):
        Client("GET", "http://127.0.0.1:1/", nothing, status_of, session=object())  # type: ignore[arg-type]


async def test_reprs_show_the_target_without_secrets(session: aiohttp.ClientSession) -> None:
    """repr names the method and URL but drops credentials and the query string."""
    client = Client("GET", "http://u:p@[::1]:8080/items?key=k", nothing, status_of, session=session)
    assert repr(client) == "Client(GET http://[::1]:8080/items)"
    explicit = ExplicitClient(repr, status_of, session=session)  # type: ignore[arg-type]
    assert repr(explicit).startswith("ExplicitClient(<built-in function repr>")


def test_set_header_replaces_any_spelling_of_the_name() -> None:
    """ClientRequest.set_header replaces a header whatever the case of its name."""
    request = ClientRequest("GET", "http://h/", {"content-type": "a", "X-Other": "b"})
    request.set_header("Content-Type", "c")
    assert request.headers == {"X-Other": "b", "Content-Type": "c"}


# --- encoders ------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"


@dataclass(frozen=True)
class WithHeaders:
    name: str
    color: Color = Color.RED

    @property
    def headers(self) -> Mapping[str, str]:
        """Headers for the request; a property, so not a field of the body."""
        return {"X-Tenant": "acme", "Content-Type": "application/vnd.acme+json"}


async def test_encode_json_request_sets_a_headerers_headers(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """A request with a headers mapping sets them, after (so over) the Content-Type."""
    client = Client("POST", f"{base}/echo", encode_json_request, status_of, session=session)
    await client(WithHeaders("n"))

    [seen] = app.requests
    assert seen.headers["x-tenant"] == "acme"
    assert seen.headers["content-type"] == "application/vnd.acme+json"
    assert seen.body == b'{"name":"n","color":"red"}'


async def test_header_pairs_set_each_name_once_to_its_first_value(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """Headers as (name, value) pairs: each name is set once, to its first value (Go kit)."""

    @dataclass(frozen=True)
    class Paired:
        ok: bool

        @property
        def headers(self) -> list[tuple[str, str]]:
            """Repeated names, as (name, value) pairs."""
            return [("X-A", "1"), ("x-a", "2"), ("X-B", "3")]

    client = Client("POST", f"{base}/echo", encode_json_request, status_of, session=session)
    await client(Paired(ok=True))
    assert (app.requests[0].headers["x-a"], app.requests[0].headers["x-b"]) == ("1", "3")


async def test_encode_xml_request_sends_elements_and_to_xml_documents(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """Elements and objects with to_xml() (str or bytes) go out as text/xml."""
    element = ET.Element("sum", {"a": "1"})
    element.text = "é"

    class Doc:
        def __init__(self, xml: str | bytes) -> None:
            self.xml = xml

        def to_xml(self) -> str | bytes:
            return self.xml

    client = Client("POST", f"{base}/echo", encode_xml_request, status_of, session=session)
    for request in (element, Doc("<a/>"), Doc(b"<b/>")):
        await client(request)

    assert [r.body for r in app.requests] == ['<sum a="1">é</sum>'.encode(), b"<a/>", b"<b/>"]
    assert {r.headers["content-type"] for r in app.requests} == {XML_CONTENT_TYPE}


def test_encode_xml_request_refuses_what_it_cannot_serialise() -> None:
    """Neither an Element nor a to_xml() object, or a to_xml() of another type: TypeError."""

    class Odd:
        def to_xml(self) -> int:
            return 1

    http_request = ClientRequest("POST", "http://h/")
    with pytest.raises(TypeError, match="Element or an object with to_xml"):
        encode_xml_request({"a": 1}, http_request)
    with pytest.raises(TypeError, match="must return str or bytes"):
        encode_xml_request(Odd(), http_request)


# --- json_response_decoder ----------------------------------------------------------------


class Item(TypedDict):
    name: str
    price: float
    tags: NotRequired[list[str]]


@dataclass(frozen=True)
class Basket:
    items: list[Item]
    owner: str | None = None
    kind: Literal["a", "b"] = "a"
    color: Color = Color.RED
    pair: tuple[int, str] = (0, "")
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Positive:
    n: int

    def __post_init__(self) -> None:
        if self.n <= 0:
            raise ValueError("n must be positive")


@dataclass(frozen=True)
class Tree:
    value: int
    children: list[Tree] = field(default_factory=list)


async def decode_echo(
    base: str, session: aiohttp.ClientSession, document: bytes, type_: Any, **kw: Any
) -> Any:
    """POST *document* to /echo and decode the answer with json_response_decoder(type_)."""

    def encode(request: bytes, http_request: ClientRequest) -> None:
        http_request.body = request

    decoder = json_response_decoder(type_, **kw)
    return await Client("POST", f"{base}/echo", encode, decoder, session=session)(document)


async def test_json_decoder_builds_nested_typed_values(
    base: str, session: aiohttp.ClientSession
) -> None:
    """Dataclasses, TypedDicts, lists, unions, Literal, enums and tuples decode; ints widen."""
    document = (
        b'{"items":[{"name":"pen","price":2},{"name":"ink","price":1.5,"tags":["x"]}],'
        b'"owner":null,"kind":"b","color":"red","pair":[1,"one"],"extra":{"k":[1]},'
        b'"added_later":true}'
    )
    basket = await decode_echo(base, session, document, Basket)

    assert basket == Basket(
        items=[{"name": "pen", "price": 2.0}, {"name": "ink", "price": 1.5, "tags": ["x"]}],
        kind="b",
        pair=(1, "one"),
        extra={"k": [1]},
    )
    assert type(basket.items[0]["price"]) is float
    tree = await decode_echo(base, session, b'{"value":1,"children":[{"value":2}]}', Tree)
    assert tree == Tree(1, [Tree(2)])
    assert await decode_echo(base, session, b"[1,2]", tuple[int, ...]) == (1, 2)
    assert await decode_echo(base, session, b"", type(None)) is None


@pytest.mark.parametrize(
    ("document", "type_", "path", "problem"),
    [
        (b'{"v":"3"}', SumResponse, "v", "expected integer, got string"),
        (b'{"v":true}', SumResponse, "v", "expected integer, got boolean"),
        (b"{}", SumResponse, "v", "required but missing"),
        (b"[]", SumResponse, "", "expected object, got array"),
        (b'{"items":[{"name":"p"}]}', Basket, "items[0].price", "required but missing"),
        (b'{"items":[],"kind":"c"}', Basket, "kind", 'expected one of "a", "b", got string'),
        (b'{"items":[],"color":"blue"}', Basket, "color", 'expected one of "red", got string'),
        (b'{"items":[],"pair":[1]}', Basket, "pair", "expected array of 2, got array"),
        (b'{"items":[],"owner":1}', Basket, "owner", "expected string or null, got integer"),
        (b'{"items":[],"color":[]}', Basket, "color", 'expected one of "red", got array'),
        (b'{"items":[],"extra":[]}', Basket, "extra", "expected object, got array"),
        (b'{"items":{}}', Basket, "items", "expected array, got object"),
        (b'{"value":1,"children":[{"value":"x"}]}', Tree, "children[0].value", "expected integer"),
        (b'{"n":-1}', Positive, "", "rejected by Positive's checks"),
        (b'{"v":"x"}', dict[str, float], "v", "expected number, got string"),
    ],
)
async def test_json_decoder_names_the_field_that_does_not_fit(
    base: str, session: aiohttp.ClientSession, document: bytes, type_: Any, path: str, problem: str
) -> None:
    """A 2xx body of the wrong shape raises InvalidResponse naming the path and the problem."""
    with pytest.raises(InvalidResponse) as caught:
        await decode_echo(base, session, document, type_)
    assert caught.value.path == path
    assert caught.value.problem.startswith(problem)
    assert "POST http://127.0.0.1:" in str(caught.value)


async def test_json_decoder_refuses_a_body_that_is_not_json(
    base: str, session: aiohttp.ClientSession
) -> None:
    """A body that is not JSON raises InvalidResponse, a ValueError."""
    with pytest.raises(InvalidResponse, match="not valid JSON") as caught:
        await decode_echo(base, session, b"<html>", SumResponse)
    assert isinstance(caught.value, ValueError)


async def test_json_decoder_raises_unexpected_status_with_the_start_of_the_body(
    base: str, session: aiohttp.ClientSession
) -> None:
    """A non-2xx answer raises UnexpectedStatus with status, reason and a truncated body."""
    decoder = json_response_decoder(SumResponse)
    client = Client("GET", f"{base}/status/503", nothing, decoder, session=session)
    with pytest.raises(UnexpectedStatus, match="answered 503 Service Unavailable") as caught:
        await client(None)
    assert (caught.value.status, caught.value.body) == (503, "upstream says no")
    assert not hasattr(caught.value, "status_code")

    long = Client("GET", f"{base}/status/500?size=5000", nothing, decoder, session=session)
    with pytest.raises(UnexpectedStatus) as caught:
        await long(None)
    assert len(caught.value.body) == 200
    assert caught.value.body.endswith("…")


async def test_response_json_parses_the_body(base: str, session: aiohttp.ClientSession) -> None:
    """ClientResponse.json() parses the body for hand-written decoders."""

    async def decode(response: ClientResponse) -> Any:
        return await response.json(max_bytes=100)

    client = Client("POST", f"{base}/sum", encode_json_request, decode, session=session)
    assert await client(SumRequest(2, 3)) == {"v": 5}


async def test_check_status_passes_2xx(base: str, session: aiohttp.ClientSession) -> None:
    """check_status lets 2xx through for hand-written decoders."""

    async def decode(response: ClientResponse) -> str:
        await check_status(response)
        return await response.text()

    assert await Client("GET", f"{base}/headers", nothing, decode, session=session)(None) == "ok"


async def test_bodies_over_max_bytes_are_refused_before_buffering(
    base: str, session: aiohttp.ClientSession
) -> None:
    """Announced or chunked, a body larger than max_bytes raises ResponseTooLarge."""
    decoder = json_response_decoder(dict, max_bytes=1000)
    for path in ("/status/200?size=5000", "/chunked?size=5000"):
        client = Client("GET", f"{base}{path}", nothing, decoder, session=session)
        with pytest.raises(ResponseTooLarge, match="larger than 1000 bytes") as caught:
            await client(None)
        assert caught.value.limit == 1000
    assert await sum_client(base, session)(SumRequest(1, 2)) == SumResponse(3)


async def test_bodies_within_max_bytes_are_read_whole(
    base: str, session: aiohttp.ClientSession
) -> None:
    """A chunked body up to max_bytes is read in full, and reading again returns it again."""

    async def decode(response: ClientResponse) -> tuple[bytes, bytes, bytes]:
        first = await response.read(max_bytes=5000)
        return first, await response.read(), await response.read_prefix(10)

    client = Client("GET", f"{base}/chunked?size=5000", nothing, decode, session=session)
    first, again, prefix = await client(None)
    assert first == again == b"x" * 5000
    assert prefix == b"x" * 10


def test_json_decoder_refuses_types_it_cannot_read() -> None:
    """A type without a JSON reading is a TypeError when the decoder is built."""
    with pytest.raises(TypeError, match="cannot derive a decoder"):
        json_response_decoder(set)


class Partial(TypedDict, total=False):
    id: Required[int]
    note: Annotated[str, "free text"]


async def test_json_decoder_reads_required_and_optional_typeddict_keys(
    base: str, session: aiohttp.ClientSession
) -> None:
    """Required[...] in a total=False TypedDict is required, the other keys are optional."""
    assert await decode_echo(base, session, b'{"id":1}', Partial) == {"id": 1}
    assert await decode_echo(base, session, b'{"id":1,"note":"n"}', Partial) == {
        "id": 1,
        "note": "n",
    }
    with pytest.raises(InvalidResponse, match="field 'id': required but missing"):
        await decode_echo(base, session, b'{"note":"n"}', Partial)


def test_stdlib_json_fallback_serialises_like_orjson() -> None:
    """Without orjson, dataclasses, enums, dates and UUIDs serialise to the same bytes."""

    @dataclass
    class Stamp:
        when: datetime.date
        at: datetime.time
        id: uuid.UUID
        color: Color

    value = Stamp(datetime.date(2026, 11, 21), datetime.time(9, 30), uuid.UUID(int=1), Color.RED)
    assert client_codec._stdlib_dumps(value) == orjson.dumps(value)
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        client_codec._stdlib_dumps(object())


# --- reading responses --------------------------------------------------------------------


async def test_a_session_timeout_stays_a_timeout_error(base: str) -> None:
    """A timeout configured on the session is raised as TimeoutError, not TransportError."""
    timeout = aiohttp.ClientTimeout(sock_read=0.1)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        client = Client("POST", f"{base}/hang", nothing, status_of, session=session)
        with pytest.raises(TimeoutError) as caught:
            await client(None)
    assert not isinstance(caught.value, TransportError)


async def test_read_with_a_limit_gathers_a_body_arriving_in_parts(
    base: str, session: aiohttp.ClientSession, app: UpstreamApp
) -> None:
    """read(max_bytes=...) keeps reading a chunked body until its end."""

    async def decode(response: ClientResponse) -> str:
        asyncio.get_running_loop().call_later(0.05, app.release_stream.set)
        return await response.text(max_bytes=100)

    client = Client("GET", f"{base}/stream", nothing, decode, session=session)
    assert await client(None) == "one,two,three"


@pytest.mark.parametrize("status", [200, 500])
async def test_a_body_cut_short_is_a_transport_error_for_every_reader(
    session: aiohttp.ClientSession, status: int
) -> None:
    """read, read_prefix (error bodies) and iter_chunks all report a cut body as TransportError."""
    reply = f"HTTP/1.1 {status} X\r\nContent-Length: 100\r\n\r\n".encode()
    async with RawListener(reply=reply) as listener:
        decoder = json_response_decoder(dict)
        client = Client("GET", listener.url, nothing, decoder, session=session)
        with pytest.raises(TransportError, match="ClientPayloadError"):
            await client(None)

        streaming = Client(
            "GET", listener.url, nothing, keep_open, session=session, buffered_stream=True
        )
        async with await streaming(None) as response:
            assert repr(response).startswith(f"<ClientResponse {status} X to GET http://")
            with pytest.raises(TransportError):
                async for _ in response.iter_chunks():
                    pass


async def test_client_refuses_a_url_with_a_bad_port(session: aiohttp.ClientSession) -> None:
    """A port that is not a number in range is a ValueError at construction."""
    with pytest.raises(ValueError, match="out of range"):
        Client("GET", "http://127.0.0.1:99999/", nothing, status_of, session=session)
