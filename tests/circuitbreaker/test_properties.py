"""Properties of every breaker under random interleavings of calls, outcomes and time."""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pygokit.circuitbreaker import (
    Breaker,
    CircuitBreaker,
    HystrixBreaker,
    RatioBreaker,
    SlidingWindowBreaker,
    State,
    WindowType,
)
from pygokit.errors import GoKitError
from pygokit.testing import FakeClock
from tests.circuitbreaker.harness import Tragedy


def not_a_key_error(error: Exception) -> bool:
    """The is_failure the machines use: KeyError is excluded, everything else fails."""
    return not isinstance(error, KeyError)


class BreakerMachine(RuleBasedStateMachine):
    """Admit calls, end them in any order with any outcome, and move time, at random.

    Invariants: no count is ever negative, consecutive counts never exceed totals, and
    ``requests - successes - failures`` is between 0 and the number of calls in flight
    (exactly 0 when none is), so nothing is counted twice or lost.
    """

    probes: ClassVar[int] = 1

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.breaker = self.make(self.clock)
        self.in_flight: list[object] = []

    def make(self, clock: FakeClock) -> CircuitBreaker[Any]:
        """Build the breaker under test on *clock*."""
        raise NotImplementedError

    @rule()
    def admit(self) -> None:
        """Ask the breaker to admit a call."""
        with contextlib.suppress(GoKitError):
            self.in_flight.append(self.breaker.allow())

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data(), outcome=st.sampled_from(["success", "failure", "excluded", "cancel"]))
    def finish(self, data: st.DataObject, outcome: str) -> None:
        """End one of the calls in flight."""
        index = data.draw(st.integers(0, len(self.in_flight) - 1))
        ticket = self.in_flight.pop(index)
        if outcome == "success":
            self.breaker.on_success(ticket)
        elif outcome == "failure":
            self.breaker.on_error(ticket, Tragedy("x"))
        elif outcome == "excluded":
            self.breaker.on_error(ticket, KeyError("x"))
        else:
            self.breaker.release(ticket)

    @rule(seconds=st.sampled_from([0.0, 1e-9, 0.5, 1.0, 3.0, 5.0, 10.0, 61.0]))
    def advance(self, seconds: float) -> None:
        """Let time pass."""
        self.clock.advance(seconds)

    @invariant()
    def counts_are_consistent(self) -> None:
        """Counts are never negative and account for every call exactly once."""
        counts = self.breaker.counts
        assert (
            min(
                counts.requests,
                counts.total_successes,
                counts.total_failures,
                counts.consecutive_successes,
                counts.consecutive_failures,
            )
            >= 0
        ), counts
        assert counts.consecutive_successes <= counts.total_successes
        assert counts.consecutive_failures <= counts.total_failures
        pending = counts.requests - counts.total_successes - counts.total_failures
        assert 0 <= pending <= len(self.in_flight), (counts, len(self.in_flight))

    @invariant()
    def half_open_admits_at_most_its_probes(self) -> None:
        """While half-open, no more probes are counted than the breaker permits."""
        if self.breaker.state is State.HALF_OPEN:
            assert self.breaker.counts.requests <= max(self.probes, len(self.in_flight))


class GobreakerMachine(BreakerMachine):
    """The machine over a gobreaker-style Breaker with 3 probes and an interval."""

    probes = 3

    def make(self, clock: FakeClock) -> CircuitBreaker[Any]:
        """Build the breaker under test on *clock*."""
        return Breaker(
            "p",
            max_requests=3,
            interval=2.0,
            timeout=5.0,
            ready_to_trip=lambda c: c.consecutive_failures >= 2,
            is_failure=not_a_key_error,
            clock=clock,
        )

    @invariant()
    def probes_never_exceed_max_requests(self) -> None:
        """Half-open never holds more than max_requests admitted probes."""
        if self.breaker.state is State.HALF_OPEN:
            assert self.breaker.counts.requests <= 3


