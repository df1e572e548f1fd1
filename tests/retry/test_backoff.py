"""Backoff policies: exact nominal delays, jitter bounds (R9a), validation."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygokit.retry import Backoff, Constant, Exponential, Jitter, grpc_backoff

SAMPLES = 10_000


def fixed(draw: float) -> Callable[[], float]:
    """An rng that always returns *draw*."""
    return lambda: draw


def test_exponential_without_jitter_doubles_up_to_the_cap() -> None:
    """With jitter 0 the delays are initial * multiplier ** (n-1), capped at maximum."""
    backoff = Exponential(initial=0.1, multiplier=2.0, maximum=1.0, jitter=0)

    assert [backoff.delay(n) for n in range(1, 7)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_attempt_one_is_the_wait_before_the_second_try() -> None:
    """delay(1) is the initial delay; attempt 0 or below is refused."""
    backoff = Exponential(initial=0.5, jitter=0)

    assert backoff.delay(1) == 0.5
    with pytest.raises(ValueError, match="numbered from 1"):
        backoff.delay(0)
    with pytest.raises(ValueError, match="numbered from 1"):
        Constant(1.0).delay(0)


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    """An attempt number whose power overflows a float still yields the maximum."""
    backoff = Exponential(initial=1.0, multiplier=10.0, maximum=30.0, jitter=0)

    assert backoff.delay(10_000) == 30.0


@pytest.mark.parametrize(("draw", "expected"), [(0.0, 0.8), (0.5, 1.0), (0.999999, 1.2)])
def test_multiplicative_jitter_scales_by_u_0_8_1_2(draw: float, expected: float) -> None:
    """jitter=0.2 multiplies the nominal delay by 0.8 + 0.4 * rng(), as gRPC does."""
    backoff = Exponential(initial=1.0, jitter=0.2, rng=fixed(draw))

    assert backoff.delay(1) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(("draw", "expected"), [(0.0, 0.0), (0.25, 1.0), (0.5, 2.0)])
def test_full_jitter_is_uniform_up_to_the_nominal_delay(draw: float, expected: float) -> None:
    """jitter='full' waits nominal * rng(): anywhere in [0, nominal)."""
    backoff = Exponential(initial=1.0, jitter="full", rng=fixed(draw))

    assert backoff.delay(3) == expected


@pytest.mark.parametrize(("draw", "expected"), [(0.0, 2.0), (0.5, 3.0), (0.75, 3.5)])
def test_equal_jitter_is_half_fixed_half_random(draw: float, expected: float) -> None:
    """jitter='equal' waits nominal/2 + nominal/2 * rng(), as Finagle's equalJittered."""
    backoff = Exponential(initial=1.0, jitter="equal", rng=fixed(draw))

    assert backoff.delay(3) == expected


def test_grpc_backoff_has_grpcs_defaults() -> None:
    """grpc_backoff() is 1 s, multiplier 1.6, jitter 0.2, capped at 120 s."""
    backoff = grpc_backoff(rng=fixed(0.5))

    assert (backoff.initial, backoff.multiplier, backoff.maximum, backoff.jitter) == (
        1.0,
        1.6,
        120.0,
        0.2,
    )
    assert backoff.delay(2) == pytest.approx(1.6)
    assert backoff.delay(100) == pytest.approx(120.0)


@pytest.mark.parametrize("attempt", range(1, 16))
def test_grpc_backoff_samples_stay_within_the_a6_bounds(attempt: int) -> None:
    """R9a: 10,000 samples of attempt n lie in min(1.6**(n-1), 120) * [0.8, 1.2]."""
    backoff = grpc_backoff(rng=random.Random(attempt).random)
    nominal = min(1.6 ** (attempt - 1), 120.0)

    samples = [backoff.delay(attempt) for _ in range(SAMPLES)]

    outside = [s for s in samples if not 0.8 * nominal <= s <= 1.2 * nominal]
    assert outside == []
    # The jitter is spread, not stuck: both ends of the band are reached.
    assert min(samples) < 0.81 * nominal
    assert max(samples) > 1.19 * nominal


