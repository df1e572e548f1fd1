"""Sending InfluxDB line protocol over HTTP, to the ``/write`` endpoint of InfluxDB 1.x.

`InfluxHTTPSender` is the `pygokit.metrics.push.Sender` for `pygokit.metrics.influx.Influx`:
each payload the emitter drains becomes one ``POST {url}/write?db=...&precision=...``.
A reply other than 2xx, a connection that fails and a request that times out all raise
`InfluxWriteError`, whose message carries the HTTP status and InfluxDB's own error text;
under a `PushLoop` the payload is then dropped and counted, and the next flush carries on.

It is tested against InfluxDB 1.x. InfluxDB 2.x and 3.x keep a ``/write`` endpoint for
1.x clients, where Basic authentication usually takes an API token as the password.

Needs the ``influx`` extra (aiohttp): ``pip install 'pygokit[influx]'``.

Example::

    influx = Influx(tags={"service": "addsvc"})
    sender = InfluxHTTPSender("http://127.0.0.1:8086", "metrics")
    async with PushLoop(influx, sender, interval=10):
        influx.counter("requests").labels(method="sum").add(1)
"""

from __future__ import annotations

import json

from pygokit._extras import missing_extra

try:
    import aiohttp
    from yarl import URL
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.metrics.influx_http", "influx") from exc

from pygokit.errors import GoKitError
from pygokit.metrics.influx import PRECISIONS, Precision

__all__ = ["InfluxHTTPSender", "InfluxWriteError"]

_ERROR_BYTES = 4096
"""How much of an error reply is read."""

_ERROR_CHARS = 300
"""How much of InfluxDB's error text goes into an error message."""


class InfluxWriteError(GoKitError):
    """InfluxDB did not take a payload: it answered with an error, or could not be reached.

    Attributes:
        status: The HTTP status of the reply, or None when there was no reply.
        detail: InfluxDB's error text (truncated), or what went wrong on the way there.
    """

    def __init__(self, message: str, *, status: int | None, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


def _truncate(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 1] + "…"


def _error_text(body: bytes, header: str | None) -> str:
    """InfluxDB's explanation: the ``error`` of a JSON body, its header, or the raw body."""
    text = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        return _truncate(parsed["error"])
    return _truncate(text or header or "(no error text)")


class InfluxHTTPSender:
    """POSTs line protocol payloads to InfluxDB's ``/write`` endpoint.

    Args:
        url: InfluxDB's base URL, such as ``http://127.0.0.1:8086``; a path is kept (for
            a proxy that serves InfluxDB under one), and credentials in it are used as
            *username* and *password* but never shown in messages.
        database: The database to write to; it must exist.
        session: The aiohttp session to send with, which stays the caller's to close.
            Without one the sender makes its own on the first send and closes it in
            `aclose`.
        max_payload: The largest body to send in one request, in bytes.
        precision: The unit of the timestamps in the lines, the same as the emitter's.
        username: For Basic authentication.
        password: For Basic authentication (often an API token, for InfluxDB 2.x and later).
        retention_policy: Write to this retention policy instead of the default one.
        timeout: Seconds a request may take, connecting included.
    """

    def __init__(
        self,
        url: str,
        database: str,
        *,
        session: aiohttp.ClientSession | None = None,
        max_payload: int = 1_000_000,
        precision: Precision = "ns",
        username: str | None = None,
        password: str | None = None,
        retention_policy: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        base = URL(url)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"url must be an http:// or https:// URL with a host, got {url!r}")
        if not database:
            raise ValueError("database must not be empty")
        if max_payload < 1:
            raise ValueError(f"max_payload must be at least 1 byte, got {max_payload}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if base.user is not None:
            if username is not None or password is not None:
                raise ValueError("give the credentials either in url or as username/password")
            username, password = base.user, base.password
        if password is not None and username is None:
            raise ValueError("password needs a username for Basic authentication")
        self.max_payload = max_payload
        base = base.with_user(None)
        self._url = str(base)
        self._write_url = base.with_path(base.path.rstrip("/") + "/write")
        self._params = {"db": database, "precision": precision}
        if retention_policy:
            self._params["rp"] = retention_policy
        self._database = database
        self._headers = {"Content-Type": "text/plain; charset=utf-8"}
        if username is not None:
            self._headers["Authorization"] = aiohttp.encode_basic_auth(username, password or "")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._owns_session = session is None
        self._closed = False

    async def send(self, payload: bytes, /) -> None:
        """POST *payload*; raise `InfluxWriteError` unless InfluxDB answers 2xx."""
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        session = self._session
        if session is None:
            session = self._session = aiohttp.ClientSession()
        try:
            async with session.post(
                self._write_url,
                params=self._params,
                data=payload,
                headers=self._headers,
                timeout=self._timeout,
            ) as response:
                if 200 <= response.status < 300:
                    return
                status = response.status
                body = await response.content.read(_ERROR_BYTES)
                header = response.headers.get("X-Influxdb-Error")
        except TimeoutError as exc:
            raise self._error(
                None, f"no answer within {self._timeout.total:g}s", "timed out"
            ) from exc
        except aiohttp.ClientError as exc:
            raise self._error(None, str(exc) or type(exc).__name__, "could not reach it") from exc
        detail = _error_text(body, header)
        raise self._error(status, detail, f"HTTP {status}")

    def _error(self, status: int | None, detail: str, what: str) -> InfluxWriteError:
        return InfluxWriteError(
            f"InfluxDB at {self._url} did not take a write to database {self._database!r}:"
            f" {what}: {_truncate(detail)}",
            status=status,
            detail=detail,
        )

    async def aclose(self) -> None:
        """Close the session if this sender made it; a caller's session is left open."""
        self._closed = True
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def __repr__(self) -> str:
        return f"InfluxHTTPSender({self._url!r}, {self._database!r})"
