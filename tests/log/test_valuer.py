"""Valuers: RFC 3339 timestamps and a caller that names the user's line."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from pygokit.log import Caller, Timestamp, Valuer, caller, level, timestamp, with_
from pygokit.log.sync import SwapLogger, SyncLogger
from pygokit.testing import CapturingLogger
from tests.log import user_helper
from tests.log.user_helper import log_message

NOV_21_2026 = 1_795_250_173 * 1_000_000_000  # 2026-11-21T08:36:13Z


def fixed_clock(*readings: int) -> Callable[[], int]:
    """A time_ns that returns the given readings in turn."""
    values = iter(readings)
    return lambda: next(values)


def test_utc_timestamp_is_rfc3339_with_nanoseconds() -> None:
    """timestamp_utc writes date, time, nine fractional digits and Z."""
    stamp = Timestamp(utc=True, time_ns=fixed_clock(NOV_21_2026 + 123_456_789, NOV_21_2026 + 5))
    assert stamp() == "2026-11-21T08:36:13.123456789Z"
    assert stamp() == "2026-11-21T08:36:13.000000005Z"


def test_timestamp_moves_to_the_next_second() -> None:
    """The cached second is refreshed when the clock crosses into a new second."""
    later = NOV_21_2026 + 61 * 1_000_000_000
    stamp = Timestamp(time_ns=fixed_clock(NOV_21_2026, later))
    assert stamp() == "2026-11-21T08:36:13.000000000Z"
    assert stamp() == "2026-11-21T08:37:14.000000000Z"


def test_local_timestamp_carries_the_utc_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local timestamps end in the zone's offset, here +05:30 and -03:00."""
    for zone, want in [
        ("IST-5:30", "14:06:13.000000000+05:30"),
        ("BRT3", "05:36:13.000000000-03:00"),
    ]:
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        assert Timestamp(utc=False, time_ns=lambda: NOV_21_2026)() == f"2026-11-21T{want}"
    monkeypatch.delenv("TZ")
    time.tzset()


def test_default_timestamps_read_the_real_clock() -> None:
    """The shared timestamp valuers produce well-formed times near now."""
    pattern = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d)"
    assert re.fullmatch(pattern, str(timestamp()))
    assert str(timestamp())[:4] == time.strftime("%Y")


def line_of(marker: str, path: str = __file__) -> int:
    """The line number in *path* (this file by default) of the line containing *marker*."""
    with open(path) as source:
        for number, text in enumerate(source, start=1):
            if marker in text and "line_of(" not in text:
                return number
    raise AssertionError(marker)


def test_caller_reports_the_line_that_logged() -> None:
    """With no decorator, caller names this file and the line of the log call."""
    sink = CapturingLogger()
    with_(sink, caller=caller).log(msg="here")  # caller-0
    assert sink.events[0]["caller"] == f"test_valuer.py:{line_of('# caller-0')}"


def test_caller_can_skip_the_users_own_helpers() -> None:
    """Without skip, caller names the helper; with skip, the helper's caller."""
    sink = CapturingLogger()
    log_message(with_(sink, caller=Caller()), "plain")
    log_message(with_(sink, caller=Caller(skip=[user_helper.__name__])), "skipped")  # skipping-line

    assert [e["caller"] for e in sink.events] == [
        f"user_helper.py:{line_of('# helper-line', user_helper.__file__)}",
        f"test_valuer.py:{line_of('# skipping-line')}",
    ]
    assert repr(Caller(skip=["x"])) == "Caller(skip=('x',))"


def test_caller_refuses_an_empty_skip_entry() -> None:
    """An empty module or directory name would skip everything, so it is refused."""
    with pytest.raises(ValueError, match="not empty"):
        Caller(skip=[""])


def test_valuer_wraps_a_function_and_describes_itself() -> None:
    """Calling a Valuer calls its function; its repr names the function."""
    valuer = Valuer(lambda: 42)
    assert valuer() == 42
    assert valuer.func() == 42
    assert repr(valuer).startswith("Valuer(<function")
    assert repr(Timestamp()) == "Timestamp(utc=True)"


def test_caller_is_right_through_zero_one_and_three_decorators() -> None:
    """However many pygokit decorators wrap the context, caller names the logging line."""
    sink = CapturingLogger()
    context = with_(sink, caller=caller)
    one = level.Filter(context, level.allow_all())
    three = SwapLogger(SyncLogger(level.Injector(one, level.INFO)))

    context.log(msg="zero")  # through-0
    one.log(msg="one")  # through-1
    three.log(msg="three")  # through-3

    assert [e["caller"] for e in sink.events] == [
        f"test_valuer.py:{line_of(f'# through-{n}')}" for n in (0, 1, 3)
    ]


def test_caller_is_right_through_level_helpers_and_bound_contexts() -> None:
    """Level helpers and further with_ calls on top of a caller context do not shift it."""
    sink = CapturingLogger()
    logger = level.info(with_(with_(sink, caller=caller), svc="x"))

    logger.log(msg="hi")  # through-helpers

    assert sink.events[0]["caller"] == f"test_valuer.py:{line_of('# through-helpers')}"


def test_caller_says_unknown_when_every_frame_is_skipped() -> None:
    """If every frame on the stack is skipped, caller answers unknown:0 rather than failing."""
    sink = CapturingLogger()
    with_(sink, caller=Caller(skip=["/", "<"])).log(msg="nowhere")  # files, and <frozen ...>
    assert sink.events[0]["caller"] == "unknown:0"
