"""Request-scoped facts of the HTTP transport, as context variables.

Go kit's ``PopulateRequestContext`` copies request facts into the ``context.Context``
so that endpoints and middleware can read them without seeing the request. Here
they are ``ContextVar`` objects: `populate_request_context` is a ``before`` hook
that sets them, and anything running for that request reads them with ``.get()``
(``""`` when unset or when the header is absent, as Go kit's
``r.Header.Get`` returns). Every request runs in its own copy of the context, so a
value never leaks from one request into another.

The server itself sets three more: `request_id` on the error path, before the
error handler runs (so a log entry carries the id the client got), and
`response_headers` and `response_size` before the finalizers run, as Go kit's
``ContextKeyResponseHeaders`` and ``ContextKeyResponseSize``.

Example::

    server = Server(endpoint, decode, encode, before=[populate_request_context])

    async def endpoint(request: Lookup) -> Profile:
        logger.log(method="lookup", request_id=request_id.get(), agent=request_user_agent.get())
        ...

    # the error handler's log lines carry the id the client saw:
    error_handler = LogErrorHandler(with_(logger, request_id=Valuer(request_id.get)))
"""

from __future__ import annotations

from contextvars import ContextVar

from pygokit.transport.http.request import Headers, Request

__all__ = [
    "populate_request_context",
    "request_accept",
    "request_authorization",
    "request_host",
    "request_id",
    "request_method",
    "request_path",
    "request_proto",
    "request_referer",
    "request_remote_addr",
    "request_uri",
    "request_user_agent",
    "request_x_forwarded_for",
    "request_x_forwarded_proto",
    "request_x_request_id",
    "response_headers",
    "response_size",
]

request_method: ContextVar[str] = ContextVar("pygokit.http.request_method", default="")
"""The method, such as ``"GET"``."""
request_uri: ContextVar[str] = ContextVar("pygokit.http.request_uri", default="")
"""The request target as sent: raw path and query (Go's ``r.RequestURI``)."""
request_path: ContextVar[str] = ContextVar("pygokit.http.request_path", default="")
"""The percent-decoded path."""
request_proto: ContextVar[str] = ContextVar("pygokit.http.request_proto", default="")
"""The protocol, such as ``"HTTP/1.1"``."""
request_host: ContextVar[str] = ContextVar("pygokit.http.request_host", default="")
"""The Host header."""
request_remote_addr: ContextVar[str] = ContextVar("pygokit.http.request_remote_addr", default="")
"""The peer as ``host:port`` (the proxy's address when behind one)."""
request_x_forwarded_for: ContextVar[str] = ContextVar(
    "pygokit.http.request_x_forwarded_for", default=""
)
"""The X-Forwarded-For header, as sent: the client controls it unless a proxy rewrites it."""
request_x_forwarded_proto: ContextVar[str] = ContextVar(
    "pygokit.http.request_x_forwarded_proto", default=""
)
"""The X-Forwarded-Proto header, as sent."""
request_authorization: ContextVar[str] = ContextVar(
    "pygokit.http.request_authorization", default=""
)
"""The Authorization header: a credential, never log it."""
request_referer: ContextVar[str] = ContextVar("pygokit.http.request_referer", default="")
"""The Referer header."""
request_user_agent: ContextVar[str] = ContextVar("pygokit.http.request_user_agent", default="")
"""The User-Agent header."""
request_x_request_id: ContextVar[str] = ContextVar("pygokit.http.request_x_request_id", default="")
"""The X-Request-Id header, as sent (unchecked; `request_id` is the checked one)."""
request_accept: ContextVar[str] = ContextVar("pygokit.http.request_accept", default="")
"""The Accept header."""
request_id: ContextVar[str] = ContextVar("pygokit.http.request_id", default="")
"""`Request.request_id`: the sane client X-Request-Id or a fresh one; in error responses."""
response_headers: ContextVar[Headers] = ContextVar("pygokit.http.response_headers")
"""The headers of the response sent; set for finalizers (unset elsewhere)."""
response_size: ContextVar[int] = ContextVar("pygokit.http.response_size", default=0)
"""The number of body bytes sent, for finalizers."""

_HEADER_VARS: dict[bytes, ContextVar[str]] = {
    b"host": request_host,
    b"x-forwarded-for": request_x_forwarded_for,
    b"x-forwarded-proto": request_x_forwarded_proto,
    b"authorization": request_authorization,
    b"referer": request_referer,
    b"user-agent": request_user_agent,
    b"x-request-id": request_x_request_id,
    b"accept": request_accept,
}


def populate_request_context(request: Request) -> None:
    """A ``before`` hook that sets every ``request_*`` variable of this module from *request*.

    Headers are read in one pass; an absent header sets ``""``, and of a repeated
    one the first value counts, as Go's ``Header.Get`` does.
    """
    request_method.set(request.method)
    raw_path = request.raw_path.decode("latin-1")
    query = request.query_string
    request_uri.set(f"{raw_path}?{query.decode('latin-1')}" if query else raw_path)
    request_path.set(request.path)
    request_proto.set(f"HTTP/{request.http_version}")
    client = request.client
    request_remote_addr.set(f"{client[0]}:{client[1]}" if client else "")
    found: dict[bytes, bytes] = {}
    for name, value in request.headers.raw:
        if name in _HEADER_VARS and name not in found:
            found[name] = value
    for name, var in _HEADER_VARS.items():
        raw = found.get(name)
        var.set(raw.decode("latin-1") if raw is not None else "")
    request_id.set(request.request_id)
