"""Logging to syslog (Go kit's ``log/syslog``), with a socket writer that needs no C library.

`SyslogLogger` formats each event with an ordinary logger (logfmt, JSON) and hands
the line to a `SyslogWriter` with a priority picked from the event: by default the
severity that matches its `pygokit.log.level` (debug, info, warning, err), or info.
`SocketSyslogWriter` sends RFC 3164 datagrams to the local syslog socket
(``/dev/log``) or to a syslog server over UDP.

Example::

    with SocketSyslogWriter(tag="addsvc") as writer:
        logger = SyslogLogger(writer, LogfmtLogger)
        level.warn(logger).log(msg="slow", took_ms=900)
        # <12>Nov 21 08:36:13 addsvc[4242]: level=warn msg=slow took_ms=900

The writer blocks while the kernel takes the datagram, which is quick for local
sockets. It is not a queue: to keep an event loop from ever waiting on it, move
writes off the loop with `pygokit.log.sync`.
"""

from __future__ import annotations

import enum
import io
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from pygokit.log._encode import escape_unprintable
from pygokit.log.level import DEBUG, ERROR, INFO, KEY, WARN, Level
from pygokit.log.logger import Logger, Writer

__all__ = [
    "LOG_ALERT",
    "LOG_CRIT",
    "LOG_DEBUG",
    "LOG_EMERG",
    "LOG_ERR",
    "LOG_INFO",
    "LOG_NOTICE",
    "LOG_WARNING",
    "Facility",
    "PrioritySelector",
    "SocketSyslogWriter",
    "SyslogLogger",
    "SyslogWriter",
    "default_priority",
]

# Severities, numbered as in the standard library's syslog module and RFC 5424.
LOG_EMERG = 0
LOG_ALERT = 1
LOG_CRIT = 2
LOG_ERR = 3
LOG_WARNING = 4
LOG_NOTICE = 5
LOG_INFO = 6
LOG_DEBUG = 7


class Facility(enum.IntEnum):
    """A syslog facility, numbered as in RFC 5424 (the stdlib's ``LOG_USER`` is ``USER << 3``)."""

    KERN = 0
    USER = 1
    MAIL = 2
    DAEMON = 3
    AUTH = 4
    SYSLOG = 5
    LPR = 6
    NEWS = 7
    UUCP = 8
    CRON = 9
    AUTHPRIV = 10
    FTP = 11
    LOCAL0 = 16
    LOCAL1 = 17
    LOCAL2 = 18
    LOCAL3 = 19
    LOCAL4 = 20
    LOCAL5 = 21
    LOCAL6 = 22
    LOCAL7 = 23


PrioritySelector = Callable[[Mapping[str, object]], int]
"""A function that picks the severity (`LOG_EMERG` to `LOG_DEBUG`) of an event."""


@runtime_checkable
class SyslogWriter(Protocol):
    """Where `SyslogLogger` sends its lines: anything that can write a line at a severity."""

    def write(self, priority: int, line: str) -> None:
        """Write one event's *line* (no trailing newline) at severity *priority*."""


_SEVERITIES: dict[Level, int] = {
    DEBUG: LOG_DEBUG,
    INFO: LOG_INFO,
    WARN: LOG_WARNING,
    ERROR: LOG_ERR,
}


def default_priority(keyvals: Mapping[str, object]) -> int:
    """The severity for the event's `Level` (debug, info, warning, err), else `LOG_INFO`."""
    value = keyvals.get(KEY)
    if type(value) is Level:
        return _SEVERITIES[value]
    return LOG_INFO


class SyslogLogger:
    """A logger that formats each event with *new_logger* and writes it to syslog.

    Args:
        writer: Takes each line with its severity, such as a `SocketSyslogWriter`.
        new_logger: Makes the formatting logger for a writer, such as `LogfmtLogger`.
        priority_selector: Picks the severity of each event.
    """

    __slots__ = ("_new_logger", "_select", "_writer")

    def __init__(
        self,
        writer: SyslogWriter,
        new_logger: Callable[[Writer], Logger],
        *,
        priority_selector: PrioritySelector = default_priority,
    ) -> None:
        self._writer = writer
        self._new_logger = new_logger
        self._select = priority_selector

    def log(self, **keyvals: object) -> None:
        """Format the event and write it at the severity the selector picks."""
        buffer = io.StringIO()
        self._new_logger(buffer).log(**keyvals)
        text = buffer.getvalue()
        if text:  # the inner logger may decide to write nothing
            self._writer.write(self._select(keyvals), text.removesuffix("\n"))

    def __repr__(self) -> str:
        return f"SyslogLogger({self._writer!r}, {self._new_logger!r})"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _check_token(name: str, value: str, *, empty_ok: bool) -> None:
    if (not value and not empty_ok) or not value.isprintable() or any(c in value for c in " :[]"):
        raise ValueError(f"{name} must be printable, without spaces, ':', '[' or ']': {value!r}")


