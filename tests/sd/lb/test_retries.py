"""lb.retry and retry_with_callback: Go kit's retry tests in spirit, on a fake clock (R8)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from pygokit.endpoint import Endpoint
from pygokit.retry import Constant, RetriesExhausted, RetryBudget
from pygokit.sd import FixedEndpointer
from pygokit.sd.lb import NoEndpoints, Random, RoundRobin, retry, retry_with_callback
from pygokit.testing import FakeClock, RecordingEndpoint


def upstreams(*scripts: str | Exception) -> list[RecordingEndpoint[str, str]]:
    """One recording endpoint per script item, each answering (or failing) that way forever."""
    return [RecordingEndpoint[str, str](then=script) for script in scripts]


def down(name: str) -> ConnectionError:
    """The error of instance *name* when it is down."""
    return ConnectionError(f"{name} is down")


async def test_a_success_is_returned_after_one_attempt() -> None:
    """Go kit's TestRetryMaxSuccess: the first instance answers; nothing else is called."""
    a, b = upstreams("a", "b")
    call = retry(3, 1.0, RoundRobin(FixedEndpointer([a, b])))
    assert await call("req") == "a"
    assert (a.calls, b.calls) == (1, 0)


async def test_failures_move_on_to_other_instances() -> None:
    """R8, Go kit's TestRetryMaxPartialFail: two instances fail, the third answers."""
    a, b, c = upstreams(down("a"), down("b"), "c")
    call = retry(3, 1.0, RoundRobin(FixedEndpointer([a, b, c])))
    assert await call("req") == "c"
    assert (a.calls, b.calls, c.calls) == (1, 1, 1)


async def test_all_attempts_failing_raises_every_error() -> None:
    """R8, Go kit's TestRetryMaxTotalFail: max_attempts attempts, each error kept in order."""
    a, b, c = upstreams(down("a"), down("b"), down("c"))
    call = retry(3, 1.0, RoundRobin(FixedEndpointer([a, b, c])))
    with pytest.raises(RetriesExhausted) as info:
        await call("req")
    assert [str(error) for error in info.value.attempts] == [
        "a is down",
        "b is down",
        "c is down",
    ]
    assert not info.value.deadline_exceeded


async def test_no_endpoints_counts_as_attempts_and_fails_fast() -> None:
    """F2: with nothing to call, each attempt is a NoEndpoints and the call fails at once."""
    clock = FakeClock()
    call = retry(3, 1.0, RoundRobin(FixedEndpointer[str, str]([])), clock=clock)
    with pytest.raises(RetriesExhausted) as info:
        await call("req")
    assert len(info.value.attempts) == 3
    assert all(isinstance(error, NoEndpoints) for error in info.value.attempts)
    assert clock() == 0


async def test_the_deadline_spans_every_attempt_and_wait() -> None:
    """R8: attempts at 0, 0.4 and 0.8 s; another wait would pass the 1 s deadline."""
    clock = FakeClock(auto_advance=True)
    endpoints = FixedEndpointer(upstreams(down("a"), down("b"), down("c")))
    call = retry(
        10,
        1.0,
        RoundRobin(endpoints),
        backoff=Constant(0.4),
        clock=clock,
        sleep=clock.sleep,
    )
    with pytest.raises(RetriesExhausted) as info:
        await call("req")
    assert info.value.deadline_exceeded
    assert len(info.value.attempts) == 3
    assert clock() == pytest.approx(0.8)


async def test_an_attempt_cut_by_the_deadline_keeps_the_earlier_errors() -> None:
    """On timeout, RetriesExhausted holds the earlier errors and the deadline's TimeoutError."""
    hang = RecordingEndpoint[str, str](then="late", gate=asyncio.Event())
    failing = RecordingEndpoint[str, str](then=down("a"))
    call = retry(3, 0.05, RoundRobin(FixedEndpointer([failing, hang])))
    with pytest.raises(RetriesExhausted) as info:
        await call("req")
    assert info.value.deadline_exceeded
    assert [type(error) for error in info.value.attempts] == [ConnectionError, TimeoutError]
    assert hang.in_flight == 0  # the hanging attempt was cancelled, not abandoned


