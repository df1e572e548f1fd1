"""The business logic: plain Python behind a Protocol, knowing nothing of transports."""

from __future__ import annotations

from typing import Protocol

__all__ = ["BasicStringService", "EmptyStringError", "StringService"]


class EmptyStringError(ValueError):
    """The input string was empty; a business error the caller should see."""

    def __init__(self) -> None:
        super().__init__("empty string")


class StringService(Protocol):
    """Operations on strings."""

    def uppercase(self, s: str) -> str:
        """Return *s* in upper case; raise `EmptyStringError` if it is empty."""
        ...

    def count(self, s: str) -> int:
        """Return the number of characters in *s*."""
        ...


class BasicStringService:
    """The plain implementation of `StringService`."""

    def uppercase(self, s: str) -> str:
        """Return *s* in upper case; raise `EmptyStringError` if it is empty."""
        if not s:
            raise EmptyStringError
        return s.upper()

    def count(self, s: str) -> int:
        """Return the number of characters in *s*."""
        return len(s)
