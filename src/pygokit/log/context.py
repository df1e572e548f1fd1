"""Binding key/value pairs to a logger: Go kit's With, WithPrefix and WithSuffix.

``with_(logger, svc="addsvc")`` returns a logger that adds ``svc=addsvc`` to every
event. Contexts flatten: binding to a context makes a new context over the same
inner logger, never a chain of wrappers, so binding costs nothing per extra level.

Pairs come out in this order: prefix (``with_prefix``, ``with_``), then the call's
own pairs, then suffix (``with_suffix``). A key appears once per event: a key given
at the call site replaces the bound value (keeping its position), and binding a
key again replaces its earlier value. `Valuer` values in the context are computed
for each event.

When every bound pair is a plain constant and the next logger formats events
itself (a `pygokit.log.PrerenderingLogger`, such as `LogfmtLogger`), the context
has the pairs formatted once, up front, and each event then formats only its own
pairs. The output is the same either way.
"""

from __future__ import annotations

from collections.abc import Callable

from pygokit.log.logger import Logger, PrerenderingLogger, forward_to
from pygokit.log.valuer import Valuer

__all__ = ["Context", "bind", "with_", "with_prefix", "with_suffix"]


class Context:
    """A logger that adds bound key/value pairs to every event and passes it on.

    Build one with `with_`, `with_prefix` or `with_suffix` rather than directly.
    """

    __slots__ = (
        "_forward",
        "_levelled",
        "_next",
        "_prefix",
        "_prefix_valuers",
        "_rendered",
        "_suffix",
        "_suffix_valuers",
    )

    def __init__(self, next_: Logger, prefix: dict[str, object], suffix: dict[str, object]) -> None:
        self._next = next_
        self._forward = forward_to(next_)
        # The levelled loggers made from this one by pygokit.log.level's helpers, by level:
        # a context never changes, so they can be handed out again.
        self._levelled: dict[str, Logger] = {}
        self._prefix = prefix
        self._suffix = suffix
        self._prefix_valuers = _valuers(prefix)
        self._suffix_valuers = _valuers(suffix)
        # Set when the prefix can be formatted once: see the module documentation.
        self._rendered: Callable[[dict[str, object]], None] | None = None
        if (
            not suffix
            and all(_is_constant(value) for value in prefix.values())
            and isinstance(next_, PrerenderingLogger)
        ):
            self._rendered = next_.render_ahead(prefix)

    @property
    def next(self) -> Logger:
        """The logger this context passes events to."""
        return self._next

    def log(self, **keyvals: object) -> None:
        """Log the bound pairs and *keyvals* as one event, computing valuers."""
        self.log_mapping(keyvals)

    def log_mapping(self, keyvals: dict[str, object], /) -> None:
        """`log` for an event given as a dict (see `pygokit.log.MappingLogger`)."""
        rendered = self._rendered
        if rendered is not None and self._prefix.keys().isdisjoint(keyvals):
            rendered(keyvals)
            return
        event = {**self._prefix, **keyvals}
        for key, valuer in self._prefix_valuers:
            if key not in keyvals:
                event[key] = valuer()
        if self._suffix:
            for key, value in self._suffix.items():
                if key not in keyvals:
                    event[key] = value
            for key, valuer in self._suffix_valuers:
                if key not in keyvals:
                    event[key] = valuer()
        self._forward(event)

    def bind(self, **keyvals: object) -> Context:
        """Return a logger with *keyvals* bound too (the structlog spelling of `with_`)."""
        return Context(self._next, {**self._prefix, **keyvals}, self._suffix)

    def __repr__(self) -> str:
        return f"Context({self._next!r}, prefix={self._prefix!r}, suffix={self._suffix!r})"


_CONSTANT_TYPES = frozenset({str, int, float, bool, type(None)})


def _is_constant(value: object) -> bool:
    """Whether *value* prints the same for ever, so a context may format it once.

    Strings (levels included, unless a subclass changes how it prints), numbers,
    booleans and None do; any other object may change between events.
    """
    kind = type(value)
    return kind in _CONSTANT_TYPES or (isinstance(value, str) and kind.__str__ is str.__str__)


def _valuers(pairs: dict[str, object]) -> tuple[tuple[str, Callable[[], object]], ...]:
    """The keys whose values are valuers, each with the function that computes it."""
    return tuple((k, v.func) for k, v in pairs.items() if isinstance(v, Valuer))


def with_(logger: Logger, **keyvals: object) -> Logger:
    """Return a logger that adds *keyvals* to every event, after any already bound.

    With no pairs, *logger* itself is returned.
    """
    if not keyvals:
        return logger
    if isinstance(logger, Context):
        return Context(logger._next, {**logger._prefix, **keyvals}, logger._suffix)
    return Context(logger, keyvals, {})


def with_prefix(logger: Logger, **keyvals: object) -> Logger:
    """Return a logger that adds *keyvals* to every event, before any already bound."""
    if not keyvals:
        return logger
    if isinstance(logger, Context):
        kept = {k: v for k, v in logger._prefix.items() if k not in keyvals}
        return Context(logger._next, {**keyvals, **kept}, logger._suffix)
    return Context(logger, keyvals, {})


def with_suffix(logger: Logger, **keyvals: object) -> Logger:
    """Return a logger that adds *keyvals* at the end of every event, after the call's own."""
    if not keyvals:
        return logger
    if isinstance(logger, Context):
        return Context(logger._next, logger._prefix, {**logger._suffix, **keyvals})
    return Context(logger, {}, keyvals)


def bind(logger: Logger, **keyvals: object) -> Logger:
    """The structlog spelling of `with_`: bind *keyvals* to every event of *logger*."""
    return with_(logger, **keyvals)
