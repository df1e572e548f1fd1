"""HTTP client: requests/s of pygokit's `Client` against aiohttp used directly, same server.

One uvicorn server (`bench.apps.asgi_sum.raw`, pinned to one core) answers
``POST /sum``. A client process, pinned to the other core, measures three
variants, each with its own ``aiohttp.ClientSession`` shared by 50 tasks:

* ``aiohttp``: a hand-written call: ``json.dumps`` the operands, ``session.post``,
  check the status, ``read()``, ``json.loads``. The baseline.
* ``client``: a pygokit `Client` with the same hand-written encoder and decoder,
  so the difference is the Client itself (hooks, header checks, wrapping).
* ``client+codec``: a `Client` with `encode_json_request` and
  ``json_response_decoder(SumResponse)``: dataclass in, dataclass out, body limit
  and type checks included; what a pygokit user writes.

The machine is shared, and its speed drifts by more than the differences being
measured, so the variants take turns in short batches inside one process (the
first variant, the second, the third, the first again, ...): a slow spell falls
on all three, and each round's ratios against aiohttp are measured back to back.
Three such processes run one after the other; the report gives medians.

``python -m bench.client`` runs this area alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

from bench import REPO_ROOT
from bench.load import CpuPlan, plan_cpus, uvicorn
from bench.report import Row, Table, fmt_ratio, machine_facts, render

__all__ = ["run"]

VARIANTS = ("aiohttp", "client", "client+codec")
LABELS = {"aiohttp": "aiohttp by hand", "client": "Client", "client+codec": "Client + codec"}
RUNS = 3
ROUNDS = 5
BATCH = 3_000
"""Requests per variant per round: 15,000 per variant per client process."""
WARMUP_REQUESTS = 1_000
TASKS = 50
CHILD_TIMEOUT_S = 90

Call = Callable[[], Awaitable[object]]


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    """One variant in one client process: its figures, and its ratio to aiohttp per round.

    Latencies are in microseconds, over every request of the run.
    """

    requests_per_s: float
    p50_us: float
    p99_us: float
    errors: int
    round_ratios: list[float]


def run() -> Table:
    """Measure the three variants and report them against aiohttp."""
    table = Table(
        title="HTTP client: pygokit Client vs aiohttp, against uvicorn",
        what=(
            f"{TASKS} asyncio tasks sharing one `aiohttp.ClientSession` send `POST /sum` "
            '(`{"a":1,"b":2}`) to a one-process uvicorn (uvloop, httptools) serving a raw '
            "ASGI app. Baseline: aiohttp called by hand (json.dumps, post, status check, "
            "read, json.loads). `Client`: the same hand-written encoder and decoder inside a "
            "pygokit `Client`. `Client + codec`: `encode_json_request` and "
            "`json_response_decoder(SumResponse)` (dataclasses both ways)."
        ),
    )
    plan = plan_cpus()
    runs: dict[str, list[Result]] = {name: [] for name in VARIANTS}
    with uvicorn("bench.apps.asgi_sum:raw", plan) as server:
        for number in range(1, RUNS + 1):
            for name, result in _child(f"{server.url}/sum", plan).items():
                runs[name].append(result)
                print(
                    f"  client {name} run {number}/{RUNS}: {result.requests_per_s:,.0f} req/s, "
                    f"p50 {result.p50_us:.0f} us, p99 {result.p99_us:.0f} us",
                    file=sys.stderr,
                )
    table.rows += _rows(runs)
    table.notes += [
        f"{RUNS} client processes, one after the other; in each, {ROUNDS} rounds in which "
        f"every variant sends {BATCH:,} requests in turn ({ROUNDS * BATCH:,} per variant "
        f"per process, after {WARMUP_REQUESTS:,} warm-up requests each). Throughput: median "
        "over the processes. Ratio: median over all rounds of the round's requests/s "
        "against aiohttp's in the same round. Spread: the range over the processes. "
        "Latency is per request, measured in the client, so it includes waiting behind "
        f"the other {TASKS - 1} tasks. The client uses the default asyncio event loop.",
        plan.note.replace("wrk", "the client process"),
    ]
    for name, results in runs.items():
        errors = sum(result.errors for result in results)
        if errors:
            table.notes.append(f"**INVALID**: the {name} variant saw {errors} failed requests.")
    return table


def _rows(runs: dict[str, list[Result]]) -> list[Row]:
    base_rps = statistics.median(r.requests_per_s for r in runs["aiohttp"])
    base_p50 = statistics.median(r.p50_us for r in runs["aiohttp"])
    rows = []
    for name, results in runs.items():
        rates = [r.requests_per_s for r in results]
        ratios = [ratio for r in results for ratio in r.round_ratios]
        rows.append(
            Row(
                f"throughput, {LABELS[name]}",
                "-" if name == "aiohttp" else f"aiohttp {base_rps:,.0f} req/s",
                f"{statistics.median(rates):,.0f} req/s",
                f"{statistics.median(ratios):.2f}x",
                target="-" if name == "aiohttp" else ">= 0.90x",
                spread=f"{min(rates):,.0f}-{max(rates):,.0f} req/s",
            )
        )
    for name, results in runs.items():
        p50 = statistics.median(r.p50_us for r in results)
        p99 = statistics.median(r.p99_us for r in results)
        rows.append(
            Row(
                f"latency p50 / p99, {LABELS[name]}",
                "-" if name == "aiohttp" else f"aiohttp p50 {base_p50:,.0f} us",
                f"{p50:,.0f} us / {p99:,.0f} us",
                fmt_ratio(p50, base_p50),
            )
        )
    return rows


def _child(url: str, plan: CpuPlan) -> dict[str, Result]:
    """Run one client process pinned to the client CPU; return each variant's result."""
    command = [*plan.prefix(plan.client), sys.executable, "-m", "bench.client", "--child", url]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the client process exited with {done.returncode}:\n{done.stderr}")
    return {name: Result(**fields) for name, fields in json.loads(done.stdout).items()}


