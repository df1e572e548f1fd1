"""Shared test helpers: Go kit's failing-endpoint harness and small endpoint doubles."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from pygokit.circuitbreaker import CircuitOpen, State
from pygokit.endpoint import AnyMiddleware
from pygokit.testing import RecordingEndpoint


class Tragedy(Exception):
    """The error the harness's endpoint starts raising (Go kit's "tragedy+disaster")."""


async def failing_endpoint_harness(
    breaker: AnyMiddleware,
    *,
    prime_with: int,
    should_pass: Callable[[int], bool],
    open_error: type[CircuitOpen] = CircuitOpen,
) -> int:
    """Go kit's ``testFailingEndpoint``, ported; returns how many failing calls passed.

    Prime the breaker with *prime_with* successes; switch the endpoint to failing; the
    calls ``n = 0, 1, ...`` for which ``should_pass(n)`` must reach the endpoint and
    raise its own error; then 10 more calls must raise *open_error* without reaching it.
    """
    disaster = Tragedy("tragedy+disaster")
    endpoint = RecordingEndpoint[int, str](*["ok"] * prime_with, then=disaster)
    guarded = breaker(endpoint)

    for i in range(prime_with):
        assert await guarded(i) == "ok", f"priming call {i} failed"

    passed = 0
    while should_pass(passed):
        with pytest.raises(Tragedy) as info:
            await guarded(prime_with + passed)
        assert info.value is disaster
        passed += 1
    through = endpoint.calls

    for i in range(10):
        with pytest.raises(open_error):
            await guarded(-i)
    assert endpoint.calls == through, "calls leaked through an open circuit"
    return passed


class Changes:
    """A state-change listener that records every ``(name, from, to)`` it is told."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, State, State]] = []

    def __call__(self, name: str, from_state: State, to_state: State) -> None:
        self.seen.append((name, from_state, to_state))


@dataclass(frozen=True)
class Reply:
    """A response that may carry a business error, as a `Failer`."""

    err: Exception | None = None

    def failed(self) -> Exception | None:
        """The business error, if any."""
        return self.err


async def settle(tasks: list[asyncio.Task[str]], done: int) -> None:
    """Yield to the loop until at least *done* of *tasks* have finished."""
    for _ in range(1000):
        if sum(task.done() for task in tasks) >= done:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"only {sum(t.done() for t in tasks)} of {done} tasks finished")
