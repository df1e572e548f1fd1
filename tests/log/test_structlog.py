"""The bridge to and from structlog: StructlogLogger and PygokitRenderer, with real structlog."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

import pytest
import structlog
import structlog.testing

from pygokit.log import LogfmtLogger, Logger, level, with_
from pygokit.log.level import Level
from pygokit.log.structlog import PygokitRenderer, StructlogLogger
from pygokit.testing import CapturingLogger


def structlog_capture(**kw: Any) -> tuple[Any, structlog.testing.LogCapture]:
    """A real structlog logger whose events end in a LogCapture, and that capture."""
    capture = structlog.testing.LogCapture()
    return structlog.wrap_logger(None, processors=[capture], **kw), capture


def rendered_to(pygokit_logger: Logger, *processors: Any, **kw: Any) -> Any:
    """A real structlog logger whose processor chain ends in PygokitRenderer(pygokit_logger)."""
    sink = structlog.testing.CapturingLogger()
    chain = [*processors, PygokitRenderer(pygokit_logger)]
    return structlog.wrap_logger(sink, processors=chain, **kw), sink


# StructlogLogger: pygokit events into structlog


@pytest.mark.parametrize(
    ("helper", "method"),
    [
        (level.debug, "debug"),
        (level.info, "info"),
        (level.warn, "warning"),
        (level.error, "error"),
    ],
)
def test_level_picks_the_structlog_method(helper: Callable[[Logger], Logger], method: str) -> None:
    """Each pygokit Level calls the matching structlog method, and is not passed as a field."""
    bound, capture = structlog_capture()

    helper(StructlogLogger(bound)).log(msg="hi", n=1)

    assert capture.entries == [{"n": 1, "event": "hi", "log_level": method}]


def test_no_level_logs_at_info_and_a_level_string_is_a_field() -> None:
    """Without a Level the method is info; a plain "level" string travels as a field."""
    bound, capture = structlog_capture()
    logger = StructlogLogger(bound)

    logger.log(msg="plain")
    logger.log(msg="string", level="debug")

    assert capture.entries == [
        {"event": "plain", "log_level": "info"},
        {"level": "debug", "event": "string", "log_level": "info"},
    ]


def test_msg_becomes_the_event_and_other_pairs_keep_their_order() -> None:
    """msg is the structlog event string; the remaining pairs are keyword arguments in order."""
    bound, capture = structlog_capture()

    StructlogLogger(bound.bind(svc="addsvc")).log(b=2, msg="sum", a=1)

    assert list(capture.entries[0].items()) == [
        ("svc", "addsvc"),
        ("b", 2),
        ("a", 1),
        ("event", "sum"),
        ("log_level", "info"),
    ]


def test_an_event_key_wins_over_msg() -> None:
    """A pygokit event key is structlog's event; msg then stays an ordinary field."""
    bound, capture = structlog_capture()

    StructlogLogger(bound).log(msg="text", event="signup")

    assert capture.entries == [{"msg": "text", "event": "signup", "log_level": "info"}]


def test_missing_or_non_string_message() -> None:
    """No msg gives an empty event string; a non-string msg is turned into text."""
    bound, capture = structlog_capture()
    logger = StructlogLogger(bound)

    logger.log(method="sum", took=0.5)
    logger.log(msg=ValueError("bad input"))

    assert [entry["event"] for entry in capture.entries] == ["", "bad input"]


def test_structlog_level_filtering_applies() -> None:
    """A filtering structlog logger drops pygokit events below its level."""
    bound, capture = structlog_capture(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING)
    )
    logger = StructlogLogger(bound)

    level.info(logger).log(msg="dropped")
    level.error(logger).log(msg="kept")

    assert [entry["event"] for entry in capture.entries] == ["kept"]


def test_structlog_logger_repr_and_logger() -> None:
    """The adapter shows and exposes the structlog logger it forwards to."""
    bound = structlog.testing.CapturingLogger()
    logger = StructlogLogger(bound)

    assert logger.logger is bound
    assert repr(logger) == f"StructlogLogger({bound!r})"


# PygokitRenderer: structlog events into pygokit


def test_renderer_logs_level_msg_then_fields_and_drops_the_event() -> None:
    """The renderer logs level and msg first, then the fields; structlog itself writes nothing."""
    capture = CapturingLogger()
    log, sink = rendered_to(capture)

    log.bind(request_id="7f3a").info("hello", user="bob")

    assert list(capture.events[0].items()) == [
        ("level", level.INFO),
        ("msg", "hello"),
        ("request_id", "7f3a"),
        ("user", "bob"),
    ]
    assert type(capture.events[0]["level"]) is Level
    assert sink.calls == []


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("debug", level.DEBUG),
        ("info", level.INFO),
        ("warning", level.WARN),
        ("warn", level.WARN),
        ("error", level.ERROR),
        ("exception", level.ERROR),
        ("critical", level.ERROR),
        ("fatal", level.ERROR),
    ],
)
def test_renderer_maps_method_names_to_levels(method: str, expected: Level) -> None:
    """Each structlog method name becomes the matching pygokit Level object."""
    event = PygokitRenderer.event(method, {"event": "m"})

    assert event == {"level": expected, "msg": "m"}
    assert event["level"] is expected


