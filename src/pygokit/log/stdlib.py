"""Bridges between pygokit loggers and the standard `logging` module, both ways.

- `StdlibHandler` is a `logging.Handler` that turns every stdlib record into a
  pygokit event, so the logs of third-party libraries (``asyncio``, ``aiohttp``,
  ``uvicorn``...) come out in the same logfmt or JSON stream as your own.
- `StdlibLogger` is a pygokit `Logger` that writes into a stdlib `logging.Logger`,
  for applications whose output already goes through stdlib handlers.

Go kit's ``StdlibAdapter`` parses the text lines of Go's ``log`` package back into
key/value pairs, and its ``StdlibWriter`` writes lines into it. Python's `logging`
hands handlers structured records instead of text, so a handler replaces the
adapter and nothing needs parsing; `StdlibLogger` replaces the writer.

Do not chain the two into a loop (a `StdlibHandler` whose pygokit logger writes,
through a `StdlibLogger`, back to a stdlib logger that reaches the same handler):
the handler drops a record it receives while still emitting one in the same thread.

Example::

    logger = with_(LogfmtLogger(sys.stderr), ts=timestamp_utc)
    logging.basicConfig(level=logging.INFO, handlers=[StdlibHandler(logger)], force=True)
    logging.getLogger("aiohttp.access").warning("slow request", extra={"path": "/sum"})
    # ts=... level=warn logger=aiohttp.access caller=app.py:12 msg="slow request" path=/sum

    stdlib = StdlibLogger(logging.getLogger("app"))
    level.info(stdlib).log(msg="hello world", user="bob", n=3)
    # the "app" logger gets an INFO record: hello world user=bob n=3
"""

from __future__ import annotations

import logging
import os.path
import sys
import threading
import time
from types import FrameType

from pygokit.log import logfmt
from pygokit.log._encode import escape_unprintable, to_text
from pygokit.log.level import DEBUG, ERROR, INFO, KEY, WARN, Level
from pygokit.log.logger import Logger

__all__ = ["StdlibHandler", "StdlibLogger"]

# Attributes every LogRecord has, or gains when a Formatter formats it, and the one
# StdlibLogger adds (its pairs are already in the message); the rest came from
# ``extra=``. Computed from a real record so new Python versions stay covered.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "asctime",
    "message",
    "pygokit",
    "taskName",
}
_FIXED_KEYS = frozenset({"ts", KEY, "logger", "caller", "msg", "stack", "err"})
_formatter = logging.Formatter()


def _level(levelno: int) -> Level:
    """The pygokit level of a stdlib level number; custom numbers round down."""
    if levelno >= logging.ERROR:  # ERROR and CRITICAL
        return ERROR
    if levelno >= logging.WARNING:
        return WARN
    if levelno >= logging.INFO:
        return INFO
    return DEBUG


def _message(record: logging.LogRecord) -> str:
    """``record.getMessage()``, or a placeholder with the raw message if formatting fails."""
    try:
        return record.getMessage()
    except Exception as exc:  # "%d" with a string argument, too few arguments, ...
        return f"!ERROR formatting message {to_text(record.msg)!r}: {type(exc).__name__}"


