"""InstanceCache and FixedInstancer: current state at once, no duplicate broadcasts (F8)."""

from __future__ import annotations

from pygokit.sd import Event, FixedInstancer, InstanceCache, Instancer
from tests.sd.helpers import EventRecorder


def test_a_new_subscriber_gets_the_current_state_at_once() -> None:
    """F8: register calls the subscriber with the current state before returning."""
    cache = InstanceCache()
    cache.update(Event(["a", "b"]))
    recorder = EventRecorder()

    cache.register(recorder)

    assert recorder.events == [Event(["a", "b"])]


def test_the_initial_state_is_the_empty_snapshot() -> None:
    """Before any update the state is Event(), and a subscriber receives it."""
    cache = InstanceCache()
    recorder = EventRecorder()
    cache.register(recorder)
    assert cache.state == Event()
    assert recorder.events == [Event()]


def test_identical_consecutive_events_are_not_rebroadcast() -> None:
    """F8: an update equal to the current state reaches no subscriber."""
    cache = InstanceCache()
    recorder = EventRecorder()
    cache.register(recorder)

    cache.update(Event(["a", "b"]))
    cache.update(Event(["b", "a"]))
    cache.update(Event(error=TimeoutError("down")))
    cache.update(Event(error=TimeoutError("down")))
    cache.update(Event(["a"]))

    assert recorder.events == [
        Event(),
        Event(["a", "b"]),
        Event(error=TimeoutError("down")),
        Event(["a"]),
    ]


def test_every_subscriber_gets_every_change_in_registration_order() -> None:
    """Changes go to each subscriber, in the order they registered."""
    cache = InstanceCache()
    order: list[str] = []
    cache.register(lambda event: order.append("first"))
    cache.register(lambda event: order.append("second"))
    order.clear()

    cache.update(Event(["a"]))

    assert order == ["first", "second"]


def test_deregistered_subscribers_hear_nothing_more() -> None:
    """After deregister a subscriber gets no events; deregistering twice is harmless."""
    cache = InstanceCache()
    recorder = EventRecorder()
    cache.register(recorder)
    cache.deregister(recorder)
    cache.deregister(recorder)

    cache.update(Event(["a"]))

    assert recorder.events == [Event()]


def test_registering_twice_keeps_one_subscription() -> None:
    """A subscriber registered twice gets the state twice but each change once."""
    cache = InstanceCache()
    recorder = EventRecorder()
    cache.register(recorder)
    cache.register(recorder)

    cache.update(Event(["a"]))

    assert recorder.events == [Event(), Event(), Event(["a"])]


def test_a_subscriber_may_deregister_while_being_called() -> None:
    """A subscriber that deregisters itself mid-broadcast does not stop the others."""
    cache = InstanceCache()
    recorder = EventRecorder()

    def once(event: Event) -> None:
        if event.instances:
            cache.deregister(once)

    cache.register(once)
    cache.register(recorder)
    cache.update(Event(["a"]))
    cache.update(Event(["b"]))

    assert recorder.events == [Event(), Event(["a"]), Event(["b"])]
    assert repr(cache) == "InstanceCache(Event(['b']), subscribers=1)"


def test_fixed_instancer_sends_its_list_to_every_subscriber() -> None:
    """A FixedInstancer hands each subscriber its sorted list once."""
    instancer: Instancer = FixedInstancer(["b:80", "a:80"])
    first, second = EventRecorder(), EventRecorder()
    instancer.register(first)
    instancer.register(second)
    instancer.deregister(first)

    assert first.events == second.events == [Event(["a:80", "b:80"])]
    assert repr(instancer) == "FixedInstancer(['a:80', 'b:80'])"
