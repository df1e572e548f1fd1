"""logging_middleware: one event per endpoint call, after it finishes."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass

import pytest

from pygokit.endpoint import Endpoint, chain
from pygokit.log import JSONLogger, LogfmtLogger, level
from pygokit.log.level import Level
from pygokit.log.middleware import Duration, logging_middleware
from pygokit.testing import CapturingLogger, FakeClock, RecordingEndpoint


@dataclass(frozen=True)
class Reply:
    """A response that may carry a business error (a Failer)."""

    value: str
    error: Exception | None = None

    def failed(self) -> Exception | None:
        """Return the business error, if any."""
        return self.error


@dataclass(frozen=True)
class Flagged:
    """A response with a non-callable ``failed`` attribute: not a Failer."""

    failed: bool


class BrokenLogger:
    """A pygokit logger whose every write fails."""

    def log(self, **keyvals: object) -> None:
        """Fail."""
        raise OSError("disk full")


class Stop(BaseException):
    """A BaseException that is not a cancellation, like KeyboardInterrupt."""


def taking(seconds: float, clock: FakeClock, next_: Endpoint[str, Reply]) -> Endpoint[str, Reply]:
    """An endpoint that lets *seconds* of fake time pass, then calls *next_*."""

    async def endpoint(request: str) -> Reply:
        clock.advance(seconds)
        return await next_(request)

    return endpoint


async def test_success_logs_method_and_took_at_info() -> None:
    """A call that returns logs level=info, the method and took in seconds, and nothing else."""
    logger, clock = CapturingLogger(), FakeClock()
    inner = RecordingEndpoint[str, Reply](Reply("ok"))
    endpoint = logging_middleware(logger, method="sum", clock=clock)(taking(0.25, clock, inner))

    assert await endpoint("req") == Reply("ok")

    assert logger.events == [{"level": level.INFO, "method": "sum", "took": 0.25}]
    assert type(logger.events[0]["level"]) is Level
    assert inner.requests == ["req"]


async def test_method_is_omitted_when_not_given() -> None:
    """Without method=, the event has only the level and took."""
    logger, clock = CapturingLogger(), FakeClock()
    endpoint = logging_middleware(logger, clock=clock)(RecordingEndpoint[str, int](7))

    assert await endpoint("req") == 7

    assert logger.events == [{"level": level.INFO, "took": 0.0}]


async def test_took_is_rounded_to_the_microsecond() -> None:
    """took is a float of seconds rounded to six decimal places."""
    logger, clock = CapturingLogger(), FakeClock(start=100.0)
    inner = RecordingEndpoint[str, Reply](Reply("ok"))
    endpoint = logging_middleware(logger, clock=clock)(taking(0.0001234567, clock, inner))

    await endpoint("req")

    assert logger.events[0]["took"] == 0.000123


async def test_default_clock_measures_real_time() -> None:
    """With no clock given, took is a small non-negative float from perf_counter."""
    logger = CapturingLogger()
    endpoint = logging_middleware(logger)(RecordingEndpoint[str, int](1))

    await endpoint("req")

    took = logger.events[0]["took"]
    assert isinstance(took, float)
    assert 0 <= took < 5


async def test_exception_is_logged_at_error_and_reraised_unchanged() -> None:
    """An endpoint that raises logs level=error and err, then the same exception propagates."""
    logger, clock = CapturingLogger(), FakeClock()
    boom = ConnectionError("upstream down")
    inner = RecordingEndpoint[str, Reply](boom)
    endpoint = logging_middleware(logger, method="sum", clock=clock)(taking(1.5, clock, inner))

    with pytest.raises(ConnectionError) as caught:
        await endpoint("req")

    assert caught.value is boom
    assert logger.events == [{"level": level.ERROR, "method": "sum", "took": 1.5, "err": boom}]


async def test_business_error_is_logged_but_the_response_returned() -> None:
    """A Failer response with an error logs level=error and err, and is still returned."""
    logger, clock = CapturingLogger(), FakeClock()
    problem = ValueError("empty string")
    reply = Reply("", problem)
    endpoint = logging_middleware(logger, method="uppercase", clock=clock)(
        RecordingEndpoint[str, Reply](reply)
    )

    assert await endpoint("") is reply

    assert logger.events == [
        {"level": level.ERROR, "method": "uppercase", "took": 0.0, "err": problem}
    ]


async def test_failer_without_error_and_non_failers_log_info() -> None:
    """A Failer whose failed() is None, or an object whose failed is not callable, is a success."""
    logger, clock = CapturingLogger(), FakeClock()
    endpoint = logging_middleware(logger, clock=clock)(
        RecordingEndpoint[str, object](Reply("fine"), Flagged(failed=True))
    )

    await endpoint("a")
    await endpoint("b")

    assert logger.events == [{"level": level.INFO, "took": 0.0}] * 2


async def test_cancellation_propagates_untouched_and_is_logged_as_cancelled() -> None:
    """A call cancelled mid-flight logs cancelled=true at info, no err, and stays cancelled."""
    logger, clock = CapturingLogger(), FakeClock()
    inner = RecordingEndpoint[str, Reply](Reply("never"), gate=asyncio.Event())
    endpoint = logging_middleware(logger, method="sum", clock=clock)(inner)

    task = asyncio.create_task(endpoint("req"))
    await inner.wait_for_calls(1)
    clock.advance(2.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert task.cancelled()
    assert logger.events == [{"level": level.INFO, "method": "sum", "took": 2.0, "cancelled": True}]


async def test_other_base_exceptions_pass_through_without_an_event() -> None:
    """A BaseException that is not a cancellation propagates and logs nothing."""
    logger = CapturingLogger()

    async def stopping(request: str) -> str:
        raise Stop

    endpoint = logging_middleware(logger, clock=FakeClock())(stopping)

    with pytest.raises(Stop):
        await endpoint("req")

    assert logger.events == []


async def test_failing_logger_never_changes_the_outcome() -> None:
    """If the logger raises, the call still returns, raises its own error, or stays cancelled."""
    clock = FakeClock()
    boom = KeyError("k")
    gate = asyncio.Event()
    inner = RecordingEndpoint[str, Reply](Reply("ok"), boom, Reply("late"), gate=gate)
    endpoint = logging_middleware(BrokenLogger(), clock=clock)(inner)

    gate.set()
    assert await endpoint("a") == Reply("ok")
    with pytest.raises(KeyError) as caught:
        await endpoint("b")
    assert caught.value is boom

    gate.clear()
    task = asyncio.create_task(endpoint("c"))
    await inner.wait_for_calls(3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_level_filter_drops_successes_cheaply() -> None:
    """Behind a filter that allows only errors, successes log nothing and failures still log."""
    capture, clock = CapturingLogger(), FakeClock()
    logger = level.Filter(capture, level.allow_error())
    boom = RuntimeError("x")
    endpoint = logging_middleware(logger, method="m", clock=clock)(
        RecordingEndpoint[str, int](1, boom)
    )

    await endpoint("a")
    with pytest.raises(RuntimeError):
        await endpoint("b")

    assert capture.events == [{"level": level.ERROR, "method": "m", "took": 0.0, "err": boom}]


async def test_logfmt_output_and_chain_typing() -> None:
    """In a chain, the middleware keeps the endpoint's types and writes logfmt lines."""
    out, clock = io.StringIO(), FakeClock()
    inner = RecordingEndpoint[str, Reply](Reply("ok"), Reply("", ValueError("empty input")))
    endpoint: Endpoint[str, Reply] = chain(
        logging_middleware(LogfmtLogger(out), method="uppercase", clock=clock)
    )(taking(0.5, clock, inner))

    reply = await endpoint("a")
    await endpoint("")

    assert reply.value == "ok"
    assert out.getvalue().splitlines() == [
        "level=info method=uppercase took=500ms",
        'level=error method=uppercase took=500ms err="empty input"',
    ]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0s"),
        (0.000042, "42µs"),
        (0.0015, "1.5ms"),
        (0.25, "250ms"),
        (2.0, "2s"),
        (61.5, "61.5s"),
    ],
)
def test_duration_prints_like_go_and_stays_a_number(seconds: float, text: str) -> None:
    """A Duration reads like Go's time.Duration as text and is plain seconds in JSON."""
    clock = FakeClock(start=10.0)
    clock.advance(seconds)
    took = Duration.since(10.0, clock)

    assert str(took) == text
    assert took == seconds
    out = io.StringIO()
    JSONLogger(out).log(took=took)
    assert json.loads(out.getvalue()) == {"took": seconds}
