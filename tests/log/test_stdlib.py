"""The bridge to and from the standard logging module: StdlibHandler and StdlibLogger."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable

import pytest

from pygokit.log import LogfmtLogger, Logger, caller, level, with_
from pygokit.log.level import Level
from pygokit.log.stdlib import StdlibHandler, StdlibLogger
from pygokit.testing import CapturingLogger


class RecordList(logging.Handler):
    """A stdlib handler that keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep *record*."""
        self.records.append(record)


class BrokenLogger:
    """A pygokit logger whose every write fails."""

    def log(self, **keyvals: object) -> None:
        """Fail."""
        raise OSError("disk full")


class CountingStr:
    """A value that counts how often it is turned into text."""

    def __init__(self) -> None:
        self.calls = 0

    def __str__(self) -> str:
        self.calls += 1
        return "counted"


@pytest.fixture
def stdlib_logger(request: pytest.FixtureRequest) -> logging.Logger:
    """A stdlib logger at DEBUG of the test's own, outside the logger tree.

    Outside the tree, it has no parent to propagate to, and pytest's log capture,
    which would format (and fail on) the deliberately bad records, does not find it.
    """
    return logging.Logger(f"pygokit-test.{request.node.name}", logging.DEBUG)


def attach(logger: logging.Logger, handler: logging.Handler) -> logging.Handler:
    """Add *handler* to *logger* and return it."""
    logger.addHandler(handler)
    return handler


def make_record(levelno: int = logging.INFO, **attrs: object) -> logging.LogRecord:
    """A record as a logger would make it, with *attrs* set on it afterwards."""
    record = logging.LogRecord("lib", levelno, "/src/lib.py", 7, "m", (), None)
    record.__dict__.update(attrs)
    return record


def next_line() -> int:
    """The line number after the caller's current line."""
    return sys._getframe(1).f_lineno + 1


# StdlibHandler: stdlib records into pygokit


def test_handler_logs_level_logger_caller_msg_in_order() -> None:
    """A third-party logger's record becomes level, logger, caller and msg, in that order."""
    capture = CapturingLogger()
    third_party = logging.getLogger("aiohttp.access")
    handler = attach(third_party, StdlibHandler(capture))
    try:
        line = next_line()
        third_party.warning("GET %s took %.1fs", "/sum", 1.5)
    finally:
        third_party.removeHandler(handler)

    assert list(capture.events[0].items()) == [
        ("level", level.WARN),
        ("logger", "aiohttp.access"),
        ("caller", f"test_stdlib.py:{line}"),
        ("msg", "GET /sum took 1.5s"),
    ]


@pytest.mark.parametrize(
    ("levelno", "expected"),
    [
        (logging.NOTSET, level.DEBUG),
        (5, level.DEBUG),
        (logging.DEBUG, level.DEBUG),
        (logging.INFO, level.INFO),
        (25, level.INFO),
        (logging.WARNING, level.WARN),
        (logging.ERROR, level.ERROR),
        (logging.CRITICAL, level.ERROR),
        (99, level.ERROR),
    ],
)
def test_handler_maps_stdlib_levels_to_real_level_values(levelno: int, expected: Level) -> None:
    """Each stdlib level number maps to a Level object; custom numbers round down."""
    record = make_record(levelno=levelno)

    value = StdlibHandler(CapturingLogger()).event(record)["level"]

    assert value is expected
    assert type(value) is Level


def test_level_filter_applies_to_forwarded_records(stdlib_logger: logging.Logger) -> None:
    """Because levels are real Level values, a pygokit level filter drops stdlib debug records."""
    capture = CapturingLogger()
    attach(stdlib_logger, StdlibHandler(level.Filter(capture, level.allow_info())))

    stdlib_logger.debug("noise")
    stdlib_logger.info("kept")

    assert [event["msg"] for event in capture.events] == ["kept"]


def test_handler_level_drops_records_below_it(stdlib_logger: logging.Logger) -> None:
    """The handler's own stdlib level filters records before they are converted."""
    capture = CapturingLogger()
    attach(stdlib_logger, StdlibHandler(capture, logging.WARNING))

    stdlib_logger.info("dropped")
    stdlib_logger.error("kept")

    assert [event["msg"] for event in capture.events] == ["kept"]