# --- the client process ---------------------------------------------------------------------


async def _measure(url: str) -> dict[str, Result]:
    import aiohttp

    async with (
        aiohttp.ClientSession() as raw_session,
        aiohttp.ClientSession() as client_session,
        aiohttp.ClientSession() as codec_session,
    ):
        calls = _calls(url, raw_session, client_session, codec_session)
        for call in calls.values():
            await _batch(call, WARMUP_REQUESTS, [])
        latencies: dict[str, list[float]] = {name: [] for name in VARIANTS}
        seconds = dict.fromkeys(VARIANTS, 0.0)
        errors = dict.fromkeys(VARIANTS, 0)
        ratios: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(ROUNDS):
            rates = {}
            for name, call in calls.items():
                began = time.perf_counter()
                errors[name] += await _batch(call, BATCH, latencies[name])
                elapsed = time.perf_counter() - began
                seconds[name] += elapsed
                rates[name] = BATCH / elapsed
            for name in VARIANTS:
                ratios[name].append(rates[name] / rates["aiohttp"])
    results = {}
    for name in VARIANTS:
        cuts = statistics.quantiles(latencies[name], n=100)
        results[name] = Result(
            requests_per_s=ROUNDS * BATCH / seconds[name],
            p50_us=cuts[49] * 1e6,
            p99_us=cuts[98] * 1e6,
            errors=errors[name],
            round_ratios=ratios[name],
        )
    return results


def _calls(url: str, raw: object, plain: object, typed: object) -> dict[str, Call]:
    """One request of each variant, each on its own session."""
    import aiohttp

    from pygokit.transport.http.client import Client, ClientRequest, ClientResponse
    from pygokit.transport.http.client_codec import encode_json_request, json_response_decoder

    assert isinstance(raw, aiohttp.ClientSession)
    assert isinstance(plain, aiohttp.ClientSession)
    assert isinstance(typed, aiohttp.ClientSession)

    @dataclasses.dataclass(frozen=True, slots=True)
    class SumRequest:
        a: int
        b: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class SumResponse:
        v: int

    async def by_hand() -> int:
        body = json.dumps({"a": 1, "b": 2}).encode()
        headers = {"Content-Type": "application/json"}
        async with raw.post(url, data=body, headers=headers) as response:
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            value: int = json.loads(await response.read())["v"]
            return value

    def encode(request: SumRequest, http_request: ClientRequest) -> None:
        http_request.headers["Content-Type"] = "application/json"
        http_request.body = json.dumps({"a": request.a, "b": request.b}).encode()

    async def decode(response: ClientResponse) -> int:
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
        value: int = json.loads(await response.read())["v"]
        return value

    client = Client("POST", url, encode, decode, session=plain)
    codec = Client(
        "POST", url, encode_json_request, json_response_decoder(SumResponse), session=typed
    )

    async def with_client() -> int:
        return await client(SumRequest(1, 2))

    async def with_codec() -> SumResponse:
        return await codec(SumRequest(1, 2))

    return {"aiohttp": by_hand, "client": with_client, "client+codec": with_codec}


async def _batch(call: Call, requests: int, latencies: list[float]) -> int:
    """Send *requests* calls from TASKS tasks; record latencies, return the failures."""
    remaining = requests
    errors = 0

    async def worker() -> None:
        nonlocal remaining, errors
        clock = time.perf_counter
        while remaining > 0:
            remaining -= 1
            began = clock()
            try:
                await call()
            except Exception:  # counted; the run is reported as invalid
                errors += 1
            latencies.append(clock() - began)

    async with asyncio.TaskGroup() as group:
        for _ in range(TASKS):
            group.create_task(worker())
    return errors


def _main() -> None:
    """``python -m bench.client``: the whole area; ``--child URL``: one client process."""
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        results = asyncio.run(_measure(sys.argv[2]))
        print(json.dumps({name: dataclasses.asdict(r) for name, r in results.items()}))
        return
    began = time.monotonic()
    table = run()
    now = datetime.datetime.now(datetime.UTC)
    print(render(machine_facts(now), [table], took_s=time.monotonic() - began))


if __name__ == "__main__":
    _main()
