"""gRPC load-benchmark plumbing: a server on one CPU, the Go load generator on another.

The server under test runs as its own process pinned to the first CPU of the
plan (`bench.load.plan_cpus`), the load generator (``grpcload``, built by
`bench.anchors.gokit_build.build_grpc`) pinned to the second. Besides the rate
and latency the generator reports, a load run reads the server's CPU time from
``/proc`` before and after, so that it can say how much CPU one call cost the
server, and whether the server (and not the generator) was the bottleneck.
Everything listens and connects on 127.0.0.1; every process is bounded in time
and stopped on the way out.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench import REPO_ROOT
from bench.anchors.grpc_sum import HOST, METHOD, REPLY, REQUEST
from bench.load import CpuPlan, cpu_seconds

__all__ = ["LoadResult", "Running", "load", "run_server"]


@dataclass(frozen=True, slots=True)
class Running:
    """A server process that accepts connections."""

    port: int
    pid: int


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one load run measured. Latencies are in microseconds, CPU times in seconds."""

    requests: int
    errors: int
    seconds: float
    rps: float
    p50_us: float
    p99_us: float
    client_cpu_s: float
    server_cpu_s: float
    first_error: str = ""

    @property
    def server_us_per_call(self) -> float:
        """The server's CPU time (user + system, all threads) per successful call."""
        return self.server_cpu_s / max(self.requests, 1) * 1e6

    @property
    def server_busy(self) -> float:
        """The server's CPU time over the run's wall time: 1.0 is one core saturated."""
        return self.server_cpu_s / self.seconds

    @property
    def client_busy(self) -> float:
        """The load generator's CPU time over the run's wall time."""
        return self.client_cpu_s / self.seconds


@contextmanager
def run_server(
    command: Callable[[int], list[str]],
    plan: CpuPlan,
    *,
    env: Mapping[str, str] | None = None,
    ready_s: float = 20.0,
) -> Iterator[Running]:
    """Run ``command(port)`` pinned to the server CPU for the ``with`` block.

    Waits until the port accepts connections, at most *ready_s* seconds; on
    leaving, terminates the server and kills it if it has not exited soon after.
    """
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [*plan.prefix(plan.server), *command(port)],
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + ready_s
            while not _accepts(port):
                if process.poll() is not None:
                    raise RuntimeError(f"exited with {process.returncode}: {_tail(log)}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not listening after {ready_s:.0f} s: {_tail(log)}")
                time.sleep(0.05)
            yield Running(port, process.pid)
        finally:
            _stop(process)


def load(
    generator: Path,
    server: Running,
    plan: CpuPlan,
    *,
    seconds: float,
    connections: int,
    concurrency: int,
) -> LoadResult:
    """Load *server* with unary Sum calls for *seconds*; the server's CPU is read around it."""
    command = [
        *plan.prefix(plan.client),
        str(generator),
        "-addr", f"{HOST}:{server.port}",
        "-method", METHOD,
        "-request", REQUEST.hex(),
        "-expect", REPLY.hex(),
        "-conns", str(connections),
        "-concurrency", str(concurrency),
        "-duration", f"{seconds}s",
    ]  # fmt: skip
    before = cpu_seconds(server.pid)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    server_cpu = cpu_seconds(server.pid) - before
    if done.returncode != 0:
        raise RuntimeError(f"grpcload exited with {done.returncode}: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return LoadResult(
        requests=report["requests"],
        errors=report["errors"],
        seconds=report["seconds"],
        rps=report["rps"],
        p50_us=report["p50_us"],
        p99_us=report["p99_us"],
        client_cpu_s=report["cpu_s"],
        server_cpu_s=server_cpu,
        first_error=report.get("first_error", ""),
    )


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


def _tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read()[-2000:].decode(errors="replace")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
