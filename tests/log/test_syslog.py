"""Logging to syslog (Go kit's log/syslog), checked against real receiving sockets."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from pygokit.log import JSONLogger, LogfmtLogger, NopLogger, level
from pygokit.log.syslog import (
    LOG_ALERT,
    LOG_CRIT,
    LOG_DEBUG,
    LOG_EMERG,
    LOG_ERR,
    LOG_INFO,
    LOG_NOTICE,
    LOG_WARNING,
    Facility,
    SocketSyslogWriter,
    SyslogLogger,
    SyslogWriter,
    default_priority,
)

# 2026-02-05 09:07:03 local time: a one-digit day shows RFC 3164's space padding.
FIXED_NS = int(time.mktime((2026, 2, 5, 9, 7, 3, 0, 0, -1))) * 1_000_000_000 + 123
STAMP = "Feb  5 09:07:03"
PID = os.getpid()


def fixed_clock() -> int:
    """The wall clock frozen at FIXED_NS."""
    return FIXED_NS


class RecordingWriter:
    """A SyslogWriter that keeps every (priority, line) it is given."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []

    def write(self, priority: int, line: str) -> None:
        """Record one line."""
        self.lines.append((priority, line))


def bind_unix(path: Path) -> socket.socket:
    """A unix datagram socket receiving at *path*, giving up on reads after 5 s."""
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    receiver.settimeout(5.0)
    return receiver


@pytest.fixture
def udp_receiver() -> Iterator[socket.socket]:
    """A UDP socket bound to a free port on 127.0.0.1, giving up on reads after 5 s."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5.0)
    with receiver:
        yield receiver


@pytest.fixture
def unix_path(tmp_path: Path) -> Path:
    """A socket path short enough for AF_UNIX (108 bytes)."""
    path = tmp_path / "log"
    if len(os.fsencode(path)) >= 100:  # pragma: no cover  # only with very deep temp dirs
        pytest.skip(f"temporary path too long for a unix socket: {path}")
    return path


@pytest.fixture
def unix_receiver(unix_path: Path) -> Iterator[socket.socket]:
    """A unix datagram socket receiving at unix_path."""
    with bind_unix(unix_path) as receiver:
        yield receiver


def receive(receiver: socket.socket) -> str:
    """The next datagram, decoded."""
    return receiver.recv(65536).decode("utf-8")


# Priorities


@pytest.mark.parametrize(
    ("keyvals", "priority"),
    [
        ({"level": level.DEBUG}, LOG_DEBUG),
        ({"level": level.INFO}, LOG_INFO),
        ({"level": level.WARN}, LOG_WARNING),
        ({"level": level.ERROR}, LOG_ERR),
        ({"level": "error"}, LOG_INFO),
        ({"msg": "no level"}, LOG_INFO),
    ],
)
def test_default_priority_follows_the_level(keyvals: Mapping[str, object], priority: int) -> None:
    """Levels map to debug, info, warning and err; anything else is info, as in Go kit."""
    assert default_priority(keyvals) == priority


def test_severities_use_the_standard_numbers() -> None:
    """The severities run from emerg 0 to debug 7; facilities are RFC numbers, USER 1."""
    assert [LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR] == [0, 1, 2, 3]
    assert [LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG] == [4, 5, 6, 7]
    assert (Facility.KERN, Facility.USER, Facility.LOCAL0, Facility.LOCAL7) == (0, 1, 16, 23)


# SyslogLogger


def test_logger_writes_each_event_as_a_line_with_its_priority() -> None:
    """Each event is formatted by the inner logger and written without its newline."""
    writer = RecordingWriter()
    assert isinstance(writer, SyslogWriter)
    logger = SyslogLogger(writer, LogfmtLogger)
    level.error(logger).log(msg="down")
    logger.log(msg="plain", n=1)
    assert writer.lines == [(LOG_ERR, "level=error msg=down"), (LOG_INFO, "msg=plain n=1")]
    assert repr(logger).startswith("SyslogLogger(")


def test_logger_uses_the_priority_selector() -> None:
    """A custom selector picks the severity from the event."""
    writer = RecordingWriter()

    def by_alarm(keyvals: Mapping[str, object]) -> int:
        return LOG_ALERT if keyvals.get("alarm") else LOG_NOTICE

    logger = SyslogLogger(writer, JSONLogger, priority_selector=by_alarm)
    logger.log(alarm=True)
    logger.log(alarm=False)
    assert writer.lines == [(LOG_ALERT, '{"alarm":true}'), (LOG_NOTICE, '{"alarm":false}')]


def test_logger_writes_nothing_when_the_inner_logger_does_not() -> None:
    """An inner logger that writes nothing sends no line."""
    writer = RecordingWriter()
    SyslogLogger(writer, lambda w: NopLogger()).log(msg="x")
    assert writer.lines == []


# SocketSyslogWriter over real sockets


def test_events_reach_a_unix_socket_as_rfc3164(
    unix_path: Path, unix_receiver: socket.socket
) -> None:
    """Over a unix socket: <PRI>TIMESTAMP TAG[PID]: line, no hostname, as syslog(3) sends."""
    with SocketSyslogWriter(str(unix_path), tag="addsvc", time_ns=fixed_clock) as writer:
        logger = SyslogLogger(writer, LogfmtLogger)
        level.error(logger).log(msg="down", err="timeout after 2s")
        level.debug(logger).log(msg="detail")
        level.warn(logger).log(msg="slow")
        logger.log(msg="no level")

    assert [receive(unix_receiver) for _ in range(4)] == [
        f'<11>{STAMP} addsvc[{PID}]: level=error msg=down err="timeout after 2s"',
        f"<15>{STAMP} addsvc[{PID}]: level=debug msg=detail",
        f"<12>{STAMP} addsvc[{PID}]: level=warn msg=slow",
        f'<14>{STAMP} addsvc[{PID}]: msg="no level"',
    ]


def test_events_reach_a_udp_server_with_the_hostname(udp_receiver: socket.socket) -> None:
    """Over UDP the short host name is included, and PRI is facility * 8 + severity."""
    host = socket.gethostname().split(".")[0]
    address = udp_receiver.getsockname()
    writer = SocketSyslogWriter(address, facility=Facility.LOCAL0, tag="svc", time_ns=fixed_clock)
    with writer:
        level.info(SyslogLogger(writer, LogfmtLogger)).log(msg="héllo")

    assert receive(udp_receiver) == f"<134>{STAMP} {host} svc[{PID}]: level=info msg=héllo"


def test_hostname_can_be_set_or_left_out(udp_receiver: socket.socket, unix_path: Path) -> None:
    """An explicit hostname is used on any socket; "" leaves it out, even over UDP."""
    address = udp_receiver.getsockname()
    with SocketSyslogWriter(address, hostname="", tag="a", time_ns=fixed_clock) as writer:
        writer.write(LOG_NOTICE, "x=1")
    assert receive(udp_receiver) == f"<13>{STAMP} a[{PID}]: x=1"

    with (
        bind_unix(unix_path) as receiver,
        SocketSyslogWriter(str(unix_path), hostname="web1", tag="b", time_ns=fixed_clock) as writer,
    ):
        writer.write(LOG_CRIT, "x=2")
        assert receive(receiver) == f"<10>{STAMP} web1 b[{PID}]: x=2"


def test_no_control_character_is_sent_raw(unix_path: Path, unix_receiver: socket.socket) -> None:
    """Trailing newlines are dropped and any other control character is escaped."""
    with SocketSyslogWriter(str(unix_path), tag="t", time_ns=fixed_clock) as writer:
        writer.write(LOG_INFO, "evil=\x1b[2J\nforged\x00\u2028line\r\n")
        level.info(SyslogLogger(writer, LogfmtLogger)).log(msg="\x1b[31m\nx")

    first, second = receive(unix_receiver), receive(unix_receiver)
    assert first == f"<14>{STAMP} t[{PID}]: evil=\\u001b[2J\\u000aforged\\u0000\\u2028line"
    assert second == f'<14>{STAMP} t[{PID}]: level=info msg="\\u001b[31m\\nx"'
    assert (first + second).isprintable()


def test_writer_reconnects_once_after_the_daemon_restarts(unix_path: Path) -> None:
    """When the socket's peer goes away, the writer reconnects and sends the line anyway."""
    writer = SocketSyslogWriter(str(unix_path), tag="t", time_ns=fixed_clock)
    with bind_unix(unix_path) as first:
        writer.write(LOG_INFO, "one")
        assert receive(first).endswith(": one")
    unix_path.unlink()

    with writer, bind_unix(unix_path) as second:
        writer.write(LOG_INFO, "two")
        assert receive(second).endswith(": two")


