"""Levels, the level filter, the injector and parsing (Go kit's log/level)."""

from __future__ import annotations

import copy
import io
import json
import pickle
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygokit.errors import GoKitError
from pygokit.log import JSONLogger, LogfmtLogger, Logger, LoggerFunc, NopLogger, Valuer, level
from pygokit.log.context import with_, with_prefix, with_suffix
from pygokit.log.level import DEBUG, ERROR, INFO, KEY, WARN, Filter, Injector, InvalidLevel, Level
from pygokit.testing import CapturingLogger

LEVELS = (DEBUG, INFO, WARN, ERROR)
HELPERS: dict[Level, Callable[[Logger], Logger]] = {
    DEBUG: level.debug,
    INFO: level.info,
    WARN: level.warn,
    ERROR: level.error,
}


class Refused(Exception):
    """The error a filter is told to raise."""


# Levels


def test_levels_are_the_strings_go_kit_prints() -> None:
    """Each level equals, hashes and formats like its name, so formats write it as text."""
    assert [str(lv) for lv in LEVELS] == ["debug", "info", "warn", "error"]
    for lv in LEVELS:
        assert isinstance(lv, str)
        assert lv == str(lv)
        assert hash(lv) == hash(str(lv))
        assert f"{lv}" == str(lv)
    assert {"warn": 1}[WARN] == 1
    assert repr(WARN) == "<Level warn>"
    assert KEY == "level"


def test_levels_are_ranked_by_severity() -> None:
    """rank orders the levels debug < info < warn < error."""
    assert [lv.rank for lv in LEVELS] == [0, 1, 2, 3]
    assert sorted(LEVELS, key=lambda lv: lv.rank) == list(LEVELS)


def test_level_is_sealed() -> None:
    """No new level can be made, by construction or by subclassing."""
    with pytest.raises(TypeError, match="sealed"):
        Level("fatal", 4)
    with pytest.raises(TypeError, match="sealed"):
        type("Fatal", (Level,), {})


def test_levels_are_immutable() -> None:
    """A level's rank cannot be changed or removed."""
    with pytest.raises(AttributeError):
        DEBUG.rank = 3
    with pytest.raises(AttributeError):
        del DEBUG.rank
    assert DEBUG.rank == 0


def test_copies_and_pickles_are_the_same_level() -> None:
    """Copying or unpickling a level gives back the module's own object."""
    for lv in LEVELS:
        assert copy.copy(lv) is lv
        assert copy.deepcopy(lv) is lv
        assert pickle.loads(pickle.dumps(lv)) is lv


def test_formats_write_levels_as_plain_text() -> None:
    """logfmt and JSON write level=warn and "level":"warn"."""
    out = io.StringIO()
    level.warn(LogfmtLogger(out)).log(msg="slow")
    level.error(JSONLogger(out)).log(msg="down")
    lines = out.getvalue().splitlines()
    assert lines[0] == "level=warn msg=slow"
    assert json.loads(lines[1]) == {"level": "error", "msg": "down"}


# Helpers


@pytest.mark.parametrize("lv", LEVELS)
def test_helpers_put_the_level_first(lv: Level) -> None:
    """Each helper adds its Level under the key "level", before every other pair."""
    capture = CapturingLogger()
    HELPERS[lv](with_(capture, svc="add")).log(msg="hi")

    assert [list(e.items()) for e in capture.events] == [
        [("level", lv), ("svc", "add"), ("msg", "hi")]
    ]
    assert type(capture.events[0]["level"]) is Level


def test_helpers_have_names_and_docstrings() -> None:
    """The helpers document themselves under their own names."""
    for lv, helper in HELPERS.items():
        assert helper.__name__ == str(lv)
        assert helper.__doc__


# Filter: which levels pass (Go kit's TestVariousLevels)


@pytest.mark.parametrize(
    ("allowed", "passing"),
    [
        (level.allow_all(), ["debug", "info", "warn", "error"]),
        (level.allow_debug(), ["debug", "info", "warn", "error"]),
        (level.allow_info(), ["info", "warn", "error"]),
        (level.allow_warn(), ["warn", "error"]),
        (level.allow_error(), ["error"]),
        (level.allow_none(), []),
        (level.allow(WARN), ["warn", "error"]),
    ],
)
def test_filter_passes_only_allowed_levels(allowed: frozenset[Level], passing: list[str]) -> None:
    """Every level at or above the allowed minimum passes; the rest are dropped."""
    capture = CapturingLogger()
    logger = Filter(capture, allowed)
    for lv in LEVELS:
        HELPERS[lv](logger).log(this_is=lv)

    assert [e["level"] for e in capture.events] == passing


