"""The clock and sleep that time-dependent components take as arguments.

Anything in pygokit that reads time takes ``clock=`` (monotonic seconds) and anything
that waits takes ``sleep=``, defaulting to `time.monotonic` and `asyncio.sleep`.
Tests pass a `pygokit.testing.FakeClock` for both, so they never sleep for real.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias

__all__ = ["Clock", "Sleep"]

Clock: TypeAlias = Callable[[], float]
"""Returns monotonic time in seconds; only differences between readings matter."""

Sleep: TypeAlias = Callable[[float], Awaitable[None]]
"""Waits the given number of seconds; cancellable like `asyncio.sleep`."""
