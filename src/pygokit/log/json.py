"""The JSON format: one JSON object per line, keys in the order they were given.

Unlike Go kit's JSON logger, which builds a map and so sorts keys, the object keeps
the event's key order. Values JSON can represent natively (strings, numbers,
booleans, None, lists, dicts) are written as such; anything else is written as its
``str()``, or as a placeholder if ``str()`` raises. NaN and infinities, which are
not JSON, become strings, and a structure that contains itself is cut where it
repeats, so every line always parses. Characters JSON allows raw but a terminal or
a line-based reader may act on (DEL, C1 controls, line separators, invisible format
characters) are escaped too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping

from pygokit.log._encode import escape_unprintable, to_text
from pygokit.log.logger import Writer

__all__ = ["JSONLogger", "encode"]

_MAX_DEPTH = 32
_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=to_text
)
# JSONEncoder.encode builds a new C encoder on every call; building it once halves the cost.
# Without a markers dict it does not look for cycles: those end in RecursionError instead.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
if _c_make_encoder is not None:
    _chunks = _c_make_encoder(
        None, to_text, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )

    def _fast_encode(keyvals: Mapping[str, object]) -> str:
        return "".join(_chunks(keyvals, 0))
else:  # pragma: no cover  # CPython always has the C accelerator

    def _fast_encode(keyvals: Mapping[str, object]) -> str:
        return _encoder.encode(keyvals)


def _plain(value: object, depth: int, parents: frozenset[int]) -> object:
    """A copy of *value* that JSON can encode: the slow path for events that need it."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if not isinstance(value, Mapping | list | tuple):
        return to_text(value)
    if id(value) in parents or depth >= _MAX_DEPTH:
        return f"!CYCLE or too deep: {type(value).__name__}"
    inner = parents | {id(value)}
    if isinstance(value, Mapping):
        return {to_text(k): _plain(v, depth + 1, inner) for k, v in value.items()}
    return [_plain(item, depth + 1, inner) for item in value]


def encode(keyvals: Mapping[str, object]) -> str:
    """Return the JSON object for *keyvals* as one line, without the trailing newline."""
    try:
        text = _fast_encode(keyvals)
    except (ValueError, TypeError, RecursionError):  # NaN, odd keys, or a cycle
        text = _encoder.encode(_plain(keyvals, 0, frozenset()))
    if not text.isprintable():  # JSON escapes C0 controls but leaves others raw
        text = escape_unprintable(text)
    return text


class JSONLogger:
    """A `pygokit.log.Logger` that writes each event as one line of JSON to *writer*.

    It makes exactly one ``write`` call per event.

    Example::

        logger = JSONLogger(sys.stdout)
        logger.log(msg="hello", n=3)   # {"msg":"hello","n":3}
    """

    __slots__ = ("_write",)

    def __init__(self, writer: Writer) -> None:
        self._write = writer.write

    def log(self, **keyvals: object) -> None:
        """Write the event as one JSON line."""
        self._write(encode(keyvals) + "\n")

    def log_mapping(self, event: dict[str, object], /) -> None:
        """Write an event given as a dict as one JSON line (see `MappingLogger`)."""
        self._write(encode(event) + "\n")

    def render_ahead(self, pairs: dict[str, object], /) -> Callable[[dict[str, object]], None]:
        """Encode *pairs* now; return a function that writes them before an event's pairs.

        See `pygokit.log.PrerenderingLogger`.
        """
        write = self._write
        whole = encode(pairs)  # '{"level":"info"}'
        head = whole[:-1] + "," if pairs else "{"

        def log_after(event: dict[str, object], /) -> None:
            if event:
                write(head + encode(event)[1:] + "\n")
            else:
                write(whole + "\n")

        return log_after

    def __repr__(self) -> str:
        return f"JSONLogger({self._write!r})"
