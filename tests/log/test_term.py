"""Colour for terminals (Go kit's log/term), checked on a real pseudo-terminal."""

from __future__ import annotations

import io
import os
import select
from collections.abc import Callable, Iterator, Mapping
from typing import TextIO

import pytest

from pygokit.log import JSONLogger, LogfmtLogger, Logger, NopLogger, Writer, level
from pygokit.log.term import Color, ColorLogger, FgBgColor, by_level, is_terminal, new_logger

ESC = "\x1b"
RESET = "\x1b[39;49;22m"


@pytest.fixture
def pty() -> Iterator[tuple[int, TextIO]]:
    """A real pseudo-terminal: the master fd to read from and the slave as a text stream."""
    master, slave = os.openpty()
    stream = open(slave, "w", buffering=1, encoding="utf-8")  # noqa: SIM115  # closed below
    try:
        yield master, stream
    finally:
        stream.close()
        os.close(master)


def read_terminal(master: int, lines: int) -> str:
    """Read what the terminal shows until *lines* lines have arrived, waiting at most 5 s."""
    data = b""
    while data.count(b"\n") < lines:
        ready, _, _ = select.select([master], [], [], 5.0)
        assert ready, f"the terminal showed only {data!r}"
        data += os.read(master, 4096)
    # The terminal's line discipline turns each "\n" into "\r\n" on the way out.
    return data.decode("utf-8").replace("\r\n", "\n")


def always(color: FgBgColor) -> Callable[[Mapping[str, object]], FgBgColor]:
    """A colour function that gives every event *color*."""
    return lambda keyvals: color


