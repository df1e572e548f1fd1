"""Test doubles for pygokit and for services built with it.

These are public so that users test their own services with the same fakes the
toolkit's tests use: no mocks, and no real sleeping.

- `FakeClock`: monotonic time you `FakeClock.advance`, plus a matching ``sleep``;
  pass it to anything that takes ``clock=`` and ``sleep=``.
- `RecordingEndpoint`: records requests, replays scripted responses and errors.
- `CapturingLogger`: a logger that keeps every event.
"""

from pygokit.testing.clock import FakeClock as FakeClock
from pygokit.testing.endpoint import RecordingEndpoint as RecordingEndpoint
from pygokit.testing.endpoint import ScriptExhausted as ScriptExhausted
from pygokit.testing.log import CapturingLogger as CapturingLogger

__all__ = ["CapturingLogger", "FakeClock", "RecordingEndpoint", "ScriptExhausted"]
