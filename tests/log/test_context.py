"""Contexts: with_, with_prefix, with_suffix and bind, and valuers inside them."""

from __future__ import annotations

import itertools

from pygokit.log import Context, Valuer, bind, with_, with_prefix, with_suffix
from pygokit.testing import CapturingLogger


def test_with_adds_pairs_before_the_call_site_pairs() -> None:
    """with_ pairs come first, then the call's own, in order."""
    sink = CapturingLogger()
    with_(sink, svc="addsvc", instance=1).log(msg="hi")
    assert list(sink.events[0].items()) == [("svc", "addsvc"), ("instance", 1), ("msg", "hi")]


def test_with_prefix_goes_before_and_with_suffix_after_everything() -> None:
    """Prefix pairs lead, suffix pairs trail the call's pairs (Go kit's WithPrefix/WithSuffix)."""
    sink = CapturingLogger()
    logger = with_suffix(with_prefix(with_(sink, b=2), a=1), z=26)
    logger.log(msg="hi")
    assert list(sink.events[0]) == ["a", "b", "msg", "z"]


def test_nested_contexts_flatten_into_one() -> None:
    """Binding to a context makes a new context over the same inner logger, not a wrapper."""
    sink = CapturingLogger()
    logger = with_(with_(with_(sink, a=1), b=2), c=3)

    assert isinstance(logger, Context)
    assert logger.next is sink
    logger.log()
    assert sink.events == [{"a": 1, "b": 2, "c": 3}]


def test_binding_nothing_returns_the_same_logger() -> None:
    """with_, with_prefix and with_suffix with no pairs return their argument."""
    sink = CapturingLogger()
    assert with_(sink) is sink
    assert with_prefix(sink) is sink
    assert with_suffix(sink) is sink


def test_call_site_pairs_replace_bound_ones_in_place() -> None:
    """A key given at the call site overrides the bound value and keeps the bound position."""
    sink = CapturingLogger()
    logger = with_suffix(with_(sink, component="db", msg="default"), tail="t")
    logger.log(msg="override", tail="mine")
    assert list(sink.events[0].items()) == [
        ("component", "db"),
        ("msg", "override"),
        ("tail", "mine"),
    ]


def test_rebinding_a_key_replaces_its_value() -> None:
    """Binding a key again replaces its value; with_prefix moves it to the front."""
    sink = CapturingLogger()
    with_(with_(sink, a=1, b=2), a=10).log()
    with_prefix(with_(sink, a=1, b=2), b=20).log()
    assert [list(e.items()) for e in sink.events] == [
        [("a", 10), ("b", 2)],
        [("b", 20), ("a", 1)],
    ]


def test_valuers_in_context_are_computed_per_event() -> None:
    """A Valuer bound in a prefix or suffix is called once per event, in its position."""
    sink = CapturingLogger()
    counter = itertools.count(1)
    logger = with_suffix(with_(sink, n=Valuer(lambda: next(counter))), m=Valuer(lambda: "late"))

    logger.log(msg="a")
    logger.log(msg="b")

    assert sink.events == [
        {"n": 1, "msg": "a", "m": "late"},
        {"n": 2, "msg": "b", "m": "late"},
    ]


def test_valuers_overridden_at_the_call_site_are_not_called() -> None:
    """A bound valuer whose key the call overrides is not evaluated."""
    calls: list[str] = []

    def expensive() -> str:
        calls.append("called")
        return "computed"

    sink = CapturingLogger()
    with_suffix(with_(sink, a=Valuer(expensive)), b=Valuer(expensive)).log(a=1, b=2)

    assert calls == []
    assert sink.events == [{"a": 1, "b": 2}]


def test_valuers_passed_directly_to_log_are_not_called() -> None:
    """As in Go kit, only valuers in a context are computed; a direct one is logged as is."""
    sink = CapturingLogger()
    direct = Valuer(lambda: "never")
    with_(sink, x=1).log(v=direct)
    assert sink.events[0]["v"] is direct


def test_bind_is_with_under_structlog_name() -> None:
    """bind() and Context.bind add pairs exactly like with_."""
    sink = CapturingLogger()
    logger = bind(sink, a=1)
    assert isinstance(logger, Context)
    logger.bind(b=2).log(c=3)
    assert sink.events == [{"a": 1, "b": 2, "c": 3}]
    assert "prefix={'a': 1}" in repr(logger)