def test_writer_raises_when_no_daemon_listens(unix_path: Path) -> None:
    """With nothing at the address, the retry fails too and the OSError is raised."""
    with SocketSyslogWriter(str(unix_path), time_ns=fixed_clock) as writer:
        with pytest.raises(FileNotFoundError):
            writer.write(LOG_INFO, "lost")
        with bind_unix(unix_path) as receiver:  # the next write connects afresh
            writer.write(LOG_INFO, "found")
            assert receive(receiver).endswith(": found")


def test_writer_connects_lazily() -> None:
    """Constructing a writer does no I/O: a missing socket only matters on write."""
    writer = SocketSyslogWriter("/nonexistent/pygokit/log")
    writer.close()
    assert repr(writer) == "SocketSyslogWriter('/nonexistent/pygokit/log', facility=1)"


def test_closed_writer_refuses_to_write(unix_path: Path, unix_receiver: socket.socket) -> None:
    """After close(), write raises ValueError; closing twice is harmless."""
    writer = SocketSyslogWriter(str(unix_path))
    writer.write(LOG_INFO, "sent")
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write(LOG_INFO, "refused")


async def test_writer_is_an_async_context_manager(
    unix_path: Path, unix_receiver: socket.socket
) -> None:
    """async with closes the writer too, and aclose() is close()."""
    async with SocketSyslogWriter(str(unix_path), time_ns=fixed_clock) as writer:
        writer.write(LOG_DEBUG, "async")
    with pytest.raises(ValueError, match="closed"):
        writer.write(LOG_DEBUG, "after")
    await writer.aclose()
    assert receive(unix_receiver).endswith(": async")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"facility": 24}, "facility must be 0-23"),
        ({"facility": 128}, "already multiplied by 8"),
        ({"facility": -1}, "facility"),
        ({"tag": ""}, "tag"),
        ({"tag": "my app"}, "tag"),
        ({"tag": "app:1"}, "tag"),
        ({"tag": "app\n"}, "tag"),
        ({"hostname": "web 1"}, "hostname"),
    ],
)
def test_writer_validates_its_options(kwargs: dict[str, object], message: str) -> None:
    """Facilities outside 0-23 and tags or hostnames that would corrupt the header are refused."""
    with pytest.raises(ValueError, match=message):
        SocketSyslogWriter("/dev/log", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("priority", [-1, 8, 14])
def test_writer_refuses_priorities_that_are_not_severities(priority: int) -> None:
    """Only severities 0-7 are accepted; the facility is set on the writer."""
    with (
        SocketSyslogWriter("/nonexistent/pygokit/log") as writer,
        pytest.raises(ValueError, match="severity"),
    ):
        writer.write(priority, "x")
