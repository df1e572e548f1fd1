"""HTTP frameworks: ``POST /sum`` on pygokit's HTTP server against the floor and the field.

Seven servers answer ``{"a":1,"b":2}`` with ``{"v":3}``, each on one pinned core:
a raw ASGI app (the floor), a Starlette route, a FastAPI route with a pydantic
model, pygokit's HTTP server bare and with a production chain (all on a
one-process uvicorn), and Go kit 0.10's ``httptransport.NewServer`` bare and with
the same chain (GOMAXPROCS=1, built offline from Debian's packages by
`bench.anchors.gokit_build`). They all run side by side (an idle one costs
nothing); after a check of the answer and a short warm-up each, wrk loads them in
turn, round after round, each round starting one server later than the one
before, so that noise on the shared machine falls on all of them. The report
gives medians over the rounds and ratios against the raw ASGI app.

A server that cannot run here (no Go toolchain, pygokit's HTTP server missing) is
left out with a note; the raw ASGI app is required.
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import REPO_ROOT
from bench.anchors import gokit_build
from bench.load import (
    HOST,
    CpuPlan,
    Server,
    WrkResult,
    cpu_seconds,
    plan_cpus,
    run_wrk,
    uvicorn,
)
from bench.report import Row, Table, fmt_ratio

__all__ = ["run"]

RUNS = 7
SECONDS = 3
WARMUP_SECONDS = 1
CONNECTIONS = 32
SCRIPT = Path(__file__).with_name("post_sum.lua")

NOISY_SPREAD = 1.15
"""Runs of one server whose fastest beats their slowest by more than this are flagged."""

UNRELIABLE_SPREAD = 1.5
"""Beyond this spread something else shared the cores; a verdict on such runs says so."""

TARGET_BARE_VS_RAW = 0.95
TARGET_CHAIN_VS_RAW = 0.85
TARGET_CHAIN_VS_FASTAPI = 2.5

Figure = Callable[[WrkResult], float]


@dataclass(frozen=True, slots=True)
class Contender:
    """One server under load: how to name it and how to start it."""

    key: str
    label: str
    kind: str
    """``"uvicorn"`` (``target`` is ``module:app``) or ``"gokit"`` (``target`` is the chain)."""
    target: str


RAW = Contender("raw", "raw ASGI", "uvicorn", "bench.apps.asgi_sum:raw")
STARLETTE = Contender("starlette", "Starlette route", "uvicorn", "bench.anchors.starlette_sum:app")
FASTAPI = Contender("fastapi", "FastAPI + pydantic", "uvicorn", "bench.anchors.fastapi_sum:app")
PYGOKIT_BARE = Contender("pygokit", "pygokit bare", "uvicorn", "bench.anchors.pygokit_sum:bare")
PYGOKIT_CHAIN = Contender(
    "pygokit-chain", "pygokit + chain", "uvicorn", "bench.anchors.pygokit_sum:chain"
)
GOKIT_BARE = Contender("gokit", "Go kit bare", "gokit", "bare")
GOKIT_CHAIN = Contender("gokit-chain", "Go kit + chain", "gokit", "full")
CONTENDERS = (RAW, STARLETTE, FASTAPI, PYGOKIT_BARE, PYGOKIT_CHAIN, GOKIT_BARE, GOKIT_CHAIN)


def run() -> Table:
    """Load every server that can run here, in rotation, and report against raw ASGI."""
    table = Table(
        title="HTTP frameworks: POST /sum, pygokit against raw ASGI, Starlette, FastAPI, Go kit",
        what=(
            'wrk POSTs `{"a":1,"b":2}` to `/sum`; every server answers `{"v":3}` from one '
            "core. Python servers run on a one-process uvicorn (uvloop, httptools, no access "
            "log): the raw ASGI app of `bench.apps.asgi_sum` (the floor, the baseline of "
            "every ratio), a Starlette route (`await request.json()`, `JSONResponse`), a "
            "FastAPI route taking a pydantic model, and pygokit's HTTP `Server` with "
            '`json_decoder(SumRequest)`, `json_encoder()` and `methods=("POST",)`, bare and '
            "with a production chain (logging middleware to a discarding writer, "
            "prometheus_client counter and histogram, erroring rate limiter at 1e9/s, "
            "gobreaker-style circuit breaker). "
            "Go kit 0.10 (Debian's `golang-github-go-kit-kit-dev`, GOMAXPROCS=1): "
            "`httptransport.NewServer` bare and with the same chain (go-kit `log` to "
            "`io.Discard`, Prometheus Go client, `ratelimit.NewErroringLimiter` over "
            "`x/time/rate`, a consecutive-failures breaker in `bench/anchors/gokit/main.go`)."
        ),
    )
    if shutil.which("wrk") is None:
        table.notes.append("Skipped: wrk is not installed (`make bench` installs it).")
        return table
    plan = plan_cpus()
    contenders, skipped = _available()
    runs: dict[str, list[WrkResult]] = {}
    with ExitStack() as stack:
        servers: dict[str, Server] = {}
        for contender in contenders:
            try:
                server = stack.enter_context(_serve(contender, plan))
                _check_sum(server)
            except (RuntimeError, TimeoutError, OSError, ValueError) as exc:
                if contender is RAW:
                    raise
                skipped.append(f"{contender.label} left out: it did not serve /sum ({exc}).")
                continue
            servers[contender.key] = server
        for key, server in servers.items():
            _load(key, server, WARMUP_SECONDS, plan)
        keys = list(servers)
        runs = {key: [] for key in keys}
        cpu: dict[str, list[float]] = {key: [] for key in keys}
        for number in range(RUNS):
            # Rotate the order so that no server always runs first or right after another.
            for key in keys[number % len(keys) :] + keys[: number % len(keys)]:
                before = cpu_seconds(servers[key].pid)
                result = _load(key, servers[key], SECONDS, plan)
                used = cpu_seconds(servers[key].pid) - before
                runs[key].append(result)
                cpu[key].append(used / max(result.requests, 1) * 1e6)
                print(
                    f"  http frameworks {key} run {number + 1}/{RUNS}: "
                    f"{result.requests_per_s:,.0f} req/s, p50 {_latency(result.p50_us)}, "
                    f"p99 {_latency(result.p99_us)}",
                    file=sys.stderr,
                )
    labels = {contender.key: contender.label for contender in CONTENDERS}
    table.rows += _server_rows(runs, labels)
    table.rows += _cpu_rows(cpu, labels)
    table.rows += _target_rows(runs)
    table.notes += [
        f"Medians of {RUNS} rounds of `wrk -t1 -c{CONNECTIONS} -d{SECONDS}s --latency`; in "
        "each round every server is loaded once, the order rotating by one server per round, "
        f"after a check of the answer and a {WARMUP_SECONDS} s warm-up of each. Ratios are "
        "medians of the per-round ratios (both servers loaded in the same round), so they "
        "need not equal the ratio of the medians. Spread is the range over the rounds; on the "
        "target rows it gives the ratio of the best runs instead, a second estimate that "
        "noise hurts less (other tenants can only slow a run down). When the two disagree, "
        "trust neither; a verdict is marked unreliable when either server's runs differ by "
        f"more than {UNRELIABLE_SPREAD - 1:.0%}.",
        "Server CPU per request: the user + system CPU time charged to the server process "
        "(all threads, from /proc) during a run, over the requests wrk counted; its ratio is "
        "the median of the per-round cost ratios against raw ASGI (lower is cheaper; a cost "
        "ratio c matches a throughput ratio of 1/c while the server saturates its core). Time "
        "the hypervisor gives other guests is not charged to the process, so this estimate "
        "moves less with other tenants than throughput does; their cache traffic still shows.",
        plan.note.replace("uvicorn pinned", "Every server (uvicorn or Go) pinned"),
        _go_note(),
        "Differences that remain: Go kit's `EncodeJSONResponse` appends a newline and sends "
        "`charset=utf-8`; Go's `net/http` keeps no access log and puts no limit on the body; "
        "FastAPI validates its response against the return annotation. All servers answer "
        "over HTTP/1.1 keep-alive connections.",
        *skipped,
        *_noise_notes(runs, labels),
    ]
    for key, results in runs.items():
        errors = sum(result.errors for result in results)
        if errors:
            table.notes.append(
                f"**INVALID**: {labels[key]} got {errors} non-2xx responses or socket errors."
            )
    return table


def _available() -> tuple[list[Contender], list[str]]:
    """The contenders that can run here, and a note for each one that cannot."""
    contenders = [RAW, STARLETTE, FASTAPI]
    notes = []
    try:
        importlib.import_module("bench.anchors.pygokit_sum")
    except Exception as exc:  # any failure to build the app means: skip it
        notes.append(
            "pygokit rows left out: `bench.anchors.pygokit_sum` does not import "
            f"(pygokit's HTTP server missing or changed?): {type(exc).__name__}: {exc}"
        )
    else:
        contenders += [PYGOKIT_BARE, PYGOKIT_CHAIN]
    try:
        gokit_build.build()
    except gokit_build.GoUnavailable as exc:
        notes.append(f"Go kit rows left out: {exc}")
    else:
        contenders += [GOKIT_BARE, GOKIT_CHAIN]
    return contenders, notes


def _serve(contender: Contender, plan: CpuPlan) -> AbstractContextManager[Server]:
    if contender.kind == "uvicorn":
        return uvicorn(contender.target, plan)
    return _gokit(contender.target, plan)


@contextmanager
def _gokit(chain: str, plan: CpuPlan, ready_s: float = 10.0) -> Iterator[Server]:
    """Run the Go kit anchor with *chain* (``bare`` or ``full``) for the ``with`` block."""
    port = _free_port()
    command = [
        *plan.prefix(plan.server),
        str(gokit_build.BINARY), "-addr", f"{HOST}:{port}", "-chain", chain,
    ]  # fmt: skip
    with _command_server(
        command, port, env={**os.environ, "GOMAXPROCS": "1"}, ready_s=ready_s
    ) as pid:
        yield Server(port, pid)


@contextmanager
def _command_server(
    command: list[str], port: int, *, env: dict[str, str], ready_s: float
) -> Iterator[int]:
    """Run *command* as a server listening on *port*, yielding its pid; always stop it.

    Waits until the port accepts connections, at most *ready_s* seconds; on leaving,
    terminates the process and kills it if it has not exited a few seconds later.
    """
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + ready_s
            while not _accepts(port):
                if process.poll() is not None:
                    log.seek(0)
                    output = log.read()[-2000:].decode(errors="replace")
                    raise RuntimeError(f"the server exited with {process.returncode}: {output}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not listening after {ready_s:.0f} s")
                time.sleep(0.05)
            yield process.pid
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


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
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if response.status != 200 or answer != {"v": 3}:
        raise RuntimeError(f"{server.url}/sum answered {response.status} {body[:200]!r}")


def _load(key: str, server: Server, seconds: int, plan: CpuPlan) -> WrkResult:
    result = run_wrk(
        f"{server.url}/sum", script=SCRIPT, seconds=seconds, connections=CONNECTIONS, plan=plan
    )
    if result.errors:
        print(
            f"WARNING: {key} got {result.non_2xx} non-2xx responses and "
            f"{result.socket_errors} socket errors; the benchmark is invalid",
            file=sys.stderr,
        )
    return result


def _server_rows(runs: dict[str, list[WrkResult]], labels: dict[str, str]) -> list[Row]:
    raw = runs[RAW.key]
    raw_rps, raw_p50, raw_p99 = _median(raw, _rps), _median(raw, _p50), _median(raw, _p99)
    rows = []
    for key, results in runs.items():
        mark = _invalid(results + raw)
        is_raw = key == RAW.key
        rows.append(
            Row(
                f"throughput, {labels[key]}{mark}",
                "-" if is_raw else f"raw ASGI {_rate(raw_rps)}",
                _rate(_median(results, _rps)),
                "1.00x" if is_raw else _paired_ratio(results, raw, _rps),
                spread=_rate_range(results),
            )
        )
    for key, results in runs.items():
        mark = _invalid(results + raw)
        is_raw = key == RAW.key
        rows.append(
            Row(
                f"latency p50 / p99, {labels[key]}{mark}",
                "-" if is_raw else f"raw ASGI {_latency(raw_p50)} / {_latency(raw_p99)}",
                f"{_latency(_median(results, _p50))} / {_latency(_median(results, _p99))}",
                "1.00x / 1.00x"
                if is_raw
                else f"{_paired_ratio(results, raw, _p50)} / {_paired_ratio(results, raw, _p99)}",
                spread=f"p99 {_latency_range(results, _p99)}",
            )
        )
    return rows


def _cpu_rows(cpu: dict[str, list[float]], labels: dict[str, str]) -> list[Row]:
    """Server CPU time per request for every server, against raw ASGI's in the same rounds."""
    raw = cpu[RAW.key]
    rows = []
    for key, costs in cpu.items():
        is_raw = key == RAW.key
        ratio = statistics.median(c / r for c, r in zip(costs, raw, strict=True))
        rows.append(
            Row(
                f"server CPU per request, {labels[key]}",
                "-" if is_raw else f"raw ASGI {statistics.median(raw):.1f} us",
                f"{statistics.median(costs):.1f} us",
                "1.00x" if is_raw else f"{ratio:.2f}x",
                spread=f"{min(costs):.1f}-{max(costs):.1f} us",
            )
        )
    return rows