def test_bad_format_string_gives_a_placeholder_not_an_error(
    stdlib_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    """A message whose arguments do not fit logs a placeholder with the raw message."""
    capture = CapturingLogger()
    attach(stdlib_logger, StdlibHandler(capture))

    stdlib_logger.info("%d items", "many")
    stdlib_logger.info("%s and %s", "one")

    assert [event["msg"] for event in capture.events] == [
        "!ERROR formatting message '%d items': TypeError",
        "!ERROR formatting message '%s and %s': TypeError",
    ]
    assert capsys.readouterr().err == ""


def test_extra_attributes_follow_msg_in_order(stdlib_logger: logging.Logger) -> None:
    """Attributes passed with extra= are logged after msg, in the order given."""
    capture = CapturingLogger()
    attach(stdlib_logger, StdlibHandler(capture))

    stdlib_logger.info("served", extra={"path": "/sum", "status": 200, "peer": None})

    assert list(capture.events[0])[3:] == ["msg", "path", "status", "peer"]
    assert capture.events[0]["status"] == 200
    assert capture.events[0]["peer"] is None


def test_extra_named_like_a_record_key_is_prefixed(stdlib_logger: logging.Logger) -> None:
    """An extra named level, logger, caller, ts, stack or err is logged as extra.<name>."""
    capture = CapturingLogger()
    attach(stdlib_logger, StdlibHandler(capture))

    clash = {"level": "x", "logger": "y", "caller": "z", "ts": 1, "stack": 2, "err": 3}
    stdlib_logger.warning("m", extra=clash)

    event = capture.events[0]
    assert event["level"] is level.WARN
    assert event["logger"] == stdlib_logger.name
    assert {key: event[f"extra.{key}"] for key in clash} == clash
    assert "err" not in event


def test_exception_is_logged_as_err_traceback(stdlib_logger: logging.Logger) -> None:
    """logger.exception() puts the formatted traceback under err, last."""
    capture = CapturingLogger()
    attach(stdlib_logger, StdlibHandler(capture))

    try:
        raise ValueError("boom")
    except ValueError:
        stdlib_logger.exception("failed", extra={"job": 7})

    event = capture.events[0]
    assert event["level"] is level.ERROR
    assert list(event)[-2:] == ["job", "err"]
    err = event["err"]
    assert isinstance(err, str)
    assert err.startswith("Traceback (most recent call last):")
    assert err.endswith("ValueError: boom")


def test_exc_info_without_an_exception_adds_no_err(stdlib_logger: logging.Logger) -> None:
    """exc_info=True outside an except block has nothing to format, so no err key."""
    capture = CapturingLogger()
    attach(stdlib_logger, StdlibHandler(capture))

    stdlib_logger.error("no exception here", exc_info=True)

    assert "err" not in capture.events[0]


def test_exception_formatted_by_an_earlier_handler(stdlib_logger: logging.Logger) -> None:
    """After another handler formatted the record, err is its traceback text, if any."""
    capture = CapturingLogger()
    attach(stdlib_logger, logging.StreamHandler(io.StringIO()))
    attach(stdlib_logger, StdlibHandler(capture))

    stdlib_logger.error("no exception here", exc_info=True)
    try:
        raise ValueError("boom")
    except ValueError:
        stdlib_logger.exception("failed")

    assert "err" not in capture.events[0]
    err = capture.events[1]["err"]
    assert isinstance(err, str)
    assert err.endswith("ValueError: boom")


def test_preformatted_exception_text_is_used() -> None:
    """A record with exc_text but no exc_info (as a SocketHandler sends it) logs that text."""
    record = make_record(exc_text="Traceback ...\nKeyError: 'k'")

    event = StdlibHandler(CapturingLogger()).event(record)

    assert event["err"] == "Traceback ...\nKeyError: 'k'"


def test_stack_info_is_logged_under_stack(stdlib_logger: logging.Logger) -> None:
    """stack_info=True adds the formatted stack under stack, not err."""
    capture = CapturingLogger()
    attach(stdlib_logger, StdlibHandler(capture))

    stdlib_logger.info("where am I", stack_info=True)

    stack = capture.events[0]["stack"]
    assert isinstance(stack, str)
    assert stack.startswith("Stack (most recent call last):")
    assert "test_stack_info_is_logged_under_stack" in stack
    assert "err" not in capture.events[0]


def test_timestamp_flag_adds_ts_first_from_record_creation() -> None:
    """With timestamp=True, ts is the record's creation time in RFC 3339 UTC, first."""
    record = make_record(created=1_700_000_000.25)

    with_ts = StdlibHandler(CapturingLogger(), timestamp=True).event(record)
    without = StdlibHandler(CapturingLogger()).event(record)

    assert next(iter(with_ts.items())) == ("ts", "2023-11-14T22:13:20.250000Z")
    assert "ts" not in without


def test_failing_pygokit_logger_goes_to_handle_error(
    stdlib_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    """A logger that raises never breaks the logging call; handleError reports it on stderr."""
    attach(stdlib_logger, StdlibHandler(BrokenLogger()))

    stdlib_logger.error("lost")

    err = capsys.readouterr().err
    assert "--- Logging error ---" in err
    assert "OSError: disk full" in err


def test_failing_pygokit_logger_is_silent_without_raise_exceptions(
    stdlib_logger: logging.Logger,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With logging.raiseExceptions off, a failing logger is ignored without a word."""
    monkeypatch.setattr(logging, "raiseExceptions", False)
    attach(stdlib_logger, StdlibHandler(BrokenLogger()))

    stdlib_logger.error("lost")

    assert capsys.readouterr().err == ""


def test_record_caller_replaces_a_bound_caller_valuer(stdlib_logger: logging.Logger) -> None:
    """A caller valuer would name a frame inside logging; the record's own caller wins."""
    out = io.StringIO()
    attach(stdlib_logger, StdlibHandler(with_(LogfmtLogger(out), caller=caller)))

    line = next_line()
    stdlib_logger.info("hello world", extra={"user": "bob"})

    assert out.getvalue() == (
        f"caller=test_stdlib.py:{line} level=info logger={stdlib_logger.name}"
        ' msg="hello world" user=bob\n'
    )


def test_handler_breaks_a_loop_back_into_itself(stdlib_logger: logging.Logger) -> None:
    """A handler whose pygokit logger writes back to the same stdlib logger does not recurse."""
    records = attach(stdlib_logger, RecordList())
    assert isinstance(records, RecordList)
    attach(stdlib_logger, StdlibHandler(StdlibLogger(stdlib_logger)))

    stdlib_logger.info("once")

    assert [record.getMessage() for record in records.records] == [
        "once",
        f"once logger={stdlib_logger.name} caller=test_stdlib.py:{records.records[0].lineno}",
    ]


def test_handler_repr_and_logger() -> None:
    """The handler shows its logger, level and timestamp flag, and exposes the logger."""
    capture = CapturingLogger()
    handler = StdlibHandler(capture, logging.INFO, timestamp=True)

    assert handler.logger is capture
    assert repr(handler) == "StdlibHandler(CapturingLogger(events=0), level=INFO, timestamp=True)"


# StdlibLogger: pygokit events into stdlib


def stdlib_pair(stdlib_logger: logging.Logger) -> tuple[StdlibLogger, list[logging.LogRecord]]:
    """A StdlibLogger over *stdlib_logger*, and the list its records land in."""
    records = RecordList()
    stdlib_logger.addHandler(records)
    return StdlibLogger(stdlib_logger), records.records


@pytest.mark.parametrize(
    ("helper", "levelno"),
    [
        (level.debug, logging.DEBUG),
        (level.info, logging.INFO),
        (level.warn, logging.WARNING),
        (level.error, logging.ERROR),
    ],
)
def test_logger_maps_levels_to_stdlib_levels(
    stdlib_logger: logging.Logger, helper: Callable[[Logger], Logger], levelno: int
) -> None:
    """Each pygokit level becomes the matching stdlib level, and is not repeated in the text."""
    logger, records = stdlib_pair(stdlib_logger)

    helper(logger).log(msg="hi")

    assert [(r.levelno, r.getMessage()) for r in records] == [(levelno, "hi")]


def test_logger_without_level_logs_at_info(stdlib_logger: logging.Logger) -> None:
    """An event with no Level is an INFO record; a plain "level" string is kept as a field."""
    logger, records = stdlib_pair(stdlib_logger)

    logger.log(msg="no level")
    logger.log(level="debug", msg="string level")

    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.INFO, "no level"),
        (logging.INFO, "string level level=debug"),
    ]


def test_logger_message_is_msg_then_logfmt_pairs(stdlib_logger: logging.Logger) -> None:
    """The message is msg followed by the other pairs in logfmt; either part may be absent."""
    logger, records = stdlib_pair(stdlib_logger)

    logger.log(msg="hello world", user="bob", n=3, note="a b")
    logger.log(user="bob")
    logger.log(msg="just this")
    logger.log()

    assert [r.getMessage() for r in records] == [
        'hello world user=bob n=3 note="a b"',
        "user=bob",
        "just this",
        "",
    ]
    assert records[0].args == ()


def test_logger_message_cannot_forge_a_line(stdlib_logger: logging.Logger) -> None:
    """Control characters in msg, which is written unquoted, are escaped to keep one line."""
    logger, records = stdlib_pair(stdlib_logger)

    logger.log(msg="done\nlevel=error msg=forged\x1b[2K", n=1)

    assert records[0].getMessage() == "done\\u000alevel=error msg=forged\\u001b[2K n=1"


def test_logger_percent_signs_are_not_interpolated(stdlib_logger: logging.Logger) -> None:
    """A message with % signs reaches stdlib as plain text and never raises in formatting."""
    logger, records = stdlib_pair(stdlib_logger)

    logger.log(msg="100% done %s %d", pct="50%")

    assert records[0].getMessage() == "100% done %s %d pct=50%"


def test_logger_passes_pairs_as_the_pygokit_attribute(stdlib_logger: logging.Logger) -> None:
    """The pairs other than msg and the level travel as a dict on record.pygokit."""
    logger, records = stdlib_pair(stdlib_logger)

    level.warn(logger).log(msg="m", user="bob", n=3, name="x", message="y")

    assert vars(records[0])["pygokit"] == {"user": "bob", "n": 3, "name": "x", "message": "y"}
    assert records[0].name == stdlib_logger.name


def test_logger_custom_keys(stdlib_logger: logging.Logger) -> None:
    """message_key and level_key choose where the message and the Level are read from."""
    records = attach(stdlib_logger, RecordList())
    assert isinstance(records, RecordList)
    logger = StdlibLogger(stdlib_logger, message_key="event", level_key="severity")

    logger.log(severity=level.ERROR, event="broke", msg="kept", level=level.DEBUG)

    record = records.records[0]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "broke msg=kept level=debug"


def test_logger_raised_exception_becomes_exc_info(stdlib_logger: logging.Logger) -> None:
    """A raised exception under err is the record's exc_info; one never raised is not."""
    logger, records = stdlib_pair(stdlib_logger)

    try:
        raise KeyError("k")
    except KeyError as exc:
        raised = exc
    level.error(logger).log(msg="failed", err=raised)
    level.error(logger).log(msg="business", err=ValueError("empty"))

    assert records[0].exc_info is not None
    assert records[0].exc_info[1] is raised
    assert records[0].getMessage() == "failed err='k'"
    assert records[1].exc_info is None


def test_logger_record_names_the_callers_line(stdlib_logger: logging.Logger) -> None:
    """The record's file, line and function are the user's, however the logger is wrapped."""
    logger, records = stdlib_pair(stdlib_logger)
    wrapped = level.info(with_(level.Filter(logger, level.allow_all()), svc="x"))

    line = next_line()
    wrapped.log(msg="direct")
    logger.log(msg="bare")

    assert [(r.pathname, r.lineno, r.funcName) for r in records] == [
        (__file__, line, "test_logger_record_names_the_callers_line"),
        (__file__, line + 1, "test_logger_record_names_the_callers_line"),
    ]


def test_logger_disabled_level_formats_nothing(stdlib_logger: logging.Logger) -> None:
    """When stdlib drops the level, no value is formatted and no record is made."""
    logger, records = stdlib_pair(stdlib_logger)
    stdlib_logger.setLevel(logging.WARNING)
    value = CountingStr()

    level.info(logger).log(msg="skipped", v=value)
    logger.log(msg="skipped, no level", v=value)
    level.warn(logger).log(msg="kept", v=value)

    assert [r.getMessage() for r in records] == ["kept v=counted"]
    assert value.calls == 1


def test_logger_repr_and_logger(stdlib_logger: logging.Logger) -> None:
    """The logger shows and exposes the stdlib logger it writes to."""
    logger = StdlibLogger(stdlib_logger)

    assert logger.logger is stdlib_logger
    assert repr(logger) == f"StdlibLogger({stdlib_logger!r})"


def test_round_trip_pygokit_to_stdlib_to_pygokit(stdlib_logger: logging.Logger) -> None:
    """An event written through stdlib and read back by a handler keeps its level and caller."""
    capture = CapturingLogger()
    attach(stdlib_logger, StdlibHandler(capture))

    line = next_line()
    level.warn(StdlibLogger(stdlib_logger)).log(msg="low disk", free_mb=12)

    assert capture.events == [
        {
            "level": level.WARN,
            "logger": stdlib_logger.name,
            "caller": f"test_stdlib.py:{line}",
            "msg": "low disk free_mb=12",
        }
    ]
