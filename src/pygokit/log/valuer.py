"""Values computed afresh for every event: timestamps, the caller's location, your own.

A `Valuer` stored in a logger's context (`pygokit.log.with_`) is called each time an
event is logged, and its result is logged in its place. Valuers passed directly to
``log()`` are not called, as in Go kit: context is where dynamic values belong.

Example::

    logger = with_(LogfmtLogger(sys.stderr), ts=timestamp_utc, caller=caller)
    logger.log(msg="hi")   # ts=2026-11-21T08:36:13.123456789Z caller=main.py:12 msg=hi
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType

__all__ = ["Caller", "Timestamp", "Valuer", "caller", "timestamp", "timestamp_utc"]


class Valuer:
    """Wraps a function whose result is logged in its place, computed per event.

    Example::

        requests_in_flight = Valuer(lambda: len(active))
        logger = with_(logger, in_flight=requests_in_flight)
    """

    __slots__ = ("_func",)

    def __init__(self, func: Callable[[], object]) -> None:
        self._func = func

    @property
    def func(self) -> Callable[[], object]:
        """The function that computes the value; contexts call it directly."""
        return self._func

    def __call__(self) -> object:
        """Compute the value for the current event."""
        return self._func()

    def __repr__(self) -> str:
        return f"Valuer({self._func!r})"


class Timestamp(Valuer):
    """The current wall-clock time in RFC 3339 form with nanoseconds.

    ``2026-11-21T08:36:13.123456789Z`` in UTC, or with the local offset
    (``+01:00``) when *utc* is false. The date and time of day are formatted once
    per second and cached, so a timestamp costs little more than reading the clock.

    Args:
        utc: Write UTC (``Z``) rather than local time with its offset.
        time_ns: The clock, nanoseconds since the epoch; inject a fake one in tests.
    """

    __slots__ = ("_cached", "_time_ns", "_utc")

    def __init__(self, *, utc: bool = True, time_ns: Callable[[], int] = time.time_ns) -> None:
        super().__init__(self._now)
        self._utc = utc
        self._time_ns = time_ns
        # (second, its text, zone) in one tuple, so threads never see a torn update.
        self._cached = (-1, "", "")

    def _now(self) -> str:
        nanos = self._time_ns()
        second = nanos // 1_000_000_000
        cached_second, text, zone = self._cached
        if second != cached_second:
            text, zone = self._format_second(second)
            self._cached = (second, text, zone)
        return text + "." + str(nanos)[-9:] + zone  # the last nine digits: nanoseconds

    def _format_second(self, second: int) -> tuple[str, str]:
        if self._utc:
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)), "Z"
        local = time.localtime(second)
        offset_minutes = local.tm_gmtoff // 60
        sign = "-" if offset_minutes < 0 else "+"
        hours, minutes = divmod(abs(offset_minutes), 60)
        return time.strftime("%Y-%m-%dT%H:%M:%S", local), f"{sign}{hours:02d}:{minutes:02d}"

    def __repr__(self) -> str:
        return f"Timestamp(utc={self._utc})"


class Caller(Valuer):
    """The ``file.py:line`` of the code that logged the event.

    It walks up the stack past every frame inside ``pygokit.log`` (contexts, level
    helpers, filters, sync wrappers, adapters), so it names the caller's line however
    many of pygokit's decorators wrap the logger. Go kit's ``Caller(depth)`` counts
    frames instead and goes wrong as soon as a logger is wrapped after the valuer is
    bound. Frames in your own logging helpers can be skipped too.

    Args:
        skip: Modules (``"myapp.logging"``) or source directories whose frames are
            not the caller, for logging helpers of your own.
    """

    __slots__ = ("_names", "_skip")

    def __init__(self, *, skip: Iterable[str] = ()) -> None:
        super().__init__(self._locate)
        extra = tuple(skip)
        if not all(extra):
            raise ValueError("skip entries must be module names or directories, not empty")
        self._skip = ("pygokit.log", *extra)
        self._names: dict[str, str] = {}  # file -> basename, or "" if its frames are skipped

    def _locate(self) -> str:
        # Frame 1 is whatever called this function inside pygokit.log; start past it.
        frame: FrameType | None = sys._getframe(2)
        names = self._names
        while frame is not None:
            filename = frame.f_code.co_filename
            name = names.get(filename)
            if name is None:
                name = names[filename] = self._display_name(frame)
            if name:
                return f"{name}:{frame.f_lineno}"
            frame = frame.f_back
        return "unknown:0"

    def _display_name(self, frame: FrameType) -> str:
        """The basename of the frame's file, or "" if the frame is to be skipped."""
        filename = frame.f_code.co_filename
        module = frame.f_globals.get("__name__", "")
        for skipped in self._skip:
            if (
                module == skipped
                or module.startswith(skipped + ".")
                or filename.startswith(skipped)
            ):
                return ""
        return Path(filename).name

    def __repr__(self) -> str:
        return f"Caller(skip={self._skip[1:]!r})"


timestamp = Timestamp(utc=False)
"""The local time of each event, RFC 3339 with nanoseconds and the UTC offset."""

timestamp_utc = Timestamp(utc=True)
"""The UTC time of each event, RFC 3339 with nanoseconds and a ``Z``."""

caller = Caller()
"""The ``file.py:line`` that logged the event, however the logger is wrapped."""
