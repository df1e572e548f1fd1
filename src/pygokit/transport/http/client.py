"""HTTP client: one remote method as an endpoint (Go kit's ``transport/http`` client).

A `Client` *is* an endpoint, ``await client(request)``, so endpoint middleware
(retry, breaker, limiter, logging, tracing) wraps it like a local one. A call
builds a `ClientRequest` with *encode*, runs the *before* hooks on it, sends it
through the caller's ``aiohttp.ClientSession``, runs the *after* hooks on the
`ClientResponse`, and *decode*s that; finalizers then always run with a
`ClientOutcome`. `ExplicitClient` takes a function that builds the whole request.
As in Go kit, a non-2xx status is not an error: the decoder checks it.

The caller owns the session, so the connection pool: share one between clients
and close it on the way out. Building a client does no I/O. Deadlines are the
caller's ``asyncio.timeout``; cancelling a call cancels the exchange, and a
connection whose body was not read to the end is closed, never pooled. Header
names and values, the method and the URL are checked for CR, LF and other
control characters before anything reaches the network (`UnsafeRequest`; S5).

Needs the ``http`` extra (aiohttp): ``pip install 'pygokit[http]'``.

Example::

    async with aiohttp.ClientSession() as session:
        sum_ = Client("POST", "http://127.0.0.1:8080/sum", encode_json_request,
                      json_response_decoder(SumResponse), session=session)
        async with asyncio.timeout(1.0):
            response = await sum_(SumRequest(a=1, b=2))
"""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, NoReturn, TypeAlias, TypeVar

from pygokit._extras import missing_extra

try:
    import aiohttp
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.transport.http.client", "http") from exc

from pygokit.errors import GoKitError

__all__ = [
    "Client",
    "ClientFinalizer",
    "ClientOutcome",
    "ClientRequest",
    "ClientResponse",
    "CreateRequest",
    "DecodeResponse",
    "EncodeRequest",
    "ExplicitClient",
    "RequestHook",
    "ResponseHook",
    "ResponseTooLarge",
    "TransportError",
    "UnsafeRequest",
]

Req = TypeVar("Req")
Resp = TypeVar("Resp")

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""Control characters other than HTAB: never valid in a header value or a URL."""
_FRAMING = frozenset({"content-length", "transfer-encoding"})
"""Headers the HTTP library derives from the body; set by hand, they could smuggle requests."""


@dataclass(slots=True)
class ClientRequest:
    """The HTTP request that encoders and before hooks fill in; mutable on purpose.

    Header names compare case-insensitively in HTTP, but ``headers`` is a plain
    dict: use `set_header` to replace a header whatever its spelling.
    """

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def set_header(self, name: str, value: str) -> None:
        """Set header *name* to *value*, replacing it under any spelling of its name."""
        folded = name.lower()
        for existing in [key for key in self.headers if key.lower() == folded]:
            del self.headers[existing]
        self.headers[name] = value


class UnsafeRequest(GoKitError, ValueError):
    """A request was refused before it was sent: a header, the method or the URL is unsafe.

    Attributes:
        part: What was refused: ``"header"``, ``"method"`` or ``"url"``.
        name: The header's name (for ``part == "header"``), else None.
    """

    def __init__(self, message: str, *, part: str, name: str | None = None) -> None:
        super().__init__(message)
        self.part = part
        self.name = name


class TransportError(GoKitError, ConnectionError):
    """The HTTP exchange failed below HTTP: no connection, a reset, a truncated body.

    It is a `ConnectionError`, so ``should_retry=lambda n, e: isinstance(e,
    ConnectionError)`` retries it; whether a retry is safe for a request that may
    have reached the server is the caller's call. The library's own error is the
    ``__cause__``. Timeouts are not wrapped: they stay `TimeoutError`.
    """


class ResponseTooLarge(GoKitError):
    """A response body is larger than the reader allowed; ``limit`` is that many bytes."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