def test_allow_builds_the_same_sets_as_the_named_options() -> None:
    """allow(level) is that level and above; allow_all() is allow(DEBUG)."""
    assert level.allow(DEBUG) == level.allow_all() == frozenset(LEVELS)
    assert level.allow(INFO) == level.allow_info() == {INFO, WARN, ERROR}
    assert level.allow(ERROR) == level.allow_error() == {ERROR}
    assert level.allow_none() == frozenset()


def test_allow_takes_only_levels() -> None:
    """allow("warn") is a TypeError: only the four Level objects are levels."""
    with pytest.raises(TypeError, match=r"level\.DEBUG"):
        level.allow("warn")  # type: ignore[arg-type]


def test_a_string_under_the_level_key_is_no_level() -> None:
    """level="debug" typed by hand is no level: it passes allow_none() and is squelched as none."""
    capture = CapturingLogger()
    Filter(capture, level.allow_none()).log(level="debug", msg="plain string")
    Filter(capture, level.allow_all(), squelch_no_level=True).log(level="error", msg="gone")

    assert capture.events == [{"level": "debug", "msg": "plain string"}]


def test_events_without_a_level_pass_by_default() -> None:
    """An event with no level passes even a filter that allows no level."""
    capture = CapturingLogger()
    Filter(capture, level.allow_none()).log(msg="no level")
    assert capture.events == [{"msg": "no level"}]


def test_not_allowed_error_is_raised_for_dropped_levels() -> None:
    """With not_allowed_error, a disallowed event raises that very exception."""
    refused = Refused("level not allowed")
    capture = CapturingLogger()
    logger = Filter(capture, level.allow_info(), not_allowed_error=refused)

    with pytest.raises(Refused) as caught:
        level.debug(logger).log(msg="x")
    assert caught.value is refused
    level.info(logger).log(msg="y")
    assert capture.events == [{"level": INFO, "msg": "y"}]


def test_a_reraised_error_does_not_pile_up_tracebacks() -> None:
    """Raising the configured error again starts a fresh traceback every time."""
    refused = Refused()
    logger = Filter(NopLogger(), level.allow_none(), not_allowed_error=refused)
    depths = []
    for _ in range(3):
        with pytest.raises(Refused):
            logger.log(level=WARN)
        depth, tb = 0, refused.__traceback__
        while tb is not None:
            depth, tb = depth + 1, tb.tb_next
        depths.append(depth)
    assert depths[0] == depths[1] == depths[2]


def test_squelch_no_level_drops_events_without_a_level() -> None:
    """squelch_no_level drops unlevelled events and still passes allowed ones."""
    capture = CapturingLogger()
    logger = Filter(capture, level.allow_all(), squelch_no_level=True)
    logger.log(msg="no level")
    level.debug(logger).log(msg="levelled")
    assert capture.events == [{"level": DEBUG, "msg": "levelled"}]


def test_no_level_error_is_raised_when_squelching() -> None:
    """With squelch_no_level and no_level_error, an unlevelled event raises that error."""
    missing = Refused("no level")
    logger = Filter(
        CapturingLogger(), level.allow_all(), squelch_no_level=True, no_level_error=missing
    )
    with pytest.raises(Refused) as caught:
        logger.log(msg="x")
    assert caught.value is missing


def test_no_level_error_alone_does_not_squelch() -> None:
    """no_level_error has no effect unless squelch_no_level is set, as in Go kit."""
    capture = CapturingLogger()
    Filter(capture, level.allow_all(), no_level_error=Refused()).log(msg="x")
    assert capture.events == [{"msg": "x"}]


def test_filter_reports_what_it_allows() -> None:
    """allows() answers per level; next and repr show the wrapped logger."""
    capture = CapturingLogger()
    logger = Filter(capture, level.allow_warn())
    assert [logger.allows(lv) for lv in LEVELS] == [False, False, True, True]
    assert logger.next is capture
    assert repr(logger) == (
        "Filter(CapturingLogger(events=0), [<Level warn>, <Level error>], squelch_no_level=False)"
    )


