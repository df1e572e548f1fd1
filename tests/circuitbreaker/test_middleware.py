"""circuit_breaker with every breaker: what counts, what doesn't, errors and callbacks."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from pygokit.circuitbreaker import (
    Breaker,
    CircuitBreaker,
    CircuitOpen,
    Counts,
    HystrixBreaker,
    RatioBreaker,
    SlidingWindowBreaker,
    State,
    StateListener,
    TooManyRequests,
    always_failure,
    circuit_breaker,
)
from pygokit.errors import GoKitError
from pygokit.testing import FakeClock, RecordingEndpoint
from tests.circuitbreaker.harness import Changes, Reply, Tragedy, settle

CLOSED, OPEN, HALF_OPEN = State.CLOSED, State.OPEN, State.HALF_OPEN
WAIT = 10.0


def make_breaker(
    kind: str,
    clock: FakeClock,
    *,
    is_failure: Callable[[Exception], bool] = always_failure,
    on_state_change: StateListener | None = None,
) -> CircuitBreaker[Any]:
    """A breaker of *kind* named 'sum' that opens on its first failure for WAIT seconds."""
    common: dict[str, Any] = {
        "is_failure": is_failure,
        "on_state_change": on_state_change,
        "clock": clock,
    }
    if kind == "gobreaker":
        return Breaker(
            "sum", timeout=WAIT, ready_to_trip=lambda c: c.consecutive_failures >= 1, **common
        )
    if kind == "ratio":
        return RatioBreaker("sum", min_observations=0, cooldown=WAIT, **common)
    if kind == "hystrix":
        return HystrixBreaker("sum", request_volume_threshold=1, sleep_window=WAIT, **common)
    assert kind == "sliding"
    return SlidingWindowBreaker(
        "sum",
        window_size=5,
        minimum_number_of_calls=1,
        wait_duration_in_open_state=WAIT,
        permitted_number_of_calls_in_half_open_state=1,
        **common,
    )


KINDS = ["gobreaker", "ratio", "hystrix", "sliding"]
kinds = pytest.mark.parametrize("kind", KINDS)


async def trip(breaker: CircuitBreaker[Any]) -> None:
    """Open *breaker* with one failing call through the middleware."""
    with pytest.raises(Tragedy):
        await circuit_breaker(breaker)(RecordingEndpoint[int, str](then=Tragedy("down")))(0)
    assert breaker.state is OPEN


@kinds
async def test_a_business_error_in_the_response_counts_as_a_success(kind: str) -> None:
    """A Failer response carrying an error is the service answering: a success, no trip."""
    breaker = make_breaker(kind, FakeClock())
    reply = Reply(err=ValueError("insufficient funds"))
    guarded = circuit_breaker(breaker)(RecordingEndpoint[int, Reply](then=reply))
    for i in range(20):
        assert await guarded(i) is reply
    assert breaker.state is CLOSED
    assert breaker.counts == Counts(20, 20, 0, 20, 0)


@kinds
async def test_an_excluded_error_counts_neither_way_and_is_re_raised(kind: str) -> None:
    """An exception is_failure rejects is raised as it is and leaves no count behind."""
    breaker = make_breaker(kind, FakeClock(), is_failure=lambda e: not isinstance(e, KeyError))
    missing = KeyError("no such user")
    guarded = circuit_breaker(breaker)(RecordingEndpoint[int, str](then=missing))
    for i in range(20):
        with pytest.raises(KeyError) as info:
            await guarded(i)
        assert info.value is missing
    assert breaker.state is CLOSED
    assert breaker.counts == Counts(0, 0, 0, 0, 0)


@kinds
async def test_the_endpoints_own_exception_object_is_re_raised(kind: str) -> None:
    """A failure propagates as the very object the endpoint raised, traceback included."""
    breaker = make_breaker(kind, FakeClock())
    down = Tragedy("down")

    async def broken(request: int) -> str:
        raise down

    with pytest.raises(Tragedy) as info:
        await circuit_breaker(breaker)(broken)(0)
    assert info.value is down
    assert info.traceback[-1].name == "broken"
    assert breaker.counts.total_failures in (0, 1)  # 0 when the failure opened it


@kinds
async def test_cancellation_is_never_counted_nor_wrapped(kind: str) -> None:
    """A cancelled call raises CancelledError untouched and counts neither way."""
    breaker = make_breaker(kind, FakeClock())
    endpoint = RecordingEndpoint[int, str](then="ok", gate=asyncio.Event())
    task = asyncio.create_task(circuit_breaker(breaker)(endpoint)(0))
    await endpoint.wait_for_calls(1)
    assert breaker.counts.requests == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert breaker.state is CLOSED
    assert breaker.counts == Counts(0, 0, 0, 0, 0)


@kinds
@pytest.mark.parametrize("outcome", ["success", "failure", "excluded", "cancel"])
async def test_a_call_admitted_before_a_state_change_is_ignored(kind: str, outcome: str) -> None:
    """R2: a call that straddles the trip ends without touching the new state's counts."""
    clock = FakeClock()
    breaker = make_breaker(kind, clock, is_failure=lambda e: not isinstance(e, KeyError))
    results: dict[str, str | Exception] = {"failure": Tragedy("late"), "excluded": KeyError()}
    gate = asyncio.Event()
    held = RecordingEndpoint[int, str](then=results.get(outcome, "ok"), gate=gate)
    straddler = asyncio.create_task(circuit_breaker(breaker)(held)(0))
    await held.wait_for_calls(1)
    await trip(breaker)
    clock.advance(WAIT + 0.5)
    assert breaker.state is HALF_OPEN
    if outcome == "cancel":
        straddler.cancel()
    else:
        gate.set()
    await asyncio.gather(straddler, return_exceptions=True)
    assert breaker.state is HALF_OPEN
    assert breaker.counts == Counts(0, 0, 0, 0, 0)
    assert await circuit_breaker(breaker)(RecordingEndpoint[int, str](then="ok"))(1) == "ok"
    assert breaker.state is CLOSED