def _describe(method: str, url: str) -> str:
    """``METHOD scheme://host/path``, without credentials, query or fragment (may hold secrets)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""  # _check_url vetted it
    return f"{method} {parts.scheme}://{host}{port}{parts.path}"


def _transport_error(error: aiohttp.ClientError, what: str) -> NoReturn:
    if isinstance(error, TimeoutError | ValueError):
        raise error  # a session timeout stays a TimeoutError, a bad URL a ValueError
    # A ClientResponseError's text holds the full URL (query included): use its message only.
    text = error.message if isinstance(error, aiohttp.ClientResponseError) else str(error)
    raise TransportError(f"{what} failed: {type(error).__name__}: {text}") from error


class ClientResponse:
    """The response a decoder gets: status, headers and the body, read on demand.

    A thin layer over ``aiohttp.ClientResponse`` (in ``raw``, for what it lacks),
    so decoders do not depend on the HTTP library. Reading errors raise
    `TransportError`. ``headers`` look names up case-insensitively;
    ``description`` is ``METHOD scheme://host/path`` of the request, without
    credentials or query string, for error messages.

    When the client was built with ``buffered_stream=True``, the body is still
    open when the call returns and the caller must close it: ``async with
    response: ...`` or ``await response.aclose()``. Otherwise the client closes it.
    """

    __slots__ = ("_body", "description", "headers", "raw", "reason", "status")

    def __init__(self, raw: aiohttp.ClientResponse, description: str) -> None:
        self.raw = raw
        self.status: int = raw.status
        self.reason: str = raw.reason or ""
        self.headers: Mapping[str, str] = raw.headers
        self._body: bytes | None = None
        self.description = description

    @property
    def content_length(self) -> int | None:
        """The Content-Length the server announced, or None (Go kit's response size)."""
        return self.raw.content_length

    @property
    def closed(self) -> bool:
        """Whether the response was released or closed."""
        return self.raw.closed

    async def read(self, *, max_bytes: int | None = None) -> bytes:
        """Read the whole body (once; later calls return it again).

        With *max_bytes*, a body longer than that raises `ResponseTooLarge`
        without buffering more than *max_bytes* bytes of it.
        """
        if self._body is not None:
            return self._body
        length = self.raw.content_length
        try:
            if max_bytes is None or (length is not None and length <= max_bytes):
                body = await self.raw.read()
            elif length is not None:
                self._too_large(max_bytes)
            else:
                body = await self.raw.content.read(max_bytes + 1)
                while len(body) <= max_bytes and not self.raw.content.at_eof():
                    body += await self.raw.content.read(max_bytes + 1 - len(body))
                if len(body) > max_bytes:
                    self._too_large(max_bytes)
        except aiohttp.ClientError as error:
            self.raw.close()
            _transport_error(error, f"reading the response to {self.description}")
        self._body = body
        return body

    async def read_prefix(self, max_bytes: int) -> bytes:
        """Read at most *max_bytes* bytes of the body (for error messages); the rest is dropped."""
        if self._body is not None:
            return self._body[:max_bytes]
        try:
            return await self.raw.content.read(max_bytes)
        except aiohttp.ClientError as error:
            self.raw.close()
            _transport_error(error, f"reading the response to {self.description}")

    async def text(self, *, max_bytes: int | None = None) -> str:
        """The body decoded with the charset the response names (UTF-8 if none)."""
        body = await self.read(max_bytes=max_bytes)
        return body.decode(self.raw.charset or "utf-8", errors="replace")

    async def json(self, *, max_bytes: int | None = None) -> Any:
        """The body parsed as JSON, whatever the Content-Type; ``ValueError`` if it is not JSON."""
        return json.loads(await self.read(max_bytes=max_bytes))

    async def iter_chunks(self, chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
        """Yield the body as it arrives, in chunks of at most *chunk_size* bytes."""
        try:
            async for chunk in self.raw.content.iter_chunked(chunk_size):
                yield chunk
        except aiohttp.ClientError as error:
            self.raw.close()
            _transport_error(error, f"reading the response to {self.description}")

    def _too_large(self, max_bytes: int) -> NoReturn:
        self.raw.close()
        raise ResponseTooLarge(
            f"the response to {self.description} is larger than {max_bytes} bytes; "
            "raise the reader's max_bytes if such responses are expected",
            limit=max_bytes,
        )

    async def aclose(self) -> None:
        """Release the response and its connection; safe to call more than once."""
        self.raw.release()
        await self.raw.wait_for_close()

    async def __aenter__(self) -> ClientResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<ClientResponse {self.status} {self.reason} to {self.description}>"


@dataclass(frozen=True, slots=True)
class ClientOutcome:
    """What a finalizer learns about one call.

    Attributes:
        request: The request as sent, or None if encoding (or
            ``create_request``) failed.
        response: The response, or None if there was none. Its status, headers
            and `ClientResponse.content_length` (Go kit's response headers and
            size) stay readable after it was closed.
        error: What the call raised (cancellation included), or None.
    """

    request: ClientRequest | None
    response: ClientResponse | None
    error: BaseException | None


EncodeRequest: TypeAlias = Callable[[Req, ClientRequest], None]
"""Fills a `ClientRequest` (body, headers, even method and URL) from the endpoint's request."""

CreateRequest: TypeAlias = Callable[[Req], ClientRequest]
"""Builds the whole `ClientRequest` from the endpoint's request (for `ExplicitClient`)."""

DecodeResponse: TypeAlias = Callable[[ClientResponse], Awaitable[Resp]]
"""Turns a `ClientResponse` into the endpoint's response; checks the status itself."""

RequestHook: TypeAlias = Callable[[ClientRequest], None]
"""A before hook: runs on the request after it was built, before it is sent."""

ResponseHook: TypeAlias = Callable[[ClientResponse], None]
"""An after hook: runs on the response before it is decoded (Go kit #1008's order)."""

ClientFinalizer: TypeAlias = Callable[[ClientOutcome], None]
"""Runs after every call, whatever happened; must not raise."""


def _check_method(method: str) -> None:
    if not isinstance(method, str) or not _TOKEN.fullmatch(method):
        raise UnsafeRequest(f"HTTP method {method!r} is not a valid token", part="method")


def _check_url(url: str) -> None:
    if not isinstance(url, str):
        raise TypeError(f"the URL must be a str, got {type(url).__name__}")
    if _CONTROL.search(url):
        raise UnsafeRequest("the URL contains control characters (CR, LF, NUL, ...)", part="url")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the URL must be absolute http:// or https://, got {url!r}")
    parts.port  # noqa: B018 -- raises ValueError for a port that is not a number or out of range


@functools.lru_cache(maxsize=512)
def _target(method: str, url: str) -> str:
    """Vet *method* and *url* and describe them; cached, as a client calls few targets."""
    _check_method(method)
    _check_url(url)
    return _describe(method, url)


def _check(request: ClientRequest) -> str:
    """Refuse a request that could smuggle headers or a second request onto the wire.

    Returns the request's description for messages.
    """
    description = _target(request.method, request.url)
    for name, value in request.headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise UnsafeRequest(
                f"refusing to send {description}: header name {name!r} is not a valid token",
                part="header",
                name=str(name),
            )
        if name.lower() in _FRAMING:
            raise UnsafeRequest(
                f"refusing to send {description}: header {name!r} is set from the body; a "
                "value that disagrees with it would desynchronise the connection",
                part="header",
                name=name,
            )
        if not isinstance(value, str):
            raise TypeError(f"header {name!r} must have a str value, got {type(value).__name__}")
        if _CONTROL.search(value):
            raise UnsafeRequest(
                f"refusing to send {description}: the value of header {name!r} contains CR, "
                "LF or another control character (header injection); strip them from values "
                "taken from user input",
                part="header",
                name=name,
            )
    return description


class ExplicitClient(Generic[Req, Resp]):
    """An endpoint whose requests *create_request* builds whole (Go kit ``NewExplicitClient``).

    Use it when method and URL depend on the request (REST paths with ids). The
    other arguments are those of `Client`, which is an `ExplicitClient` whose
    requests start from a fixed method and URL.

    Example::

        def get_profile(request: GetProfile) -> ClientRequest:
            return ClientRequest("GET", f"{base}/profiles/{quote(request.id, safe='')}")

        get = ExplicitClient(get_profile, json_response_decoder(Profile), session=session)
    """

    __slots__ = ("_after", "_before", "_buffered", "_create", "_decode", "_finalizers", "_session")

    def __init__(
        self,
        create_request: CreateRequest[Req],
        decode: DecodeResponse[Resp],
        *,
        session: aiohttp.ClientSession,
        before: Sequence[RequestHook] = (),
        after: Sequence[ResponseHook] = (),
        finalizers: Sequence[ClientFinalizer] = (),
        buffered_stream: bool = False,
    ) -> None:
        if not isinstance(session, aiohttp.ClientSession):
            raise TypeError(f"session must be an aiohttp.ClientSession, got {session!r}")
        self._create = create_request
        self._decode = decode
        self._session = session
        self._before = tuple(before)
        self._after = tuple(after)
        self._finalizers = tuple(finalizers)
        self._buffered = buffered_stream

    async def __call__(self, request: Req) -> Resp:
        """Send *request* and return the decoded response; see the module docs."""
        record: list[Any] = [None, None]  # the request and the response, once they exist
        if not self._finalizers:
            return await self._call(request, record)
        error: BaseException | None = None
        try:
            return await self._call(request, record)
        except BaseException as exc:  # noted for the finalizers, then re-raised
            error = exc
            raise
        finally:
            outcome = ClientOutcome(record[0], record[1], error)
            for finalize in self._finalizers:
                finalize(outcome)

    async def _call(self, request: Req, record: list[Any]) -> Resp:
        http_request = record[0] = self._create(request)
        for before in self._before:
            before(http_request)
        description = _check(http_request)
        try:
            raw = await self._session.request(
                http_request.method,
                http_request.url,
                headers=http_request.headers,
                data=http_request.body or None,
                raise_for_status=False,  # non-2xx is for the decoder, whatever the session says
            )
        except aiohttp.ClientError as error:
            _transport_error(error, description)
        response = record[1] = ClientResponse(raw, description)
        done = False
        try:
            for after in self._after:
                after(response)
            result = await self._decode(response)
            done = True
        finally:
            if not done:
                raw.close()  # a failed or cancelled call never puts its connection back
            elif not self._buffered:
                raw.release()  # back to the pool if the body was read to the end, else closed
        return result

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._create!r})"


