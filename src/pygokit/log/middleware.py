"""Endpoint middleware that logs every call once it has finished.

`logging_middleware` logs one event per call, after the call: the method name, how
long the call took, and the error if it failed. It is the generic, transport-level
view; it knows nothing of a request's fields.

========================  =====================================================
The call                  The event
========================  =====================================================
returned                  ``level=info method=sum took=123µs``
returned a `Failer`       ``level=error method=sum took=123µs err=<error>``
whose ``failed()`` is
an error
raised an `Exception`     ``level=error method=sum took=123µs err=<error>``,
                          then the same exception is re-raised
was cancelled             ``level=info method=sum took=123µs cancelled=true``,
                          then the `asyncio.CancelledError` propagates untouched
========================  =====================================================

``took`` is a `Duration`: seconds rounded to the microsecond, written ``123µs`` or
``1.5ms`` in logfmt (as Go kit's logs show it) and as a number of seconds in JSON.
``err`` is the exception object itself; the output format writes its message.
Cancellation is not a failure (a caller gave up, or a deadline passed), so it is
logged at info with ``cancelled=true`` rather than as an error. Other
`BaseException` s (`KeyboardInterrupt`, `SystemExit`) pass through without an event.
A logger that raises never changes the outcome of the call: its error is ignored.

Example::

    sum_endpoint = logging_middleware(with_(logger, transport="http"), method="sum")(
        make_sum_endpoint(svc)
    )

To log a request's fields (the inputs, the result), write a *service* middleware
instead: a class that implements the service's Protocol, wraps another one, and logs
domain values, as Go kit's addsvc does::

    class LoggingAddService:
        \"\"\"An AddService that logs every call of the one it wraps.\"\"\"

        def __init__(self, logger: Logger, next_: AddService) -> None:
            self._logger = level.info(logger)
            self._next = next_

        async def sum(self, a: int, b: int) -> int:
            try:
                v = await self._next.sum(a, b)
            except Exception as exc:
                self._logger.log(method="sum", a=a, b=b, err=exc)
                raise
            self._logger.log(method="sum", a=a, b=b, v=v)
            return v

    svc = LoggingAddService(logger, BasicAddService())
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from pygokit.endpoint import AnyMiddleware, Endpoint, business_error
from pygokit.log import level
from pygokit.log.context import with_
from pygokit.log.duration import Duration
from pygokit.log.logger import Logger, forward_to

__all__ = ["Duration", "logging_middleware"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def _emit(forward: Callable[[dict[str, object]], None], event: dict[str, object]) -> None:
    """Log *event*, ignoring a failure of the logger: it must not change the call's outcome."""
    try:  # noqa: SIM105  # contextlib.suppress costs more than the event on the fast path
        forward(event)
    except Exception:  # the endpoint's result or error matters more
        pass


def logging_middleware(
    logger: Logger,
    *,
    method: str | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> AnyMiddleware:
    """Return a middleware that logs each call's outcome and duration after it finishes.

    See the module documentation for the events it logs.

    Args:
        logger: Where events go; the level helpers are applied to it once, here, so a
            `pygokit.log.level.Filter` that drops info events makes successful calls
            cost almost nothing to log.
        method: The name to log under ``method``; omitted when None.
        clock: Monotonic seconds; pass a `pygokit.testing.FakeClock` in tests.
    """
    # The method is bound into the logger rather than put in each event, so a
    # formatting logger renders ``level=... method=...`` once (see Context).
    named = logger if method is None else with_(logger, method=method)
    info = forward_to(level.info(named))
    error = forward_to(level.error(named))

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            began = clock()
            try:
                response = await next_(request)
            except asyncio.CancelledError:
                _emit(info, {"took": Duration.since(began, clock), "cancelled": True})
                raise
            except Exception as exc:
                _emit(error, {"took": Duration.since(began, clock), "err": exc})
                raise
            took = Duration(round((clock() - began) * 1e6) / 1e6)  # Duration.since, inlined
            failure = business_error(response)
            if failure is None:
                try:  # noqa: SIM105  # _emit, inlined: the path of every successful call
                    info({"took": took})
                except Exception:  # the endpoint's result matters more
                    pass
            else:
                _emit(error, {"took": took, "err": failure})
            return response

        return endpoint

    return middleware