def test_filter_rejects_what_is_not_a_level_or_an_error() -> None:
    """Strings in allowed, or exception classes for errors, are TypeErrors at construction."""
    with pytest.raises(TypeError):
        Filter(NopLogger(), frozenset({"debug"}))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Filter(NopLogger(), "info")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not_allowed_error"):
        Filter(NopLogger(), level.allow_all(), not_allowed_error=Refused)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="no_level_error"):
        Filter(NopLogger(), level.allow_all(), no_level_error="oops")  # type: ignore[arg-type]


# Injector


def test_injector_adds_the_default_level_first() -> None:
    """An event without a level gets the default, as its first pair."""
    capture = CapturingLogger()
    Injector(capture, INFO).log(msg="x", n=1)
    assert [list(e.items()) for e in capture.events] == [[("level", INFO), ("msg", "x"), ("n", 1)]]


def test_injector_keeps_an_existing_level() -> None:
    """An event that has a Level keeps it, untouched and in place."""
    capture = CapturingLogger()
    injector = Injector(capture, INFO)
    level.error(injector).log(msg="x")
    injector.log(msg="y", level=WARN)
    assert [list(e.items()) for e in capture.events] == [
        [("level", ERROR), ("msg", "x")],
        [("msg", "y"), ("level", WARN)],
    ]


def test_injector_replaces_a_string_that_is_no_level() -> None:
    """A hand-typed level="debug" is no level, so the default replaces it, first."""
    capture = CapturingLogger()
    Injector(capture, WARN).log(msg="x", level="debug")
    assert [list(e.items()) for e in capture.events] == [[("level", WARN), ("msg", "x")]]


def test_injector_feeds_a_filter() -> None:
    """Behind an injector, unlevelled events are filtered at the default level."""
    capture = CapturingLogger()
    logger = Injector(Filter(capture, level.allow_warn()), INFO)
    logger.log(msg="dropped: info by default")
    level.warn(logger).log(msg="kept")
    assert capture.events == [{"level": WARN, "msg": "kept"}]


def test_injector_shows_its_parts_and_checks_its_default() -> None:
    """next and repr show the wrapped logger; a string default is a TypeError."""
    capture = CapturingLogger()
    injector = Injector(capture, DEBUG)
    assert injector.next is capture
    assert repr(injector) == "Injector(CapturingLogger(events=0), <Level debug>)"
    with pytest.raises(TypeError):
        Injector(capture, "debug")  # type: ignore[arg-type]


# The fast path for filtered-out events


def test_helper_returns_a_no_op_for_a_silently_dropped_level() -> None:
    """debug() on a filter that drops debug silently returns the shared NopLogger."""
    logger = Filter(CapturingLogger(), level.allow_info())
    nop = level.debug(logger)
    assert isinstance(nop, NopLogger)
    assert level.debug(logger) is nop
    assert not isinstance(level.info(logger), NopLogger)


def test_fast_path_sees_through_contexts_injectors_and_passing_filters() -> None:
    """Contexts, injectors and filters that allow the level are looked through."""
    capture = CapturingLogger()
    inner = Filter(capture, level.allow_warn())
    outer = Filter(Injector(inner, INFO), level.allow_all())
    logger = with_(outer, svc="add")
    assert isinstance(level.info(logger), NopLogger)
    assert not isinstance(level.warn(logger), NopLogger)


def test_fast_path_skips_valuers_of_dropped_events() -> None:
    """A context's valuers are not computed for an event dropped on the fast path."""
    calls: list[int] = []
    logger = with_(
        Filter(CapturingLogger(), level.allow_error()), n=Valuer(lambda: calls.append(1))
    )
    level.debug(logger).log(msg="x")
    level.error(logger).log(msg="y")
    assert calls == [1]


def test_no_fast_path_when_the_filter_raises() -> None:
    """A filter with not_allowed_error must see the event, so the helper keeps the real logger."""
    logger = with_(Filter(CapturingLogger(), level.allow_info(), not_allowed_error=Refused()), a=1)
    debug = level.debug(logger)
    assert not isinstance(debug, NopLogger)
    with pytest.raises(Refused):
        debug.log(msg="x")


def test_no_fast_path_when_a_context_binds_a_level_suffix() -> None:
    """A bound level suffix overrides the helper's level, so the event must be logged."""
    capture = CapturingLogger()
    logger = with_suffix(Filter(capture, level.allow_info()), level=INFO)
    debug = level.debug(logger)
    assert not isinstance(debug, NopLogger)
    debug.log(msg="x")
    assert capture.events == [{"level": INFO, "msg": "x"}]