class SocketSyslogWriter:
    """A `SyslogWriter` that sends RFC 3164 datagrams to a syslog socket.

    Each line becomes one datagram, ``<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: LINE``,
    where PRI is ``facility * 8 + severity`` and the time is local. Trailing newlines
    are dropped, and any unprintable character left in the line (a control character,
    say) is escaped as ``\\uXXXX``. The socket is opened on the first write; if
    sending fails, the writer reconnects and tries once more, then raises the `OSError`.

    Args:
        address: A unix datagram socket path (``/dev/log``) or a ``(host, port)``
            syslog server reached over UDP.
        facility: The facility of every message: a `Facility`, 0-23.
        tag: The program name in every message.
        hostname: The HOSTNAME field. By default it is left out for a unix socket,
            as the C library's ``syslog()`` does (local daemons read the next word as
            the tag), and is this machine's short host name for UDP. ``""`` leaves it out.
        time_ns: The wall clock, nanoseconds since the epoch; inject a fake one in tests.
    """

    def __init__(
        self,
        address: str | tuple[str, int] = "/dev/log",
        *,
        facility: int = Facility.USER,
        tag: str = "pygokit",
        hostname: str | None = None,
        time_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if not 0 <= facility <= max(Facility):
            raise ValueError(
                f"facility must be 0-23, such as Facility.LOCAL0, got {facility!r}"
                " (the stdlib's syslog.LOG_* facilities are already multiplied by 8)"
            )
        _check_token("tag", tag, empty_ok=False)
        if hostname is None:
            hostname = "" if isinstance(address, str) else socket.gethostname().split(".")[0]
        _check_token("hostname", hostname, empty_ok=True)
        self._address = address
        self._facility = int(facility)
        self._header_tail = (f"{hostname} " if hostname else "") + tag
        self._time_ns = time_ns
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._closed = False

    def write(self, priority: int, line: str) -> None:
        """Send *line* at severity *priority* (`LOG_EMERG` to `LOG_DEBUG`) as one datagram."""
        if not LOG_EMERG <= priority <= LOG_DEBUG:
            raise ValueError(f"priority must be a severity from 0 to 7, got {priority!r}")
        message = line.rstrip("\r\n")
        if not message.isprintable():
            message = escape_unprintable(message)
        data = f"<{self._facility * 8 + priority}>{self._timestamp()} {self._header_tail}"
        data += f"[{os.getpid()}]: {message}"
        self._send(data.encode("utf-8", "backslashreplace"))

    def _timestamp(self) -> str:
        now = time.localtime(self._time_ns() // 1_000_000_000)
        month = _MONTHS[now.tm_mon - 1]
        return f"{month} {now.tm_mday:2d} {now.tm_hour:02d}:{now.tm_min:02d}:{now.tm_sec:02d}"

    def _send(self, data: bytes) -> None:
        with self._lock:
            if self._closed:
                raise ValueError("write to a closed SocketSyslogWriter")
            try:
                (self._sock or self._connect()).send(data)
            except OSError:
                self._drop()
                try:  # once more, on a fresh socket: the daemon may have restarted
                    self._connect().send(data)
                except OSError:
                    self._drop()
                    raise

    def _connect(self) -> socket.socket:
        if isinstance(self._address, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            target: object = self._address
        else:
            host, port = self._address
            family, kind, proto, _, target = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
            sock = socket.socket(family, kind, proto)
        try:
            sock.connect(target)  # type: ignore[arg-type]  # a path or an address tuple
        except OSError:
            sock.close()
            raise
        self._sock = sock
        return sock

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def close(self) -> None:
        """Close the socket; writing afterwards raises `ValueError`. Closing twice is fine."""
        with self._lock:
            self._closed = True
            self._drop()

    async def aclose(self) -> None:
        """Close the socket (the asynchronous spelling of `close`)."""
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SocketSyslogWriter({self._address!r}, facility={self._facility})"
