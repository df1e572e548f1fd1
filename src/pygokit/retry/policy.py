"""Retry failed calls, with backoff, a budget and one deadline over all attempts.

`retry` is the endpoint middleware; `retry_calls` is the loop behind it, which runs any
zero-argument attempt factory under a `RetryPolicy`. The middleware's attempts call the
wrapped endpoint again; Go kit's ``lb.Retry`` passes ``lambda: balancer.endpoint()(request)``
so that each attempt goes to a freshly picked instance.

What the loop does with each attempt's outcome:

- A response is returned at once, never retried. A `pygokit.endpoint.Failer` response
  carrying a business error is a response too.
- An `Exception` that ``should_retry`` rejects is raised unchanged, as if there were no
  retry middleware (so a transport still maps it to its status code).
- Any other `Exception` is retried after ``backoff.delay(n)`` seconds, unless that was
  the last allowed attempt, the wait would reach the deadline, or the budget refuses;
  then `RetriesExhausted` is raised with every attempt's error.
- `asyncio.CancelledError` (and any other `BaseException`) propagates untouched, in an
  attempt or in a backoff sleep, and is never retried.

The deadline (``timeout``) spans all attempts and the sleeps between them, as in gRPC
and Go kit. It is read on the injected ``clock``: ``deadline = clock() + timeout`` when
the call starts. Before each backoff sleep the loop gives up if ``clock() + delay`` would
reach the deadline, rather than sleep towards an attempt it has no time for, and it
checks the clock again after the sleep. Each attempt runs under
``asyncio.timeout(deadline - clock())``, which the event loop enforces in real time. In
production the two clocks run together and an attempt that hangs is cut at the deadline.
With a `pygokit.testing.FakeClock`, fake time moves only when the test moves it: the
backoff and deadline checks are exact in fake time, while an attempt that really hangs
is cut only once its remaining time has passed on the real clock.

Example::

    endpoint = retry(max_attempts=3, timeout=2.0, budget=RetryBudget())(client)
    try:
        response = await endpoint(request)
    except RetriesExhausted as exc:
        log.error("upstream down", attempts=len(exc.attempts), error=repr(exc.final))
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias, TypeVar

from pygokit.clock import Clock, Sleep
from pygokit.endpoint import AnyMiddleware, Endpoint
from pygokit.errors import GoKitError
from pygokit.retry.backoff import Backoff, Exponential
from pygokit.retry.budget import Budget

__all__ = ["RetriesExhausted", "RetryPolicy", "ShouldRetry", "retry", "retry_calls"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")
T = TypeVar("T")

ShouldRetry: TypeAlias = Callable[[int, Exception], bool]
"""Called with the number of the attempt that failed (1 = the first) and its error;
returns whether the error is worth another attempt."""


class RetriesExhausted(GoKitError):
    """Every attempt allowed failed; ``attempts`` holds each attempt's error in order.

    Raised ``from`` the last attempt's error. Why it stopped is an attribute: neither
    flag means *max_attempts* attempts failed.

    Attributes:
        attempts: Each attempt's error, first to last.
        final: The last attempt's error (``attempts[-1]``).
        deadline_exceeded: The deadline passed, or would have passed during the next
            backoff. If it cut an attempt short, that attempt's error is the
            `TimeoutError` of the deadline.
        budget_exhausted: The retry budget or throttle refused another attempt.
    """

    def __init__(
        self,
        attempts: Sequence[Exception],
        *,
        deadline_exceeded: bool = False,
        budget_exhausted: bool = False,
    ) -> None:
        if not attempts:
            raise ValueError("RetriesExhausted needs the error of at least one attempt")
        *earlier, final = attempts
        count = f"{len(attempts)} attempt{'' if len(attempts) == 1 else 's'}"
        if deadline_exceeded:
            count += " (deadline exceeded)"
        elif budget_exhausted:
            count += " (retry budget exhausted)"
        message = f"gave up after {count}: {final!r}"
        if earlier:
            message += f" (previously: {'; '.join(map(repr, earlier))})"
        super().__init__(message)
        self.attempts = tuple(attempts)
        self.final = final
        self.deadline_exceeded = deadline_exceeded
        self.budget_exhausted = budget_exhausted


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How to retry: how often, how long, how far apart, and which errors.

    Build one when wiring the service and share it; it holds no per-call state (the
    budget it refers to holds the shared state).

    Args:
        max_attempts: Attempts in all, the first included; at least 1.
        timeout: Seconds for all attempts and backoff sleeps together; None for no
            deadline. See the module docstring for how it is enforced.
        backoff: The wait before each retry; `Exponential` (0.1 s doubling to 10 s,
            +/-20 % jitter) by default.
        should_retry: Given the failed attempt's number and error, whether to retry;
            None retries every `Exception`.
        budget: A `RetryBudget`, `ConcurrencyRetryBudget`, `TokenThrottle` or any
            `Budget`, consulted before each retry; None for no limit.
        clock: Monotonic seconds for the deadline; pass a `pygokit.testing.FakeClock`.
        sleep: Waits out the backoff; pass the fake clock's ``sleep`` in tests.
    """

    max_attempts: int = 3
    timeout: float | None = None
    backoff: Backoff = field(default_factory=Exponential)
    should_retry: ShouldRetry | None = None
    budget: Budget | None = None
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep

    def __post_init__(self) -> None:
        if not (isinstance(self.max_attempts, int) and self.max_attempts >= 1):
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts!r}")
        if self.timeout is not None and not 0 < self.timeout < math.inf:
            raise ValueError(
                f"timeout must be a positive number of seconds or None, got {self.timeout!r}"
            )


