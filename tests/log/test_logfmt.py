"""The logfmt logger: go-logfmt's quoting, one line per event, and no way to forge a line."""

from __future__ import annotations

import io
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygokit.log import LogfmtLogger, logfmt
from pygokit.log.logfmt import encode
from tests.log.logfmt_parser import parse_line


def logged(**keyvals: object) -> str:
    """What LogfmtLogger writes for one event."""
    stream = io.StringIO()
    LogfmtLogger(stream).log(**keyvals)
    return stream.getvalue()


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("hello", "hello"),
        ("hello world", '"hello world"'),
        ("a=b", '"a=b"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", "back\\slash"),
        ("", ""),
        ("null", '"null"'),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-1.5, "-1.5"),
        ("tab\there", '"tab\\there"'),
        ("line\nbreak", '"line\\nbreak"'),
        ("carriage\rreturn", '"carriage\\rreturn"'),
        ("bell\x07", '"bell\\u0007"'),
        ("del\x7f", '"del\\u007f"'),
        ("csi\x9b", '"csi\\u009b"'),
        ("sep\u2028", '"sep\\u2028"'),
        ("rtl\u202eevil", '"rtl\\u202eevil"'),
        ("astral\U000e0001", '"astral\\udb40\\udc01"'),
        ("naïve ☃", '"naïve ☃"'),
    ],
)
def test_values_are_quoted_and_escaped_like_go_logfmt(value: object, want: str) -> None:
    """Each value is written bare when safe, else quoted with backslash escapes."""
    assert logged(k=value) == f"k={want}\n"


def test_pairs_keep_their_order_and_the_event_ends_with_one_newline() -> None:
    """Pairs come out in call order, separated by single spaces, then one newline."""
    assert logged(b=1, a=2, msg="ok") == "b=1 a=2 msg=ok\n"


@pytest.mark.parametrize(
    ("key", "want"),
    [("k=x", "k_x"), ("new\nline", "new_line"), ("le vel", "le_vel"), ('q"', "q_"), ("", "_")],
)
def test_unsafe_key_characters_become_underscores(key: str, want: str) -> None:
    """Spaces, '=', quotes and control characters in keys are replaced, never dropped."""
    assert logged(**{key: "v"}) == f"{want}=v\n"


@pytest.mark.parametrize(
    "forged",
    [
        "a\rlevel=error",
        "a\nlevel=error msg=forged",
        "x\x1b[2Kforged",
        'x" level="error',
        "x\u2028level=error",
        "x\x85level=error",
    ],
)
def test_a_value_cannot_forge_a_line_or_a_key(forged: str) -> None:
    """Forgery vectors stay one line, one key, and read back as the very string logged."""
    line = logged(user=forged)

    assert line.count("\n") == 1
    assert len(line.splitlines()) == 1
    assert "\x1b" not in line
    assert parse_line(line.rstrip("\n")) == [("user", forged)]


def test_unprintable_objects_become_placeholders() -> None:
    """A value whose __str__ raises is logged as a placeholder and the event still goes out."""

    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    assert logged(v=Broken(), after=1) == 'v="!ERROR formatting Broken: RuntimeError" after=1\n'


def test_errors_and_other_objects_use_str() -> None:
    """Exceptions log their message, or their class name when they have none."""
    assert logged(err=ValueError("bad input"), t=TimeoutError()) == (
        'err="bad input" t=TimeoutError\n'
    )


def test_special_floats_are_written_as_python_reads_them() -> None:
    """NaN and infinities are written as nan, inf and -inf."""
    assert logged(a=math.nan, b=math.inf, c=-math.inf) == "a=nan b=inf c=-inf\n"


def test_one_write_per_event() -> None:
    """The logger calls write exactly once per event, with the whole line."""
    writes: list[str] = []

    class Recorder:
        def write(self, text: str) -> None:
            writes.append(text)

    LogfmtLogger(Recorder()).log(a=1, b="two words")
    assert writes == ['a=1 b="two words"\n']


scalars = st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())


@given(st.dictionaries(st.text(min_size=1), scalars, max_size=8))
def test_any_event_is_one_line_that_reads_back(event: dict[str, object]) -> None:
    """For any keys and values, the event is one line and every value reads back."""
    line = encode(event)

    assert len(f"{line}\n".splitlines()) == 1
    pairs = parse_line(line) if event else []
    assert len(pairs) == len(event)
    for (key, value), (_, read) in zip(event.items(), pairs, strict=True):
        if isinstance(value, str):
            assert read == value, f"{key!r}: {value!r} read back as {read!r}"
        elif value is None:
            assert read is None
        elif isinstance(value, bool):
            assert read == ("true" if value else "false")
        else:
            assert read == repr(value)


@given(st.text(min_size=1))
def test_any_key_is_one_token_without_separators(key: str) -> None:
    """Whatever a key contains, it is written as one token with no space, '=' or quote."""
    line = encode({key: 1})
    written_key = line[: -len("=1")]

    assert written_key
    assert not set(written_key) & {" ", "=", '"', "\n", "\r"}
    assert written_key.isprintable()


def test_key_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the key cache is full, new keys are still sanitised but no longer cached."""
    monkeypatch.setattr(logfmt, "_KEY_CACHE_LIMIT", len(logfmt._key_prefixes))
    assert logged(**{"fresh key never seen": 1}) == "fresh_key_never_seen=1\n"
    assert "fresh key never seen" not in logfmt._key_prefixes
    assert repr(LogfmtLogger(io.StringIO())).startswith("LogfmtLogger(<built-in method write")
