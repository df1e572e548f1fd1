"""instrumenting_middleware: counts and durations per method and outcome."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from pygokit.metrics import generic
from pygokit.metrics.middleware import instrumenting_middleware
from pygokit.testing import FakeClock, RecordingEndpoint


@dataclass
class Reply:
    """A response that may carry a business error."""

    err: Exception | None = None

    def failed(self) -> Exception | None:
        """The business error, if any."""
        return self.err


class Slow:
    """An endpoint that takes a fixed time on the fake clock, then answers from a script."""

    def __init__(self, clock: FakeClock, seconds: float, inner: RecordingEndpoint[str, Reply]):
        self.clock, self.seconds, self.inner = clock, seconds, inner

    async def __call__(self, request: str) -> Reply:
        """Advance the clock, then delegate."""
        self.clock.advance(self.seconds)
        return await self.inner(request)


async def test_counts_and_times_successes_failures_and_business_errors() -> None:
    """Each outcome lands under success=true or false, with its duration in seconds."""
    clock = FakeClock()
    requests, duration = generic.Counter("requests"), generic.Histogram("duration")
    inner = RecordingEndpoint[str, Reply](Reply(), Reply(ValueError("empty")), RuntimeError("db"))
    endpoint = instrumenting_middleware(requests, duration, method="uppercase", clock=clock)(
        Slow(clock, 0.5, inner)
    )

    await endpoint("a")
    await endpoint("")
    with pytest.raises(RuntimeError):
        await endpoint("b")

    ok = {"method": "uppercase", "success": "true"}
    failed = {"method": "uppercase", "success": "false"}
    assert requests.labels(**ok).value() == 1
    assert requests.labels(**failed).value() == 2
    assert duration.labels(**ok).sum() == 0.5
    assert duration.labels(**failed).sum() == 1.0


async def test_without_method_only_success_is_labelled() -> None:
    """With no method, the series are labelled by success alone."""
    requests, duration = generic.Counter("requests"), generic.Histogram("duration")
    endpoint = instrumenting_middleware(requests, duration)(RecordingEndpoint[str, int](1))
    await endpoint("x")
    assert requests.labels(success="true").value() == 1
    assert duration.labels(success="true").count() == 1


async def test_cancelled_calls_are_not_recorded() -> None:
    """A call cancelled mid-flight raises CancelledError and records nothing."""
    gate = asyncio.Event()
    inner = RecordingEndpoint[str, int](1, gate=gate)
    requests, duration = generic.Counter("requests"), generic.Histogram("duration")
    endpoint = instrumenting_middleware(requests, duration, method="m")(inner)

    task = asyncio.create_task(endpoint("x"))
    await inner.wait_for_calls(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    for success in ("true", "false"):
        assert requests.labels(method="m", success=success).value() == 0
        assert duration.labels(method="m", success=success).count() == 0