def _target_rows(runs: dict[str, list[WrkResult]]) -> list[Row]:
    """The issue's targets (pass/MISS) and the ratios to Go kit (reported, no target)."""
    comparisons = (
        (PYGOKIT_BARE, RAW, TARGET_BARE_VS_RAW),
        (PYGOKIT_CHAIN, RAW, TARGET_CHAIN_VS_RAW),
        (PYGOKIT_CHAIN, FASTAPI, TARGET_CHAIN_VS_FASTAPI),
        (PYGOKIT_BARE, GOKIT_BARE, None),
        (PYGOKIT_CHAIN, GOKIT_CHAIN, None),
        (PYGOKIT_CHAIN, PYGOKIT_BARE, None),
        (GOKIT_CHAIN, GOKIT_BARE, None),
    )
    rows = []
    for value, baseline, target in comparisons:
        if value.key not in runs or baseline.key not in runs:
            continue
        values, baselines = runs[value.key], runs[baseline.key]
        ratio = statistics.median(_rps(v) / _rps(b) for v, b in zip(values, baselines, strict=True))
        verdict = "-"
        if target is not None:
            verdict = f">= {target:.2f}x: " + ("pass" if ratio >= target else "**MISS**")
            if _noisy(values, UNRELIABLE_SPREAD) or _noisy(baselines, UNRELIABLE_SPREAD):
                verdict += " (runs disagree: unreliable)"
        best, best_baseline = max(map(_rps, values)), max(map(_rps, baselines))
        rows.append(
            Row(
                f"**{value.label} / {baseline.label}**{_invalid(values + baselines)}",
                f"{baseline.label} {_rate(_median(baselines, _rps))}",
                _rate(_median(values, _rps)),
                f"{ratio:.2f}x",
                target=verdict,
                spread=f"best runs {fmt_ratio(best, best_baseline)}",
            )
        )
    return rows


