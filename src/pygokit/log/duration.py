"""`Duration`: elapsed seconds that print the way Go prints a ``time.Duration``."""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["Duration"]


class Duration(float):
    """Seconds, rounded to the microsecond, that print the way Go prints a duration.

    Text formats write it as ``250ms``, ``1.5s`` or ``42µs`` (via ``str``), as Go kit's
    logs show ``took``; JSON writes it as the number of seconds, which log tools can
    sum and compare.
    """

    __slots__ = ()

    @classmethod
    def since(cls, began: float, clock: Callable[[], float]) -> Duration:
        """The time from *began* to now on *clock*, rounded to the microsecond."""
        # An integer count of microseconds over 1e6 is the float nearest that decimal
        # fraction, as round(x, 6) gives, at half its cost.
        return cls(round((clock() - began) * 1e6) / 1e6)

    def __str__(self) -> str:
        if -1e-3 < self < 1e-3:  # the common case for a request: whole microseconds
            micros = round(self * 1e6)
            if -1000 < micros < 1000:
                return f"{micros}µs" if micros else "0s"
        seconds = float(self)
        if not math.isfinite(seconds):
            return repr(seconds)
        if -1.0 < seconds < 1.0:
            scaled, unit = seconds * 1e3, "ms"
        else:
            scaled, unit = seconds, "s"
        return f"{scaled:.3f}".rstrip("0").rstrip(".") + unit
