"""A service middleware that logs every call: Go kit's stringsvc2/logging.go.

Logging here, around the service, sees the domain: the string that came in and
what came out. ``logging_middleware`` (around an endpoint) sees only a method
name, a duration and an error. A call of ``uppercase`` is logged as::

    method=uppercase input="hello, world" output="HELLO, WORLD" err=null took=12µs

and one of ``count`` as ``method=count input=hello n=5 took=3µs``; ``err`` is the
exception raised, which the middleware re-raises unchanged.
"""

from __future__ import annotations

import contextlib
import time

from examples.stringsvc2.service import StringService
from pygokit.clock import Clock
from pygokit.log import Logger
from pygokit.log.middleware import Duration

__all__ = ["LoggingMiddleware"]


class LoggingMiddleware:
    """A `StringService` that logs each call of the one it wraps, once the call is over.

    Args:
        logger: Where events go.
        next_: The service that does the work.
        clock: Monotonic seconds for ``took``; a `pygokit.testing.FakeClock` in tests.
    """

    def __init__(
        self, logger: Logger, next_: StringService, *, clock: Clock = time.perf_counter
    ) -> None:
        self._logger = logger
        self._next = next_
        self._clock = clock

    def uppercase(self, s: str) -> str:
        """Uppercase *s* with the wrapped service, and log input, output, error and duration."""
        began = self._clock()
        output, err = "", None
        try:
            output = self._next.uppercase(s)
        except Exception as exc:
            err = exc
            raise
        finally:
            took = Duration.since(began, self._clock)
            self._log(method="uppercase", input=s, output=output, err=err, took=took)
        return output

    def count(self, s: str) -> int:
        """Count the characters of *s* with the wrapped service, and log input, result, duration."""
        began = self._clock()
        n = 0
        try:
            n = self._next.count(s)
        finally:
            self._log(method="count", input=s, n=n, took=Duration.since(began, self._clock))
        return n

    def _log(self, **event: object) -> None:
        with contextlib.suppress(Exception):  # as Go kit's `_ = logger.Log(...)`: serve on
            self._logger.log(**event)
