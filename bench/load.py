"""Load-benchmark plumbing: a uvicorn server and a wrk client, each pinned to its own CPU.

The server gets one core and the load generator another, so that they do not
compete and the server's throughput is what one core can do. Everything listens
and connects on 127.0.0.1 only. Every process is bounded in time and stopped on
the way out, however the benchmark ends.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench import REPO_ROOT

__all__ = [
    "CpuPlan",
    "Server",
    "WrkResult",
    "cpu_seconds",
    "parse_wrk",
    "plan_cpus",
    "run_wrk",
    "uvicorn",
]

HOST = "127.0.0.1"

_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6}


@dataclass(frozen=True, slots=True)
class CpuPlan:
    """Where server and load generator run: a CPU each, or None for unpinned."""

    server: int | None
    client: int | None
    note: str

    def prefix(self, cpu: int | None) -> list[str]:
        """The command prefix that pins a process to *cpu* (empty when unpinned)."""
        return [] if cpu is None else ["taskset", "-c", str(cpu)]


def plan_cpus() -> CpuPlan:
    """Give the server the first usable CPU and wrk the second, if taskset and two CPUs exist."""
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if shutil.which("taskset") is None:
        return CpuPlan(None, None, "Unpinned: taskset is not installed.")
    if len(usable) < 2:
        return CpuPlan(None, None, "Unpinned: fewer than two CPUs are usable.")
    server, client = usable[0], usable[1]
    return CpuPlan(server, client, f"uvicorn pinned to CPU {server}, wrk to CPU {client}.")


@dataclass(frozen=True, slots=True)
class Server:
    """A running server: where to send requests, and its process (for its CPU time)."""

    port: int
    pid: int

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{HOST}:{self.port}"


@contextmanager
def uvicorn(app: str, plan: CpuPlan, ready_s: float = 20.0) -> Iterator[Server]:
    """Run ``uvicorn <app>`` (single process, uvloop, httptools) for the ``with`` block.

    Waits until the port accepts connections, at most *ready_s* seconds; on leaving,
    terminates the server and kills it if it has not exited a few seconds later.
    """
    port = _free_port()
    command = [
        *plan.prefix(plan.server),
        sys.executable, "-m", "uvicorn", app,
        "--app-dir", str(REPO_ROOT),
        "--host", HOST, "--port", str(port),
        "--loop", "uvloop", "--http", "httptools",
        "--workers", "1", "--lifespan", "off",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            _wait_for_port(port, process, log, deadline=time.monotonic() + ready_s)
            yield Server(port, process.pid)
        finally:
            _stop(process)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process *pid*, all its threads, from ``/proc``."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; fields 14 and 15 count from after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: IO[bytes], deadline: float
) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {process.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"uvicorn is not listening:\n{_tail(log)}") from None
            time.sleep(0.05)


def _tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read()[-4000:].decode(errors="replace")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run measured. Latencies are in microseconds."""

    requests_per_s: float
    requests: int
    p50_us: float
    p99_us: float
    non_2xx: int
    socket_errors: int

    @property
    def errors(self) -> int:
        """Responses that were not 2xx/3xx plus socket errors; any makes the run invalid."""
        return self.non_2xx + self.socket_errors


def run_wrk(url: str, *, script: Path, seconds: int, connections: int, plan: CpuPlan) -> WrkResult:
    """Run one wrk load (one thread) against *url* and parse what it reports."""
    command = [
        *plan.prefix(plan.client),
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
        "-s", str(script), url,
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}:\n{done.stderr}")
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> WrkResult:
    """Parse wrk's report (run with ``--latency``); raise ValueError if a figure is missing."""
    latency = {
        int(m["pct"]): float(m["num"]) * _UNITS_US[m["unit"]]
        for m in re.finditer(
            r"^\s*(?P<pct>\d+)%\s+(?P<num>[\d.]+)(?P<unit>us|ms|s)\s*$", output, re.MULTILINE
        )
    }
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    if rate is None or total is None or 50 not in latency or 99 not in latency:
        raise ValueError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_s=float(rate[1]),
        requests=int(total[1]),
        p50_us=latency[50],
        p99_us=latency[99],
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )
