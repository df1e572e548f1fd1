"""Levelled logging: tag events with a level and filter them by it (Go kit's ``log/level``).

A level is one more key/value pair, ``level=<Level>``, added by the helpers `debug`,
`info`, `warn` and `error`. A `Filter` drops the events whose level is not allowed.
Only the four `Level` values of this module count as levels: a plain string such as
``level="debug"`` passed by hand is *no* level, exactly as in Go kit, so a stray
string cannot slip past (or be caught by) the filter.

Levels are rules, not destinations: build the filter once, in ``main``, and log
through it everywhere else.

Example::

    logger = LogfmtLogger(sys.stderr)
    logger = level.Filter(logger, level.allow_info())      # debug events are dropped
    logger = with_(logger, ts=timestamp_utc, caller=caller)

    level.error(logger).log(err=exc)                        # level=error err=...
    level.info(logger).log(event="data received")           # level=info event=...
    level.debug(logger).log(next_item=17)                   # filtered out, nearly free

A filtered-out event costs little more than the call itself: when the helper sees
that a filter in front of the output would drop the level silently, it returns a
logger that does nothing, without building the event or computing its valuers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NoReturn

from pygokit.errors import GoKitError
from pygokit.log.context import Context, with_prefix
from pygokit.log.logger import Logger, NopLogger, forward_to

__all__ = [
    "DEBUG",
    "ERROR",
    "INFO",
    "KEY",
    "WARN",
    "Filter",
    "Injector",
    "InvalidLevel",
    "Level",
    "allow",
    "allow_all",
    "allow_debug",
    "allow_error",
    "allow_info",
    "allow_none",
    "allow_warn",
    "debug",
    "error",
    "info",
    "parse",
    "parse_default",
    "warn",
]

KEY = "level"
"""The key that levels are logged under."""

_SEAL = object()


class Level(str):
    """One of the four log levels: `DEBUG`, `INFO`, `WARN` and `ERROR`.

    A level is a `str` (``DEBUG == "debug"``), so every format writes it as plain
    text, but only these four objects are levels: the type is sealed, it cannot be
    constructed or subclassed. Compare severities with `rank` (``DEBUG`` is lowest);
    ``<`` keeps its meaning for strings. Get a level from text with `parse`.
    """

    rank: int
    """The severity, from 0 (`DEBUG`) to 3 (`ERROR`)."""

    def __new__(cls, name: str, rank: int, seal: object = None) -> Level:
        if seal is not _SEAL:
            raise TypeError(
                "Level is sealed: use level.DEBUG, INFO, WARN or ERROR, or level.parse(text)"
            )
        self = super().__new__(cls, name)
        object.__setattr__(self, "rank", rank)
        return self

    def __init_subclass__(cls) -> None:
        raise TypeError("Level is sealed and cannot be subclassed")

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("levels are immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("levels are immutable")

    def __reduce__(self) -> tuple[object, tuple[str]]:
        # Copies and unpickled levels are the module's own objects, so they stay levels.
        return parse, (str.__str__(self),)

    def __repr__(self) -> str:
        return f"<Level {str.__str__(self)}>"


DEBUG = Level("debug", 0, _SEAL)
"""The level of detail useful only while debugging."""
INFO = Level("info", 1, _SEAL)
"""The level of routine events: started, listening, request served."""
WARN = Level("warn", 2, _SEAL)
"""The level of events that are wrong but handled."""
ERROR = Level("error", 3, _SEAL)
"""The level of failures someone should look at."""

_LEVELS = (DEBUG, INFO, WARN, ERROR)
_BY_NAME = {"debug": DEBUG, "info": INFO, "warn": WARN, "warning": WARN, "error": ERROR}
_NOP = NopLogger()


class InvalidLevel(GoKitError, ValueError):
    """Text that names no level was given to `parse` (Go kit's ``ErrInvalidLevelString``)."""

    def __init__(self, text: str) -> None:
        super().__init__(
            f"invalid log level {text!r}: want one of debug, info, warn (or warning), error"
        )
        self.text = text
        """The text that was not a level."""


def parse(text: str) -> Level:
    """Return the level named by *text*, ignoring case and surrounding whitespace.

    ``debug``, ``info``, ``warn``, ``warning`` and ``error`` are accepted.

    Raises:
        InvalidLevel: *text* names no level.
    """
    found = _BY_NAME.get(text.strip().lower())
    if found is None:
        raise InvalidLevel(text)
    return found


def parse_default(text: str, default: Level) -> Level:
    """Return the level named by *text* as `parse` does, or *default* if it names none."""
    return _BY_NAME.get(text.strip().lower(), default)


def allow(minimum: Level) -> frozenset[Level]:
    """Return the levels to allow for *minimum* and everything more severe."""
    _check_level(minimum)
    return frozenset(lv for lv in _LEVELS if lv.rank >= minimum.rank)


def allow_all() -> frozenset[Level]:
    """Return every level (the same as `allow_debug`)."""
    return frozenset(_LEVELS)


def allow_debug() -> frozenset[Level]:
    """Return the levels debug, info, warn and error."""
    return allow(DEBUG)


def allow_info() -> frozenset[Level]:
    """Return the levels info, warn and error."""
    return allow(INFO)


def allow_warn() -> frozenset[Level]:
    """Return the levels warn and error."""
    return allow(WARN)


def allow_error() -> frozenset[Level]:
    """Return the level error alone."""
    return allow(ERROR)


def allow_none() -> frozenset[Level]:
    """Return no level: a filter given it drops every levelled event."""
    return frozenset()


def _check_level(value: object) -> None:
    if type(value) is not Level:
        raise TypeError(f"expected one of level.DEBUG, INFO, WARN or ERROR, got {value!r}")


def _check_error(name: str, value: object) -> None:
    if value is not None and not isinstance(value, Exception):
        raise TypeError(f"{name} must be an exception instance or None, got {value!r}")


class Filter:
    """A logger that passes on only the events whose level is allowed (Go kit's ``NewFilter``).

    An event whose `Level` (under `KEY`) is not in *allowed* is dropped, or, if
    *not_allowed_error* is set, that exception is raised. An event without a level
    passes, unless *squelch_no_level* is set: then it is dropped, or *no_level_error*
    is raised. The same exception object is raised each time, so callers can
    recognise it with ``is``.

    Unlike Go kit's filter, which squelches every levelled event when given no
    options, *allowed* must be given: use `allow_info` and friends.

    Args:
        next_: The logger allowed events go to.
        allowed: The levels to pass, such as ``allow_info()`` or ``allow(WARN)``.
        squelch_no_level: Drop events that carry no level.
        not_allowed_error: Raise this for an event whose level is not allowed.
        no_level_error: Raise this for an event with no level, if squelched.
    """

    __slots__ = (
        "_allowed",
        "_forward",
        "_levelled",
        "_next",
        "_no_level",
        "_not_allowed",
        "_silent",
        "_squelch",
    )

    def __init__(
        self,
        next_: Logger,
        allowed: Iterable[Level],
        /,
        *,
        squelch_no_level: bool = False,
        not_allowed_error: Exception | None = None,
        no_level_error: Exception | None = None,
    ) -> None:
        levels = frozenset(allowed)
        for value in levels:
            _check_level(value)
        _check_error("not_allowed_error", not_allowed_error)
        _check_error("no_level_error", no_level_error)
        self._next = next_
        self._forward = forward_to(next_)
        self._levelled: dict[Level, Logger] = {}  # kept by the level helpers
        self._allowed = levels
        self._squelch = squelch_no_level
        self._not_allowed = not_allowed_error
        self._no_level = no_level_error
        # The levels dropped without a word: the level helpers short-circuit these.
        self._silent = (
            frozenset(_LEVELS) - levels if not_allowed_error is None else frozenset[Level]()
        )

    @property
    def next(self) -> Logger:
        """The logger that allowed events go to."""
        return self._next

    def allows(self, level: Level) -> bool:
        """Tell whether events at *level* pass this filter."""
        return level in self._allowed

    def log(self, **keyvals: object) -> None:
        """Pass the event on if its level is allowed; otherwise drop it or raise."""
        self.log_mapping(keyvals)

    def log_mapping(self, event: dict[str, object], /) -> None:
        """`log` for an event given as a dict (see `pygokit.log.MappingLogger`)."""
        value = event.get(KEY)
        if type(value) is Level:
            if value in self._allowed:
                self._forward(event)
            elif self._not_allowed is not None:
                raise self._not_allowed.with_traceback(None)
        elif not self._squelch:
            self._forward(event)
        elif self._no_level is not None:
            raise self._no_level.with_traceback(None)

    def __repr__(self) -> str:
        allowed = sorted(self._allowed, key=lambda lv: lv.rank)
        return f"Filter({self._next!r}, {allowed!r}, squelch_no_level={self._squelch})"


class Injector:
    """A logger that adds ``level=default`` to events that have no level (``NewInjector``).

    The level goes first. An event whose `KEY` holds something other than a `Level`
    (such as the string ``"debug"``) counts as having no level, and the injected
    level replaces that value.
    """

    __slots__ = ("_default", "_next")

    def __init__(self, next_: Logger, default: Level) -> None:
        _check_level(default)
        self._next = next_
        self._default = default

    @property
    def next(self) -> Logger:
        """The logger that events go to."""
        return self._next

    def log(self, **keyvals: object) -> None:
        """Pass the event on, with the default level first if it has none."""
        value = keyvals.get(KEY, _SEAL)
        if type(value) is Level:
            self._next.log(**keyvals)
        elif value is _SEAL:
            self._next.log(**{KEY: self._default}, **keyvals)
        else:
            self._next.log(**{KEY: self._default, **{k: v for k, v in keyvals.items() if k != KEY}})

    def __repr__(self) -> str:
        return f"Injector({self._next!r}, {self._default!r})"


def _resolve(level: Level, logger: Logger) -> Logger:
    """``with_prefix(logger, level=level)``, or the no-op if a filter behind drops it.

    It looks through contexts (unless one binds a level suffix, which would win),
    injectors and filters that allow the level; a filter that drops it silently means
    the no-op.
    """
    node = logger
    while True:
        if type(node) is Context:
            if node._suffix and KEY in node._suffix:
                break
        elif type(node) is Filter:
            if level in node._silent:
                return _NOP
            if level not in node._allowed:
                break  # it raises: the event must reach it
        elif type(node) is not Injector:
            break
        node = node._next
    return with_prefix(logger, **{KEY: level})


def _helper(level: Level, name: str, doc: str) -> Callable[[Logger], Logger]:
    """Make the helper for *level*: `_resolve`, remembered on immutable loggers.

    Contexts and filters never change, so the levelled logger made for one is kept in
    it and handed out again: ``level.info(logger).log(...)`` on every event allocates
    nothing after the first. *level* is a closure variable to save a call.
    """

    def helper(logger: Logger) -> Logger:
        if type(logger) is Context or type(logger) is Filter:
            levelled = logger._levelled.get(level)
            if levelled is None:
                levelled = logger._levelled[level] = _resolve(level, logger)
            return levelled
        return _resolve(level, logger)

    helper.__name__ = helper.__qualname__ = name
    helper.__doc__ = doc
    return helper


debug = _helper(
    DEBUG,
    "debug",
    """Return a logger that logs at `DEBUG`: ``with_prefix(logger, level=DEBUG)``.

    If a `Filter` behind *logger* would drop debug events silently, a shared logger
    that does nothing is returned instead, so disabled debug logging costs almost
    nothing (context valuers are not computed either). Overriding ``level=`` at the
    call site of the returned logger is not supported: make one with the level you want.
    """,
)
info = _helper(INFO, "info", "Return a logger that logs at `INFO`; see `debug` for the details.")
warn = _helper(WARN, "warn", "Return a logger that logs at `WARN`; see `debug` for the details.")
error = _helper(
    ERROR, "error", "Return a logger that logs at `ERROR`; see `debug` for the details."
)
