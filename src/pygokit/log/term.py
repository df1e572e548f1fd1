"""Colour for logs written to a terminal (Go kit's ``log/term``).

`ColorLogger` formats each event with an ordinary logger (logfmt, JSON) and wraps
the line in ANSI colour codes chosen from the event, for example by its level with
`by_level`. `new_logger` colours only when the writer is a terminal, so the same
wiring writes plain lines to files and pipes.

Colour never weakens escaping: the inner logger escapes every control character in
keys and values, so a logged value cannot carry an escape sequence of its own; the
only escape sequences in the output are the ones added here.

Example::

    colors = term.by_level({level.WARN: FgBgColor(fg=Color.YELLOW),
                            level.ERROR: FgBgColor(fg=Color.RED)})
    logger = term.new_logger(sys.stderr, LogfmtLogger, colors)
    level.error(logger).log(msg="disk full")   # red on a terminal, plain in a file
"""

from __future__ import annotations

import enum
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pygokit.log.level import KEY, Level
from pygokit.log.logger import Logger, Writer

__all__ = [
    "Color",
    "ColorFunc",
    "ColorLogger",
    "FgBgColor",
    "by_level",
    "is_terminal",
    "new_logger",
]


class Color(enum.IntEnum):
    """An ANSI colour; `DEFAULT` leaves the terminal's own colour alone."""

    DEFAULT = 0
    BLACK = 1
    DARK_RED = 2
    DARK_GREEN = 3
    BROWN = 4
    DARK_BLUE = 5
    DARK_MAGENTA = 6
    DARK_CYAN = 7
    GRAY = 8
    DARK_GRAY = 9
    RED = 10
    GREEN = 11
    YELLOW = 12
    BLUE = 13
    MAGENTA = 14
    CYAN = 15
    WHITE = 16


def _code(base: int, color: Color) -> str:
    """The escape sequence that selects *color*, as Go kit writes it (*base* 30 or 40)."""
    if color <= Color.GRAY:  # the eight dark colours: 30-37 (40-47 for the background)
        return f"\x1b[{base + color - Color.BLACK}m"
    return f"\x1b[{base + color - Color.DARK_GRAY};1m"  # bright: the dark code plus bold


# DEFAULT writes no code at all, as in Go kit.
_FG: dict[Color, str] = {c: _code(30, c) if c else "" for c in Color}
_BG: dict[Color, str] = {c: _code(40, c) if c else "" for c in Color}
_RESET = "\x1b[39;49;22m"


@dataclass(frozen=True, slots=True)
class FgBgColor:
    """A foreground and a background colour; the default value means no colour at all."""

    fg: Color = Color.DEFAULT
    bg: Color = Color.DEFAULT

    def __post_init__(self) -> None:
        # Accept plain ints too, but only valid ones, and store them as Colors.
        object.__setattr__(self, "fg", Color(self.fg))
        object.__setattr__(self, "bg", Color(self.bg))


_NO_COLOR = FgBgColor()
ColorFunc = Callable[[Mapping[str, object]], FgBgColor]
"""A function that picks the colour of an event from its key/value pairs."""


class ColorLogger:
    """A logger that writes each event in the colour *color* picks for it (``NewColorLogger``).

    Each event is formatted by a logger made with *new_logger* into memory, then
    written to *writer* in one ``write`` call, wrapped in the colour's escape codes
    (the reset code goes before the line's newline). An event given no colour is
    written plainly.

    Args:
        writer: Where lines go, normally a terminal.
        new_logger: Makes the formatting logger for a writer, such as `LogfmtLogger`.
        color: Picks the colour of an event from its key/value pairs.
    """

    __slots__ = ("_color", "_new_logger", "_plain", "_write")

    def __init__(
        self, writer: Writer, new_logger: Callable[[Writer], Logger], color: ColorFunc
    ) -> None:
        if not callable(color):
            raise TypeError(f"color must be a function of the event, got {color!r}")
        self._write = writer.write
        self._new_logger = new_logger
        self._color = color
        self._plain = new_logger(writer)

    def log(self, **keyvals: object) -> None:
        """Write the event as one line, coloured as the colour function says."""
        color = self._color(keyvals)
        if color == _NO_COLOR:
            self._plain.log(**keyvals)
            return
        buffer = io.StringIO()
        self._new_logger(buffer).log(**keyvals)
        text = buffer.getvalue()
        if not text:
            return
        newline = "\n" if text.endswith("\n") else ""
        body = text[: len(text) - len(newline)]
        start = _FG[color.fg] + _BG[color.bg]
        self._write(start + body + _RESET + newline)

    def __repr__(self) -> str:
        return f"ColorLogger({self._write!r}, {self._new_logger!r}, {self._color!r})"


def is_terminal(writer: object) -> bool:
    """Tell whether *writer* is a terminal: its ``isatty()`` exists and returns True."""
    isatty = getattr(writer, "isatty", None)
    if not callable(isatty):
        return False
    try:
        return isatty() is True
    except (OSError, ValueError):  # a closed or detached stream is no terminal
        return False


def new_logger(writer: Writer, new_logger: Callable[[Writer], Logger], color: ColorFunc) -> Logger:
    """Return a `ColorLogger` if *writer* is a terminal, else the plain ``new_logger(writer)``."""
    if is_terminal(writer):
        return ColorLogger(writer, new_logger, color)
    return new_logger(writer)


def by_level(colors: Mapping[Level, FgBgColor]) -> ColorFunc:
    """Return a colour function that colours events by their `Level`, using *colors*.

    Events with no level, or a level missing from *colors*, get no colour.
    """
    table = dict(colors)
    for key in table:
        if type(key) is not Level:
            raise TypeError(f"colors must be keyed by level.DEBUG, INFO, WARN or ERROR: {key!r}")

    def color(keyvals: Mapping[str, object]) -> FgBgColor:
        value = keyvals.get(KEY)
        if type(value) is Level:
            return table.get(value, _NO_COLOR)
        return _NO_COLOR

    return color
