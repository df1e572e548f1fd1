"""gRPC unary: the Sum RPC on pygokit's gRPC server against raw grpc.aio, Go kit and others.

Every server answers ``SumRequest{a: 1, b: 2}`` with ``SumReply{v: 3}``
(`bench.anchors.grpc_sum`) from one pinned core: a hand-written grpc.aio
servicer (the baseline of every ratio), pygokit's gRPC `Server` bare and behind
the production chain of the HTTP benchmark, Go kit 0.10's ``grpctransport``
(built offline from Debian's packages), and other Python server paths for the
same wire protocol (`bench.anchors.grpc_alternatives`). The load comes from a
Go generator pinned to the other core (`bench.grpc_load`). As in the HTTP
benchmark, the servers run side by side and are loaded in turn, round after
round, the order rotating; the report gives medians over the rounds, ratios
against the baseline measured in the same round, and the server's CPU time per
call.

``python -m bench.grpc_unary`` runs the servers of ``make bench``; ``--all`` adds every
alternative server path (the investigation behind the findings in the notes).
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

from bench.anchors import gokit_build
from bench.anchors.grpc_servers import (
    ALL,
    DEFAULT,
    GOKIT,
    GRPCLIB,
    PYGOKIT_BARE,
    PYGOKIT_CHAIN,
    PYGOKIT_TUNED,
    RAW,
    Contender,
    available,
)
from bench.grpc_load import LoadResult, Running, load, run_server
from bench.load import CpuPlan, plan_cpus
from bench.report import Row, Table, machine_facts, render

__all__ = ["main", "run"]

RUNS = 5
SECONDS = 3.0
WARMUP_SECONDS = 1.0
CONNECTIONS = 4
CONCURRENCY = 32

NOISY_SPREAD = 1.15
"""Runs of one server whose fastest beats their slowest by more than this are flagged."""

SATURATED = 0.9
"""A server busier than this (CPU time over wall time) set the pace; a less busy one waited."""

TARGET_BARE = 0.95
TARGET_CHAIN = 0.90
TARGET_STRETCH = 1.5

Figure = Callable[[LoadResult], float]

PYGOKIT_GRPCLIB = Contender(
    "pygokit-grpclib", "pygokit on grpclib (default)", "bench.anchors.pygokit_grpc_sum", "grpclib"
)
PYGOKIT_GRPCLIB_CHAIN = Contender(
    "pygokit-grpclib-chain",
    "pygokit on grpclib (default) + chain",
    "bench.anchors.pygokit_grpc_sum",
    "grpclib-chain",
)
OURS = (PYGOKIT_GRPCLIB, PYGOKIT_GRPCLIB_CHAIN)
"""pygokit's grpclib backend, loaded along with whichever set of servers is chosen."""


