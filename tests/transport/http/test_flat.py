"""The msgspec fast path for flat dataclasses decodes exactly what the general path does."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygokit.transport.http._flat import flat_record_decoder
from pygokit.transport.http._typed import Invalid, converter
from pygokit.transport.http.request import parse_json


@dataclass(frozen=True, slots=True)
class Sum:
    a: int
    b: int


@dataclass
class Mixed:
    name: str
    ratio: float
    on: bool
    n: int = 7


@dataclass
class Checked:
    n: int

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError("negative")


@dataclass
class WithHidden:
    n: int
    seen: int = field(init=False, default=0)


RECORDS: list[type] = [Sum, Mixed, Checked, WithHidden]

json_scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.booleans(),
    st.none(),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
keys = st.sampled_from(["a", "b", "name", "ratio", "on", "n", "seen", "extra", "A", ""])


_RIGHT: dict[type, st.SearchStrategy[Any]] = {
    int: st.integers(min_value=-(2**70), max_value=2**70),
    float: st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers()),
    str: st.text(max_size=6),
    bool: st.booleans(),
}


@st.composite
def bodies(draw: st.DrawFn, kind: type) -> bytes:
    """Mostly right bodies for *kind*, with fields missing, mistyped, repeated or unknown."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=40))
    hints = {item.name: item.type for item in dataclasses.fields(kind) if item.init}
    pairs: list[tuple[str, Any]] = []
    for name, hint in hints.items():
        if draw(st.integers(0, 9)) == 0:
            continue  # missing
        wrong = draw(st.integers(0, 9)) == 0
        right = _RIGHT[{"int": int, "float": float, "str": str, "bool": bool}[str(hint)]]
        pairs.append((name, draw(json_values if wrong else right)))
    if draw(st.booleans()):
        pairs += draw(st.lists(st.tuples(keys, json_values), max_size=2))  # unknown or repeated
    pairs = draw(st.permutations(pairs))
    text = "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs) + "}"
    if draw(st.integers(0, 9)) == 0:  # a damaged document
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(["", "}", ",", " x", "\ufeff", "\x00"]))
    return text.encode()


def _general(kind: type, body: bytes, ignore_unknown: bool) -> tuple[str, Any]:
    try:
        return "value", converter(kind, ignore_unknown=ignore_unknown)(parse_json(body))
    except (ValueError, RecursionError, Invalid) as exc:
        return "error", type(exc).__name__


@pytest.mark.parametrize("ignore_unknown", [False, True])
@pytest.mark.parametrize("kind", RECORDS, ids=lambda kind: kind.__name__)
@settings(max_examples=400)
@given(data=st.data())
def test_a_decoded_body_is_what_the_general_path_decodes(
    kind: type, ignore_unknown: bool, data: st.DataObject
) -> None:
    """Whenever the fast path answers, the general path answers the same value, types included."""
    body = data.draw(bodies(kind))
    fast = flat_record_decoder(kind, ignore_unknown=ignore_unknown)
    assert fast is not None
    record = fast(body)
    if record is None:
        return
    outcome, general = _general(kind, body, ignore_unknown)
    assert outcome == "value", (body, record)
    assert general == record
    for item in dataclasses.fields(kind):
        assert type(getattr(general, item.name)) is type(getattr(record, item.name))


def test_the_fast_path_takes_the_commonest_bodies() -> None:
    """A well-formed body of the right fields is decoded; it is not left to the slow path."""
    fast = flat_record_decoder(Mixed)
    assert fast is not None
    assert fast(b'{"name":"x","ratio":1,"on":true,"n":2}') == Mixed("x", 1.0, True, 2)
    assert fast(b'{"name":"x","ratio":1.5,"on":false}') is None  # n missing: defaults are slow


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1,"b":2,"c":3}',  # unknown field
        b'{"a":true,"b":2}',  # bool for an int
        b'{"a":1.0,"b":2}',  # float for an int
        b'{"a":"1","b":2}',  # string for an int
        b'{"a":1}',  # missing
        b'{"a":1,"b":2',  # malformed
        b"[1,2]",  # not an object
        b"",
    ],
)
def test_bodies_the_general_path_refuses_are_left_to_it(body: bytes) -> None:
    """The fast path answers None, so the general path words the error."""
    fast = flat_record_decoder(Sum)
    assert fast is not None
    assert fast(body) is None


def test_a_refusing_post_init_is_left_to_the_general_path() -> None:
    """A constructor check that fails sends the body to the general path, which reports it."""
    fast = flat_record_decoder(Checked)
    assert fast is not None
    assert fast(b'{"n":1}') == Checked(1)
    assert fast(b'{"n":-1}') is None


@dataclass
class Nested:
    sum: Sum


@dataclass
class Optional_:
    n: int | None


@dataclass(kw_only=True)
class KeywordOnly:
    n: int


class NotADataclass:
    n: int


Unresolved = dataclasses.make_dataclass("Unresolved", [("n", "Missing")])
Mangled = dataclasses.make_dataclass("Mangled", [("__n", int)])
Reserved = dataclasses.make_dataclass("Reserved", [("__weakref__", int)])


@pytest.mark.parametrize(
    "kind",
    [Nested, Optional_, KeywordOnly, NotADataclass, int, list[int], Unresolved, Mangled, Reserved],
)
def test_other_types_have_no_fast_path(kind: Any) -> None:
    """Nested records, unions, keyword-only fields, non-dataclasses, annotations that do not
    resolve and field names a Struct cannot have: the general path."""
    assert flat_record_decoder(kind) is None
