"""The core logging contract: one method, ``log(**keyvals)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = [
    "Logger",
    "LoggerFunc",
    "MappingLogger",
    "NopLogger",
    "PrerenderingLogger",
    "Writer",
    "forward_to",
]


@runtime_checkable
class Writer(Protocol):
    """Where formatting loggers put their lines: any text stream, such as ``sys.stderr``.

    Formatting loggers call ``write`` exactly once per event, with the whole line.
    """

    def write(self, text: str, /) -> object:
        """Write *text*; the return value is ignored."""


@runtime_checkable
class Logger(Protocol):
    """Something that records structured events.

    Keyword order is the order the pairs are written in. A logger that cannot
    write raises; callers that must not fail (error handlers) catch and move on.
    """

    def log(self, **keyvals: object) -> None:
        """Record one event made of the given key/value pairs."""


@runtime_checkable
class MappingLogger(Logger, Protocol):
    """A `Logger` that can also take an event as a dict it may read but must not keep.

    Passing ``**keyvals`` on copies the pairs into a new dict at every hop; a
    decorator that already holds the event as a dict (a context, a level filter)
    hands it over with ``log_mapping`` instead, which saves that copy. Formatting
    loggers implement it; any other logger works through ``log``.
    """

    def log_mapping(self, event: dict[str, object], /) -> None:
        """Record *event*; do not keep or change the dict."""


@runtime_checkable
class PrerenderingLogger(MappingLogger, Protocol):
    """A `MappingLogger` that can format a context's constant pairs once, ahead of time.

    A `pygokit.log.Context` whose bound pairs are all plain constants (strings,
    numbers, booleans, None, levels) asks its logger for ``render_ahead(pairs)`` once
    and then hands every event whose keys differ from the bound ones to the function
    it got, so ``level=info method=sum`` is formatted once instead of per event.
    `LogfmtLogger` and `JSONLogger` implement it.
    """

    def render_ahead(self, pairs: dict[str, object], /) -> Callable[[dict[str, object]], None]:
        """Return a function that records *pairs* followed by an event's own pairs.

        The function is only given events none of whose keys is in *pairs*; it must
        not keep or change them.
        """


def forward_to(logger: Logger) -> Callable[[dict[str, object]], None]:
    """Return the cheapest way to hand *logger* an event dict: ``log_mapping`` if it has one."""
    if isinstance(logger, MappingLogger):
        return logger.log_mapping
    log = logger.log
    return lambda event: log(**event)


class LoggerFunc:
    """Adapt a plain function to the `Logger` protocol (Go kit's ``LoggerFunc``)."""

    __slots__ = ("_func",)

    def __init__(self, func: Callable[..., None]) -> None:
        self._func = func

    def log(self, **keyvals: object) -> None:
        """Call the wrapped function with the event's key/value pairs."""
        self._func(**keyvals)

    def __repr__(self) -> str:
        return f"LoggerFunc({self._func!r})"


class NopLogger:
    """A logger that discards every event."""

    __slots__ = ()

    def log(self, **keyvals: object) -> None:
        """Discard the event."""

    def log_mapping(self, event: dict[str, object], /) -> None:
        """Discard the event (see `MappingLogger`)."""

    def __repr__(self) -> str:
        return "NopLogger()"
