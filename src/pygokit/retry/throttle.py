"""gRPC retry throttling: stop retrying while most recent attempts fail.

`TokenThrottle` implements the throttle of gRPC's retry design (proposal A6). A
bucket starts full at *max_tokens*; each failed attempt takes one token away (down to
zero) and each successful one puts *token_ratio* back (up to *max_tokens*). Retries
are allowed only while more than half the tokens are left. A healthy upstream keeps
the bucket full; one that fails most calls drains it within a few calls, after which
each call makes a single attempt until successes refill the bucket.

Only errors the retry policy would retry count as failures (A6 counts only the
retryable status codes); an error its ``should_retry`` rejects is not the upstream's
ill health and costs no token.

Example::

    throttle = TokenThrottle(max_tokens=10, token_ratio=0.5)
    endpoint = retry(max_attempts=4, budget=throttle)(client)
"""

from __future__ import annotations

import math

__all__ = ["TokenThrottle"]

_MILLI = 1000


class TokenThrottle:
    """gRPC's retry throttle: retries only while tokens > *max_tokens* / 2.

    Tokens are counted in thousandths, as A6 allows *token_ratio* three decimal
    places, so the arithmetic is exact and replays grpc-go's ``TestRetryThrottling``
    table call for call. It satisfies `pygokit.retry.Budget`: share one throttle among
    all the retry middleware that calls one upstream (gRPC keeps one per server).

    Args:
        max_tokens: The bucket's size and starting level; more than 0, at most 1000.
        token_ratio: Tokens a success puts back; more than 0, three decimals at most.
    """

    __slots__ = ("_max", "_ratio", "_tokens", "max_tokens", "token_ratio")

    def __init__(self, max_tokens: float = 10, token_ratio: float = 0.5) -> None:
        if not 0 < max_tokens <= 1000:
            raise ValueError(f"max_tokens must be in (0, 1000], got {max_tokens!r}")
        if not (0 < token_ratio < math.inf and round(token_ratio * _MILLI) > 0):
            raise ValueError(f"token_ratio must be at least 0.001, got {token_ratio!r}")
        self.max_tokens = max_tokens
        self.token_ratio = token_ratio
        self._max = round(max_tokens * _MILLI)
        self._ratio = round(token_ratio * _MILLI)
        self._tokens = self._max

    @property
    def tokens(self) -> float:
        """The tokens left now."""
        return self._tokens / _MILLI

    def can_retry(self) -> bool:
        """Return whether more than half the tokens are left, so a retry may start."""
        return 2 * self._tokens > self._max

    def try_withdraw(self) -> bool:
        """The same as `can_retry`: a retry spends no token (its failure will)."""
        return 2 * self._tokens > self._max

    def record_failure(self) -> None:
        """Take one token away for a failed attempt, never going below zero."""
        self._tokens = max(self._tokens - _MILLI, 0)

    def record_success(self) -> None:
        """Put *token_ratio* tokens back for a successful attempt, up to *max_tokens*."""
        self._tokens = min(self._tokens + self._ratio, self._max)

    def deposit(self) -> None:
        """Starting a call costs no token."""

    def release(self, retries: int) -> None:
        """Ending a call changes nothing; its attempts were already counted."""

    def __repr__(self) -> str:
        return (
            f"TokenThrottle(max_tokens={self.max_tokens!r}, token_ratio={self.token_ratio!r}, "
            f"tokens={self.tokens})"
        )
