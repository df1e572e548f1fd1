"""RetriesExhausted, argument validation, defaults and types of the retry API."""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_type

import pytest

from pygokit.endpoint import Endpoint, chain
from pygokit.errors import GoKitError
from pygokit.retry import Backoff, Exponential, RetriesExhausted, RetryPolicy, retry


def test_retries_exhausted_message_lists_every_error() -> None:
    """The message names the attempts, the final error and the earlier ones, in order."""
    errors = [ConnectionError("a"), ConnectionError("b"), ConnectionError("down")]

    exc = RetriesExhausted(errors)

    assert str(exc) == (
        "gave up after 3 attempts: ConnectionError('down')"
        " (previously: ConnectionError('a'); ConnectionError('b'))"
    )
    assert isinstance(exc, GoKitError)
    assert exc.attempts == tuple(errors)
    assert exc.final is errors[-1]


def test_retries_exhausted_says_why_it_stopped_early() -> None:
    """A deadline or a budget shows in the message and in the flags."""
    error = ConnectionError("down")

    late = RetriesExhausted([error], deadline_exceeded=True)
    broke = RetriesExhausted([error], budget_exhausted=True)

    assert str(late) == "gave up after 1 attempt (deadline exceeded): ConnectionError('down')"
    assert (late.deadline_exceeded, late.budget_exhausted) == (True, False)
    assert str(broke) == (
        "gave up after 1 attempt (retry budget exhausted): ConnectionError('down')"
    )
    assert (broke.deadline_exceeded, broke.budget_exhausted) == (False, True)


def test_retries_exhausted_needs_an_attempt() -> None:
    """RetriesExhausted without any attempt's error is a programming error."""
    with pytest.raises(ValueError, match="at least one attempt"):
        RetriesExhausted([])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be at least 1, got 0"),
        ({"max_attempts": 2.5}, "max_attempts must be at least 1"),
        ({"timeout": 0.0}, "timeout must be a positive number"),
        ({"timeout": -1.0}, "timeout must be a positive number"),
        ({"timeout": float("inf")}, "timeout must be a positive number"),
    ],
)
def test_bad_settings_are_refused_when_the_middleware_is_built(
    kwargs: dict[str, float], message: str
) -> None:
    """retry() and RetryPolicy validate their arguments up front with ValueError."""
    with pytest.raises(ValueError, match=message):
        retry(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


async def test_the_middleware_keeps_the_endpoints_types() -> None:
    """retry() is an AnyMiddleware: the wrapped endpoint keeps its request/response types."""

    async def length(request: str) -> int:
        return len(request)

    wrapped = retry(max_attempts=2)(length)
    chained = chain(retry(), retry(timeout=1.0))(length)

    assert_type(wrapped, Endpoint[str, int])
    assert_type(chained, Endpoint[str, int])
    assert await wrapped("four") == 4
    assert await chained("three") == 5


def test_policy_defaults_match_the_middleware() -> None:
    """RetryPolicy() is 3 attempts, no deadline, exponential backoff, every error, no budget."""
    policy = RetryPolicy()
    backoff: Backoff = policy.backoff
    should_retry: Callable[[int, Exception], bool] | None = policy.should_retry

    assert (policy.max_attempts, policy.timeout, policy.budget) == (3, None, None)
    assert backoff == Exponential()
    assert should_retry is None