async def retry_calls(call: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """Await ``call()`` until it returns, retrying its failures as *policy* says.

    Each attempt calls *call* afresh, so it can pick a new endpoint every time.

    Raises:
        RetriesExhausted: The attempts, the deadline or the budget ran out.
        Exception: An error that ``policy.should_retry`` rejected, unchanged.

    Example::

        policy = RetryPolicy(max_attempts=3, timeout=1.0)
        response = await retry_calls(lambda: balancer.endpoint()(request), policy)
    """
    return await _run(call, policy, None)


async def _run(
    call: Callable[[], Awaitable[T]], policy: RetryPolicy, failure: Exception | None
) -> T:
    """The retry loop; *failure* is the error of a first attempt already made, if any."""
    clock, budget, should_retry = policy.clock, policy.budget, policy.should_retry
    deadline = None if policy.timeout is None else clock() + policy.timeout
    errors: list[Exception] = []
    retries = 0
    if budget is not None:
        budget.deposit()
    try:
        while True:
            if failure is None:
                scope: asyncio.Timeout | None = None
                try:
                    if deadline is None:
                        response = await call()
                    else:
                        async with asyncio.timeout(deadline - clock()) as scope:
                            response = await call()
                except Exception as exc:
                    if scope is not None and scope.expired():
                        errors.append(exc)
                        raise RetriesExhausted(errors, deadline_exceeded=True) from exc
                    failure = exc
                else:
                    if budget is not None:
                        budget.record_success()
                    return response
            error, failure = failure, None
            if should_retry is not None and not should_retry(len(errors) + 1, error):
                raise error
            errors.append(error)
            if budget is not None:
                budget.record_failure()
            attempt = len(errors)
            if attempt >= policy.max_attempts:
                raise RetriesExhausted(errors) from error
            delay = policy.backoff.delay(attempt)
            if deadline is not None and clock() + delay >= deadline:
                raise RetriesExhausted(errors, deadline_exceeded=True) from error
            if budget is not None and not budget.try_withdraw():
                raise RetriesExhausted(errors, budget_exhausted=True) from error
            retries += 1
            if delay > 0:
                await policy.sleep(delay)
                if deadline is not None and clock() >= deadline:
                    raise RetriesExhausted(errors, deadline_exceeded=True) from error
    finally:
        if budget is not None:
            budget.release(retries)


def retry(
    *,
    max_attempts: int = 3,
    timeout: float | None = None,
    backoff: Backoff | None = None,
    should_retry: ShouldRetry | None = None,
    budget: Budget | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> AnyMiddleware:
    """Return a middleware that retries failed calls; the arguments are `RetryPolicy`'s.

    A call that succeeds at once costs one ``try`` around the wrapped endpoint when
    there is neither *timeout* nor *budget*; a deadline adds an `asyncio.timeout` per
    attempt, a budget a few method calls.

    Args:
        max_attempts: Attempts in all, the first included; at least 1.
        timeout: Seconds for all attempts and backoff sleeps together; None for none.
        backoff: The wait before each retry; None for `Exponential` with its defaults
            (0.1 s doubling to 10 s, +/-20 % jitter).
        should_retry: Given the failed attempt's number and error, whether to retry;
            None retries every `Exception`.
        budget: Consulted before each retry; share one per upstream. None for no limit.
        clock: Monotonic seconds for the deadline; pass a `pygokit.testing.FakeClock`.
        sleep: Waits out the backoff; pass the fake clock's ``sleep`` in tests.

    Example::

        sum_endpoint = retry(max_attempts=3, timeout=1.0, should_retry=transient)(client)
    """
    policy = RetryPolicy(
        max_attempts=max_attempts,
        timeout=timeout,
        backoff=Exponential() if backoff is None else backoff,
        should_retry=should_retry,
        budget=budget,
        clock=clock,
        sleep=sleep,
    )
    plain = timeout is None and budget is None

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        if plain:

            async def endpoint(request: Req) -> Resp:
                try:
                    return await next_(request)
                except Exception as exc:
                    failure = exc
                return await _run(lambda: next_(request), policy, failure)

        else:

            async def endpoint(request: Req) -> Resp:
                return await _run(lambda: next_(request), policy, None)

        return endpoint

    return middleware