def run(contenders: Sequence[Contender] = (*DEFAULT, *OURS), runs: int = RUNS) -> Table:
    """Load every contender that can run here, in rotation, and report against raw grpc.aio."""
    table = Table(
        title="gRPC unary: Sum on pygokit against raw grpc.aio, Go kit and other server paths",
        what=(
            "A Go load generator keeps 32 unary `pb.Add/Sum` calls in flight over 4 HTTP/2 "
            "connections; every server answers `SumRequest{a:1,b:2}` with `SumReply{v:3}` "
            "(`examples/addsvc/pb/addsvc.proto`) from one core. Baseline: a hand-written "
            "`grpc.aio` servicer (`async def Sum`, registered as grpcio's generated code does, "
            "default options). pygokit: `Server(endpoint, decode, encode)` served by "
            '`serve()` on its default path (grpclib) and on grpc.aio (`backend="aio"`), '
            "bare and inside the HTTP benchmark's production chain (logging to a "
            "discarding writer, prometheus_client counter and histogram, erroring limiter at "
            "1e9/s, circuit breaker). Go kit 0.10: `grpctransport.NewServer` behind the "
            "generated service, as in addsvc (grpc-go 1.33 from Debian, GOMAXPROCS=1). "
            "Alternatives, all serving the same proto: pygokit bare on uvloop with gRPC's "
            'EventEngine I/O turned off (`GRPC_EXPERIMENTS`, "EE I/O off"), grpcio\'s '
            "synchronous `grpc.server` with a thread pool (a plain `def Sum`), the same "
            "handing each call to an `async def` on one uvloop event loop, and grpclib (pure "
            "asyncio over h2). Server CPU per call is the user + system time of all the "
            "server's threads, read from /proc around each run, over the calls it answered; "
            "busy is that time over the run's wall time (100% = the core saturated)."
        ),
    )
    plan = plan_cpus()
    try:
        programs = gokit_build.build_grpc()
    except gokit_build.GoUnavailable as exc:
        table.notes.append(f"Skipped: the Go load generator cannot be built: {exc}")
        return table
    chosen, skipped = available(contenders)
    if RAW not in chosen:
        table.notes += ["Skipped: the baseline, raw grpc.aio, cannot run here.", *skipped]
        return table
    runs_by_key: dict[str, list[LoadResult]] = {}
    with ExitStack() as stack:
        servers: dict[str, Running] = {}
        for contender in chosen:
            try:
                server = stack.enter_context(
                    run_server(contender.command(programs), plan, env=contender.environment())
                )
                _check(programs.load, server, plan)
            except (RuntimeError, TimeoutError, OSError, ValueError) as exc:
                if contender is RAW:
                    raise
                skipped.append(f"{contender.label} left out: it did not serve Sum ({exc}).")
                continue
            servers[contender.key] = server
        for server in servers.values():
            _load(programs.load, server, plan, WARMUP_SECONDS)
        keys = list(servers)
        runs_by_key = {key: [] for key in keys}
        for number in range(runs):
            for key in keys[number % len(keys) :] + keys[: number % len(keys)]:
                result = _load(programs.load, servers[key], plan, SECONDS)
                runs_by_key[key].append(result)
                print(
                    f"  grpc {key} run {number + 1}/{runs}: {result.rps:,.0f} req/s, "
                    f"p50 {_latency(result.p50_us)}, p99 {_latency(result.p99_us)}, "
                    f"server {result.server_us_per_call:.0f} us/call "
                    f"({result.server_busy:.0%} busy), load generator {result.client_busy:.0%}",
                    file=sys.stderr,
                )
    labels = {contender.key: contender.label for contender in contenders}
    table.rows += _rows(runs_by_key, labels)
    table.rows += _target_rows(runs_by_key)
    table.notes += [
        f"Medians of {runs} rounds of {SECONDS:.0f} s; in each round every server is loaded "
        "once, the order rotating by one server per round, after a check of the answer and "
        f"a {WARMUP_SECONDS:.0f} s warm-up of each. Ratios are medians of the per-round "
        "ratios. Spread is the range over the rounds; on the target rows it gives the ratio "
        "of the best runs, a second estimate that noise hurts less.",
        plan.note
        if plan.server is None
        else f"Every server pinned to CPU {plan.server}, the load generator to CPU {plan.client}.",
        _generator_note(runs_by_key),
        f"Go programs: {gokit_build.go_version()}, built offline in GOPATH mode "
        "(`python -m bench.anchors.gokit_build`) from "
        f"{gokit_build.package_versions(gokit_build.GRPC_PACKAGES)}.",
        *skipped,
        *_noise_notes(runs_by_key, labels),
        *FINDINGS,
    ]
    for key, results in runs_by_key.items():
        errors = sum(result.errors for result in results)
        if errors:
            first = next(result.first_error for result in results if result.errors)
            table.notes.append(f"**INVALID**: {labels[key]} failed {errors} calls ({first}).")
    return table