@pytest.mark.parametrize("attempt", range(1, 12))
def test_full_jitter_samples_stay_within_zero_and_the_cap(attempt: int) -> None:
    """R9a: 10,000 full-jitter samples of attempt n lie in [0, min(init*mult**(n-1), max)]."""
    backoff = Exponential(initial=0.1, maximum=10.0, jitter="full", rng=random.Random(7).random)
    cap = min(0.1 * 2 ** (attempt - 1), 10.0)

    samples = [backoff.delay(attempt) for _ in range(SAMPLES)]

    assert all(0 <= s <= cap for s in samples)
    assert max(samples) > 0.99 * cap


@given(
    initial=st.floats(min_value=1e-3, max_value=100.0),
    multiplier=st.floats(min_value=1.0, max_value=10.0),
    extra=st.floats(min_value=0.0, max_value=1000.0),
    jitter=st.one_of(st.floats(min_value=0.0, max_value=1.0), st.sampled_from(["full", "equal"])),
    attempt=st.integers(min_value=1, max_value=2000),
    draw=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_any_exponential_delay_stays_in_its_band(
    initial: float,
    multiplier: float,
    extra: float,
    jitter: Jitter,
    attempt: int,
    draw: float,
) -> None:
    """R9a for any parameters: the delay lies in the band its jitter allows around the cap."""
    backoff = Exponential(initial, multiplier, initial + extra, jitter, rng=fixed(draw))
    nominal = backoff.nominal(attempt)

    delay = backoff.delay(attempt)

    assert nominal <= backoff.maximum
    if jitter == "full":
        low, high = 0.0, nominal
    elif jitter == "equal":
        low, high = nominal / 2, nominal
    else:
        assert isinstance(jitter, float)
        low, high = nominal * (1 - jitter), nominal * (1 + jitter)
    assert low * (1 - 1e-12) <= delay <= high * (1 + 1e-12)


@given(attempts=st.lists(st.integers(min_value=1, max_value=500), min_size=2, max_size=20))
def test_nominal_delay_never_shrinks_as_attempts_grow(attempts: list[int]) -> None:
    """The nominal delay is monotonic in the attempt number."""
    backoff = Exponential(initial=0.01, multiplier=1.5, maximum=60.0)
    ordered = sorted(attempts)

    delays = [backoff.nominal(n) for n in ordered]

    assert delays == sorted(delays)


def test_constant_waits_the_same_every_time() -> None:
    """Constant(d).delay(n) is d for every n; Constant(0) retries at once."""
    assert [Constant(0.25).delay(n) for n in (1, 2, 50)] == [0.25, 0.25, 0.25]
    assert Constant(0).delay(1) == 0


def test_policies_satisfy_the_backoff_protocol() -> None:
    """Exponential and Constant are Backoffs and show their settings in repr."""
    policies: list[Backoff] = [Exponential(), Constant(1.0), grpc_backoff()]

    assert [type(p).__name__ for p in policies] == ["Exponential", "Constant", "Exponential"]
    assert repr(Exponential()) == (
        "Exponential(initial=0.1, multiplier=2.0, maximum=10.0, jitter=0.2)"
    )
    assert Exponential(jitter="full") == Exponential(jitter="full", rng=fixed(0.1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial": 0.0}, "initial must be a positive"),
        ({"initial": float("nan")}, "initial must be a positive"),
        ({"multiplier": 0.5}, "multiplier must be at least 1"),
        ({"initial": 2.0, "maximum": 1.0}, "maximum must be at least initial"),
        ({"maximum": float("inf")}, "maximum must be at least initial"),
        ({"jitter": 1.5}, r"jitter fraction must be in \[0, 1\]"),
        ({"jitter": -0.1}, r"jitter fraction must be in \[0, 1\]"),
        ({"jitter": "half"}, "jitter must be a fraction"),
    ],
)
def test_exponential_refuses_bad_settings(kwargs: dict[str, object], message: str) -> None:
    """Nonsensical parameters raise ValueError at construction, naming the parameter."""
    with pytest.raises(ValueError, match=message):
        Exponential(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("seconds", [-1.0, float("inf"), float("nan")])
def test_constant_refuses_bad_delays(seconds: float) -> None:
    """A negative, infinite or NaN constant delay raises ValueError."""
    with pytest.raises(ValueError, match="seconds must be zero or a positive"):
        Constant(seconds)
