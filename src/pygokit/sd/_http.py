"""The HTTP plumbing of the registry clients (Consul, Eureka), written once.

`RegistryHTTP` owns what both clients do the same way: the base URL, the aiohttp session
(the caller's, or one made on the first request and closed by ``aclose``), one request
with a total timeout, a body read up to a size limit, and every failure turned into the
client's own error with the same messages: no answer in time, unreachable, an answer
other than 2xx (with the registry's text, truncated), a body too large or malformed.

Imported by the client modules after their own extra check, so a missing aiohttp names
the backend's extra first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import TracebackType
from typing import Self

from pygokit._extras import missing_extra

try:
    import aiohttp
    from yarl import URL
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.sd._http", "consul") from exc

from pygokit.errors import GoKitError

__all__ = ["RegistryHTTP", "RegistryHTTPError"]

_DETAIL_CHARS = 300
"""How much of the registry's error text goes into a message."""


class RegistryHTTPError(GoKitError):
    """A request to a registry failed; `ConsulError` and `EurekaError` are its kinds.

    Attributes:
        status: The HTTP status the registry answered with, or None when no answer came.
        detail: The registry's error text (truncated), or what went wrong on the way.
    """

    def __init__(self, message: str, *, status: int | None, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class RegistryHTTP:
    """Sends requests to one registry's HTTP API and reads its answers.

    Args:
        registry: The registry's name in messages (``"Consul"``).
        base: The API's base URL; its path prefixes every request path.
        error: The client's error.
        session: The aiohttp session to send with, which stays the caller's to close.
            Without one the client makes its own on the first request and closes it in
            `aclose`.
        timeout: Seconds a request may take, connecting included.
        max_response_bytes: The largest body read.
        headers: Sent with every request.
        params: Query parameters sent with every request.
    """

    def __init__(
        self,
        registry: str,
        base: URL,
        *,
        error: type[RegistryHTTPError],
        session: aiohttp.ClientSession | None,
        timeout: float,
        max_response_bytes: int,
        headers: Mapping[str, str],
        params: Mapping[str, str],
    ) -> None:
        if not 0 < timeout < math.inf:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if max_response_bytes < 1:
            raise ValueError(f"max_response_bytes must be at least 1, got {max_response_bytes}")
        self._base = base.with_query(None).with_fragment(None)
        self._prefix = base.raw_path.rstrip("/")
        self._at = f"{registry} at {self._base}"
        self._error = error
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout
        self._max_bytes = max_response_bytes
        self._headers = headers
        self._params = params
        self._closed = False

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
        seconds: float | None = None,
    ) -> tuple[bytes, Mapping[str, str]]:
        """Send one request; return the body and headers of a 2xx answer, else raise."""
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        session = self._session
        if session is None:
            session = self._session = aiohttp.ClientSession()
        seconds = self._timeout if seconds is None else seconds
        what = f"{method} {path}"
        try:
            async with session.request(
                method,
                self._base.with_path(self._prefix + path, encoded=True),
                params={**self._params, **(params or {})},
                json=body,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=seconds),
            ) as response:
                data = await self._read(response, what)
                status, headers = response.status, response.headers
        except TimeoutError as exc:
            message = f"{self._at} did not answer {what} within {seconds:g}s"
            raise self._error(message, status=None, detail="timed out") from exc
        except aiohttp.ClientError as exc:
            detail = str(exc) or type(exc).__name__
            message = f"{self._at} could not be reached for {what}: {detail}"
            raise self._error(message, status=None, detail=detail) from exc
        if not 200 <= status < 300:
            text = data.decode("utf-8", errors="replace").strip()
            detail = text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"
            message = f"{self._at} answered {what} with HTTP {status}: {detail}"
            raise self._error(message, status=status, detail=detail)
        return data, headers

    async def _read(self, response: aiohttp.ClientResponse, what: str) -> bytes:
        """Read the body, refusing one larger than *max_response_bytes*."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > self._max_bytes:
                message = (
                    f"{self._at} answered {what} with more than {self._max_bytes}"
                    " bytes; raise max_response_bytes if that is expected"
                )
                raise self._error(message, status=response.status, detail="body too large")
            chunks.append(chunk)
        return b"".join(chunks)

    def _malformed(self, method: str, path: str, error: ValueError) -> RegistryHTTPError:
        """The error for a 2xx answer whose body is not what the API documents."""
        detail = f"malformed body: {error}"[:_DETAIL_CHARS]
        message = f"{self._at} answered {method} {path} with a {detail}"
        return self._error(message, status=200, detail=detail)

    async def aclose(self) -> None:
        """Close the session if this client made it; a caller's session is left open."""
        self._closed = True
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