async def test_errors_should_retry_rejects_are_raised_unchanged() -> None:
    """An error should_retry rejects ends the call as is, with no further attempt."""
    bad_request = ValueError("bad request")
    a, b = upstreams(bad_request, "b")
    call = retry(
        3,
        1.0,
        RoundRobin(FixedEndpointer([a, b])),
        should_retry=lambda attempt, error: not isinstance(error, ValueError),
    )
    with pytest.raises(ValueError, match="bad request"):
        await call("req")
    assert b.calls == 0


async def test_an_empty_budget_stops_the_retries() -> None:
    """A retry budget with nothing left ends the call after the first attempt."""
    clock = FakeClock()
    a, b = upstreams(down("a"), "b")
    call = retry(
        3,
        1.0,
        RoundRobin(FixedEndpointer([a, b])),
        budget=RetryBudget(percent=0, min_retries_per_second=0, clock=clock),
        clock=clock,
    )
    with pytest.raises(RetriesExhausted) as info:
        await call("req")
    assert info.value.budget_exhausted
    assert b.calls == 0


class Sticky:
    """A balancer that returns the same endpoint *repeat* times before moving on."""

    def __init__(self, endpoints: list[RecordingEndpoint[str, str]], repeat: int) -> None:
        self.picks = 0
        self._order: Iterator[RecordingEndpoint[str, str]] = (
            endpoint for endpoint in iter_forever(endpoints) for _ in range(repeat)
        )

    def endpoint(self) -> Endpoint[str, str]:
        """The next endpoint of the sticky sequence."""
        self.picks += 1
        return next(self._order)


def iter_forever(
    endpoints: list[RecordingEndpoint[str, str]],
) -> Iterator[RecordingEndpoint[str, str]]:
    """Cycle through *endpoints* without end."""
    while True:
        yield from endpoints


async def test_attempts_avoid_instances_already_tried() -> None:
    """R8: a balancer that keeps returning a tried endpoint is asked again for another."""
    a, b, c = upstreams(down("a"), down("b"), "c")
    balancer = Sticky([a, b, c], repeat=4)
    assert await retry(3, 1.0, balancer)("req") == "c"
    assert (a.calls, b.calls, c.calls) == (1, 1, 1)


async def test_with_one_instance_the_retries_reuse_it() -> None:
    """With fewer instances than attempts, repeats are unavoidable and re-picks are bounded."""
    (only,) = upstreams(down("only"))
    balancer = Sticky([only], repeat=1)
    with pytest.raises(RetriesExhausted):
        await retry(3, 1.0, balancer)("req")
    assert only.calls == 3
    assert balancer.picks == 1 + 2 * 9


async def test_random_attempts_almost_always_go_to_distinct_instances() -> None:
    """R8: under Random, nearly every call's three attempts hit three different instances.

    Without avoidance only 3!/3**3 = 22 % of calls would; with up to 8 re-picks, a call
    misses only if 9 picks in a row land on the 2 instances already tried: 2.6 %.
    """
    distinct = 0
    for seed in range(1000):
        endpoints = upstreams(down("a"), down("b"), down("c"))
        call = retry(3, 1.0, Random(FixedEndpointer(endpoints), seed=seed))
        with pytest.raises(RetriesExhausted):
            await call("req")
        distinct += [endpoint.calls for endpoint in endpoints] == [1, 1, 1]
    assert distinct > 950


