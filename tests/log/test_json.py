"""The JSON logger: one valid object per line, keys in order, nothing can break it."""

from __future__ import annotations

import io
import json
import math

from hypothesis import given
from hypothesis import strategies as st

from pygokit.log import JSONLogger
from pygokit.log.json import encode


def logged(**keyvals: object) -> str:
    """What JSONLogger writes for one event."""
    stream = io.StringIO()
    JSONLogger(stream).log(**keyvals)
    return stream.getvalue()


def test_event_is_one_object_with_keys_in_call_order() -> None:
    """Keys keep the caller's order (Go kit sorts them; we do not)."""
    assert logged(msg="hi", b=2, a=[1, {"x": None}]) == ('{"msg":"hi","b":2,"a":[1,{"x":null}]}\n')


def test_non_json_values_use_str_and_broken_ones_a_placeholder() -> None:
    """Objects JSON cannot encode are written via str(); a raising __str__ gives a placeholder."""

    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    event = json.loads(logged(err=ValueError("bad"), when=b"\x00", broken=Broken()))

    assert event == {
        "err": "bad",
        "when": "b'\\x00'",
        "broken": "!ERROR formatting Broken: RuntimeError",
    }


def test_nan_cycles_and_odd_keys_still_give_valid_json() -> None:
    """NaN becomes a string, a self-containing list is cut, non-string keys become strings."""
    cycle: list[object] = []
    cycle.append(cycle)

    event = json.loads(logged(n=math.nan, c=cycle, d={(1, 2): "tuple key"}))

    assert event == {"n": "nan", "c": ["!CYCLE or too deep: list"], "d": {"(1, 2)": "tuple key"}}


def test_characters_json_allows_raw_are_escaped_too() -> None:
    """Line separators, DEL and C1 controls are escaped; control characters as JSON does."""
    line = logged(v="a\u2028b\x7fc\x9bd\x1be\nf")

    assert line == '{"v":"a\\u2028b\\u007fc\\u009bd\\u001be\\nf"}\n'
    assert json.loads(line) == {"v": "a\u2028b\x7fc\x9bd\x1be\nf"}


json_values = st.recursive(
    st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none()),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_any_event_is_one_line_of_valid_json(event: dict[str, object]) -> None:
    """For any keys and nested values, the output is one line that parses back to the keys."""
    line = encode(event)

    assert len(f"{line}\n".splitlines()) == 1
    assert list(json.loads(line)) == list(event)


def test_slow_path_still_renders_odd_objects_and_describes_itself() -> None:
    """When NaN forces the careful path, other non-JSON values still use str()."""
    event = json.loads(logged(n=math.inf, when=ValueError("late"), nested=[{"x": math.nan}]))
    assert event == {"n": "inf", "when": "late", "nested": [{"x": "nan"}]}
    assert repr(JSONLogger(io.StringIO())).startswith("JSONLogger(<built-in method write")
