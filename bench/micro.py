"""The micro-benchmark harness: interleaved repeats of timed await loops, and medians.

Every variant is timed by the same loop (only the awaited endpoint differs), with
the garbage collector off while the clock runs. The variants take turns, round
after round (a, b, c, a, b, c, ...), so drift in the machine's speed (other tenants,
frequency scaling) hits all of them alike; figures are medians over the rounds,
and differences between variants are medians of differences taken within a round.

A suite runs in a child process pinned to one CPU (`run_child`), so that the
parent's state and the scheduler moving it between cores stay out of the numbers.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bench import REPO_ROOT
from pygokit.endpoint import Endpoint

__all__ = [
    "Stats",
    "Timer",
    "await_loop",
    "call_loop",
    "interleave",
    "pin_to_one_cpu",
    "round_differences",
    "run_child",
    "stats",
]

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Stats:
    """A summary of per-call times over the rounds, in nanoseconds."""

    median: float
    q1: float
    q3: float
    minimum: float


def stats(values: Sequence[float]) -> Stats:
    """Summarize *values* by median, quartiles and minimum."""
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Stats(median=median, q1=q1, q3=q3, minimum=min(values))


def round_differences(
    values: Sequence[float], baseline: Sequence[float], divisor: int = 1
) -> list[float]:
    """Per-round ``(value - baseline) / divisor``: each pair ran back to back."""
    return [(v - b) / divisor for v, b in zip(values, baseline, strict=True)]


Timer = Callable[[V], Awaitable[int]]
"""Runs one variant *calls* times in a tight loop and returns the elapsed nanoseconds."""


def await_loop(request: object, calls: int) -> Timer[Endpoint[object, object]]:
    """A timer that awaits an endpoint *calls* times with *request*."""

    async def timed(endpoint: Endpoint[object, object]) -> int:
        gc.disable()
        try:
            started = time.perf_counter_ns()
            for _ in itertools.repeat(None, calls):
                await endpoint(request)
            return time.perf_counter_ns() - started
        finally:
            gc.enable()

    return timed


def call_loop(calls: int) -> Timer[Callable[[], object]]:
    """A timer that calls a plain function *calls* times."""

    async def timed(function: Callable[[], object]) -> int:
        gc.disable()
        try:
            started = time.perf_counter_ns()
            for _ in itertools.repeat(None, calls):
                function()
            return time.perf_counter_ns() - started
        finally:
            gc.enable()

    return timed


async def _calibrate(
    variants: Mapping[str, V], make_timer: Callable[[int], Timer[V]], round_ns: int
) -> int:
    """Choose a call count so that the slowest variant's loop takes about *round_ns*."""
    calls = 1000
    while True:
        timed = make_timer(calls)
        slowest = max([await timed(variant) for variant in variants.values()])
        if slowest >= round_ns // 5:
            return max(1000, round(calls * round_ns / slowest / 1000) * 1000)
        calls *= 4


async def interleave(
    variants: Mapping[str, V],
    make_timer: Callable[[int], Timer[V]],
    *,
    rounds: int,
    round_ns: int,
) -> tuple[int, dict[str, list[float]]]:
    """Time every variant once per round, in turn, for *rounds* rounds.

    *make_timer* builds the timing loop for a call count (`await_loop` for endpoints,
    `call_loop` for plain functions). Returns the calls per timed loop and, per
    variant, the per-call nanoseconds of each round, in round order. Awaited
    variants must not suspend, so the event loop itself is never entered.
    """
    calls = await _calibrate(variants, make_timer, round_ns)  # doubles as the warm-up
    timed = make_timer(calls)
    per_call: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, variant in variants.items():
            per_call[name].append(await timed(variant) / calls)
    return calls, per_call


def pin_to_one_cpu() -> int | None:
    """Pin this process to the last CPU it may use; return it, or None if it cannot."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def run_child(module: str, timeout_s: float) -> Any:
    """Run ``python -m module`` from the repo root; return the JSON it prints on stdout."""
    done = subprocess.run(
        [sys.executable, "-m", module],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} exited with {done.returncode}:\n{done.stderr}")
    return json.loads(done.stdout)
