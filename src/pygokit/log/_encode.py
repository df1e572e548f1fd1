"""Turning arbitrary values into text safely, shared by every output format.

Logging must never fail because of what is logged: a value whose ``__str__``
raises is written as a placeholder, and nothing a value contains can break an
event across lines or smuggle terminal escape sequences into the output.
"""

from __future__ import annotations


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # astral: a UTF-16 surrogate pair, as JSON spells it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def escape_unprintable(text: str) -> str:
    """Replace every character that ``str.isprintable()`` rejects with its JSON escape.

    That covers control characters (which could move the cursor or start a terminal
    escape sequence), line and paragraph separators (which some readers treat as line
    ends), and invisible format characters such as bidirectional overrides.
    """
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def to_text(value: object) -> str:
    """Return ``str(value)``, or a placeholder if converting it raises.

    An exception with no message is shown by its class name, so ``err=`` is never empty.
    """
    try:
        text = str(value)
    except Exception as exc:  # a broken __str__ must not take the log call down with it
        return f"!ERROR formatting {type(value).__name__}: {type(exc).__name__}"
    if not text and isinstance(value, BaseException):
        return type(value).__name__
    return text