async def test_cancelling_the_caller_is_not_retried() -> None:
    """Cancellation of the caller ends the call at once; it is never an attempt."""
    gate = asyncio.Event()
    a = RecordingEndpoint[str, str](then="a", gate=gate)
    b = RecordingEndpoint[str, str](then="b")
    task = asyncio.create_task(retry(3, 10.0, RoundRobin(FixedEndpointer([a, b])))("req"))
    await a.wait_for_calls(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert b.calls == 0


async def test_one_hundred_concurrent_calls_lose_nothing_to_a_dead_instance() -> None:
    """F1 in process: with one of three instances down, every one of 1,000 calls succeeds."""
    a, dead, c = upstreams("a", down("dead"), "c")
    call = retry(3, 1.0, RoundRobin(FixedEndpointer([a, dead, c])))

    async def client() -> list[str]:
        return [await call("req") for _ in range(10)]

    async with asyncio.TaskGroup() as group:
        results = [group.create_task(client()) for _ in range(100)]
    answers = [answer for result in results for answer in result.result()]
    assert len(answers) == 1000
    assert set(answers) == {"a", "c"}


def test_the_balancer_must_have_an_endpoint_method() -> None:
    """Go kit panics on a nil balancer; here it is a TypeError at construction."""
    with pytest.raises(TypeError, match="endpoint"):
        retry(3, 1.0, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="endpoint"):
        retry_with_callback(1.0, None, lambda n, e: (True, None))  # type: ignore[arg-type]


def test_bad_settings_are_refused_at_construction() -> None:
    """max_attempts below 1, a bad timeout or a callback that is not callable are errors."""
    balancer = RoundRobin(FixedEndpointer[str, str]([]))
    with pytest.raises(ValueError, match="max_attempts"):
        retry(0, 1.0, balancer)
    with pytest.raises(ValueError, match="timeout"):
        retry(3, -1.0, balancer)
    with pytest.raises(TypeError, match="callback"):
        retry_with_callback(1.0, balancer, None)  # type: ignore[arg-type]


async def test_callback_sees_each_error_unchanged_and_its_number() -> None:
    """Go kit's TestErrorPassedUnchangedToCallback: (n, error) with n from 1."""
    errors = [down("a"), down("b")]
    a, b, c = upstreams(errors[0], errors[1], "c")
    seen: list[tuple[int, Exception]] = []

    def callback(n: int, error: Exception) -> tuple[bool, Exception | None]:
        seen.append((n, error))
        return True, None

    call = retry_with_callback(1.0, RoundRobin(FixedEndpointer([a, b, c])), callback)
    assert await call("req") == "c"
    assert seen == [(1, errors[0]), (2, errors[1])]


async def test_callback_stopping_raises_every_error() -> None:
    """When the callback says stop, RetriesExhausted holds every error so far."""
    a, b, c = upstreams(down("a"), down("b"), "c")
    call = retry_with_callback(
        1.0, RoundRobin(FixedEndpointer([a, b, c])), lambda n, error: (n < 2, None)
    )
    with pytest.raises(RetriesExhausted) as info:
        await call("req")
    assert [str(error) for error in info.value.attempts] == ["a is down", "b is down"]
    assert c.calls == 0


async def test_callback_replacement_is_raised_from_the_attempts() -> None:
    """Go kit's TestAbortEarlyCustomMessage: the replacement is raised, chained to every error."""
    custom = LookupError("my custom error")
    (a,) = upstreams(down("a"))
    call = retry_with_callback(1.0, RoundRobin(FixedEndpointer([a])), lambda n, e: (False, custom))
    with pytest.raises(LookupError) as info:
        await call("req")
    assert info.value is custom
    cause = info.value.__cause__
    assert isinstance(cause, RetriesExhausted)
    assert [str(error) for error in cause.attempts] == ["a is down"]


async def test_callback_retrying_for_ever_is_bounded_by_the_deadline() -> None:
    """A callback that always keeps trying stops at the deadline with every error."""
    clock = FakeClock(auto_advance=True)
    (a,) = upstreams(down("a"))
    call = retry_with_callback(
        1.0,
        RoundRobin(FixedEndpointer([a])),
        lambda n, e: (True, None),
        backoff=Constant(0.3),
        clock=clock,
        sleep=clock.sleep,
    )
    with pytest.raises(RetriesExhausted) as info:
        await call("req")
    assert info.value.deadline_exceeded
    assert len(info.value.attempts) == a.calls == 4  # at 0, 0.3, 0.6 and 0.9 s
