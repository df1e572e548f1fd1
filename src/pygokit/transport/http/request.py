"""The HTTP request as a server's hooks and decoders see it, and the errors that refuse one.

`Request` wraps an ASGI ``http`` scope and its ``receive`` callable. It builds
nothing it is not asked for: headers, the query and the request id are computed
on first use, and the body is read only when a decoder calls `Request.body`, which
enforces the server's size limit (a declared Content-Length over the limit is
refused before a single body byte is read).

The errors here are the client's mistakes. Each is an `HTTPError`: it carries its
status in ``status_code`` and declares with ``expose = True`` that its message
was written for the client, so the default error encoder shows it.

Example::

    async def decode_lookup(request: Request) -> Lookup:
        name = request.query.get("name", [""])[0]
        if not name:
            raise BadRequest("query parameter 'name' is required")
        return Lookup(name, trace=request.headers.get("x-trace", ""))
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qs

from pygokit._asgi import Receive, Scope
from pygokit.errors import GoKitError

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "BadRequest",
    "HTTPError",
    "Headers",
    "MethodNotAllowed",
    "PayloadTooLarge",
    "Request",
    "UnsupportedMediaType",
]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Bodies larger than this (1 MiB) are refused with 413 unless a server allows more."""

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SENSITIVE = frozenset({b"authorization", b"proxy-authorization", b"cookie", b"set-cookie"})


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _stdlib_loads(data: bytes) -> Any:
    """Parse JSON like msgspec does (no NaN or Infinity), with the standard library."""
    return json.loads(data, parse_constant=_refuse_constant)


parse_json: Callable[[bytes], Any]
"""Parse a JSON document: msgspec's ``decode`` when it is installed, else `_stdlib_loads`.

Either raises ``ValueError`` (or ``RecursionError`` when nesting is too deep) for
what is not JSON, and both keep every digit of a large integer (orjson, which
pygokit uses to write JSON, would read one beyond 64 bits as a float). msgspec
also decodes the flat records of `pygokit.transport.http._flat`, so the two
paths of a typed decoder read a document the same way.
"""
try:
    from msgspec.json import decode as parse_json
except ImportError:  # pragma: no cover - msgspec comes with the json extra
    parse_json = _stdlib_loads


class HTTPError(GoKitError):
    """An error with an HTTP status whose message is written for the client to read.

    Raise it (or a subclass) from a decoder, endpoint or encoder to answer with
    that status; the default error encoder shows its message because ``expose``
    is True. Any exception class can opt in the same way: give it an int
    ``status_code`` (the StatusCoder protocol), optionally ``headers`` (Headerer),
    and ``expose = True``.

    Example::

        raise HTTPError(404, f"no profile with id {profile_id!r}")
    """

    expose: ClassVar[bool] = True
    status_code: int
    headers: Mapping[str, str]

    def __init__(
        self, status_code: int, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        if not 400 <= status_code <= 599:
            raise ValueError(f"an HTTP error status is 400-599, got {status_code}")
        super().__init__(message)
        self.status_code = status_code
        self.headers = dict(headers or {})


class BadRequest(HTTPError):
    """400: the request is malformed (bad JSON, a field of the wrong type, a missing field)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


class PayloadTooLarge(HTTPError):
    """413: the body is larger than the server accepts; the connection is closed after."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"request body is larger than {limit} bytes", headers={"connection": "close"}
        )
        self.limit = limit


class UnsupportedMediaType(HTTPError):
    """415: the body's Content-Type is not one the decoder reads."""

    def __init__(self, content_type: str, expected: str) -> None:
        super().__init__(415, f"send the body as {expected}, not {content_type[:64]!r}")
        self.content_type = content_type


class MethodNotAllowed(HTTPError):
    """405: the server does not serve this method; ``Allow`` lists the ones it does."""

    def __init__(self, method: str, allowed: Sequence[str]) -> None:
        allow = ", ".join(allowed)
        message = f"method {method[:16]!r} is not allowed; use {allow}"
        super().__init__(405, message, headers={"allow": allow})
        self.allowed = tuple(allowed)


class Headers(Mapping[str, str]):
    """Header fields as a read-only, case-insensitive multi-dict, in the order received.

    ``headers["Content-Type"]`` is the first value; `get_all` lists every value of
    a repeated field; `raw` is the ASGI form, lower-case byte names and byte values.
    Values are decoded as Latin-1, which maps every byte to one character. The
    ``repr`` hides credentials (Authorization, Cookie), so logging one is safe.
    """

    __slots__ = ("_raw",)

    def __init__(self, fields: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        if isinstance(fields, Headers):
            self._raw = list(fields.raw)
            return
        pairs = fields.items() if isinstance(fields, Mapping) else fields
        self._raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs]

    @classmethod
    def from_raw(cls, raw: list[tuple[bytes, bytes]]) -> Headers:
        """Wrap ASGI header pairs (lower-case names) without copying them."""
        headers = cls.__new__(cls)
        headers._raw = raw
        return headers

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The fields as ASGI sends them: a list of (lower-case name, value) byte pairs."""
        return self._raw

    def __getitem__(self, name: str) -> str:
        key = name.lower().encode("latin-1")
        for field, value in self._raw:
            if field == key:
                return value.decode("latin-1")
        raise KeyError(name)

    def get_all(self, name: str) -> list[str]:
        """Every value of the field *name*, in order; empty if it is absent."""
        key = name.lower().encode("latin-1")
        return [value.decode("latin-1") for field, value in self._raw if field == key]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every (name, value) pair, repeated names included, in order."""
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._raw]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.lower().encode("latin-1")
        return any(field == key for field, _ in self._raw)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k.decode("latin-1") for k, _ in self._raw))

    def __len__(self) -> int:
        return len({k for k, _ in self._raw})

    def __repr__(self) -> str:
        shown = [(k, b"<hidden>" if k in _SENSITIVE else v) for k, v in self._raw]
        fields = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in shown]
        return f"{type(self).__name__}({fields!r})"