class SlidingMachine(BreakerMachine):
    """The machine over a time-window SlidingWindowBreaker with 2 probes."""

    probes = 2

    def make(self, clock: FakeClock) -> CircuitBreaker[Any]:
        """Build the breaker under test on *clock*."""
        return SlidingWindowBreaker(
            "p",
            window_type=WindowType.TIME,
            window_size=3,
            minimum_number_of_calls=2,
            slow_call_duration_threshold=2.0,
            wait_duration_in_open_state=5.0,
            permitted_number_of_calls_in_half_open_state=2,
            is_failure=not_a_key_error,
            clock=clock,
        )

    @invariant()
    def rates_are_percentages(self) -> None:
        """The rates are None or within [0, 100]."""
        assert isinstance(self.breaker, SlidingWindowBreaker)
        for rate in (self.breaker.failure_rate, self.breaker.slow_call_rate):
            assert rate is None or 0.0 <= rate <= 100.0


class HystrixMachine(BreakerMachine):
    """The machine over a HystrixBreaker with a concurrency limit of 4."""

    def make(self, clock: FakeClock) -> CircuitBreaker[Any]:
        """Build the breaker under test on *clock*."""
        return HystrixBreaker(
            "p",
            request_volume_threshold=3,
            sleep_window=5.0,
            max_concurrent_requests=4,
            is_failure=not_a_key_error,
            clock=clock,
        )

    @invariant()
    def in_flight_is_exact(self) -> None:
        """The breaker's in-flight count is the number of calls not yet ended."""
        assert isinstance(self.breaker, HystrixBreaker)
        assert self.breaker.in_flight == len(self.in_flight) <= 4


class RatioMachine(BreakerMachine):
    """The machine over a RatioBreaker that trips easily."""

    def make(self, clock: FakeClock) -> CircuitBreaker[Any]:
        """Build the breaker under test on *clock*."""
        return RatioBreaker(
            "p",
            failure_ratio=0.3,
            window=3,
            min_observations=2,
            cooldown=5.0,
            is_failure=not_a_key_error,
            clock=clock,
        )


machine_settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestGobreakerMachine = GobreakerMachine.TestCase
TestGobreakerMachine.settings = machine_settings
TestSlidingMachine = SlidingMachine.TestCase
TestSlidingMachine.settings = machine_settings
TestHystrixMachine = HystrixMachine.TestCase
TestHystrixMachine.settings = machine_settings
TestRatioMachine = RatioMachine.TestCase
TestRatioMachine.settings = machine_settings


@given(outcomes=st.lists(st.booleans(), max_size=60))
def test_the_default_breaker_opens_at_the_first_run_of_six_failures(outcomes: list[bool]) -> None:
    """Sequential calls: the default Breaker opens exactly when 6 failures in a row occur."""
    breaker = Breaker("p", clock=FakeClock())
    run = 0
    for ok in outcomes:
        ticket = breaker.allow()
        if ok:
            breaker.on_success(ticket)
            run = 0
        else:
            breaker.on_error(ticket, Tragedy("x"))
            run += 1
        counts = breaker.counts
        if run == 6:
            assert breaker.state is State.OPEN
            return
        assert breaker.state is State.CLOSED
        assert counts.requests == counts.total_successes + counts.total_failures
        assert counts.consecutive_failures == run


@given(outcomes=st.lists(st.booleans(), min_size=1, max_size=40), size=st.integers(1, 8))
def test_a_count_window_rate_is_the_rate_of_the_last_n_calls(
    outcomes: list[bool], size: int
) -> None:
    """R3: while closed, failure_rate is the failure share of the last window_size calls."""
    breaker = SlidingWindowBreaker(
        "p",
        window_size=size,
        minimum_number_of_calls=size,
        failure_rate_threshold=100.0,
        clock=FakeClock(),
    )
    for i, ok in enumerate(outcomes, start=1):
        ticket = breaker.allow()
        if ok:
            breaker.on_success(ticket)
        else:
            breaker.on_error(ticket, Tragedy("x"))
        last = outcomes[max(0, i - size) : i]
        expected = None if i < size else 100.0 * last.count(False) / size
        if breaker.state is State.OPEN:
            assert expected == 100.0
            return
        assert breaker.failure_rate == expected
