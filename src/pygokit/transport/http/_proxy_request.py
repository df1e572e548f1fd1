"""The request a reverse proxy sends upstream, and the fields it rewrites on the way.

`outgoing_request` builds a `ProxyRequest` from the client's `Request`: it refuses
a path that is not plain ASCII or that has ``.`` or ``..`` segments (so a client
cannot climb out of the upstream's base path), joins the base path and query with
the client's, drops hop-by-hop fields and sets X-Forwarded-For/-Host/-Proto.
`response_fields` drops hop-by-hop fields from the upstream's answer, and
`body_stream` passes the client's body on as it arrives, within a size limit.
No third-party import: `pygokit.transport.http.rp` does the sending.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator, Sequence

from pygokit._asgi import Message, Receive
from pygokit.transport.http.request import BadRequest, PayloadTooLarge, Request
from pygokit.transport.http.response import MutableHeaders

__all__ = [
    "TOKEN",
    "UNSAFE_PATH",
    "UNSAFE_QUERY",
    "ProxyRequest",
    "body_stream",
    "outgoing_request",
    "response_fields",
]

TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An HTTP token: what a method or a field name is made of."""
UNSAFE_PATH = re.compile(r"[^!-~]|[?#]")
"""Anything a raw path may not hold: controls, spaces, non-ASCII, ``?`` and ``#``."""
UNSAFE_QUERY = re.compile(r"[^!-~]|#")
"""Anything a raw query may not hold: controls, spaces, non-ASCII and ``#``."""

_HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"te", b"trailer", b"transfer-encoding", b"upgrade"}
)
_NOT_FORWARDED = frozenset(
    {
        b"host",
        b"content-length",
        b"expect",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
    }
)
"""Request fields the proxy sets itself (Host, Content-Length, X-Forwarded-*) or drops."""
_SEGMENTS = re.compile(r"[/\\]")


class ProxyRequest:
    """The request on its way upstream; before hooks may change any of its fields.

    Attributes:
        incoming: The client's `Request`, to read (its body is streamed upstream:
            do not read it).
        method: The method to send.
        path: The path to send, percent-encoded, starting with ``/``: the base
            URL's path joined with the client's.
        query: The query string to send, without ``?``: the base URL's and the
            client's, joined with ``&``.
        headers: The fields to send, already without hop-by-hop fields and with
            X-Forwarded-For/-Host/-Proto set. Setting a value with CR, LF or
            another control character raises ``ValueError``, as do
            Content-Length and Transfer-Encoding (set from the body).
    """

    __slots__ = ("_origin", "headers", "incoming", "method", "path", "query")

    def __init__(
        self,
        incoming: Request,
        origin: str,
        method: str,
        path: str,
        query: str,
        headers: MutableHeaders,
    ) -> None:
        self.incoming = incoming
        self._origin = origin
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers

    @property
    def url(self) -> str:
        """The URL the request goes to: the upstream's origin, `path` and `query`."""
        return f"{self._origin}{self.path}" + (f"?{self.query}" if self.query else "")

    def __repr__(self) -> str:
        return f"<ProxyRequest {self.method} {self._origin}{self.path}>"


def outgoing_request(
    request: Request, origin: str, base_path: str, base_query: str
) -> ProxyRequest:
    """The upstream request for the client's *request*, before the hooks; 400 for a bad path."""
    raw_path = request.raw_path.decode("latin-1")
    query = request.query_string.decode("latin-1")
    if not raw_path.startswith("/") or UNSAFE_PATH.search(raw_path):
        raise BadRequest("the request target must be a path of printable ASCII")
    if any(s in (".", "..") for s in _SEGMENTS.split(urllib.parse.unquote(raw_path))):
        raise BadRequest("the path must not have '.' or '..' segments")
    if UNSAFE_QUERY.search(query):
        raise BadRequest("the query must be printable ASCII")
    # Go's singleJoiningSlash: one slash between the base path and the client's.
    path = base_path[:-1] + raw_path if base_path.endswith("/") else base_path + raw_path
    query = "&".join(q for q in (base_query, query) if q)
    return ProxyRequest(request, origin, request.method, path, query, _forwarded(request))


def _hop_by_hop(fields: Sequence[tuple[bytes, bytes]]) -> set[bytes]:
    """The hop-by-hop field names: the fixed ones and those the Connection fields list."""
    names = set(_HOP_BY_HOP)
    for name, value in fields:
        if name.lower() == b"connection":
            names.update(n.strip().lower() for n in value.split(b","))
    return names


def _forwarded(request: Request) -> MutableHeaders:
    """The client's end-to-end fields, then X-Forwarded-For/-Host/-Proto."""
    fields = request.headers.raw  # lower-case names, checked by the ASGI server's parser
    drop = _hop_by_hop(fields) | _NOT_FORWARDED
    kept = [(n, v) for n, v in fields if n not in drop and not n.startswith(b"proxy-")]
    prior = b", ".join(v for n, v in fields if n == b"x-forwarded-for")
    client = request.client
    if client is not None:
        address = client[0].encode("latin-1")
        prior = prior + b", " + address if prior else address
    if prior:
        kept.append((b"x-forwarded-for", prior))
    host = request.header(b"host")
    if host:
        kept.append((b"x-forwarded-host", host))
    kept.append((b"x-forwarded-proto", request.scheme.encode("latin-1")))
    return MutableHeaders._trusted(kept)


def response_fields(raw: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The upstream's fields without hop-by-hop ones, names lower-cased for ASGI."""
    drop = _hop_by_hop(raw)
    fields = [(name.lower(), value) for name, value in raw]
    return [(n, v) for n, v in fields if n not in drop and not n.startswith(b"proxy-")]


async def body_stream(
    first: Message, receive: Receive, limit: int, problems: list[Exception]
) -> AsyncIterator[bytes]:
    """The client's body as it arrives, refused past *limit* bytes or on a disconnect.

    A refusal is also put in *problems*: the HTTP library reports it wrapped.
    """
    message, size = first, 0
    while True:
        if message["type"] == "http.disconnect":
            problem: Exception = BadRequest("the client went away before sending its whole body")
            problems.append(problem)
            raise problem
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            problem = PayloadTooLarge(limit)
            problems.append(problem)
            raise problem
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return
        message = await receive()