FINDINGS = (
    "**Findings** (profiles with perf and py-spy; every path above and more: "
    "`python -m bench.grpc_unary --all`). Where raw grpc.aio's time goes: handing each call "
    "between threads, not Python code. gRPC's C core does the socket I/O on its EventEngine "
    "threads, a poller thread waits on the completion queue and wakes the asyncio loop "
    "through a socket, the loop thread runs cygrpc's per-call code and the handler: ~19 "
    "context switches per call on one core, half the CPU time in the kernel (perf: "
    "`finish_task_switch` ~20-25%, wake-ups of sockets, eventfd and futexes most of the "
    "rest), the interpreter ~25%, cygrpc ~18-20%; the handler itself is under 1% of the "
    "samples.",
    "Configurations: uvloop alone ~1.1x; `GRPC_EXPERIMENTS=-event_engine_listener,"
    "-event_engine_for_all_other_endpoints` (gRPC's older I/O, where the thread that polls "
    "does the I/O; it must be set before `grpc` is imported) ~1.1-1.2x, ~13 switches per "
    "call; both ~1.2-1.3x (the tuned pygokit row). No measurable change from server options "
    "(`grpc.minimal_stack`, channelz off, `grpc.optimization_target`, "
    "`grpc.http2.bdp_probe` 0, compression off, `grpc.max_concurrent_streams`, "
    "`grpc.so_reuseport` 0), registered against generic method handlers, or "
    "`GRPC_POLL_STRATEGY=poll` (slightly worse).",
    "Other paths: the synchronous `grpc.server` with a thread pool is ~1.6-1.9x with 4 "
    "threads (~9 switches per call), ~2.3-2.5x with the older I/O (~6 per call, ~125 us). "
    "Handing each call from its worker to an `async def` on one event loop keeps ~1.7x "
    "with the older I/O (~1.3x without), but the pool caps the calls in flight at its "
    "size and more workers cost more (64 workers: ~1.1x). grpclib (one thread, no "
    "hand-offs, ~0.1 switches per call) needs ~0.62-0.67x the CPU per call and serves "
    "~1.5-1.6x when it has its core; single-threaded, it loses more to other tenants "
    "(busy under 100%), and its pure-Python HTTP/2 gains less on larger messages (Concat "
    "with 2 x 16 KB: 1.14x).",
    'Decision: pygokit\'s default server path is grpclib (`serve(...)`; `backend="aio"` '
    "keeps grpc.aio). Its backend passes the same transport tests as grpc.aio with "
    "pygokit's own message-size and concurrency limits, and gathers each loop turn's "
    "writes (headers, message, trailers) into one send, which put it ahead of raw grpclib: "
    "~0.6x raw grpc.aio's CPU per call and ~1.5-1.8x its throughput on small messages. "
    "grpc.aio stays one argument away, with the deployment tuning above (uvloop, "
    "`GRPC_EXPERIMENTS`: ~1.2-1.3x); the synchronous server suits CPU-bound services.",
)


def _check(generator: Path, server: Running, plan: CpuPlan) -> None:
    """Send a few calls and make sure every answer is right before measuring anything."""
    result = load(generator, server, plan, seconds=0.2, connections=1, concurrency=1)
    if result.errors or not result.requests:
        raise RuntimeError(f"{result.errors} of the calls failed: {result.first_error}")


def _load(generator: Path, server: Running, plan: CpuPlan, seconds: float) -> LoadResult:
    return load(
        generator, server, plan, seconds=seconds, connections=CONNECTIONS, concurrency=CONCURRENCY
    )