class Request:
    """One HTTP request: its line, its headers and, on demand, its body.

    Servers build one per request and hand it to hooks, decoders and the error
    encoder. ``max_body_bytes`` bounds what `body` buffers. ``scope`` is the ASGI
    connection scope, for anything this class does not wrap.
    """

    __slots__ = (
        "_body",
        "_headers",
        "_max_body_bytes",
        "_query",
        "_receive",
        "_request_id",
        "scope",
    )

    def __init__(
        self, scope: Scope, receive: Receive, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    ) -> None:
        self.scope = scope
        self._receive = receive
        self._max_body_bytes = max_body_bytes
        self._body: bytes | None = None
        self._headers: Headers | None = None
        self._query: dict[str, list[str]] | None = None
        self._request_id: str | None = None

    @property
    def method(self) -> str:
        """The method, such as ``"POST"``."""
        method: str = self.scope["method"]
        return method

    @property
    def path(self) -> str:
        """The path, percent-decoded, without the query: ``"/profiles/a b"``."""
        path: str = self.scope["path"]
        return path

    @property
    def raw_path(self) -> bytes:
        """The path as sent, still percent-encoded: ``b"/profiles/a%20b"``."""
        raw: bytes | None = self.scope.get("raw_path")
        return raw if raw is not None else self.path.encode("utf-8")

    @property
    def query_string(self) -> bytes:
        """The query as sent, without the ``?``."""
        query: bytes = self.scope.get("query_string", b"")
        return query

    @property
    def query(self) -> Mapping[str, list[str]]:
        """The query parameters, each name with its values in order (parsed on first use)."""
        if self._query is None:
            text = self.query_string.decode("latin-1")
            self._query = parse_qs(text, keep_blank_values=True, errors="replace")
        return self._query

    @property
    def headers(self) -> Headers:
        """The header fields (wrapped on first use, never copied)."""
        if self._headers is None:
            self._headers = Headers.from_raw(self.scope["headers"])
        return self._headers

    def header(self, name: bytes) -> bytes | None:
        """The first value of the header *name* (lower-case bytes) as sent, or None.

        A shortcut past `headers` for hot paths: ``request.header(b"content-type")``.
        """
        for field, value in self.scope["headers"]:
            if field == name:
                return value  # type: ignore[no-any-return]
        return None

    @property
    def client(self) -> tuple[str, int] | None:
        """The peer's (host, port), or None when the ASGI server does not say."""
        client = self.scope.get("client")
        return (client[0], client[1]) if client else None

    @property
    def scheme(self) -> str:
        """``"http"`` or ``"https"``."""
        scheme: str = self.scope.get("scheme", "http")
        return scheme

    @property
    def http_version(self) -> str:
        """``"1.0"``, ``"1.1"`` or ``"2"``."""
        version: str = self.scope.get("http_version", "1.1")
        return version

    @property
    def request_id(self) -> str:
        """The id that ties this request's error response to its log entry.

        The client's ``X-Request-Id`` when it is a sane token (1 to 64 characters of
        letters, digits, ``.``, ``_`` and ``-``), else a fresh random one; the same
        value on every read.
        """
        if self._request_id is None:
            given = self.headers.get("x-request-id", "")
            self._request_id = given if _REQUEST_ID.fullmatch(given) else os.urandom(8).hex()
        return self._request_id

    async def body(self) -> bytes:
        """Read the whole body, at most ``max_body_bytes`` of it, and keep it for later calls.

        Raises `PayloadTooLarge` (413) as soon as the declared Content-Length or the
        bytes received pass the limit, without reading further; `BadRequest` (400)
        if the client disconnects first or declares a malformed length.
        """
        if self._body is not None:
            return self._body
        limit = self._max_body_bytes
        declared = self.header(b"content-length")
        if declared is not None:
            if not declared.isdigit():  # ASCII digits only, for bytes
                raise BadRequest("Content-Length must be a decimal number of bytes")
            if int(declared) > limit:
                raise PayloadTooLarge(limit)
        message = await self._receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            body: bytes = message.get("body", b"")
            if len(body) > limit:
                raise PayloadTooLarge(limit)
        else:
            body = await self._read_chunks(message, limit)
        self._body = body
        return body

    async def _read_chunks(self, message: Any, limit: int) -> bytes:
        chunks = bytearray()
        while True:
            if message["type"] == "http.disconnect":
                raise BadRequest("the client disconnected before sending the whole body")
            chunks += message.get("body", b"")
            if len(chunks) > limit:
                raise PayloadTooLarge(limit)
            if not message.get("more_body", False):
                return bytes(chunks)
            message = await self._receive()

    async def json(self) -> Any:
        """Read the body and parse it as JSON; malformed JSON raises `BadRequest` (400)."""
        body = await self.body()
        try:
            return parse_json(body)
        except (ValueError, RecursionError):  # RecursionError: stdlib json, deep nesting
            raise BadRequest("request body is not valid JSON") from None

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path!r}>"
