"""Endpoint middleware overhead: what one pass-through layer adds to a call, in-process.

Three variants of the same endpoint (``async def endpoint(request): return request``)
are awaited in tight loops inside one event loop: bare, wrapped by ``chain`` of one
pass-through middleware, and by a five-layer ``chain``. The bare endpoint is the
baseline; the target for the overhead of one layer is under 0.3 us.

`run` measures in a child process (``python -m bench.middleware``) pinned to one
CPU and turns the child's samples into a `Table`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bench.layers import passthrough
from bench.micro import (
    Stats,
    await_loop,
    interleave,
    pin_to_one_cpu,
    round_differences,
    run_child,
    stats,
)
from bench.report import Row, Table, fmt_ratio
from pygokit.endpoint import Endpoint, chain

__all__ = ["run"]

ROUNDS = 51
"""Timed loops per variant; the variants take turns, one loop each per round."""

ROUND_NS = 25_000_000
"""How long the slowest variant's loop should take, in nanoseconds."""

TARGET_NS_PER_LAYER = 300.0

DEPTH = 5


async def _endpoint(request: object) -> object:
    return request


async def _measure() -> dict[str, Any]:
    layer = passthrough()
    variants: dict[str, Endpoint[object, object]] = {
        "bare": _endpoint,
        "one": chain(layer)(_endpoint),
        "five": chain(layer, *[layer] * (DEPTH - 1))(_endpoint),
    }
    request = object()
    calls, per_call = await interleave(
        variants, lambda n: await_loop(request, n), rounds=ROUNDS, round_ns=ROUND_NS
    )
    loop = type(asyncio.get_running_loop())
    return {"calls": calls, "loop": f"{loop.__module__}.{loop.__qualname__}", "ns": per_call}


def _child() -> None:
    """Measure pinned to one CPU and print the samples as JSON (the child's side of `run`)."""
    cpu = pin_to_one_cpu()
    result = asyncio.run(_measure())  # the default asyncio loop, deliberately not uvloop
    print(json.dumps({**result, "cpu": cpu}))


def run() -> Table:
    """Measure in a pinned child process and report per-call costs against the bare call."""
    result = run_child("bench.middleware", timeout_s=120)
    ns: dict[str, list[float]] = result["ns"]
    bare, one, five = stats(ns["bare"]), stats(ns["one"]), stats(ns["five"])
    one_layer = stats(round_differences(ns["one"], ns["bare"]))
    five_layer = stats(round_differences(ns["five"], ns["bare"], divisor=DEPTH))
    baseline = f"bare call {_ns(bare.median)}"
    cpu = result["cpu"]
    table = Table(
        title="Endpoint middleware overhead",
        what=(
            "Per-call time of awaiting `async def endpoint(request): return request` bare, "
            "behind `chain(mw)`, and behind `chain(mw, mw, mw, mw, mw)`, where `mw` is a "
            "pass-through middleware in pygokit's style (`return await next_(request)`). "
            "Baseline: the bare endpoint, timed in the same rounds."
        ),
    )
    table.rows += [
        Row("bare endpoint, ns/call", "-", _ns(bare.median), "1.00x", spread=_iqr(bare)),
        Row("1-layer chain, ns/call", baseline, _ns(one.median),
            fmt_ratio(one.median, bare.median), spread=_iqr(one)),
        Row("overhead per layer, 1-layer chain", baseline, _ns(one_layer.median),
            fmt_ratio(one_layer.median, bare.median), _target(one_layer.median),
            _iqr(one_layer)),
        Row(f"{DEPTH}-layer chain, ns/call", baseline, _ns(five.median),
            fmt_ratio(five.median, bare.median), spread=_iqr(five)),
        Row(f"overhead per layer, {DEPTH}-layer chain", baseline, _ns(five_layer.median),
            fmt_ratio(five_layer.median, bare.median), _target(five_layer.median),
            _iqr(five_layer)),
    ]  # fmt: skip
    table.notes += [
        f"Median over {ROUNDS} rounds; in each round every variant awaits its endpoint "
        f"{result['calls']:,} times in the same loop (round-robin: bare, 1-layer, "
        f"{DEPTH}-layer), with the garbage collector off while timing.",
        "Overhead per layer is the median of the per-round differences from the bare call "
        f"(divided by {DEPTH} for the {DEPTH}-layer chain), so it need not equal the "
        "difference of the medians. Spread is the interquartile range over the rounds.",
        f"Event loop: `{result['loop']}` (the default asyncio loop, not uvloop); the "
        "endpoints never suspend, so the loop itself is not exercised.",
        f"Ran in a child process pinned to CPU {cpu}."
        if cpu is not None
        else "Ran in a child process, unpinned (no sched_setaffinity on this platform).",
    ]
    return table


def _ns(value: float) -> str:
    return f"{value:.1f} ns"


def _iqr(summary: Stats) -> str:
    return f"IQR {summary.q1:.1f}-{summary.q3:.1f} ns, min {summary.minimum:.1f}"


def _target(per_layer_ns: float) -> str:
    verdict = "pass" if per_layer_ns < TARGET_NS_PER_LAYER else "**MISS**"
    return f"< {TARGET_NS_PER_LAYER:.0f} ns: {verdict}"


if __name__ == "__main__":
    _child()
