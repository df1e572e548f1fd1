"""The HTTP response an encoder builds, and the only way its headers reach the wire.

A `Response` is a status, `MutableHeaders` and a body of bytes. `Response.send`
writes it to ASGI with a Content-Length computed from the body, so no one can
declare a length the body does not have.

Every header field is checked when it is set, not when it is sent: a name must
be an HTTP token and a value must not contain CR, LF, NUL or any other control
character but tab. A value like ``"x\\r\\nSet-Cookie: admin=1"`` raises
``ValueError`` in the after hook, encoder or error encoder that tried to set it,
so the server answers with a generic 500 instead of splitting the response.

Example::

    response = Response(b'{"v":3}', status=201, headers={"content-type": "application/json"})
    response.headers["location"] = "/sums/7"
    await response.send(send)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeAlias

from pygokit._asgi import Message, Send
from pygokit.transport.http.request import Headers

__all__ = ["HeaderFields", "MutableHeaders", "Response"]

HeaderFields: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Header fields as a mapping or as (name, value) pairs (which may repeat a name)."""

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_COMPUTED = frozenset({b"content-length", b"transfer-encoding"})
_NO_BODY = frozenset({204, 304})


def _field(name: object, value: object) -> tuple[bytes, bytes]:
    """Encode one response header field, refusing anything that could split the response."""
    if not isinstance(name, str) or not isinstance(value, str):
        kinds = f"{type(name).__name__}, {type(value).__name__}"
        raise TypeError(f"header names and values are str, got {kinds}")
    try:
        raw_name, raw_value = name.lower().encode("ascii"), value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"header {name[:64]!r}: names are ASCII, values Latin-1") from None
    if not _TOKEN.fullmatch(raw_name):
        raise ValueError(f"header name {name[:64]!r} is not an HTTP token")
    if _CONTROL.search(raw_value):
        raise ValueError(
            f"header {name!r} has a control character (CR, LF, NUL, ...) in its value; "
            "refused, as it could split the response"
        )
    if raw_name in _COMPUTED:
        raise ValueError(f"header {name!r} is computed from the body by Response.send")
    return raw_name, raw_value


class MutableHeaders(Headers):
    """Response header fields: a case-insensitive multi-dict that checks what is set.

    ``headers[name] = value`` replaces every field of that name, `add` appends one
    more (for Set-Cookie, say), ``del headers[name]`` removes them all. Setting a
    name that is not an HTTP token, a value with a control character, or
    Content-Length / Transfer-Encoding (which `Response.send` computes) raises
    ``ValueError``.
    """

    __slots__ = ()

    def __init__(self, fields: HeaderFields = ()) -> None:
        if isinstance(fields, Headers):
            pairs = fields.multi_items()
        else:
            pairs = list(fields.items() if isinstance(fields, Mapping) else fields)
        self._raw = [_field(name, value) for name, value in pairs]

    @classmethod
    def _trusted(cls, raw: list[tuple[bytes, bytes]]) -> MutableHeaders:
        """Wrap fields this package has already checked (constants, request ids)."""
        headers = cls.__new__(cls)
        headers._raw = raw
        return headers

    def __setitem__(self, name: str, value: str) -> None:
        field = _field(name, value)
        self._raw[:] = [pair for pair in self._raw if pair[0] != field[0]]
        self._raw.append(field)

    def __delitem__(self, name: str) -> None:
        key = name.lower().encode("latin-1")
        kept = [pair for pair in self._raw if pair[0] != key]
        if len(kept) == len(self._raw):
            raise KeyError(name)
        self._raw[:] = kept

    def add(self, name: str, value: str) -> None:
        """Append a field, keeping any others of the same name."""
        self._raw.append(_field(name, value))

    def update(self, fields: HeaderFields) -> None:
        """Set every field of *fields*, replacing existing fields of those names."""
        pairs = fields.items() if isinstance(fields, Mapping) else fields
        for name, value in pairs:
            self[name] = value

    def extend(self, fields: HeaderFields) -> None:
        """Add every field of *fields*, keeping the existing ones (Go's ``Header.Add``)."""
        pairs = fields.items() if isinstance(fields, Mapping) else fields
        for name, value in pairs:
            self.add(name, value)


class Response:
    """An HTTP response: status, headers and the whole body as bytes.

    A 204 or 304 response has no body and no Content-Length. The body of a
    response to HEAD is not sent; its Content-Length is.
    """

    __slots__ = ("_headers", "_raw", "body", "status")

    def __init__(
        self, body: bytes = b"", *, status: int = 200, headers: HeaderFields | None = None
    ) -> None:
        if not 200 <= status <= 599:
            raise ValueError(f"a response status is 200-599, got {status}")
        if status in _NO_BODY and body:
            raise ValueError(f"a {status} response has no body")
        self.status = status
        self.body = body
        self._headers: MutableHeaders | None = None
        self._raw = [] if headers is None else MutableHeaders(headers).raw

    @classmethod
    def _trusted(cls, body: bytes, status: int, raw: list[tuple[bytes, bytes]]) -> Response:
        """Build a response from parts this package has already checked (the hot path)."""
        response = cls.__new__(cls)
        response.status = status
        response.body = body
        response._headers = None
        response._raw = raw
        return response

    @property
    def headers(self) -> MutableHeaders:
        """The header fields; Content-Length is added when the response is sent."""
        if self._headers is None:
            self._headers = MutableHeaders._trusted(self._raw)
        return self._headers

    def messages(self, *, head: bool = False) -> tuple[Message, Message]:
        """The two ASGI messages that send this response; *head* leaves the body out."""
        status = self.status
        if status in _NO_BODY:
            headers = self._raw
            body = b""
        else:
            headers = [*self._raw, (b"content-length", b"%d" % len(self.body))]
            body = b"" if head else self.body
        return (
            {"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": body},
        )

    async def send(self, send: Send, *, head: bool = False) -> None:
        """Write the response to an ASGI ``send``; *head* sends the headers only."""
        start, body = self.messages(head=head)
        await send(start)
        await send(body)

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes>"