def test_no_fast_path_through_unknown_loggers() -> None:
    """Past a logger it does not know, the helper cannot tell, and the filter still drops."""
    capture = CapturingLogger()
    filtered = Filter(capture, level.allow_info())
    wrapped = LoggerFunc(filtered.log)

    class LoudFilter(Filter):
        """A subclass may log differently, so it gets no fast path either."""

    for logger in (wrapped, LoudFilter(capture, level.allow_info())):
        debug = level.debug(logger)
        assert not isinstance(debug, NopLogger)
        debug.log(msg="x")
    assert capture.events == []


@given(
    allowed=st.frozensets(st.sampled_from(LEVELS)),
    raises=st.booleans(),
    squelch=st.booleans(),
    lv=st.sampled_from(LEVELS),
    suffix=st.sampled_from([None, *LEVELS]),
)
def test_fast_path_changes_nothing_observable(
    allowed: frozenset[Level], raises: bool, squelch: bool, lv: Level, suffix: Level | None
) -> None:
    """For any filter set-up, a helper's logger logs or raises exactly as with_prefix would."""

    def run(make: Callable[[Logger], Logger]) -> tuple[list[dict[str, object]], bool]:
        capture = CapturingLogger()
        error = Refused() if raises else None
        base = Filter(capture, allowed, squelch_no_level=squelch, not_allowed_error=error)
        logger = with_(base, a=1) if suffix is None else with_suffix(base, level=suffix)
        try:
            make(logger).log(msg="x")
        except Refused:
            return capture.events, True
        return capture.events, False

    def slow(logger: Logger) -> Logger:
        return with_prefix(logger, level=lv)

    assert run(HELPERS[lv]) == run(slow)


# Parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [("debug", DEBUG), ("info", INFO), ("warn", WARN), ("warning", WARN), ("error", ERROR)],
)
def test_parse_reads_each_name(text: str, expected: Level) -> None:
    """parse() maps each accepted name to its level object."""
    assert level.parse(text) is expected


_WHITESPACE = st.text(alphabet=" \t\n\r\x0b\x0c\u3000", max_size=3)


@given(
    name=st.sampled_from(["debug", "info", "warn", "warning", "error"]),
    upper=st.lists(st.booleans(), min_size=7, max_size=7),
    before=_WHITESPACE,
    after=_WHITESPACE,
)
def test_parse_ignores_case_and_surrounding_whitespace(
    name: str, upper: list[bool], before: str, after: str
) -> None:
    """Any casing of a name, with any whitespace around it, parses to that level."""
    mixed = "".join(c.upper() if up else c for c, up in zip(name, upper, strict=False))
    text = before + mixed + after
    assert level.parse(text) is level.parse(name)
    assert level.parse_default(text, ERROR) is level.parse(name)


@pytest.mark.parametrize("text", ["", " ", "fatal", "deb ug", "warnings", "information", "3"])
def test_parse_rejects_other_text(text: str) -> None:
    """Text naming no level raises InvalidLevel, a GoKitError and ValueError naming the input."""
    with pytest.raises(InvalidLevel) as caught:
        level.parse(text)
    err = caught.value
    assert isinstance(err, GoKitError)
    assert isinstance(err, ValueError)
    assert err.text == text
    assert repr(text) in str(err)
    assert "debug, info, warn (or warning), error" in str(err)


@given(text=st.text(max_size=12))
def test_parse_default_never_raises(text: str) -> None:
    """parse_default() returns the parsed level, or the default for anything else."""
    try:
        expected = level.parse(text)
    except InvalidLevel:
        expected = INFO
    assert level.parse_default(text, INFO) is expected


def test_helpers_hand_out_the_same_levelled_logger_for_contexts_and_filters() -> None:
    """Contexts and filters never change, so a helper returns the logger it made before."""
    sink = CapturingLogger()
    context = with_(sink, svc="x")
    filtered = level.Filter(sink, level.allow_all())

    assert level.info(context) is level.info(context)
    assert level.warn(filtered) is level.warn(filtered)
    assert level.info(context) is not level.error(context)
    level.info(context).log(msg="a")
    level.error(context).log(msg="b")
    assert [(e["level"], e["msg"]) for e in sink.events] == [("info", "a"), ("error", "b")]