class Client(ExplicitClient[Req, Resp]):
    """One remote HTTP method as an endpoint: ``await client(request)`` (Go kit ``NewClient``).

    Args:
        method: The HTTP method, e.g. ``"POST"``; an encoder may change it per call.
        url: The absolute http(s) URL; an encoder may change it per call (path
            parameters, query strings).
        encode: Fills the `ClientRequest` from the endpoint's request, e.g.
            `pygokit.transport.http.client_codec.encode_json_request`.
        decode: Turns the `ClientResponse` into the endpoint's response, e.g.
            ``json_response_decoder(SumResponse)``. It sees every status.
        session: The caller's ``aiohttp.ClientSession``; the caller closes it.
        before: Hooks run in order on the request after *encode*, before sending
            (inject trace headers, auth tokens).
        after: Hooks run in order on the response before *decode*.
        finalizers: Run after each call, whatever happened, with a `ClientOutcome`.
        buffered_stream: Leave the body open after the call, for a decoder that
            returns the `ClientResponse` (or something reading it) to stream it;
            the caller must then close it. If *decode* or a hook raises, the
            body is closed anyway.

    Example::

        uppercase = Client("POST", f"{base}/uppercase", encode_json_request,
                           json_response_decoder(UppercaseResponse), session=session)
        result = await uppercase(UppercaseRequest(s="hi"))
    """

    __slots__ = ("_encode", "_method", "_url")

    def __init__(
        self,
        method: str,
        url: str,
        encode: EncodeRequest[Req],
        decode: DecodeResponse[Resp],
        *,
        session: aiohttp.ClientSession,
        before: Sequence[RequestHook] = (),
        after: Sequence[ResponseHook] = (),
        finalizers: Sequence[ClientFinalizer] = (),
        buffered_stream: bool = False,
    ) -> None:
        _target(method, url)
        self._method = method
        self._url = url
        self._encode = encode
        super().__init__(
            self._build,
            decode,
            session=session,
            before=before,
            after=after,
            finalizers=finalizers,
            buffered_stream=buffered_stream,
        )

    def _build(self, request: Req) -> ClientRequest:
        http_request = ClientRequest(self._method, self._url)
        self._encode(request, http_request)
        return http_request

    def __repr__(self) -> str:
        return f"Client({_describe(self._method, self._url)})"
