"""Resilience middleware: what each adds to a call that succeeds, and the Redis limiter.

Every middleware wraps the same endpoint (``async def endpoint(request): return
request``) and is awaited in the same tight loop as the bare endpoint, which is
the baseline; the endpoint never suspends, so only the middleware's own work is
measured. Target: each under 1 us. The Redis token bucket is measured separately
against a real Redis (when ``PYGOKIT_REDIS_URL`` is set, or when ``make bench``
starts one): one round trip per call, and with ``local_batch`` taking tokens a
hundred at a time.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from typing import Any

from bench.micro import (
    Stats,
    await_loop,
    interleave,
    pin_to_one_cpu,
    round_differences,
    run_child,
    stats,
)
from bench.report import Row, Table
from pygokit.circuitbreaker import (
    Breaker,
    HystrixBreaker,
    RatioBreaker,
    SlidingWindowBreaker,
    circuit_breaker,
    hystrix,
)
from pygokit.endpoint import AnyMiddleware, Endpoint
from pygokit.ratelimit import TokenBucket, erroring_limiter
from pygokit.resilience import AdaptiveLimiter, AIMDLimit, Bulkhead, adaptive_limiter, bulkhead
from pygokit.resilience import timeout as time_limit
from pygokit.retry import retry

__all__ = ["run"]

ROUNDS = 21
ROUND_NS = 20_000_000
TARGET_NS = 1000.0
REDIS_CALLS = 2000


async def _endpoint(request: object) -> object:
    return request


def _middlewares() -> dict[str, AnyMiddleware]:
    return {
        "circuit_breaker(Breaker)": circuit_breaker(Breaker("b")),
        "circuit_breaker(RatioBreaker)": circuit_breaker(RatioBreaker("r")),
        "circuit_breaker(SlidingWindowBreaker)": circuit_breaker(SlidingWindowBreaker("s")),
        "hystrix(HystrixBreaker, no timeout)": hystrix(
            HystrixBreaker("h", timeout=None, max_concurrent_requests=10**9)
        ),
        "hystrix(HystrixBreaker, timeout=1s)": hystrix(
            HystrixBreaker("ht", timeout=1.0, max_concurrent_requests=10**9)
        ),
        "erroring_limiter(TokenBucket)": erroring_limiter(TokenBucket(math.inf, 1)),
        "retry()": retry(),
        "timeout(1s)": time_limit(1.0),
        "bulkhead(Bulkhead(10))": bulkhead(Bulkhead(10)),
        "adaptive_limiter(AIMD)": adaptive_limiter(AdaptiveLimiter(AIMDLimit())),
    }


async def _measure() -> dict[str, Any]:
    variants: dict[str, Endpoint[object, object]] = {"bare": _endpoint}
    variants.update({name: mw(_endpoint) for name, mw in _middlewares().items()})
    request = object()
    calls, ns = await interleave(
        variants, lambda n: await_loop(request, n), rounds=ROUNDS, round_ns=ROUND_NS
    )
    return {"calls": calls, "ns": ns, "redis": await _redis()}


async def _redis() -> dict[str, float] | None:
    """Microseconds per allow() against a real Redis, unbatched and batched, if one runs."""
    url = os.environ.get("PYGOKIT_REDIS_URL")
    if not url:
        return None
    import redis.asyncio as aioredis

    from pygokit.ratelimit.redis import RedisTokenBucket

    client = aioredis.Redis.from_url(url)
    try:
        results = {}
        for label, batch in (("per call", 1), ("local_batch=100", 100)):
            bucket = RedisTokenBucket(
                client, f"pygokit-bench-{os.getpid()}-{batch}", rate=1e9, burst=10**9,
                local_batch=batch,
            )  # fmt: skip
            await bucket.allow()  # load the script
            began = time.perf_counter()
            for _ in range(REDIS_CALLS):
                await bucket.allow()
            results[label] = (time.perf_counter() - began) / REDIS_CALLS * 1e6
        results["ping"] = await _ping(client)
        return results
    finally:
        await client.aclose()


async def _ping(client: Any) -> float:
    began = time.perf_counter()
    for _ in range(REDIS_CALLS):
        await client.ping()
    return (time.perf_counter() - began) / REDIS_CALLS * 1e6


def _child() -> None:
    """Measure pinned to one CPU and print the samples as JSON (the child's side of `run`)."""
    cpu = pin_to_one_cpu()
    result = asyncio.run(_measure())
    print(json.dumps({**result, "cpu": cpu}))


def run() -> Table:
    """Measure in a pinned child process and report each middleware's overhead."""
    result = run_child("bench.resilience", timeout_s=600)
    ns: dict[str, list[float]] = result["ns"]
    bare = stats(ns["bare"])
    table = Table(
        title="Resilience middleware: overhead on the happy path",
        what=(
            "Extra time per call of each middleware around an endpoint that returns at "
            "once, against the bare endpoint awaited in the same loop and rounds."
        ),
    )
    for name in ns:
        if name == "bare":
            continue
        overhead: Stats = stats(round_differences(ns[name], ns["bare"]))
        verdict = "pass" if overhead.median < TARGET_NS else "**MISS**"
        table.rows.append(
            Row(
                f"{name}, overhead",
                f"bare call {bare.median:.0f} ns",
                f"{overhead.median:.0f} ns",
                f"{stats(ns[name]).median / bare.median:.2f}x",
                f"< {TARGET_NS:.0f} ns: {verdict}",
                f"IQR {overhead.q1:.0f}-{overhead.q3:.0f} ns",
            )
        )
    redis = result["redis"]
    if redis is None:
        table.notes.append("Redis token bucket: not measured (PYGOKIT_REDIS_URL unset).")
    else:
        for label in ("per call", "local_batch=100"):
            table.rows.append(
                Row(
                    f"RedisTokenBucket.allow(), {label}",
                    f"Redis PING {redis['ping']:.0f} us",
                    f"{redis[label]:.1f} us",
                    f"{redis[label] / redis['ping']:.2f}x",
                )
            )
    cpu = result["cpu"]
    table.notes += [
        f"Medians over {ROUNDS} rounds of {result['calls']:,} calls per variant; overhead is "
        "the median of per-round differences from the bare call.",
        "Redis: sequential allow() calls from one client to a local Redis on loopback, "
        f"{REDIS_CALLS:,} each, against PING from the same client.",
        f"Ran in a child process pinned to CPU {cpu}." if cpu is not None else "Unpinned.",
    ]
    return table


if __name__ == "__main__":
    _child()
