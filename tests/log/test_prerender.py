"""Contexts that format their constant pairs once (PrerenderingLogger) write what others do."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygokit.log import (
    JSONLogger,
    LogfmtLogger,
    PrerenderingLogger,
    Valuer,
    level,
    logfmt,
    with_,
    with_prefix,
    with_suffix,
)
from pygokit.log import json as json_format
from pygokit.log.duration import Duration

FORMATS = [(LogfmtLogger, logfmt.encode), (JSONLogger, json_format.encode)]

keys = st.text(min_size=0, max_size=8)
constants = st.one_of(
    st.text(max_size=12),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.sampled_from([level.DEBUG, level.INFO, level.ERROR]),
)
values = st.one_of(constants, st.floats().map(Duration), st.lists(st.integers(), max_size=3))


@pytest.mark.parametrize(("make", "encode"), FORMATS)
@settings(max_examples=300)
@given(prefix=st.dictionaries(keys, constants, max_size=4), event=st.dictionaries(keys, values))
def test_a_prerendered_context_writes_what_formatting_each_event_writes(
    make: type[LogfmtLogger | JSONLogger],
    encode: object,
    prefix: dict[str, object],
    event: dict[str, object],
) -> None:
    """Whatever the pairs, and whether keys collide or not, the line is the plain encoding."""
    out = io.StringIO()
    logger = with_(make(out), **prefix)
    logger.log(**event)
    expected = {**prefix, **event}
    assert out.getvalue() == encode(expected) + "\n"  # type: ignore[operator]


def test_formatting_loggers_render_ahead() -> None:
    """Both built-in formats implement the protocol a context looks for."""
    assert isinstance(LogfmtLogger(io.StringIO()), PrerenderingLogger)
    assert isinstance(JSONLogger(io.StringIO()), PrerenderingLogger)


def test_the_level_and_method_of_the_logging_middleware_are_rendered_once() -> None:
    """level.info over a bound method formats ``level=info method=sum`` at binding time."""
    out = io.StringIO()
    logger = level.info(with_(LogfmtLogger(out), method="sum"))
    assert logger._rendered is not None  # type: ignore[attr-defined]
    logger.log(took=Duration(0.000042))
    logger.log()
    assert out.getvalue().splitlines() == [
        "level=info method=sum took=42µs",
        "level=info method=sum",
    ]


def test_json_prerendered_lines_parse_with_the_pairs_in_order() -> None:
    """The JSON head and the event's members join into one object, keys in order."""
    out = io.StringIO()
    logger = with_(JSONLogger(out), svc="addsvc", n=1)
    logger.log(msg="hi", bad=float("nan"))
    logger.log()
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert list(first.items()) == [("svc", "addsvc"), ("n", 1), ("msg", "hi"), ("bad", "nan")]
    assert second == {"svc": "addsvc", "n": 1}


def test_an_event_key_that_is_bound_keeps_its_position() -> None:
    """A colliding key takes the slow path, which replaces the bound value where it was."""
    out = io.StringIO()
    logger = with_(LogfmtLogger(out), a=1, b=2)
    logger.log(a=3, c=4)
    assert out.getvalue() == "a=3 b=2 c=4\n"


class _Changing:
    """An object whose text changes between events."""

    def __init__(self) -> None:
        self.n = 0

    def __str__(self) -> str:
        self.n += 1
        return f"v{self.n}"


class _Shouting(str):
    """A string subclass that prints differently from its value."""

    __slots__ = ()

    def __str__(self) -> str:
        return self.upper()


@pytest.mark.parametrize(
    "bound",
    [
        {"obj": _Changing()},
        {"items": [1]},
    ],
)
def test_values_that_may_change_are_formatted_per_event(bound: dict[str, object]) -> None:
    """Only plain constants are rendered ahead: other objects are read at each event."""
    out = io.StringIO()
    logger = with_(LogfmtLogger(out), **bound)
    assert logger._rendered is None  # type: ignore[attr-defined]
    logger.log(x=1)
    if isinstance(bound.get("items"), list):
        bound["items"].append(2)  # type: ignore[attr-defined]
    logger.log(x=2)
    first, second = out.getvalue().splitlines()
    assert first != second.replace("x=2", "x=1")


def test_a_string_subclass_with_its_own_str_is_not_a_constant() -> None:
    """A str subclass that changes how it prints is left to the per-event path."""
    logger = with_(LogfmtLogger(io.StringIO()), s=_Shouting("quiet"))
    assert logger._rendered is None  # type: ignore[attr-defined]


def test_valuers_and_suffixes_are_not_rendered_ahead() -> None:
    """A valuer is computed per event, and a suffix must follow the event's pairs."""
    ticks = iter(range(10))
    valued = with_(LogfmtLogger(io.StringIO()), n=Valuer(lambda: next(ticks)))
    suffixed = with_suffix(with_prefix(LogfmtLogger(io.StringIO()), a=1), z=26)
    assert valued._rendered is None  # type: ignore[attr-defined]
    assert suffixed._rendered is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-0.000042, "-42µs"),
        (0.0000004, "0s"),
        (0.000999, "999µs"),
        (0.0009996, "1ms"),
        (-0.0015, "-1.5ms"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
    ],
)
def test_duration_text_at_the_edges(seconds: float, text: str) -> None:
    """Negative, sub-microsecond, boundary and non-finite durations print sensibly."""
    assert str(Duration(seconds)) == text
