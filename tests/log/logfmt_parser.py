"""An independent logfmt reader for tests: splits a line back into its key/value pairs.

It reads what go-logfmt's decoder accepts: ``key=value`` pairs separated by single
spaces, where a value is either bare (up to the next space) or a double-quoted
string with backslash escapes (the JSON string escapes).
"""

from __future__ import annotations

import json


class LogfmtSyntaxError(ValueError):
    """The line is not well-formed logfmt."""


def parse_line(line: str) -> list[tuple[str, str | None]]:
    """Return the pairs of one logfmt line; a bare ``null`` reads as None.

    Quoted values are returned unquoted and unescaped; bare values as they are.
    """
    pairs: list[tuple[str, str | None]] = []
    position = 0
    while position < len(line):
        equals = line.find("=", position)
        if equals <= position:
            raise LogfmtSyntaxError(f"no key at column {position}: {line!r}")
        key = line[position:equals]
        if " " in key or '"' in key:
            raise LogfmtSyntaxError(f"bad key {key!r} in {line!r}")
        position = equals + 1
        value: str | None
        if line.startswith('"', position):
            end = position + 1
            while line[end] != '"':
                end += 2 if line[end] == "\\" else 1
            value = json.loads(line[position : end + 1])
            position = end + 1
        else:
            end = line.find(" ", position)
            end = len(line) if end == -1 else end
            bare = line[position:end]
            value = None if bare == "null" else bare
            position = end
        pairs.append((key, value))
        if position < len(line):
            if line[position] != " ":
                raise LogfmtSyntaxError(f"expected a space at column {position}: {line!r}")
            position += 1
    return pairs
