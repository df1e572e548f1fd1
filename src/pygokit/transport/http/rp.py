"""A reverse proxy to one upstream, as an ASGI app (Go kit's ``transport/httprp``).

`ReverseProxy` forwards every request to one base URL, as Go's
``httputil.NewSingleHostReverseProxy`` does: the base path is joined with the
request's path and the two query strings are merged. Before hooks (Go kit's
``ServerBefore``) get a mutable `ProxyRequest` and may change its method, path,
query and headers. Bodies stream both ways, never buffered whole; the request
body is limited to ``max_body_bytes`` (413) like `Server`'s.

Go kit's ``httprp`` drops the context its hooks return, so a hook can only work by
mutating the request. Here hooks set context variables, and everything after
them in that request sees the values: later hooks, the upstream call (aiohttp
trace hooks and middleware included), the error handler and the finalizers. Each
request runs in its own task, so its own copy of the context, as with `Server`;
values never leak between requests.

Beyond Go's proxy, on purpose:

* hop-by-hop headers (Connection and the fields it names, Keep-Alive, Proxy-*,
  TE, Trailer, Transfer-Encoding, Upgrade) are removed from the client's request
  *before* the hooks run (as Go 1.20's ``Rewrite`` does), so a client cannot name
  a header a hook adds in ``Connection`` to have it stripped; and from the
  upstream's response;
* X-Forwarded-For is appended to, X-Forwarded-Host and X-Forwarded-Proto are set;
  the upstream gets its own Host (a hook may set another);
* a path with ``.`` or ``..`` segments (percent-encoded too) is refused with 400,
  so a client cannot climb out of the base path;
* redirects are passed to the client, not followed; compressed bodies pass as
  they are; cookies are never kept between requests (a session with a cookie jar
  is refused, as it would send one client's cookies for another);
* no upstream is a 502 and a silent one a 504 (`BadGateway`, `GatewayTimeout`):
  the client gets the error encoder's generic JSON, the error handler the details.

Needs the ``http`` extra (aiohttp): ``pip install 'pygokit[http]'``.

Example::

    def authenticate(request: ProxyRequest) -> None:
        user.set(check_token(request.incoming.headers.get("authorization", "")))
        request.headers["x-user"] = user.get()

    async with ReverseProxy("http://127.0.0.1:9000/api", before=[authenticate]) as proxy:
        await serve(proxy, port=8080)
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import AsyncIterator, Callable, Sequence
from types import TracebackType
from typing import Self, TypeAlias

from pygokit._extras import missing_extra

try:
    import aiohttp
    import yarl
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.transport.http.rp", "http") from exc

from pygokit._asgi import Receive, Scope, Send, reject_websocket
from pygokit.errors import GoKitError
from pygokit.log import NopLogger
from pygokit.transport import ErrorHandler, LogErrorHandler
from pygokit.transport.http import context
from pygokit.transport.http._proxy_request import (
    TOKEN,
    UNSAFE_PATH,
    UNSAFE_QUERY,
    ProxyRequest,
    body_stream,
    outgoing_request,
    response_fields,
)
from pygokit.transport.http.client import UnsafeRequest
from pygokit.transport.http.codec import ErrorEncoder, default_error_encoder
from pygokit.transport.http.request import (
    DEFAULT_MAX_BODY_BYTES,
    BadRequest,
    Headers,
    PayloadTooLarge,
    Request,
)
from pygokit.transport.http.response import Response
from pygokit.transport.http.server import Finalizer

__all__ = ["BadGateway", "GatewayTimeout", "ProxyHook", "ProxyRequest", "ReverseProxy"]

_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "Content-Type", "User-Agent")
"""Headers aiohttp would add; a proxy sends only what the client sent."""


class BadGateway(GoKitError):
    """502: the upstream could not be reached, or broke off its answer.

    The message, for logs, names the upstream and aiohttp's error (the cause);
    the client gets only the error encoder's generic "bad gateway".
    """

    status_code = 502


class GatewayTimeout(GoKitError, TimeoutError):
    """504: the upstream stayed silent for longer than the proxy's ``timeout``."""

    status_code = 504


ProxyHook: TypeAlias = Callable[[ProxyRequest], None]
"""A before hook (Go kit's ``ServerBefore``): may edit the request and set context variables."""


