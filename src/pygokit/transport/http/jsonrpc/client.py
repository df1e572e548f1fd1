"""The JSON-RPC 2.0 client: one remote method as an endpoint.

A `JSONRPCClient` *is* an endpoint, ``await client(request)``, built on the HTTP
transport's `Client`: the caller's ``aiohttp.ClientSession``, the same before
hooks, after hooks and finalizers, the same refusal of header injection, the
same response size limit. Each call gets a fresh id from the id generator (by
default `AutoIncrementID`, a thread-safe counter, as in Go kit), is POSTed as a
Request object, and its Response object is checked: an error object raises
`JSONRPCError` (the subclass for a standard code, such as `MethodNotFound`),
carrying ``code``, ``message`` and ``data``; a result is turned into the
endpoint's response by ``decode``. Finalizers see that error, as they see a
decoder's.

`JSONRPCClient.notify` sends the request as a notification (no id, no answer
expected); `JSONRPCClient.batch` sends several requests in one batch and
returns each one's response or error in order.

A response that is not a JSON-RPC 2.0 Response object, or answers another id,
raises ``InvalidResponse``; a status other than 2xx without an error object
raises ``UnexpectedStatus``; both are the HTTP client's errors.

The errors this client raises carry ``expose = False``: if one escapes an
endpoint of a `JSONRPCServer`, that server answers "Internal error" instead of
passing an upstream's error on to its own caller.

Needs the ``http`` extra (aiohttp): ``pip install 'pygokit[http]'``.

Example::

    async with aiohttp.ClientSession() as session:
        subtract = JSONRPCClient(
            "http://127.0.0.1:8080/rpc", "subtract", session=session,
            encode=lambda request: [request.minuend, request.subtrahend], decode=int,
        )
        assert await subtract(Subtract(42, 23)) == 19
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, Generic, TypeAlias, TypeVar, cast

from pygokit._extras import missing_extra

try:
    import aiohttp
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.transport.http.jsonrpc.client", "http") from exc

from pygokit.transport.http.client import (
    Client,
    ClientFinalizer,
    ClientRequest,
    ClientResponse,
    RequestHook,
    ResponseHook,
)
from pygokit.transport.http.client_codec import (
    DEFAULT_MAX_RESPONSE_BYTES,
    JSON_CONTENT_TYPE,
    InvalidResponse,
    check_status,
)
from pygokit.transport.http.jsonrpc import _wire
from pygokit.transport.http.jsonrpc.codec import RequestID
from pygokit.transport.http.jsonrpc.errors import JSONRPCError

__all__ = ["AutoIncrementID", "DecodeResult", "EncodeParams", "IDGenerator", "JSONRPCClient"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")

EncodeParams: TypeAlias = Callable[[Req], object]
"""Turns the endpoint's request into the call's params: a list, a dict (or anything that
serialises as an array or object, such as a dataclass), or None for no params."""

DecodeResult: TypeAlias = Callable[[Any], Resp]
"""Turns the call's result (parsed JSON) into the endpoint's response."""

IDGenerator: TypeAlias = Callable[[], RequestID]
"""Returns the id of the next call: a string or a number (Go kit's ``RequestIDGenerator``)."""


class AutoIncrementID:
    """The default id generator: *start*, *start* + 1, ...; safe to share between threads.

    Example::

        ids = AutoIncrementID(1)
        assert (ids(), ids()) == (1, 2)
    """

    __slots__ = ("_lock", "_next")

    def __init__(self, start: int = 0) -> None:
        if type(start) is not int:
            raise TypeError(f"start must be an int, got {type(start).__name__}")
        self._next = start
        self._lock = threading.Lock()

    def __call__(self) -> int:
        """Return the next id."""
        with self._lock:
            value = self._next
            self._next = value + 1
        return value

    def __repr__(self) -> str:
        return f"AutoIncrementID(next={self._next})"


class _Outgoing:
    """One exchange: the requests to send and the ids they go with (None: a notification)."""

    __slots__ = ("batch", "ids", "requests")

    def __init__(
        self, requests: Sequence[Any], ids: Sequence[RequestID | None], batch: bool
    ) -> None:
        self.requests = requests
        self.ids = ids
        self.batch = batch


_in_flight: ContextVar[_Outgoing] = ContextVar("pygokit.jsonrpc.client.in_flight")
"""The exchange in flight, for the response decoder (which sees only the HTTP response)."""

_NOTIFICATION: Sequence[None] = (None,)
_NOT_JSON = object()


def _invalid(response: ClientResponse, problem: str, path: str = "") -> InvalidResponse:
    return InvalidResponse(
        f"the response to {response.description} is not a JSON-RPC 2.0 response: {problem}",
        path=path,
        problem=problem,
    )


class JSONRPCClient(Generic[Req, Resp]):
    """One remote JSON-RPC method as an endpoint (Go kit's jsonrpc ``NewClient``).

    Args:
        url: The server's absolute http(s) URL.
        method: The method to call.
        session: The caller's ``aiohttp.ClientSession``; the caller closes it.
        encode: Request to params (`EncodeParams`).
        decode: Result to response (`DecodeResult`); what it raises reaches the
            caller and the finalizers.
        id_generator: Returns each call's id; defaults to ``AutoIncrementID()``.
        before: Hooks run on each HTTP request before it is sent.
        after: Hooks run on each HTTP response before it is read.
        finalizers: Run after each exchange, with the error it raised (a
            `JSONRPCError` included) or None.
        max_response_bytes: Longer response bodies raise ``ResponseTooLarge``.
    """

    __slots__ = ("_decode", "_encode", "_http", "_id_generator", "_max_bytes", "_method")

    def __init__(
        self,
        url: str,
        method: str,
        *,
        session: aiohttp.ClientSession,
        encode: EncodeParams[Req],
        decode: DecodeResult[Resp],
        id_generator: IDGenerator | None = None,
        before: Sequence[RequestHook] = (),
        after: Sequence[ResponseHook] = (),
        finalizers: Sequence[ClientFinalizer] = (),
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if not isinstance(method, str) or not method:
            raise TypeError(f"method must be a non-empty str, got {method!r}")
        self._method = _wire.dumps(method)
        self._encode = encode
        self._decode = decode
        self._id_generator = id_generator or AutoIncrementID()
        self._max_bytes = max_response_bytes
        self._http: Client[_Outgoing, Any] = Client(
            "POST",
            url,
            self._write,
            self._read,
            session=session,
            before=before,
            after=after,
            finalizers=finalizers,
        )

    async def __call__(self, request: Req) -> Resp:
        """Call the method with *request*; return the decoded result or raise its error."""
        result = await self._exchange(_Outgoing((request,), (self._next_id(),), batch=False))
        return cast(Resp, result)

    async def notify(self, request: Req) -> None:
        """Send *request* as a notification: the server answers nothing, not even errors."""
        await self._exchange(_Outgoing((request,), _NOTIFICATION, batch=False))

    async def batch(self, requests: Sequence[Req]) -> list[Resp | JSONRPCError]:
        """Call the method once per request in one batch; return results and errors in order.

        Each element is the decoded result, or the `JSONRPCError` that call got.
        An empty sequence sends nothing (an empty batch is invalid).
        """
        if not requests:
            return []
        ids = [self._next_id() for _ in requests]
        result = await self._exchange(_Outgoing(requests, ids, batch=True))
        return cast(list[Resp | JSONRPCError], result)

    def _next_id(self) -> RequestID:
        call_id = self._id_generator()
        if not _wire.is_id(call_id):
            raise TypeError(f"the id generator returned {call_id!r}, not a str, int or float")
        return call_id

    async def _exchange(self, outgoing: _Outgoing) -> object:
        token = _in_flight.set(outgoing)
        try:
            return await self._http(outgoing)
        finally:
            _in_flight.reset(token)

    def _write(self, outgoing: _Outgoing, http_request: ClientRequest) -> None:
        """Build the body: inside the HTTP client, so finalizers see an encoder's error."""
        calls = [
            self._call_object(request, call_id, notify=outgoing.ids is _NOTIFICATION)
            for request, call_id in zip(outgoing.requests, outgoing.ids, strict=True)
        ]
        http_request.set_header("Content-Type", JSON_CONTENT_TYPE)
        http_request.set_header("Accept", "application/json")
        http_request.body = b"[" + b",".join(calls) + b"]" if outgoing.batch else calls[0]

    def _call_object(self, request: Req, call_id: RequestID, *, notify: bool) -> bytes:
        params = self._encode(request)
        body = b'{"jsonrpc":"2.0","method":' + self._method
        if params is not None:
            encoded = _wire.dumps(params)
            if encoded[:1] not in (b"[", b"{"):
                raise TypeError(
                    f"params must encode as a JSON array or object, got {type(params).__name__}"
                )
            body += b',"params":' + encoded
        if not notify:
            body += b',"id":' + _wire.dumps(call_id)
        return body + b"}"

    async def _read(self, response: ClientResponse) -> object:
        outgoing = _in_flight.get()
        body = await response.read(max_bytes=self._max_bytes)
        ok = 200 <= response.status <= 299
        if outgoing.ids is _NOTIFICATION:
            if not ok:
                await check_status(response)
            return None
        try:
            document = _wire.loads(body) if body else None
        except (ValueError, RecursionError):
            document = _NOT_JSON
        if not ok:
            if type(document) is dict and type(document.get("error")) is dict:
                raise self._error(document["error"], response)
            await check_status(response)
        if document is _NOT_JSON:
            raise _invalid(response, "the body is not JSON")
        if outgoing.batch:
            return self._results(document, outgoing.ids, response)
        return self._result(document, outgoing.ids[0], response)

    def _result(self, document: object, call_id: RequestID, response: ClientResponse) -> object:
        if type(document) is not dict or document.get("jsonrpc") != "2.0":
            raise _invalid(response, "expected an object with jsonrpc '2.0'")
        if "error" in document:
            raise self._error(document["error"], response)
        if "result" not in document:
            raise _invalid(response, "it has neither a result nor an error")
        answered = document.get("id")
        if not _wire.is_id(answered) or answered != call_id:
            raise _invalid(response, f"it answers id {answered!r}, not {call_id!r}", "id")
        return self._decode(document["result"])

    def _results(
        self, document: object, ids: Sequence[RequestID], response: ClientResponse
    ) -> list[object]:
        if type(document) is dict and "error" in document:  # the batch as a whole was refused
            raise self._error(document["error"], response)
        if type(document) is not list:
            raise _invalid(response, "expected an array of responses to the batch")
        by_id: dict[RequestID, object] = {}
        for item in document:
            if type(item) is dict and _wire.is_id(item.get("id")):
                by_id[item["id"]] = item
        results: list[object] = []
        for call_id in ids:
            if call_id not in by_id:
                raise _invalid(response, f"no response to the call with id {call_id!r}", "id")
            try:
                results.append(self._result(by_id[call_id], call_id, response))
            except JSONRPCError as error:
                results.append(error)
        return results

    @staticmethod
    def _error(error: object, response: ClientResponse) -> Exception:
        if type(error) is not dict:
            return _invalid(response, "its error is not an object", "error")
        code, message = error.get("code"), error.get("message")
        if type(code) is not int or type(message) is not str:
            return _invalid(response, "its error needs an integer code and a message", "error")
        return JSONRPCError.from_object(code, message, error.get("data"))

    def __repr__(self) -> str:
        return f"JSONRPCClient({self._http!r}, method={self._method.decode()})"