def _rows(runs: dict[str, list[LoadResult]], labels: dict[str, str]) -> list[Row]:
    raw = runs[RAW.key]
    rows = []
    for key, results in runs.items():
        is_raw = key == RAW.key
        rows.append(
            Row(
                f"throughput, {labels[key]}{_invalid(results + raw)}",
                "-" if is_raw else f"raw grpc.aio {_rate(_median(raw, _rps))}",
                _rate(_median(results, _rps)),
                "1.00x" if is_raw else _paired_ratio(results, raw, _rps),
                spread=f"{min(map(_rps, results)):,.0f}-{max(map(_rps, results)):,.0f} req/s",
            )
        )
    for key, results in runs.items():
        is_raw = key == RAW.key
        rows.append(
            Row(
                f"server CPU per call, {labels[key]}",
                "-" if is_raw else f"raw grpc.aio {_median(raw, _cpu):.0f} us",
                f"{_median(results, _cpu):.1f} us ({_median(results, _busy):.0%} busy)",
                "1.00x" if is_raw else _paired_ratio(results, raw, _cpu),
                spread=f"{min(map(_cpu, results)):.1f}-{max(map(_cpu, results)):.1f} us",
            )
        )
    for key, results in runs.items():
        is_raw = key == RAW.key
        raw_latency = f"{_latency(_median(raw, _p50))} / {_latency(_median(raw, _p99))}"
        rows.append(
            Row(
                f"latency p50 / p99, {labels[key]}",
                "-" if is_raw else f"raw grpc.aio {raw_latency}",
                f"{_latency(_median(results, _p50))} / {_latency(_median(results, _p99))}",
                "1.00x / 1.00x"
                if is_raw
                else f"{_paired_ratio(results, raw, _p50)} / {_paired_ratio(results, raw, _p99)}",
                spread=f"p99 {_latency(min(map(_p99, results)))}-"
                f"{_latency(max(map(_p99, results)))}",
            )
        )
    return rows


def _target_rows(runs: dict[str, list[LoadResult]]) -> list[Row]:
    """The issue's targets (pass/MISS) and the ratios to Go kit (reported, no target)."""
    comparisons = (
        (PYGOKIT_GRPCLIB, RAW, TARGET_BARE, "pygokit bare (default path: grpclib)"),
        (PYGOKIT_GRPCLIB_CHAIN, RAW, TARGET_CHAIN, "pygokit + chain (default path: grpclib)"),
        (PYGOKIT_GRPCLIB, RAW, TARGET_STRETCH, "pygokit's default path (stretch)"),
        (PYGOKIT_BARE, RAW, TARGET_BARE, PYGOKIT_BARE.label),
        (PYGOKIT_CHAIN, RAW, TARGET_CHAIN, PYGOKIT_CHAIN.label),
        (PYGOKIT_GRPCLIB, GRPCLIB, None, PYGOKIT_GRPCLIB.label),
        (PYGOKIT_TUNED, RAW, None, PYGOKIT_TUNED.label),
        (GOKIT, RAW, None, GOKIT.label),
        (PYGOKIT_BARE, GOKIT, None, PYGOKIT_BARE.label),
        (PYGOKIT_CHAIN, PYGOKIT_BARE, None, PYGOKIT_CHAIN.label),
    )
    rows = []
    for value, baseline, target, label in comparisons:
        if value.key not in runs or baseline.key not in runs:
            continue
        values, baselines = runs[value.key], runs[baseline.key]
        ratios = [_rps(v) / _rps(b) for v, b in zip(values, baselines, strict=True)]
        ratio = statistics.median(ratios)
        verdict = "-"
        if target is not None:
            verdict = f">= {target:.2f}x: " + ("pass" if ratio >= target else "**MISS**")
            if min(ratios) < target <= max(ratios):
                verdict += f" (rounds {min(ratios):.2f}-{max(ratios):.2f}x: within noise)"
        best, best_baseline = max(map(_rps, values)), max(map(_rps, baselines))
        rows.append(
            Row(
                f"**{label} / {baseline.label}**{_invalid(values + baselines)}",
                f"{baseline.label} {_rate(_median(baselines, _rps))}",
                _rate(_median(values, _rps)),
                f"{ratio:.2f}x",
                target=verdict,
                spread=f"best runs {best / best_baseline:.2f}x",
            )
        )
    return rows


