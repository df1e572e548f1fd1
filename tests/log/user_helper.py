"""A logging helper of a user's own, in its own module, for the caller tests."""

from __future__ import annotations

from pygokit.log import Logger


def log_message(logger: Logger, message: str) -> None:
    """Log *message* under msg."""
    logger.log(msg=message)  # helper-line
