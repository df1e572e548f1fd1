"""gRPC retry throttling (A6): token accounting and grpc-go's TestRetryThrottling (R9b)."""

from __future__ import annotations

import pytest

from pygokit.retry import Constant, RetriesExhausted, TokenThrottle, retry
from pygokit.testing import RecordingEndpoint


class Unavailable(Exception):
    """A retryable failure, like gRPC's UNAVAILABLE."""


def test_throttle_starts_full_and_allows_retries() -> None:
    """A new throttle holds max_tokens and allows retries."""
    throttle = TokenThrottle(max_tokens=10, token_ratio=0.5)

    assert throttle.tokens == 10
    assert throttle.can_retry()
    assert throttle.try_withdraw()
    assert throttle.tokens == 10  # asking spends nothing


def test_retries_stop_at_exactly_half_the_tokens() -> None:
    """Retries need tokens > max/2: allowed at 6, refused at 5, allowed again at 5.5."""
    throttle = TokenThrottle(max_tokens=10, token_ratio=0.5)
    for _ in range(4):
        throttle.record_failure()
    assert throttle.tokens == 6
    assert throttle.can_retry()

    throttle.record_failure()
    assert throttle.tokens == 5
    assert not throttle.can_retry()
    assert not throttle.try_withdraw()

    throttle.record_success()
    assert throttle.tokens == 5.5
    assert throttle.try_withdraw()


def test_tokens_stay_between_zero_and_max() -> None:
    """Failures never take tokens below 0; successes never add beyond max_tokens."""
    throttle = TokenThrottle(max_tokens=3, token_ratio=0.75)
    for _ in range(10):
        throttle.record_failure()
    assert throttle.tokens == 0
    for _ in range(10):
        throttle.record_success()
    assert throttle.tokens == 3


def test_ratio_arithmetic_is_exact_to_three_decimals() -> None:
    """A ratio of 0.001 adds up exactly, as A6's three decimals require."""
    throttle = TokenThrottle(max_tokens=10, token_ratio=0.001)
    throttle.record_failure()
    for _ in range(1000):
        throttle.record_success()

    assert throttle.tokens == 10


# Server calls (0-based) that succeed in grpc-go's TestRetryThrottling; all others
# fail with UNAVAILABLE, which the retry policy there retries.
SUCCEEDS = {0, 3, 6, 10, 11, 12, 13, 14, 16, 18}

# grpc-go's table: each client RPC's code, and `i` afterwards: the 0-based index of
# the last server call that RPC made.
GRPC_GO_TABLE = [
    ("OK", 0),
    ("OK", 3),
    ("OK", 6),
    ("Unavailable", 8),
    ("Unavailable", 9),
    ("OK", 10),
    ("OK", 11),
    ("OK", 12),
    ("OK", 13),
    ("OK", 14),
    ("OK", 16),
    ("Unavailable", 17),
]

# Tokens after each RPC, by A6's arithmetic (failure -1, success +0.5, retry while > 5):
#  1: call 0 ok                          10 (capped)
#  2: 1 fail 9, 2 fail 8, 3 ok           8.5
#  3: 4 fail 7.5, 5 fail 6.5, 6 ok       7
#  4: 7 fail 6 (retry), 8 fail 5 (stop)  5
#  5: 9 fail 4 (stop)                    4
#  6-10: calls 10-14 ok                  4.5, 5, 5.5, 6, 6.5
# 11: 15 fail 5.5 (retry), 16 ok         6
# 12: 17 fail 5 (stop)                   5
TOKENS_AFTER = [10, 8.5, 7, 5, 4, 4.5, 5, 5.5, 6, 6.5, 6, 5]


async def test_replays_grpc_gos_retry_throttling_table() -> None:
    """R9b: maxTokens 10, tokenRatio 0.5, 4 attempts: all 12 (code, call index) pairs match.

    grpc-go's server counts calls from 0 in ``i`` and its table records ``i`` after
    each client RPC, i.e. the index of the last server call that RPC made. OK/3 is
    an RPC whose calls 1 and 2 failed and were retried; Unavailable/8 is one whose
    call 7 failed and was retried (6 tokens left), then call 8 failed leaving 5,
    which is not more than half, so the throttle stopped it. No RPC reaches the
    4-attempt limit: every Unavailable is the throttle's doing.
    """
    throttle = TokenThrottle(max_tokens=10, token_ratio=0.5)
    server = RecordingEndpoint[None, str](
        *("ok" if i in SUCCEEDS else Unavailable("retryable error") for i in range(19))
    )
    client = retry(max_attempts=4, backoff=Constant(0), budget=throttle)(server)

    table: list[tuple[str, int]] = []
    tokens: list[float] = []
    refusals: list[RetriesExhausted] = []
    for _ in GRPC_GO_TABLE:
        try:
            await client(None)
        except RetriesExhausted as exc:
            refusals.append(exc)
            table.append(("Unavailable", server.calls - 1))
        else:
            table.append(("OK", server.calls - 1))
        tokens.append(throttle.tokens)

    assert table == GRPC_GO_TABLE
    assert len(refusals) == 3
    assert all(r.budget_exhausted and isinstance(r.final, Unavailable) for r in refusals)
    assert tokens == TOKENS_AFTER


async def test_errors_the_policy_would_not_retry_cost_no_token() -> None:
    """Only retryable failures count, as A6 counts only retryable status codes."""
    throttle = TokenThrottle()
    server = RecordingEndpoint[None, str](then=ValueError("invalid argument"))
    client = retry(
        budget=throttle, should_retry=lambda attempt, exc: not isinstance(exc, ValueError)
    )(server)

    for _ in range(20):
        with pytest.raises(ValueError, match="invalid argument"):
            await client(None)

    assert throttle.tokens == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_tokens": 0}, "max_tokens must be in"),
        ({"max_tokens": 1001}, "max_tokens must be in"),
        ({"token_ratio": 0}, "token_ratio must be at least 0.001"),
        ({"token_ratio": 0.0004}, "token_ratio must be at least 0.001"),
        ({"token_ratio": float("inf")}, "token_ratio must be at least 0.001"),
    ],
)
def test_throttle_refuses_bad_settings(kwargs: dict[str, float], message: str) -> None:
    """Settings outside A6's ranges raise ValueError at construction."""
    with pytest.raises(ValueError, match=message):
        TokenThrottle(**kwargs)


def test_throttle_repr_shows_settings_and_tokens() -> None:
    """repr shows the settings and the tokens left."""
    throttle = TokenThrottle()
    throttle.record_failure()

    assert repr(throttle) == "TokenThrottle(max_tokens=10, token_ratio=0.5, tokens=9.0)"