def _generator_note(runs: dict[str, list[LoadResult]]) -> str:
    """Say how busy the load generator was, to show whether it or the server set the pace."""
    python = [r.client_busy for key, results in runs.items() if key != GOKIT.key for r in results]
    note = (
        "Load generator: `bench/anchors/grpcload` (Go, grpc-go 1.33 from Debian, "
        "GOMAXPROCS=1), which sends the request and compares the reply as bytes (ghz "
        "cannot be installed offline). A Python grpc.aio client in its own process was the "
        "other candidate: measured here it saturates its core near 10k calls/s (~90 us of "
        "CPU per call), enough for raw grpc.aio but at 87% busy already against the "
        "synchronous server with the older I/O (8.2k/s), and a sixth of what Go kit serves."
    )
    if python:
        note += (
            f" Against the Python servers it kept at most {max(python):.0%} of its core busy "
            "while they were saturated, so they set the pace."
        )
    if GOKIT.key in runs:
        busy = statistics.median(r.client_busy for r in runs[GOKIT.key])
        server = statistics.median(r.server_busy for r in runs[GOKIT.key])
        note += (
            f" Against Go kit it was {busy:.0%} busy and the server {server:.0%}: grpc-go "
            "costs a client about what it costs a server, so Go kit's throughput is a floor "
            "and its CPU per call the fairer comparison."
        )
    return note


def _noise_notes(runs: dict[str, list[LoadResult]], labels: dict[str, str]) -> list[str]:
    """Warn when runs of one server disagree, or when a server was not saturated."""
    notes = []
    for key, results in runs.items():
        rates = [result.rps for result in results]
        if max(rates) > NOISY_SPREAD * min(rates):
            notes.append(
                f"{labels[key]}'s throughput varied by {max(rates) / min(rates) - 1:.0%} "
                "between runs: the machine was busy, so read its ratios with care."
            )
        busy = _median(results, _busy)
        if key != GOKIT.key and busy < SATURATED:
            notes.append(
                f"{labels[key]} was only {busy:.0%} busy: it spent the rest waiting (for the "
                "shared core or for calls), so its throughput understates what it can do; its "
                "CPU per call is the figure to compare."
            )
    return notes


def _rps(result: LoadResult) -> float:
    return result.rps


def _cpu(result: LoadResult) -> float:
    return result.server_us_per_call


def _busy(result: LoadResult) -> float:
    return result.server_busy


def _p50(result: LoadResult) -> float:
    return result.p50_us


def _p99(result: LoadResult) -> float:
    return result.p99_us


def _paired_ratio(values: list[LoadResult], baseline: list[LoadResult], figure: Figure) -> str:
    """The median over rounds of value/baseline, both measured in the same round."""
    ratios = [figure(v) / figure(b) for v, b in zip(values, baseline, strict=True)]
    return f"{statistics.median(ratios):.2f}x"


def _median(results: list[LoadResult], figure: Figure) -> float:
    return statistics.median(figure(result) for result in results)


def _invalid(results: list[LoadResult]) -> str:
    return " **(INVALID: errors)**" if any(result.errors for result in results) else ""


def _rate(requests_per_s: float) -> str:
    return f"{requests_per_s:,.0f} req/s"


def _latency(us: float) -> str:
    return f"{us:.0f} us" if us < 1000 else f"{us / 1000:.2f} ms"


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bench.grpc_unary [--all] [--runs N]``: print this area's table."""
    parser = argparse.ArgumentParser(prog="python -m bench.grpc_unary", description=__doc__)
    parser.add_argument("--all", action="store_true", help="load every alternative server path")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"rounds (default {RUNS})")
    options = parser.parse_args(argv)
    now = datetime.datetime.now(datetime.UTC)
    began = time.monotonic()
    table = run((*(ALL if options.all else DEFAULT), *OURS), runs=options.runs)
    print(render(machine_facts(now), [table], took_s=time.monotonic() - began))


if __name__ == "__main__":
    main()