@kinds
async def test_an_open_circuit_says_which_and_when_to_retry(kind: str) -> None:
    """CircuitOpen names the circuit and the seconds to the next probe, in text and attributes."""
    clock = FakeClock()
    breaker = make_breaker(kind, clock)
    await trip(breaker)
    endpoint = RecordingEndpoint[int, str](then="ok")
    guarded = circuit_breaker(breaker)(endpoint)

    clock.advance(7.7)
    with pytest.raises(CircuitOpen) as info:
        await guarded(0)
    error = info.value
    assert str(error) == "circuit 'sum' is open; next probe in 2.3s"
    assert error.name == "sum"
    assert error.retry_in == pytest.approx(2.3)
    assert isinstance(error, GoKitError)
    assert type(error) is CircuitOpen
    assert endpoint.calls == 0


@kinds
async def test_state_changes_are_reported_once_each_and_a_failing_listener_is_ignored(
    kind: str,
) -> None:
    """on_state_change hears (name, from, to) once per transition; its errors change nothing."""
    clock = FakeClock()
    changes = Changes()

    def listener(name: str, from_state: State, to_state: State) -> None:
        changes(name, from_state, to_state)
        raise RuntimeError("listener bug")

    breaker = make_breaker(kind, clock, on_state_change=listener)
    await trip(breaker)
    clock.advance(WAIT + 0.5)
    assert breaker.state is HALF_OPEN
    assert breaker.state is HALF_OPEN
    assert await circuit_breaker(breaker)(RecordingEndpoint[int, str](then="ok"))(0) == "ok"
    assert breaker.state is CLOSED
    assert changes.seen == [
        ("sum", CLOSED, OPEN),
        ("sum", OPEN, HALF_OPEN),
        ("sum", HALF_OPEN, CLOSED),
    ]


