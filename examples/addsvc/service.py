"""The business logic of addsvc: the `AddService` Protocol, its rules, its service middleware.

Go kit's ``pkg/addservice``. The service knows nothing of transports, endpoints or
wire formats; it enforces three arbitrary business rules, each with Go kit's exact
error text, because that text travels on every transport:

===========================  ===============================================
rule                         error
===========================  ===============================================
sum of 0 and 0               `TwoZeroes`: ``can't sum two zeroes``
sum outside int32            `IntOverflow`: ``integer overflow``
concat longer than 10 bytes  `MaxSizeExceeded`: ``result exceeds maximum size``
===========================  ===============================================

Lengths are counted in UTF-8 bytes, as Go's ``len`` counts them, so a client gets
the same answer from this service as from Go kit's.

Service middleware wraps the service in another implementation of the Protocol:
`logging_middleware` logs the domain values of every call and
`instrumenting_middleware` counts the integers summed and characters concatenated.
`make_service` stacks both on `BasicAddService`, as Go kit's ``addservice.New`` does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Protocol, TypeAlias

from pygokit.log import Logger, level
from pygokit.metrics import Counter

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "MAX_LEN",
    "AddService",
    "AddServiceError",
    "BasicAddService",
    "IntOverflow",
    "MaxSizeExceeded",
    "ServiceMiddleware",
    "TwoZeroes",
    "error_from_message",
    "instrumenting_middleware",
    "logging_middleware",
    "make_service",
]

INT_MAX = 2**31 - 1
"""The largest sum allowed (Go kit's ``intMax``: int32's maximum)."""
INT_MIN = -(INT_MAX + 1)
"""The smallest sum allowed (Go kit's ``intMin``)."""
MAX_LEN = 10
"""The longest concatenation allowed, in UTF-8 bytes (Go kit's ``maxLen``)."""


class AddServiceError(Exception):
    """A business error: the service refused the request by one of its rules.

    Its message is written for the caller and travels on the wire as it is (HTTP
    ``{"error": ...}``, gRPC ``err``, a JSON-RPC error message). A client builds
    one from that text with `error_from_message`.
    """


class TwoZeroes(AddServiceError):
    """Both addends are zero (Go kit's ``ErrTwoZeroes``, an arbitrary rule)."""

    def __init__(self) -> None:
        super().__init__("can't sum two zeroes")


class IntOverflow(AddServiceError):
    """The sum does not fit in a 32-bit signed integer (Go kit's ``ErrIntOverflow``)."""

    def __init__(self) -> None:
        super().__init__("integer overflow")


class MaxSizeExceeded(AddServiceError):
    """The concatenation is longer than `MAX_LEN` bytes (Go kit's ``ErrMaxSizeExceeded``)."""

    def __init__(self) -> None:
        super().__init__("result exceeds maximum size")


_KNOWN: dict[str, Callable[[], AddServiceError]] = {
    str(kind()): kind for kind in (TwoZeroes, IntOverflow, MaxSizeExceeded)
}


def error_from_message(message: str) -> AddServiceError:
    """The business error a client rebuilds from the text it received.

    A known message gives its own class (``"integer overflow"`` is an `IntOverflow`),
    so callers can catch a rule by type, whichever transport carried it; any other
    text, such as a newer server's rule, is a plain `AddServiceError`.
    """
    known = _KNOWN.get(message)
    return known() if known is not None else AddServiceError(message)


def _utf8_len(s: str) -> int:
    """The length of *s* in UTF-8 bytes, as Go's ``len`` counts a string.

    A lone surrogate (which JSON can smuggle in as ``"\\ud800"``) counts 3 bytes,
    as the U+FFFD that Go's decoder turns it into does.
    """
    return len(s.encode("utf-8", "surrogatepass"))


class AddService(Protocol):
    """A service that adds things together (Go kit's ``addservice.Service``)."""

    async def sum(self, a: int, b: int) -> int:
        """Return ``a + b``; raise an `AddServiceError` when a rule refuses it."""
        ...

    async def concat(self, a: str, b: str) -> str:
        """Return ``a + b``; raise an `AddServiceError` when a rule refuses it."""
        ...


class BasicAddService:
    """The plain implementation of `AddService`, stateless and with Go kit's rules."""

    async def sum(self, a: int, b: int) -> int:
        """Return ``a + b``; `TwoZeroes` for 0 + 0, `IntOverflow` outside int32."""
        if a == 0 and b == 0:
            raise TwoZeroes
        if (b > 0 and a > INT_MAX - b) or (b < 0 and a < INT_MIN - b):
            raise IntOverflow
        return a + b

    async def concat(self, a: str, b: str) -> str:
        """Return ``a + b``; `MaxSizeExceeded` when longer than `MAX_LEN` bytes."""
        if _utf8_len(a) + _utf8_len(b) > MAX_LEN:
            raise MaxSizeExceeded
        return a + b


ServiceMiddleware: TypeAlias = Callable[[AddService], AddService]
"""Wraps an `AddService` in another one (Go kit's ``addservice.Middleware``)."""


class _LoggingService:
    """Logs each call's arguments and result (or error) once it has finished."""

    def __init__(self, logger: Logger, next_: AddService) -> None:
        self._info = level.info(logger)
        self._error = level.error(logger)
        self._next = next_

    async def sum(self, a: int, b: int) -> int:
        try:
            v = await self._next.sum(a, b)
        except Exception as exc:
            _emit(self._error, method="sum", a=a, b=b, err=exc)
            raise
        _emit(self._info, method="sum", a=a, b=b, v=v)
        return v

    async def concat(self, a: str, b: str) -> str:
        try:
            v = await self._next.concat(a, b)
        except Exception as exc:
            _emit(self._error, method="concat", a=a, b=b, err=exc)
            raise
        _emit(self._info, method="concat", a=a, b=b, v=v)
        return v


def _emit(logger: Logger, **event: object) -> None:
    with contextlib.suppress(Exception):  # a failing logger must not fail the call
        logger.log(**event)


def logging_middleware(logger: Logger) -> ServiceMiddleware:
    """Log every call with its domain values: ``method=sum a=1 b=2 v=3``.

    A call that fails logs at error level with ``err=`` instead of ``v=`` and
    re-raises. Endpoint middleware cannot do this: it sees requests, not the
    service's arguments.
    """

    def middleware(next_: AddService) -> AddService:
        return _LoggingService(logger, next_)

    return middleware


class _InstrumentingService:
    """Counts integers summed and characters concatenated by successful calls."""

    def __init__(self, ints: Counter, chars: Counter, next_: AddService) -> None:
        self._ints = ints
        self._chars = chars
        self._next = next_

    async def sum(self, a: int, b: int) -> int:
        v = await self._next.sum(a, b)
        self._ints.add(2)
        return v

    async def concat(self, a: str, b: str) -> str:
        v = await self._next.concat(a, b)
        self._chars.add(len(v))
        return v


def instrumenting_middleware(ints: Counter, chars: Counter) -> ServiceMiddleware:
    """Count the integers summed (*ints*) and the characters concatenated (*chars*).

    Only successful calls count. Go kit adds the *sum* to its integer counter,
    which a negative sum would decrease (Prometheus refuses that); this counts
    the two integers of each sum, as the metric's name says.
    """

    def middleware(next_: AddService) -> AddService:
        return _InstrumentingService(ints, chars, next_)

    return middleware


def make_service(logger: Logger, ints: Counter, chars: Counter) -> AddService:
    """The service with its middleware wired in, as Go kit's ``addservice.New`` builds it."""
    svc: AddService = BasicAddService()
    svc = logging_middleware(logger)(svc)
    return instrumenting_middleware(ints, chars)(svc)
