"""Turning arbitrary values into text safely, shared by every output format.

Logging must never fail because of what is logged: a value whose ``__str__``
raises is written as a placeholder, and nothing a value contains can break an
event across lines or smuggle terminal escape sequences into the output.
"""

from __future__ import annotations

import re

# Characters that could end a line, move the cursor or start a terminal escape sequence in
# some reader: C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_unsafe(match: re.Match[str]) -> str:
    """Replace one unsafe character with its ``\\u00XX`` escape (a `re.sub` callback)."""
    return f"\\u{ord(match.group()):04x}"


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
