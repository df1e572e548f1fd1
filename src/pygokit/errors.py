"""The root of pygokit's errors.

Every error pygokit raises itself subclasses `GoKitError`, so callers can tell the
toolkit's failures (an open circuit, an exhausted retry budget, a rate limit) from
their own service's errors with one ``except`` clause. Facts about a failure are
attributes of the error, never only words in its message.
"""

from __future__ import annotations

__all__ = ["GoKitError"]


class GoKitError(Exception):
    """Base class of every error that pygokit raises itself."""