class _Sent:
    """What went back to the client, for the finalizers."""

    __slots__ = ("headers", "size", "status")

    def __init__(self) -> None:
        self.status = 0
        self.headers = Headers()
        self.size = 0


class ReverseProxy:
    """Forward every request to one upstream: an ASGI application.

    Args:
        upstream: The base URL, ``http://`` or ``https://``, with an optional path
            and query (``http://10.0.0.7:8080/api?tenant=a``); no credentials.
        before: Hooks run in order on each `ProxyRequest` before it is sent.
        finalizers: Run in order once the response was sent, or failed to be,
            with the client's `Request` and the status sent (0 if none);
            `context.response_headers` and `context.response_size` hold the rest.
        session: The ``aiohttp.ClientSession`` to send with; the caller closes it.
            It must not keep cookies (``cookie_jar=aiohttp.DummyCookieJar()``).
            Without one, the proxy opens its own on the first request and closes
            it in `aclose`, on leaving ``async with``, or at ASGI lifespan shutdown.
        timeout: The longest, in seconds, the upstream may stay silent: to
            connect, to start its answer once the request body is sent, or
            between two pieces of its body.
        max_body_bytes: The largest request body forwarded; larger is a 413.
        error_encoder: Answers errors (bad requests, a failing hook, no upstream).
        error_handler: Observes every error, with `context.request_id` set to
            the id in the error response.
    """

    def __init__(
        self,
        upstream: str,
        *,
        before: Sequence[ProxyHook] = (),
        finalizers: Sequence[Finalizer] = (),
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        error_encoder: ErrorEncoder = default_error_encoder,
        error_handler: ErrorHandler | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream must be an absolute http(s) URL, got {upstream!r}")
        if parts.username is not None or parts.fragment or UNSAFE_QUERY.search(upstream):
            raise ValueError("upstream must have no credentials, fragment, spaces or controls")
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number or out of range
        if session is not None and not isinstance(session.cookie_jar, aiohttp.DummyCookieJar):
            raise ValueError(
                "the proxy's session must not keep cookies, or it would send one client's "
                "cookies for another: create it with cookie_jar=aiohttp.DummyCookieJar()"
            )
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        if max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be >= 0, got {max_body_bytes}")
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._base_path = parts.path
        self._base_query = parts.query
        self._before = tuple(before)
        self._finalizers = tuple(finalizers)
        self._session = session
        self._owned: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)
        self._max_body_bytes = max_body_bytes
        self._error_encoder = error_encoder
        self._error_handler = error_handler or LogErrorHandler(NopLogger())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection: a proxied request, the lifespan, or a refused WebSocket."""
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await reject_websocket(receive, send)
        elif kind != "http":
            raise ValueError(f"unsupported ASGI scope type {kind!r}")
        else:
            request = Request(scope, receive, self._max_body_bytes)
            sent = _Sent()
            try:
                await self._serve(request, receive, send, sent)
            finally:
                if self._finalizers:
                    self._finalize(request, sent)

    async def _serve(self, request: Request, receive: Receive, send: Send, sent: _Sent) -> None:
        try:
            upstream = await self._forward(self._outgoing(request), request, receive)
        except Exception as error:  # never BaseException: cancellation passes through
            response = self._respond_to(error, request)
            start, body = response.messages(head=request.method == "HEAD")
            sent.status, sent.headers = response.status, response.headers
            await send(start)
            await send(body)
            sent.size = len(body["body"])
            return
        try:
            await self._relay(upstream, request, send, sent)
        finally:
            upstream.release()  # pooled if the body was read to the end, else closed

    def _outgoing(self, request: Request) -> ProxyRequest:
        """Build the upstream request from the client's, run the hooks on it, and vet it."""
        outgoing = outgoing_request(request, self._origin, self._base_path, self._base_query)
        for before in self._before:
            before(outgoing)
        if not isinstance(outgoing.method, str) or not TOKEN.fullmatch(outgoing.method):
            raise UnsafeRequest(f"method {outgoing.method!r} is not a token", part="method")
        if not isinstance(outgoing.path, str) or not outgoing.path.startswith("/"):
            raise UnsafeRequest(f"path {outgoing.path!r} does not start with '/'", part="url")
        if UNSAFE_PATH.search(outgoing.path) or UNSAFE_QUERY.search(outgoing.query):
            raise UnsafeRequest("the path or query has characters to encode", part="url")
        return outgoing

    async def _forward(
        self, outgoing: ProxyRequest, request: Request, receive: Receive
    ) -> aiohttp.ClientResponse:
        """Send *outgoing* with the client's body; return the upstream's response."""
        limit = self._max_body_bytes
        declared = request.header(b"content-length")
        if declared is not None:  # refused before a byte is read or sent, as Request.body does
            if not declared.isdigit():
                raise BadRequest("Content-Length must be a decimal number of bytes")
            if int(declared) > limit:
                raise PayloadTooLarge(limit)
        headers = [(_text(name), _text(value)) for name, value in outgoing.headers.raw]
        first = await receive()
        body: bytes | AsyncIterator[bytes] | None
        problems: list[Exception] = []
        if first["type"] == "http.request" and not first.get("more_body", False):
            body = first.get("body", b"") or None
            if body is not None and len(body) > limit:
                raise PayloadTooLarge(limit)
        else:
            body = body_stream(first, receive, limit, problems)
            if declared is not None:  # sent as is, not chunked: some servers refuse chunks
                headers.append(("Content-Length", declared.decode()))
        where = f"{outgoing.method} {self._origin}{outgoing.path}"
        try:
            upstream = await self._client().request(
                outgoing.method,
                yarl.URL(outgoing.url, encoded=True),
                headers=headers,
                data=body,
                skip_auto_headers=_NO_AUTO_HEADERS,
                allow_redirects=False,
                auto_decompress=False,
                raise_for_status=False,
                timeout=self._timeout,
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            if problems:  # the client's body was refused while it was being sent
                raise problems[0] from error
            if isinstance(error, TimeoutError):
                raise GatewayTimeout(f"{where}: no answer in time ({error!r})") from error
            raise BadGateway(f"{where}: {type(error).__name__}: {error}") from error
        if upstream.status < 200:  # a 101: aiohttp skips the other 1xx answers itself
            upstream.close()
            raise BadGateway(f"{where}: answered {upstream.status}; upgrades are not proxied")
        return upstream  # an answer that came before the whole body was sent goes back as is

    async def _relay(
        self, upstream: aiohttp.ClientResponse, request: Request, send: Send, sent: _Sent
    ) -> None:
        """Send the upstream's answer to the client, its body piece by piece as it comes."""
        fields = response_fields(upstream.raw_headers)
        sent.status, sent.headers = upstream.status, Headers.from_raw(fields)
        await send({"type": "http.response.start", "status": upstream.status, "headers": fields})
        try:
            async for chunk in upstream.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sent.size += len(chunk)
        except (aiohttp.ClientError, TimeoutError) as error:
            # Too late for a 502: leave the response unfinished, so the server drops
            # the connection and the client sees a truncated answer.
            context.request_id.set(request.request_id)
            self._report(BadGateway(f"the answer from {self._origin} broke off: {error!r}"))
            return
        await send({"type": "http.response.body", "body": b""})

    def _client(self) -> aiohttp.ClientSession:
        if self._session is not None:
            return self._session
        if self._owned is None:
            self._owned = aiohttp.ClientSession(
                cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
            )
        return self._owned

    def _respond_to(self, error: Exception, request: Request) -> Response:
        """Report *error* with the request id set, and encode it; never raises."""
        context.request_id.set(request.request_id)
        self._report(error)
        try:
            response = self._error_encoder(error, request)
            if not isinstance(response, Response):
                raise TypeError(f"the error encoder returned {type(response).__name__}")
        except Exception as encoder_error:
            self._report(encoder_error)
            response = default_error_encoder(encoder_error, request)  # a generic 500
        return response

    def _report(self, error: Exception) -> None:
        with contextlib.suppress(Exception):  # a handler must not raise; if one does, go on
            self._error_handler.handle(error)

    def _finalize(self, request: Request, sent: _Sent) -> None:
        context.response_headers.set(sent.headers)
        context.response_size.set(sent.size)
        for finalize in self._finalizers:
            try:
                finalize(request, sent.status)
            except Exception as error:
                self._report(error)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Close the session the proxy opened, if any (never the caller's); idempotent.

        A request after this opens a new session, which needs closing again.
        """
        owned, self._owned = self._owned, None
        if owned is not None:
            await owned.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"ReverseProxy({self._origin + self._base_path!r})"


def _text(raw: bytes) -> str:
    """A header as aiohttp takes it (it sends str as UTF-8): UTF-8 bytes survive the trip."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
