"""HTTP: a pygokit endpoint chain inside a raw ASGI app, served by uvicorn, loaded by wrk.

Two uvicorn servers run side by side on the same pinned core (an idle one costs
nothing): `bench.apps.asgi_sum.raw`, the baseline, and ``chained``, which computes
the same sum through a five-layer pass-through chain. After a short warm-up each,
wrk measures them in turn (raw, chained, raw, chained, ...) so noise on the shared
machine falls on both; the report gives medians over the runs and chained/raw ratios.
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bench.load import HOST, CpuPlan, Server, WrkResult, plan_cpus, run_wrk, uvicorn
from bench.report import Row, Table, fmt_ratio

__all__ = ["run"]

APPS = ("raw", "chained")
RUNS = 8
SECONDS = 3
WARMUP_SECONDS = 1
CONNECTIONS = 32
SCRIPT = Path(__file__).with_name("post_sum.lua")

NOISY_SPREAD = 1.15
"""Runs of one app whose fastest beats their slowest by more than this are flagged."""

Figure = Callable[[WrkResult], float]


def run() -> Table:
    """Load both apps in alternation and report the chained one against the raw one."""
    table = Table(
        title="HTTP: endpoint chain inside a raw ASGI app, on uvicorn",
        what=(
            'wrk POSTs `{"a":1,"b":2}` to `/sum` on a one-process uvicorn (uvloop, httptools). '
            "Baseline: a raw ASGI app that adds the numbers inline. Value: the same app "
            "computing the sum through a pygokit endpoint behind a five-layer pass-through "
            "`chain` (the endpoint takes a tuple and returns the dict the raw app builds "
            "inline, so only the endpoint and its chain differ). Both parse and encode JSON "
            "with the standard library."
        ),
    )
    if shutil.which("wrk") is None:
        table.notes.append("Skipped: wrk is not installed (`make bench` installs it).")
        return table
    plan = plan_cpus()
    runs: dict[str, list[WrkResult]] = {name: [] for name in APPS}
    with ExitStack() as stack:
        servers = {
            name: stack.enter_context(uvicorn(f"bench.apps.asgi_sum:{name}", plan)) for name in APPS
        }
        for server in servers.values():
            _check_sum(server)
            _load(server, WARMUP_SECONDS, plan)
        for number in range(1, RUNS + 1):
            for name, server in servers.items():
                result = _load(server, SECONDS, plan)
                runs[name].append(result)
                print(
                    f"  http {name} run {number}/{RUNS}: {result.requests_per_s:,.0f} req/s, "
                    f"p50 {_latency(result.p50_us)}, p99 {_latency(result.p99_us)}",
                    file=sys.stderr,
                )
    table.rows += _rows(runs["raw"], runs["chained"])
    table.notes += [
        f"Medians of {RUNS} runs per app of `wrk -t1 -c{CONNECTIONS} -d{SECONDS}s --latency`, "
        f"alternating raw and chained, after a {WARMUP_SECONDS} s warm-up of each. "
        "Ratios are medians of the per-round chained/raw ratios (each pair ran back to "
        "back), so they need not equal the ratio of the medians. Spread is the range over "
        "the runs. Other tenants can only slow a run down, so the best runs' ratio is a "
        "second estimate that noise hurts less; when the two disagree, trust neither.",
        plan.note,
        *_noise_notes(runs),
    ]
    for name, results in runs.items():
        errors = sum(result.errors for result in results)
        if errors:
            table.notes.append(
                f"**INVALID**: the {name} app got {errors} non-2xx responses or socket errors."
            )
    return table


def _rps(result: WrkResult) -> float:
    return result.requests_per_s


def _p50(result: WrkResult) -> float:
    return result.p50_us


def _p99(result: WrkResult) -> float:
    return result.p99_us


def _rows(raw: list[WrkResult], chained: list[WrkResult]) -> list[Row]:
    raw_rps, raw_p50, raw_p99 = _median(raw, _rps), _median(raw, _p50), _median(raw, _p99)
    raw_best, chained_best = max(map(_rps, raw)), max(map(_rps, chained))
    raw_mark, both_mark = _invalid(raw), _invalid(raw + chained)
    return [
        Row(f"throughput, raw ASGI{raw_mark}", "-", _rate(raw_rps), "1.00x",
            spread=_rate_range(raw)),
        Row(f"throughput, 5-layer chain{both_mark}", f"raw {_rate(raw_rps)}",
            _rate(_median(chained, _rps)), _paired_ratio(chained, raw, _rps),
            spread=_rate_range(chained)),
        Row(f"best-run throughput, 5-layer chain{both_mark}", f"raw best {_rate(raw_best)}",
            _rate(chained_best), fmt_ratio(chained_best, raw_best)),
        Row(f"p50 latency, 5-layer chain{both_mark}", f"raw {_latency(raw_p50)}",
            _latency(_median(chained, _p50)), _paired_ratio(chained, raw, _p50),
            spread=_latency_range(chained, _p50)),
        Row(f"p99 latency, 5-layer chain{both_mark}", f"raw {_latency(raw_p99)}",
            _latency(_median(chained, _p99)), _paired_ratio(chained, raw, _p99),
            spread=_latency_range(chained, _p99)),
    ]  # fmt: skip


def _paired_ratio(values: list[WrkResult], baseline: list[WrkResult], figure: Figure) -> str:
    """The median over rounds of value/baseline, each pair measured back to back."""
    ratios = [figure(v) / figure(b) for v, b in zip(values, baseline, strict=True)]
    return f"{statistics.median(ratios):.2f}x"


def _noise_notes(runs: dict[str, list[WrkResult]]) -> list[str]:
    """Warn when runs of one app disagree so much that the machine must have been busy."""
    notes = []
    for name, results in runs.items():
        rates = [result.requests_per_s for result in results]
        if max(rates) > NOISY_SPREAD * min(rates):
            notes.append(
                f"The {name} app's throughput varied by {max(rates) / min(rates) - 1:.0%} "
                "between runs: the machine was busy, so read its ratios with care."
            )
    return notes


def _check_sum(server: Server) -> None:
    """Send one request and make sure the answer is right before measuring anything."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=5)
    try:
        connection.request(
            "POST", "/sum", body=b'{"a":1,"b":2}', headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200 or json.loads(body) != {"v": 3}:
        raise RuntimeError(f"{server.url}/sum answered {response.status} {body!r}")


def _load(server: Server, seconds: int, plan: CpuPlan) -> WrkResult:
    result = run_wrk(
        f"{server.url}/sum", script=SCRIPT, seconds=seconds, connections=CONNECTIONS, plan=plan
    )
    if result.errors:
        print(
            f"WARNING: {server.url} got {result.non_2xx} non-2xx responses and "
            f"{result.socket_errors} socket errors; the benchmark is invalid",
            file=sys.stderr,
        )
    return result


def _median(results: list[WrkResult], figure: Figure) -> float:
    return statistics.median(figure(result) for result in results)


def _invalid(results: list[WrkResult]) -> str:
    return " **(INVALID: errors)**" if any(result.errors for result in results) else ""


def _rate(requests_per_s: float) -> str:
    return f"{requests_per_s:,.0f} req/s"


def _rate_range(results: list[WrkResult]) -> str:
    rates = [result.requests_per_s for result in results]
    return f"{min(rates):,.0f}-{max(rates):,.0f} req/s"


def _latency(us: float) -> str:
    return f"{us:.0f} us" if us < 1000 else f"{us / 1000:.2f} ms"


def _latency_range(results: list[WrkResult], figure: Figure) -> str:
    values = [figure(result) for result in results]
    return f"{_latency(min(values))}-{_latency(max(values))}"