def test_renderer_level_replaces_add_log_level_string() -> None:
    """A level string from add_log_level is replaced by the Level, so level filters work."""
    capture = CapturingLogger()
    log, _ = rendered_to(
        level.Filter(capture, level.allow_warn()), structlog.processors.add_log_level
    )

    log.info("dropped")
    log.warning("kept", n=1)

    assert capture.events == [{"level": level.WARN, "msg": "kept", "n": 1}]
    assert capture.events[0]["level"] is level.WARN


def test_renderer_method_without_level_keeps_the_event_unleveled() -> None:
    """A method that names no level (msg) logs no Level; a level field is left as it is."""
    capture = CapturingLogger()
    log, _ = rendered_to(capture, wrapper_class=structlog.BoundLogger)

    log.msg("note", level="custom")

    assert capture.events == [{"msg": "note", "level": "custom"}]


def test_renderer_keeps_event_when_msg_is_a_field() -> None:
    """If the event dict has its own msg, event keeps its name and nothing is lost."""
    event = PygokitRenderer.event("info", {"msg": "field", "event": "text"})

    assert event == {"level": level.INFO, "msg": "field", "event": "text"}


def test_renderer_formats_exceptions_as_err() -> None:
    """log.exception() and exc_info=exc become err, the formatted traceback."""
    capture = CapturingLogger()
    log, _ = rendered_to(capture)

    try:
        raise ValueError("boom")
    except ValueError as exc:
        log.exception("failed")
        caught = exc
    log.error("later", exc_info=caught)
    log.error("tuple", exc_info=(type(caught), caught, caught.__traceback__))

    for event in capture.events:
        assert event["level"] is level.ERROR
        assert list(event) == ["level", "msg", "err"]
        err = event["err"]
        assert isinstance(err, str)
        assert err.startswith("Traceback (most recent call last):")
        assert err.endswith("ValueError: boom")
    assert len(capture.events) == 3


def test_renderer_exc_info_without_exception_adds_nothing() -> None:
    """exc_info=False, or True outside an except block, adds no err and no exc_info."""
    capture = CapturingLogger()
    log, _ = rendered_to(capture)

    log.error("a", exc_info=False)
    log.error("b", exc_info=True)

    assert capture.events == [
        {"level": level.ERROR, "msg": "a"},
        {"level": level.ERROR, "msg": "b"},
    ]


def test_renderer_keeps_an_existing_err_and_exc_info() -> None:
    """If the event already has err, exc_info is passed on unchanged rather than overwrite it."""
    exc = KeyError("k")

    event = PygokitRenderer.event("error", {"err": "mine", "exc_info": exc, "event": "m"})

    assert event == {"level": level.ERROR, "msg": "m", "err": "mine", "exc_info": exc}


def test_renderer_writes_logfmt_through_pygokit() -> None:
    """Through a pygokit context and logfmt logger, a structlog call becomes one logfmt line."""
    out = io.StringIO()
    log, _ = rendered_to(with_(LogfmtLogger(out), svc="addsvc"))

    log.warning("slow call", took=1.5)

    assert out.getvalue() == 'svc=addsvc level=warn msg="slow call" took=1.5\n'


def test_renderer_repr_and_logger() -> None:
    """The renderer shows and exposes the pygokit logger it hands events to."""
    capture = CapturingLogger()
    renderer = PygokitRenderer(capture)

    assert renderer.logger is capture
    assert repr(renderer) == "PygokitRenderer(CapturingLogger(events=0))"


# Both directions at once


@pytest.mark.parametrize(
    "event",
    [
        {"level": level.WARN, "msg": "low disk", "free_mb": 12},
        {"level": level.DEBUG, "msg": "text", "event": "signup"},
        {"level": level.ERROR, "msg": "", "a": None},
    ],
)
def test_round_trip_pygokit_structlog_pygokit_is_lossless(event: dict[str, object]) -> None:
    """An event sent into structlog by StructlogLogger and back by PygokitRenderer is unchanged."""
    capture = CapturingLogger()
    log, _ = rendered_to(capture)

    StructlogLogger(log).log(**event)

    assert capture.events == [event]
    assert capture.events[0]["level"] is event["level"]
