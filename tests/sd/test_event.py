"""Event: a sorted, deduplicated snapshot of instances, or an error, never both."""

from __future__ import annotations

import pytest

from pygokit.sd import Event


def test_instances_are_sorted_and_deduplicated() -> None:
    """Instances are kept sorted and without duplicates, whatever order they came in."""
    assert Event(["b:2", "a:1", "b:2"]).instances == ("a:1", "b:2")
    assert Event(iter(["c", "a"])).instances == ("a", "c")


def test_the_default_event_has_no_instances_and_no_error() -> None:
    """Event() is the empty snapshot every cache starts from."""
    event = Event()
    assert event.instances == ()
    assert event.error is None
    assert event == Event([])


def test_snapshots_of_the_same_set_are_equal() -> None:
    """Two snapshots listing the same instances in any order are equal."""
    assert Event(["a", "b"]) == Event(["b", "a", "a"])
    assert Event(["a"]) != Event(["a", "b"])


def test_error_events_are_equal_when_their_errors_are_alike() -> None:
    """Errors of the same type and arguments make equal events; others do not."""
    error = TimeoutError("etcd")
    assert Event(error=error) == Event(error=error)
    assert Event(error=TimeoutError("etcd")) == Event(error=TimeoutError("etcd"))
    assert Event(error=TimeoutError("etcd")) != Event(error=TimeoutError("zk"))
    assert Event(error=TimeoutError("etcd")) != Event(error=ConnectionError("etcd"))
    assert Event(error=TimeoutError("etcd")) != Event()


def test_an_event_is_not_equal_to_other_objects() -> None:
    """Comparing with something that is not an Event is simply unequal."""
    assert Event() != ()
    assert Event(["a"]) != ["a"]


def test_events_are_not_hashable() -> None:
    """Events compare errors loosely, so they refuse to be hashed inconsistently."""
    with pytest.raises(TypeError):
        hash(Event())


def test_instances_and_error_together_are_refused() -> None:
    """An event with both instances and an error is a ValueError."""
    with pytest.raises(ValueError, match="either instances or an error"):
        Event(["a"], error=RuntimeError("x"))


@pytest.mark.parametrize("bad", ["a:1", ["a:1", 80], [b"a:1"]])
def test_instances_must_be_strings(bad: object) -> None:
    """A bare string or a non-string instance is a TypeError naming the culprit."""
    with pytest.raises(TypeError, match="string"):
        Event(bad)  # type: ignore[arg-type]


def test_repr_shows_instances_or_error() -> None:
    """The repr lists the instances, or the error."""
    assert repr(Event(["b", "a"])) == "Event(['a', 'b'])"
    assert repr(Event(error=KeyError("k"))) == "Event(error=KeyError('k'))"
