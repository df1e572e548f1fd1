"""Bridges between pygokit loggers and structlog, both ways (the ``structlog`` extra).

- `StructlogLogger` is a pygokit `Logger` that forwards each event to a structlog
  logger, for applications that already configure structlog: pygokit's own events
  (transports, middleware) then flow through your structlog processors.
- `PygokitRenderer` is a structlog processor, placed last in the chain, that hands
  each structlog event to a pygokit logger, for applications that write through
  pygokit but use libraries that log with structlog.

The two map keys symmetrically, so an event survives a round trip unchanged:
pygokit's ``msg`` is structlog's ``event`` (unless the pygokit event has its own
``event`` key, which then stays the structlog event, and ``msg`` a plain field), and
pygokit's ``level=<Level>`` is the structlog method (``debug``, ``info``,
``warning``, ``error``).

Example::

    # pygokit -> structlog
    logger = StructlogLogger(structlog.get_logger())
    level.warn(logger).log(msg="disk almost full", free_mb=12)
    # same as structlog.get_logger().warning("disk almost full", free_mb=12)

    # structlog -> pygokit
    pygokit_logger = with_(LogfmtLogger(sys.stderr), ts=timestamp_utc)
    structlog.configure(processors=[structlog.contextvars.merge_contextvars,
                                    PygokitRenderer(pygokit_logger)])
    structlog.get_logger().info("hello", user="bob")
    # ts=... level=info msg=hello user=bob
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import MutableMapping
from typing import Any, NoReturn, Protocol

from pygokit._extras import missing_extra

try:
    import structlog
except ImportError as exc:  # pragma: no cover  # tests/test_extras.py checks this branch
    raise missing_extra("pygokit.log.structlog", "structlog") from exc

from pygokit.log._encode import to_text
from pygokit.log.level import DEBUG, ERROR, INFO, KEY, WARN, Level
from pygokit.log.logger import Logger

__all__ = ["PygokitRenderer", "StructlogLike", "StructlogLogger"]


class StructlogLike(Protocol):
    """The part of a structlog bound logger that `StructlogLogger` calls.

    Every structlog bound logger has these methods: the native filtering loggers,
    ``structlog.stdlib.BoundLogger`` and ``structlog.get_logger()``'s lazy proxy.
    """

    def debug(self, event: str, /, **kw: Any) -> object:
        """Log *event* with the fields *kw* at debug level."""

    def info(self, event: str, /, **kw: Any) -> object:
        """Log *event* with the fields *kw* at info level."""

    def warning(self, event: str, /, **kw: Any) -> object:
        """Log *event* with the fields *kw* at warning level."""

    def error(self, event: str, /, **kw: Any) -> object:
        """Log *event* with the fields *kw* at error level."""


_METHODS = {DEBUG: "debug", INFO: "info", WARN: "warning", ERROR: "error"}


class StructlogLogger:
    """A pygokit `Logger` that forwards each event to a structlog logger.

    The event's `Level` (under ``level``) picks the method: ``debug``, ``info``,
    ``warning`` or ``error``, and ``info`` when it has none (a plain string under
    ``level`` is no level and is passed on as a field). ``event``, or else ``msg``,
    becomes the structlog event string (empty if there is neither), and every other
    pair is passed as a keyword argument, in order.

    Example::

        logger = StructlogLogger(structlog.get_logger().bind(svc="addsvc"))
        level.error(logger).log(msg="sum failed", err=exc)
        # structlog: error("sum failed", svc="addsvc", err=exc)

    Args:
        logger: The structlog bound logger to forward to.
    """

    __slots__ = ("_logger",)

    def __init__(self, logger: StructlogLike) -> None:
        self._logger = logger

    @property
    def logger(self) -> StructlogLike:
        """The structlog logger that events are forwarded to."""
        return self._logger

    def log(self, **keyvals: object) -> None:
        """Forward the event to the structlog method that matches its level."""
        value = keyvals.get(KEY)
        if type(value) is Level:
            del keyvals[KEY]
            method = _METHODS[value]
        else:
            method = "info"
        event = keyvals.pop("event") if "event" in keyvals else keyvals.pop("msg", "")
        getattr(self._logger, method)(event if type(event) is str else to_text(event), **keyvals)

    def __repr__(self) -> str:
        return f"StructlogLogger({self._logger!r})"


# structlog method names, including the stdlib spellings, and the level each logs at.
_LEVELS = {
    "debug": DEBUG,
    "info": INFO,
    "warning": WARN,
    "warn": WARN,
    "error": ERROR,
    "exception": ERROR,
    "critical": ERROR,
    "fatal": ERROR,
}


def _traceback(exc_info: object) -> str | None:
    """Format structlog's ``exc_info`` (True, an exception or a sys.exc_info() tuple)."""
    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, BaseException):
        return "".join(traceback.format_exception(exc_info)).rstrip("\n")
    if isinstance(exc_info, tuple) and len(exc_info) == 3 and exc_info[1] is not None:
        return "".join(traceback.format_exception(*exc_info)).rstrip("\n")
    return None


class PygokitRenderer:
    """A structlog processor that hands each event to a pygokit logger.

    Put it last in the processor chain: it logs the event dict to *logger* and then
    raises `structlog.DropEvent`, so structlog's own logger writes nothing. Keys are
    mapped like this:

    - ``level`` comes first: the `Level` of the method called (``warning`` and
      ``warn`` are `WARN`; ``exception``, ``critical`` and ``fatal`` are `ERROR`).
      It replaces a ``level`` string added by ``structlog.processors.add_log_level``.
      A method with no level (``msg``) leaves the event without one.
    - ``event`` becomes ``msg``, right after the level, unless the event dict has a
      ``msg`` field of its own: then ``event`` keeps its name.
    - ``exc_info`` (from ``log.exception()`` or ``exc_info=``) becomes ``err``, the
      formatted traceback, unless the event dict already has an ``err``.
    - every other key follows, in the event dict's order.

    Example::

        log = structlog.wrap_logger(None, processors=[
            structlog.contextvars.merge_contextvars,
            PygokitRenderer(LogfmtLogger(sys.stderr)),
        ])
        log.bind(request_id="7f3a").warning("slow", took=1.5)
        # level=warn msg=slow request_id=7f3a took=1.5

    Args:
        logger: Where events go.
    """

    __slots__ = ("_logger",)

    def __init__(self, logger: Logger) -> None:
        self._logger = logger

    @property
    def logger(self) -> Logger:
        """The pygokit logger that events are handed to."""
        return self._logger

    def __call__(
        self, logger: object, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> NoReturn:
        """Log *event_dict* to the pygokit logger and drop it from structlog's chain."""
        self._logger.log(**self.event(method_name, event_dict))
        raise structlog.DropEvent

    @staticmethod
    def event(method_name: str, event_dict: MutableMapping[str, Any]) -> dict[str, object]:
        """Return the pygokit event for a structlog *event_dict* logged by *method_name*."""
        out: dict[str, object] = {}
        level = _LEVELS.get(method_name)
        if level is not None:
            out[KEY] = level
        rename = "msg" not in event_dict
        if rename and "event" in event_dict:
            out["msg"] = event_dict["event"]
        for key, value in event_dict.items():
            if key == KEY and level is not None:
                continue
            if key == "event" and rename:
                continue
            if key == "exc_info" and "err" not in event_dict:
                text = _traceback(value)
                if text is not None:
                    out["err"] = text
                continue
            out[key] = value
        return out

    def __repr__(self) -> str:
        return f"PygokitRenderer({self._logger!r})"
