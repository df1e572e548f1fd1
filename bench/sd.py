"""Service discovery: reading the endpoints and picking one, under 100 concurrent tasks.

Go kit's ``BenchmarkEndpoints`` reads ``Endpoints()`` from many goroutines at once; here
100 asyncio tasks share one `DefaultEndpointer` over 10 instances and one balancer of each
kind, each task calling the operation in batches of 100 between yields to the event loop,
so the tasks interleave as they would in a busy service. The baseline is the same loop
calling a function that does nothing, so the overhead is the operation's own cost.
Target: under 1 us per pick.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from bench.micro import (
    Stats,
    Timer,
    interleave,
    pin_to_one_cpu,
    round_differences,
    run_child,
    stats,
)
from bench.report import Row, Table
from pygokit.endpoint import Endpoint
from pygokit.sd import DefaultEndpointer, FixedInstancer
from pygokit.sd.lb import LeastLoaded, Random, RoundRobin

__all__ = ["run"]

ROUNDS = 21
ROUND_NS = 20_000_000
TARGET_NS = 1000.0
TASKS = 100
BATCH = 100
INSTANCES = 10


def _noop() -> None:
    """The baseline: a call that does nothing."""


def concurrent_loop(calls: int) -> Timer[Callable[[], object]]:
    """A timer that calls a function *calls* times in all, spread over `TASKS` tasks."""
    per_task = calls // TASKS
    batches, rest = divmod(per_task, BATCH)

    async def worker(function: Callable[[], object]) -> None:
        for _ in itertools.repeat(None, batches):
            for _ in itertools.repeat(None, BATCH):
                function()
            await asyncio.sleep(0)
        for _ in itertools.repeat(None, rest):
            function()

    async def timed(function: Callable[[], object]) -> int:
        gc.disable()
        try:
            started = time.perf_counter_ns()
            async with asyncio.TaskGroup() as group:
                for _ in range(TASKS):
                    group.create_task(worker(function))
            return time.perf_counter_ns() - started
        finally:
            gc.enable()

    return timed


def _factory(instance: str) -> tuple[Endpoint[object, object], None]:
    async def endpoint(request: object) -> object:
        return request

    return endpoint, None


async def _measure() -> dict[str, Any]:
    instances = [f"10.0.0.{n}:8080" for n in range(INSTANCES)]
    async with DefaultEndpointer(FixedInstancer(instances), _factory) as endpointer:
        variants: dict[str, Callable[[], object]] = {
            "baseline": _noop,
            "DefaultEndpointer.endpoints()": endpointer.endpoints,
            "RoundRobin.endpoint()": RoundRobin(endpointer).endpoint,
            "Random.endpoint()": Random(endpointer, seed=1).endpoint,
            "LeastLoaded.endpoint() (P2C)": LeastLoaded(endpointer, seed=1).endpoint,
        }
        warm_up = concurrent_loop(10 * TASKS * BATCH)  # so calibration sees steady state
        for variant in variants.values():
            await warm_up(variant)
        calls, ns = await interleave(variants, concurrent_loop, rounds=ROUNDS, round_ns=ROUND_NS)
    return {"calls": calls, "ns": ns}


def _child() -> None:
    """Measure pinned to one CPU and print the samples as JSON (the child's side of `run`)."""
    cpu = pin_to_one_cpu()
    result = asyncio.run(_measure())
    print(json.dumps({**result, "cpu": cpu}))


def run() -> Table:
    """Measure in a pinned child process and report the cost of each read and pick."""
    result = run_child("bench.sd", timeout_s=600)
    ns: dict[str, list[float]] = result["ns"]
    baseline = stats(ns["baseline"])
    table = Table(
        title="Service discovery: endpoints() and balancer picks under 100 tasks",
        what=(
            f"Time per operation with {TASKS} tasks sharing one DefaultEndpointer over "
            f"{INSTANCES} instances (Go kit's BenchmarkEndpoints), against a no-op function "
            "called in the same loop and rounds."
        ),
    )
    for name in ns:
        if name == "baseline":
            continue
        cost: Stats = stats(round_differences(ns[name], ns["baseline"]))
        verdict = "pass" if cost.median < TARGET_NS else "**MISS**"
        table.rows.append(
            Row(
                name,
                f"no-op call {baseline.median:.0f} ns",
                f"{cost.median:.0f} ns",
                f"{stats(ns[name]).median / baseline.median:.2f}x",
                f"< {TARGET_NS:.0f} ns: {verdict}",
                f"IQR {cost.q1:.0f}-{cost.q3:.0f} ns",
            )
        )
    cpu = result["cpu"]
    table.notes += [
        f"Medians over {ROUNDS} rounds of {result['calls']:,} operations per variant, spread "
        f"over {TASKS} tasks that yield every {BATCH}; the value is the median of per-round "
        "differences from the no-op baseline.",
        f"Ran in a child process pinned to CPU {cpu}." if cpu is not None else "Unpinned.",
    ]
    return table


if __name__ == "__main__":
    _child()