def _go_note() -> str:
    if not gokit_build.BINARY.exists():
        return "Go kit: not built."
    packages = ", ".join(f"{package} {_deb_version(package)}" for package in gokit_build.PACKAGES)
    return (
        f"Go kit anchor: {gokit_build.go_version()}, built offline in GOPATH mode "
        f"(`python -m bench.anchors.gokit_build`) from {packages}; GOMAXPROCS=1."
    )


def _deb_version(package: str) -> str:
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "(version unknown)"
    return done.stdout.strip() or "(version unknown)"


def _noise_notes(runs: dict[str, list[WrkResult]], labels: dict[str, str]) -> list[str]:
    """Warn when runs of one server disagree so much that the machine must have been busy."""
    notes = []
    for key, results in runs.items():
        rates = [result.requests_per_s for result in results]
        if _noisy(results):
            notes.append(
                f"{labels[key]}'s throughput varied by {max(rates) / min(rates) - 1:.0%} "
                "between runs: the machine was busy, so read its ratios with care."
            )
    return notes


def _noisy(results: list[WrkResult], spread: float = NOISY_SPREAD) -> bool:
    rates = [result.requests_per_s for result in results]
    return max(rates) > spread * min(rates)


def _rps(result: WrkResult) -> float:
    return result.requests_per_s


def _p50(result: WrkResult) -> float:
    return result.p50_us


def _p99(result: WrkResult) -> float:
    return result.p99_us


def _paired_ratio(values: list[WrkResult], baseline: list[WrkResult], figure: Figure) -> str:
    """The median over rounds of value/baseline, both measured in the same round."""
    ratios = [figure(v) / figure(b) for v, b in zip(values, baseline, strict=True)]
    return f"{statistics.median(ratios):.2f}x"


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
