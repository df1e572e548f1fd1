"""`Event`: what service discovery knows about a service at one moment.

An event is a complete snapshot, never a delta: either every instance of the service
(``Event(["10.0.0.1:8080", "10.0.0.2:8080"])``) or the error that stopped discovery from
knowing (``Event(error=exc)``), after which the instances seen before may be stale. A
subscriber therefore only ever needs the latest event.

Instances are kept sorted and without duplicates, so two snapshots of the same set are
equal however a backend listed them; two error events are equal when their errors are
the same object, or of the same type with the same arguments. An `InstanceCache` uses
that equality to drop an event identical to the current state instead of broadcasting it
again.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Event"]


class Event:
    """A full snapshot of a service's instances, or the error that prevented one.

    Args:
        instances: The instance strings, usually ``host:port``; each one is what the
            endpointer's factory receives. Sorted and deduplicated on the way in.
        error: Why discovery does not know the instances now; give either this or
            *instances*, not both.

    Example::

        assert Event(["b:80", "a:80", "b:80"]).instances == ("a:80", "b:80")
        assert Event(error=TimeoutError("etcd")) == Event(error=TimeoutError("etcd"))
    """

    __slots__ = ("error", "instances")

    def __init__(self, instances: Iterable[str] = (), *, error: Exception | None = None) -> None:
        if isinstance(instances, str):
            raise TypeError(f"instances must be an iterable of strings, not {instances!r}")
        given = tuple(instances)
        for instance in given:
            if not isinstance(instance, str):
                raise TypeError(f"an instance must be a string such as 'host:port': {instance!r}")
        unique = set(given)
        if error is not None and unique:
            raise ValueError("an Event carries either instances or an error, not both")
        self.instances: tuple[str, ...] = tuple(sorted(unique))
        """The instances, sorted, without duplicates; empty for an error event."""
        self.error = error
        """The discovery error, or None for a snapshot of instances."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return self.instances == other.instances and _same_error(self.error, other.error)

    __hash__ = None  # type: ignore[assignment]  # equal errors need not hash alike

    def __repr__(self) -> str:
        if self.error is not None:
            return f"Event(error={self.error!r})"
        return f"Event({list(self.instances)!r})"


def _same_error(a: Exception | None, b: Exception | None) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    return type(a) is type(b) and a.args == b.args
