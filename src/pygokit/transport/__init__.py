"""What every transport shares: how it reports errors it cannot return.

A transport server turns endpoint errors into wire responses with its error
encoder. Errors that happen where no response can carry them (a failed write,
a malformed message on a queue, a broken connection) go to an `ErrorHandler`,
which observes them, usually by logging. Every server takes ``error_handler=``;
the default logs to a `pygokit.log.NopLogger`, so set one in production.

Example::

    server = Server(endpoint, decode, encode, error_handler=LogErrorHandler(logger))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from pygokit.log import Logger

__all__ = ["ErrorHandler", "ErrorHandlerFunc", "LogErrorHandler"]


@runtime_checkable
class ErrorHandler(Protocol):
    """Observes errors that a transport cannot return to its caller."""

    def handle(self, error: Exception) -> None:
        """Observe *error*; must not raise."""


class ErrorHandlerFunc:
    """Adapt a plain function to the `ErrorHandler` protocol."""

    __slots__ = ("_func",)

    def __init__(self, func: Callable[[Exception], None]) -> None:
        self._func = func

    def handle(self, error: Exception) -> None:
        """Call the wrapped function with *error*."""
        self._func(error)

    def __repr__(self) -> str:
        return f"ErrorHandlerFunc({self._func!r})"


class LogErrorHandler:
    """An `ErrorHandler` that logs each error under the key ``err``.

    A failure of the logger itself is dropped, as Go kit drops the error that
    ``Log`` returns: an error handler runs on paths that must keep serving.
    """

    __slots__ = ("_logger",)

    def __init__(self, logger: Logger) -> None:
        self._logger = logger

    def handle(self, error: Exception) -> None:
        """Log *error* as ``err=<error>``."""
        with contextlib.suppress(Exception):  # nowhere left to report a failing logger
            self._logger.log(err=error)

    def __repr__(self) -> str:
        return f"LogErrorHandler({self._logger!r})"