@kinds
async def test_a_cancelled_probe_frees_its_slot_and_the_circuit_can_close(kind: str) -> None:
    """R4: cancelling the only half-open probe lets the next call probe; its success closes."""
    clock = FakeClock()
    breaker = make_breaker(kind, clock)
    await trip(breaker)
    clock.advance(WAIT + 0.5)

    gate = asyncio.Event()
    held = RecordingEndpoint[int, str](then="held", gate=gate)
    probe = asyncio.create_task(circuit_breaker(breaker)(held)(0))
    await held.wait_for_calls(1)
    with pytest.raises(TooManyRequests) as busy:
        await circuit_breaker(breaker)(RecordingEndpoint[int, str](then="ok"))(1)
    assert "half-open" in str(busy.value)

    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert breaker.state is HALF_OPEN

    assert await circuit_breaker(breaker)(RecordingEndpoint[int, str](then="ok"))(2) == "ok"
    assert breaker.state is CLOSED


@kinds
async def test_an_excluded_error_from_a_probe_frees_its_slot(kind: str) -> None:
    """A half-open probe whose error is excluded neither closes nor reopens the circuit."""
    clock = FakeClock()
    breaker = make_breaker(kind, clock, is_failure=lambda e: not isinstance(e, KeyError))
    await trip(breaker)
    clock.advance(WAIT + 0.5)
    with pytest.raises(KeyError):
        await circuit_breaker(breaker)(RecordingEndpoint[int, str](then=KeyError("k")))(0)
    assert breaker.state is HALF_OPEN
    assert breaker.counts.requests == 0
    assert await circuit_breaker(breaker)(RecordingEndpoint[int, str](then="ok"))(1) == "ok"
    assert breaker.state is CLOSED


@kinds
async def test_a_failing_probe_reopens_the_circuit_for_another_wait(kind: str) -> None:
    """A half-open probe that fails opens the circuit again, for the full wait."""
    clock = FakeClock()
    breaker = make_breaker(kind, clock)
    await trip(breaker)
    clock.advance(WAIT + 0.5)
    await trip(breaker)
    with pytest.raises(CircuitOpen) as info:
        await circuit_breaker(breaker)(RecordingEndpoint[int, str](then="ok"))(0)
    assert info.value.retry_in == WAIT


@kinds
async def test_concurrent_probes_beyond_the_permitted_number_are_refused(kind: str) -> None:
    """With one probe permitted, of 10 concurrent calls at half-open exactly 1 runs."""
    clock = FakeClock()
    breaker = make_breaker(kind, clock)
    await trip(breaker)
    clock.advance(WAIT + 0.5)
    gate = asyncio.Event()
    endpoint = RecordingEndpoint[int, str](then="ok", gate=gate)
    guarded = circuit_breaker(breaker)(endpoint)
    tasks = [asyncio.create_task(guarded(i)) for i in range(10)]
    await settle(tasks, done=9)
    assert endpoint.calls == 1
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results.count("ok") == 1
    assert sum(isinstance(r, TooManyRequests) for r in results) == 9
    assert breaker.state is CLOSED


@kinds
async def test_repr_shows_the_name_and_the_state_without_changing_it(kind: str) -> None:
    """repr(breaker) names its class, its name and its state, and moves nothing."""
    clock = FakeClock()
    changes = Changes()
    breaker = make_breaker(kind, clock, on_state_change=changes)
    name = type(breaker).__name__
    assert repr(breaker) == f"{name}(name='sum', state=closed)"
    await trip(breaker)
    assert repr(breaker) == f"{name}(name='sum', state=open)"
    clock.advance(WAIT + 0.5)
    assert repr(breaker) == f"{name}(name='sum', state=half-open)"
    assert changes.seen == [("sum", CLOSED, OPEN)]


def test_open_circuit_errors_survive_pickling() -> None:
    """CircuitOpen and TooManyRequests pickle with their attributes and message."""
    for error in (CircuitOpen("sum", 1.25), TooManyRequests("sum", 0.0), TooManyRequests("x", 2.0)):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert (copy.name, copy.retry_in, str(copy)) == (error.name, error.retry_in, str(error))
    assert str(TooManyRequests("x", 2.0)).endswith("next probe in 2.0s")
    assert str(TooManyRequests("x", 0.0)).endswith("retry when a probe completes")


def test_states_print_as_go_does() -> None:
    """str(State) is the lower-case name gobreaker prints."""
    assert [str(state) for state in State] == ["closed", "open", "half-open"]