def _rfc3339(created: float) -> str:
    """*created* (seconds since the epoch) as RFC 3339 in UTC with microseconds."""
    seconds = int(created)
    micros = int((created - seconds) * 1_000_000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{micros:06d}Z"


class StdlibHandler(logging.Handler):
    """A `logging.Handler` that forwards every record to a pygokit logger.

    Each record becomes one event with these keys, in this order:

    - ``ts``: only with ``timestamp=True``, the record's creation time (RFC 3339,
      UTC, microseconds). Off by default: bind a `pygokit.log.timestamp_utc` to the
      pygokit logger instead. Turn it on when records reach the handler late, as
      through a `logging.handlers.QueueHandler`.
    - ``level``: `pygokit.log.level.DEBUG`, ``INFO``, ``WARN`` (for ``WARNING``) or
      ``ERROR`` (for ``ERROR`` and ``CRITICAL``), as real `Level` values, so level
      filters work; custom level numbers round down to the nearest of these.
    - ``logger`` (the stdlib logger's name) and ``caller`` (``file.py:line``).
    - ``msg``: the formatted message. A bad format string or wrong arguments give a
      placeholder with the raw message instead of an exception.
    - the ``extra=`` attributes, in the order given. One named like a key above is
      logged as ``extra.<name>`` so it neither hides nor replaces the record's own.
      (The ``pygokit`` attribute of records from `StdlibLogger` is left out: its
      pairs are in the message already.)
    - ``stack``: the formatted ``stack_info``, when the call asked for it.
    - ``err``: the formatted traceback, when the record carries an exception.

    Pairs bound to the pygokit logger still apply, and the record's ``caller`` (and
    ``ts``) replace bound ones of the same name, as call-site pairs do: a bound
    `pygokit.log.caller` would name a line inside `logging` here.

    If the pygokit logger raises, the handler calls `logging.Handler.handleError`,
    as every stdlib handler does: by default that prints the problem to stderr, and
    setting ``logging.raiseExceptions = False`` silences it. Nothing is raised.

    Args:
        logger: Where events go.
        level: The handler's level; records below it are ignored.
        timestamp: Add ``ts`` from the record's creation time.
    """

    def __init__(
        self, logger: Logger, level: int = logging.NOTSET, *, timestamp: bool = False
    ) -> None:
        super().__init__(level)
        self._logger = logger
        self._timestamp = timestamp
        self._emitting = threading.local()

    @property
    def logger(self) -> Logger:
        """The pygokit logger that records are forwarded to."""
        return self._logger

    def emit(self, record: logging.LogRecord) -> None:
        """Forward *record* to the pygokit logger as one event."""
        emitting = self._emitting
        if getattr(emitting, "active", False):
            return  # the pygokit logger logged back into this handler: break the loop
        emitting.active = True
        try:
            self._logger.log(**self.event(record))
        except Exception:
            self.handleError(record)
        finally:
            emitting.active = False

    def event(self, record: logging.LogRecord) -> dict[str, object]:
        """Return the key/value pairs `emit` logs for *record*."""
        event: dict[str, object] = {}
        if self._timestamp:
            event["ts"] = _rfc3339(record.created)
        event[KEY] = _level(record.levelno)
        event["logger"] = record.name
        event["caller"] = f"{os.path.basename(record.pathname)}:{record.lineno}"
        event["msg"] = _message(record)
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS:
                event[f"extra.{key}" if key in _FIXED_KEYS else key] = value
        if record.stack_info:
            event["stack"] = record.stack_info
        exc_info = record.exc_info
        if exc_info:  # exc_text is the traceback if another handler formatted it already
            if exc_info[0] is not None:  # not exc_info=True outside an except block
                event["err"] = record.exc_text or _formatter.formatException(exc_info)
        elif record.exc_text:  # a record rebuilt from a SocketHandler's pickle
            event["err"] = record.exc_text
        return event

    def __repr__(self) -> str:
        name = logging.getLevelName(self.level)
        return f"StdlibHandler({self._logger!r}, level={name}, timestamp={self._timestamp})"


_LEVELNOS = {DEBUG: logging.DEBUG, INFO: logging.INFO, WARN: logging.WARNING, ERROR: logging.ERROR}


def _internal(frame: FrameType) -> bool:
    """Tell whether *frame* runs code of ``pygokit.log``, which is never the caller."""
    module: str = frame.f_globals.get("__name__", "")
    return module == "pygokit.log" or module.startswith("pygokit.log.")


def _stacklevel() -> int:
    """The ``stacklevel`` that makes stdlib name the first caller outside ``pygokit.log``."""
    # stacklevel=1 names the caller of logging.Logger.log, which is StdlibLogger.log,
    # frame 1 from here; 2 names its caller, frame 2, and so on.
    frame: FrameType | None = sys._getframe(2)
    depth = 2
    while frame is not None and _internal(frame):
        frame = frame.f_back
        depth += 1
    return depth


class StdlibLogger:
    """A pygokit `Logger` that writes each event to a stdlib `logging.Logger`.

    The record's level comes from the event's `Level` under *level_key* (``INFO``
    when it has none; a plain string there is no level and stays in the text). Its
    message is the value under *message_key* followed by the other pairs in logfmt:
    ``hello world user=bob n=3``. The other pairs also travel as a dict in the
    record's ``pygokit`` attribute, for stdlib formatters that write structured
    output. An exception under *error_key* that was raised (it has a traceback) is
    passed as ``exc_info``, so stdlib formatters and error trackers see it.

    The record names the code that logged the event as its caller, however many
    pygokit decorators (contexts, level helpers, filters) sit in between.

    Nothing is formatted when the stdlib logger is not enabled for the level.

    Args:
        logger: The stdlib logger to write to.
        message_key: The key whose value starts the message.
        level_key: The key holding the event's `Level`.
        error_key: The key whose exception becomes the record's ``exc_info``.
    """

    __slots__ = ("_error_key", "_level_key", "_logger", "_message_key")

    def __init__(
        self,
        logger: logging.Logger,
        *,
        message_key: str = "msg",
        level_key: str = KEY,
        error_key: str = "err",
    ) -> None:
        self._logger = logger
        self._message_key = message_key
        self._level_key = level_key
        self._error_key = error_key

    @property
    def logger(self) -> logging.Logger:
        """The stdlib logger that events are written to."""
        return self._logger

    def log(self, **keyvals: object) -> None:
        """Write the event as one stdlib record, if the stdlib logger is enabled for it."""
        value = keyvals.get(self._level_key)
        if type(value) is Level:
            levelno = _LEVELNOS[value]
            if not self._logger.isEnabledFor(levelno):
                return
            del keyvals[self._level_key]
        elif self._logger.isEnabledFor(logging.INFO):
            levelno = logging.INFO
        else:
            return
        message = keyvals.pop(self._message_key, None)
        text = logfmt.encode(keyvals)
        if message is not None:
            shown = to_text(message)
            if not shown.isprintable():  # the message goes out unquoted: it must stay one line
                shown = escape_unprintable(shown)
            text = f"{shown} {text}" if text else shown
        error = keyvals.get(self._error_key)
        exc_info = error if isinstance(error, BaseException) and error.__traceback__ else None
        self._logger.log(
            levelno,
            text,
            exc_info=exc_info,
            extra={"pygokit": keyvals},
            stacklevel=_stacklevel(),
        )

    def __repr__(self) -> str:
        return f"StdlibLogger({self._logger!r})"
