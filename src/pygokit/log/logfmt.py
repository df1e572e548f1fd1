"""The logfmt format: ``key=value`` pairs separated by spaces, one event per line.

Quoting and escaping follow go-logfmt, the encoder behind Go kit's logfmt logger,
made stricter where go-logfmt leaves a way to forge a line:

- A value is quoted when it contains a space, ``=``, ``"`` or any character that
  ``str.isprintable()`` rejects (control characters, line separators, invisible
  format characters), and when it is the literal text ``null``. Inside quotes,
  ``"`` and ``\\`` are backslash-escaped, ``\\n``, ``\\r`` and ``\\t`` are written
  as such, and every other unprintable character as ``\\uXXXX``, so a quoted value
  is also a valid JSON string.
- In a key, each space, ``=``, ``"`` or unprintable character is replaced with
  ``_`` (go-logfmt drops them, which can turn ``le vel`` into a real-looking
  ``level``); an empty key becomes ``_``.
- ``None`` is written ``null``, booleans ``true``/``false``, and any other
  non-string value through ``str()``; a value whose ``str()`` raises becomes a
  placeholder instead of an exception.

Whatever the values, an event is exactly one line and one write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from json.encoder import encode_basestring

from pygokit.log._encode import escape_unprintable, to_text
from pygokit.log.duration import Duration
from pygokit.log.level import Level
from pygokit.log.logger import Writer

__all__ = ["LogfmtLogger", "encode"]

_KEY_CACHE_LIMIT = 4096
_key_prefixes: dict[str, str] = {}


def _key_prefix(key: str) -> str:
    """Return ``key=`` with the key made safe, and cache it while the cache has room."""
    safe = "".join(c if c.isprintable() and c not in ' ="' else "_" for c in key)
    prefix = (safe or "_") + "="
    if len(_key_prefixes) < _KEY_CACHE_LIMIT:
        _key_prefixes[key] = prefix
    return prefix


def _quote(text: str) -> str:
    quoted = encode_basestring(text)  # escapes quotes, backslashes and C0 controls
    return quoted if quoted.isprintable() else escape_unprintable(quoted)


def _value(value: object) -> str:
    """Return *value* as a logfmt value, quoted and escaped where needed."""
    kind = type(value)
    if kind is str:
        text: str = value  # type: ignore[assignment]  # narrowed by the type check above
    elif kind is int or kind is float:
        return repr(value)
    elif value is None:
        return "null"
    elif kind is bool:
        return "true" if value else "false"
    else:
        text = to_text(value)
    if text.isprintable() and " " not in text and "=" not in text and '"' not in text:
        return text if text != "null" else '"null"'
    return _quote(text)


def encode(keyvals: Mapping[str, object]) -> str:
    """Return the logfmt line for *keyvals*, without the trailing newline."""
    prefixes = _key_prefixes
    parts = []
    for key, value in keyvals.items():
        prefix = prefixes.get(key) or _key_prefix(key)
        kind = type(value)
        if kind is str or kind is Level:  # the common case, inlined
            text: str = value  # type: ignore[assignment]  # narrowed by the type check above
            if (
                text.isprintable()
                and " " not in text
                and "=" not in text
                and '"' not in text
                and text != "null"
            ):
                parts.append(prefix + text)
                continue
        elif kind is Duration:  # digits and a unit: never quoted
            parts.append(prefix + value.__str__())
            continue
        parts.append(prefix + _value(value))
    return " ".join(parts)


class LogfmtLogger:
    """A `pygokit.log.Logger` that writes each event as one logfmt line to *writer*.

    It makes exactly one ``write`` call per event, so with a `pygokit.log.sync.SyncWriter`
    lines never interleave.

    Example::

        logger = LogfmtLogger(sys.stderr)
        logger.log(msg="hello world", n=3)   # msg="hello world" n=3
    """

    __slots__ = ("_write",)

    def __init__(self, writer: Writer) -> None:
        self._write = writer.write

    def log(self, **keyvals: object) -> None:
        """Write the event as one logfmt line."""
        self._write(encode(keyvals) + "\n")

    def log_mapping(self, event: dict[str, object], /) -> None:
        """Write an event given as a dict as one logfmt line (see `MappingLogger`)."""
        self._write(encode(event) + "\n")

    def render_ahead(self, pairs: dict[str, object], /) -> Callable[[dict[str, object]], None]:
        """Format *pairs* now; return a function that writes them before an event's pairs.

        See `pygokit.log.PrerenderingLogger`.
        """
        write = self._write
        line = encode(pairs)
        head = line + " " if line else ""

        def log_after(event: dict[str, object], /) -> None:
            rest = encode(event)
            write(head + rest + "\n" if rest else line + "\n")

        return log_after

    def __repr__(self) -> str:
        return f"LogfmtLogger({self._write!r})"