class CountingWriter:
    """A writer that records each write call separately."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        """Record one write."""
        self.writes.append(text)
        return len(text)


LEVEL_COLORS = by_level(
    {
        level.DEBUG: FgBgColor(fg=Color.DARK_GRAY),
        level.WARN: FgBgColor(fg=Color.YELLOW),
        level.ERROR: FgBgColor(fg=Color.WHITE, bg=Color.DARK_RED),
    }
)


def test_colors_are_numbered_as_in_go_kit() -> None:
    """Default is zero, then the eight dark colours, then the eight bright ones."""
    assert [c.name for c in Color] == [
        "DEFAULT",
        "BLACK",
        "DARK_RED",
        "DARK_GREEN",
        "BROWN",
        "DARK_BLUE",
        "DARK_MAGENTA",
        "DARK_CYAN",
        "GRAY",
        "DARK_GRAY",
        "RED",
        "GREEN",
        "YELLOW",
        "BLUE",
        "MAGENTA",
        "CYAN",
        "WHITE",
    ]
    assert [int(c) for c in Color] == list(range(17))


@pytest.mark.parametrize(
    ("color", "start"),
    [
        (FgBgColor(fg=Color.BLACK), "\x1b[30m"),
        (FgBgColor(fg=Color.DARK_RED), "\x1b[31m"),
        (FgBgColor(fg=Color.GRAY), "\x1b[37m"),
        (FgBgColor(fg=Color.DARK_GRAY), "\x1b[30;1m"),
        (FgBgColor(fg=Color.RED), "\x1b[31;1m"),
        (FgBgColor(fg=Color.WHITE), "\x1b[37;1m"),
        (FgBgColor(bg=Color.DARK_BLUE), "\x1b[44m"),
        (FgBgColor(bg=Color.BLUE), "\x1b[44;1m"),
        (FgBgColor(fg=Color.YELLOW, bg=Color.DARK_GREEN), "\x1b[33;1m\x1b[42m"),
    ],
)
def test_color_codes_match_go_kit(color: FgBgColor, start: str) -> None:
    """Dark colours are ESC[3Nm/ESC[4Nm, bright ones add ;1, and the reset precedes the newline."""
    out = io.StringIO()
    ColorLogger(out, LogfmtLogger, always(color)).log(msg="hi")
    assert out.getvalue() == start + "msg=hi" + RESET + "\n"


def test_no_color_writes_the_plain_line() -> None:
    """The default FgBgColor means no escape codes at all: the inner logger's line as is."""
    out = io.StringIO()
    ColorLogger(out, LogfmtLogger, always(FgBgColor())).log(msg="hi", n=1)
    assert out.getvalue() == "msg=hi n=1\n"


def test_each_event_is_one_write() -> None:
    """A coloured event reaches the writer in a single write call."""
    out = CountingWriter()
    logger = ColorLogger(out, LogfmtLogger, LEVEL_COLORS)
    level.warn(logger).log(msg="a")
    level.info(logger).log(msg="b")
    assert out.writes == ["\x1b[33;1mlevel=warn msg=a" + RESET + "\n", "level=info msg=b\n"]


def test_inner_logger_output_is_kept_whole() -> None:
    """Without a trailing newline nothing is added, and an inner logger's silence stays silent."""

    def bare(writer: Writer) -> Logger:
        class Bare:
            def log(self, **keyvals: object) -> None:
                writer.write(",".join(keyvals))

        return Bare()

    out = io.StringIO()
    ColorLogger(out, bare, always(FgBgColor(fg=Color.RED))).log(a=1, b=2)
    ColorLogger(out, lambda w: NopLogger(), always(FgBgColor(fg=Color.RED))).log(a=1)
    assert out.getvalue() == "\x1b[31;1ma,b" + RESET


@pytest.mark.parametrize("inner", [LogfmtLogger, JSONLogger])
def test_values_cannot_inject_escape_sequences(inner: type[LogfmtLogger | JSONLogger]) -> None:
    """Escape characters in keys and values are escaped; only the logger's own codes are raw."""
    out = io.StringIO()
    logger = ColorLogger(out, inner, always(FgBgColor(fg=Color.GREEN)))
    logger.log(**{"k\x1b[2J": "v"}, msg="\x1b[31mred\x1b[0m\x9b31m\nforged=line")
    text = out.getvalue()
    assert text.count(ESC) == 2
    assert text.startswith("\x1b[32;1m")
    assert text.endswith(RESET + "\n")
    assert text.count("\n") == 1
    assert "\x9b" not in text
    assert "\\u001b[31mred" in text


def test_by_level_colours_only_real_levels() -> None:
    """by_level colours Level values it was given; other levels and strings stay plain."""
    assert LEVEL_COLORS({"level": level.ERROR}) == FgBgColor(Color.WHITE, Color.DARK_RED)
    assert LEVEL_COLORS({"level": level.INFO}) == FgBgColor()
    assert LEVEL_COLORS({"level": "error"}) == FgBgColor()
    assert LEVEL_COLORS({"msg": "x"}) == FgBgColor()


def test_by_level_takes_only_levels() -> None:
    """A colour table keyed by strings is a TypeError."""
    with pytest.raises(TypeError, match="keyed by"):
        by_level({"error": FgBgColor(fg=Color.RED)})  # type: ignore[dict-item]


def test_fg_bg_color_takes_valid_colours_only() -> None:
    """Plain ints are stored as Colors; numbers outside the palette are a ValueError."""
    assert FgBgColor(10, 2) == FgBgColor(fg=Color.RED, bg=Color.DARK_RED)  # type: ignore[arg-type]
    assert FgBgColor(10).fg is Color.RED  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="17"):
        FgBgColor(fg=17)  # type: ignore[arg-type]


def test_color_logger_needs_a_colour_function() -> None:
    """Like Go kit's panic on a nil colour function, None is refused at construction."""
    with pytest.raises(TypeError, match="color"):
        ColorLogger(io.StringIO(), LogfmtLogger, None)  # type: ignore[arg-type]
    assert repr(ColorLogger(io.StringIO(), LogfmtLogger, LEVEL_COLORS)).startswith("ColorLogger(")


def test_is_terminal_tells_a_tty_from_other_writers(pty: tuple[int, TextIO]) -> None:
    """A pty is a terminal; a StringIO, an object without isatty and a closed file are not."""
    _, terminal = pty
    assert is_terminal(terminal)
    assert not is_terminal(io.StringIO())
    assert not is_terminal(CountingWriter())
    closed = open(os.devnull, "w")  # noqa: SIM115  # closed on the next line on purpose
    closed.close()
    assert not is_terminal(closed)


def test_new_logger_colours_a_terminal(pty: tuple[int, TextIO]) -> None:
    """On a real terminal, events are coloured by level and unlevelled ones are plain."""
    master, terminal = pty
    logger = new_logger(terminal, LogfmtLogger, LEVEL_COLORS)
    assert isinstance(logger, ColorLogger)

    level.error(logger).log(msg="down")
    level.debug(logger).log(msg="detail")
    logger.log(msg="plain")

    assert read_terminal(master, 3) == (
        "\x1b[37;1m\x1b[41mlevel=error msg=down" + RESET + "\n"
        "\x1b[30;1mlevel=debug msg=detail" + RESET + "\n"
        "msg=plain\n"
    )


def test_new_logger_writes_plain_lines_elsewhere() -> None:
    """On a StringIO, new_logger is the plain inner logger and no escape code appears."""
    out = io.StringIO()
    logger = new_logger(out, LogfmtLogger, LEVEL_COLORS)
    assert isinstance(logger, LogfmtLogger)
    level.error(logger).log(msg="down")
    assert out.getvalue() == "level=error msg=down\n"
    assert ESC not in out.getvalue()


def test_escaping_holds_on_a_terminal(pty: tuple[int, TextIO]) -> None:
    """What the terminal receives has no escape sequence but the colour and its reset."""
    master, terminal = pty
    logger = new_logger(terminal, LogfmtLogger, LEVEL_COLORS)
    level.warn(logger).log(msg="\x1b]0;pwned\x07title")
    shown = read_terminal(master, 1)
    assert shown.count(ESC) == 2
    assert "\\u001b]0;pwned\\u0007title" in shown
