"""Retry a call on freshly picked instances (Go kit's ``lb.Retry`` and ``RetryWithCallback``).

`retry` returns an endpoint that picks an endpoint from a balancer for every attempt, so
a retry goes to another instance, not back to the one that just failed. It is built on
`pygokit.retry.retry_calls`, so it has one deadline across all attempts and the waits
between them, optional backoff and a retry budget, and gives up with
`pygokit.retry.RetriesExhausted` holding every attempt's error, on timeout too.

What it keeps from Go kit:

- *max_attempts* counts every attempt, the first included (Go kit's ``max``).
- A balancer error (`pygokit.sd.NoEndpoints`) counts as a failed attempt, so with nothing
  to call the retry fails after *max_attempts* quick picks instead of hanging.
- No backoff unless you ask for one: the next attempt goes to another instance at once.

What it does differently: on timeout it raises `pygokit.retry.RetriesExhausted`
(``deadline_exceeded=True``, every error so far) rather than a bare deadline error; each
attempt avoids the endpoints this call has already tried, re-picking a few times when the
balancer returns one of them (with fewer endpoints than attempts, repeats are unavoidable);
and errors ``should_retry`` rejects are raised unchanged.

`retry_with_callback` lets a function decide after each failure, as Go kit's
``RetryWithCallback``: ``callback(n, error)`` returns ``(keep_trying, replacement)``. When
it says stop, the call raises `pygokit.retry.RetriesExhausted` with every error, or, if it
gave a replacement, raises the replacement chained from that `RetriesExhausted`.

Example::

    sum_ = retry(3, 1.0, RoundRobin(endpointer))
    response = await sum_(SumRequest(a=1, b=2))
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TypeAlias, TypeVar

from pygokit.clock import Clock, Sleep
from pygokit.endpoint import Endpoint
from pygokit.retry import (
    Backoff,
    Budget,
    Constant,
    RetriesExhausted,
    RetryPolicy,
    ShouldRetry,
    retry_calls,
)
from pygokit.sd.lb.balancer import Balancer

__all__ = ["Callback", "retry", "retry_with_callback"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")

Callback: TypeAlias = Callable[[int, Exception], tuple[bool, Exception | None]]
"""Called with the number of the attempt that failed (1 = the first) and its error;
returns whether to keep trying and an error to raise instead (or None) if not."""

_REPICKS = 8
"""Extra picks an attempt makes to find an endpoint its call has not tried yet."""


def _check_balancer(balancer: object) -> None:
    if not callable(getattr(balancer, "endpoint", None)):
        raise TypeError(f"balancer must have an endpoint() method, got {balancer!r}")


def _pick(balancer: Balancer[Req, Resp], tried: list[Endpoint[Req, Resp]]) -> Endpoint[Req, Resp]:
    """Pick an endpoint, preferring one this call has not tried; remember it."""
    endpoint = balancer.endpoint()
    for _ in range(_REPICKS if tried else 0):
        if all(endpoint is not seen for seen in tried):
            break
        endpoint = balancer.endpoint()
    tried.append(endpoint)
    return endpoint


def retry(
    max_attempts: int,
    timeout: float,
    balancer: Balancer[Req, Resp],
    *,
    backoff: Backoff | None = None,
    should_retry: ShouldRetry | None = None,
    budget: Budget | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> Endpoint[Req, Resp]:
    """Return an endpoint that calls *balancer*'s pick, retrying failures on other picks.

    Args:
        max_attempts: Attempts in all, the first included; at least 1.
        timeout: Seconds for all attempts and waits together.
        balancer: Picks the endpoint for each attempt.
        backoff: The wait before each retry; None retries at once, as Go kit does.
        should_retry: Given the failed attempt's number and error, whether to retry;
            None retries every `Exception`. Rejected errors are raised unchanged.
        budget: A `pygokit.retry.RetryBudget` (or other budget) shared per upstream.
        clock: Monotonic seconds for the deadline; a `pygokit.testing.FakeClock` in tests.
        sleep: Waits out the backoff; the fake clock's ``sleep`` in tests.

    Raises (from the returned endpoint):
        pygokit.retry.RetriesExhausted: Attempts, time or budget ran out.
    """
    _check_balancer(balancer)
    policy = RetryPolicy(
        max_attempts=max_attempts,
        timeout=timeout,
        backoff=Constant(0) if backoff is None else backoff,
        should_retry=should_retry,
        budget=budget,
        clock=clock,
        sleep=sleep,
    )

    async def endpoint(request: Req) -> Resp:
        tried: list[Endpoint[Req, Resp]] = []
        return await retry_calls(lambda: _pick(balancer, tried)(request), policy)

    return endpoint


class _Stop(Exception):
    """The callback said stop; carries its replacement error, if any."""

    def __init__(self, replacement: Exception | None) -> None:
        super().__init__(replacement)
        self.replacement = replacement


def _not_stopped(attempt: int, error: Exception) -> bool:
    return not isinstance(error, _Stop)


def retry_with_callback(
    timeout: float,
    balancer: Balancer[Req, Resp],
    callback: Callback,
    *,
    backoff: Backoff | None = None,
    budget: Budget | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> Endpoint[Req, Resp]:
    """Return an endpoint that retries on fresh picks for as long as *callback* says so.

    After each failed attempt ``callback(n, error)`` returns ``(keep_trying,
    replacement)``. To retry until the deadline, return ``(True, None)`` and pass a
    *backoff*, or a balancer with nothing to pick from spins until *timeout*.

    Args:
        timeout: Seconds for all attempts and waits together.
        balancer: Picks the endpoint for each attempt.
        callback: Decides after each failure; see above.
        backoff: The wait before each retry; None retries at once, as Go kit does.
        budget: A retry budget shared per upstream; None for no limit.
        clock: Monotonic seconds for the deadline; a `pygokit.testing.FakeClock` in tests.
        sleep: Waits out the backoff; the fake clock's ``sleep`` in tests.

    Raises (from the returned endpoint):
        pygokit.retry.RetriesExhausted: The callback said stop without a replacement, or
            the deadline or budget ran out; ``attempts`` holds every error.
        Exception: The callback's replacement, chained from that `RetriesExhausted`.
    """
    _check_balancer(balancer)
    if not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r}")
    policy = RetryPolicy(
        max_attempts=sys.maxsize,
        timeout=timeout,
        backoff=Constant(0) if backoff is None else backoff,
        should_retry=_not_stopped,
        budget=budget,
        clock=clock,
        sleep=sleep,
    )

    async def endpoint(request: Req) -> Resp:
        tried: list[Endpoint[Req, Resp]] = []
        errors: list[Exception] = []

        async def attempt() -> Resp:
            try:
                return await _pick(balancer, tried)(request)
            except Exception as exc:
                errors.append(exc)
                keep_trying, replacement = callback(len(errors), exc)
                if keep_trying:
                    raise
                raise _Stop(replacement) from exc

        try:
            return await retry_calls(attempt, policy)
        except _Stop as stop:
            exhausted = RetriesExhausted(errors)
            if stop.replacement is None:
                raise exhausted from errors[-1]
            raise stop.replacement from exhausted

    return endpoint
