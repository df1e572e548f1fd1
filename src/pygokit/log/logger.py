"""The core logging contract: one method, ``log(**keyvals)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Logger", "LoggerFunc", "MappingLogger", "NopLogger", "Writer", "forward_to"]


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
