"""A logger double that keeps every event for assertions."""

from __future__ import annotations

__all__ = ["CapturingLogger"]


class CapturingLogger:
    """A `pygokit.log.Logger` that stores each event as a dict, in order.

    Example::

        logger = CapturingLogger()
        LogErrorHandler(logger).handle(ValueError("bad"))
        assert str(logger.events[0]["err"]) == "bad"
    """

    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: list[dict[str, object]] = []

    def log(self, **keyvals: object) -> None:
        """Store the event's key/value pairs, keeping their order."""
        self.events.append(keyvals)

    def clear(self) -> None:
        """Forget every stored event."""
        self.events.clear()

    def __repr__(self) -> str:
        return f"CapturingLogger(events={len(self.events)})"
