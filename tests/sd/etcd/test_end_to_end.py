"""End to end over etcd (F1, F2): three HTTP instances, one killed mid-run, then all of them.

The instances are processes of their own (`tests.sd.etcd.instance`): pygokit HTTP servers
that register in the shared test etcd with an `EtcdRegistrar`. Killing one with SIGKILL is
a crash: its connections reset, its port refuses, and its key stays in etcd until the
lease expires. The client is the whole discovery stack: `EtcdInstancer` ->
`DefaultEndpointer` (a factory of HTTP `Client` endpoints) -> `RoundRobin` -> `retry`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from pygokit.endpoint import Endpoint
from pygokit.retry import RetriesExhausted
from pygokit.sd import DefaultEndpointer, Event, NoEndpoints
from pygokit.sd.etcd import EtcdInstancer, etcd_client
from pygokit.sd.lb import RoundRobin, retry
from pygokit.transport.http.client import Client
from pygokit.transport.http.client_codec import encode_json_request, json_response_decoder
from tests.sd.etcd.instance import SumRequest, SumResponse
from tests.sd.helpers import EventRecorder

ROOT = Path(__file__).resolve().parents[3]
REQUESTS = 10_000
IN_FLIGHT = 50
KILL_AT = 3_000  # the request that kills the first instance, about 30 % into the run
RETRY_TIMEOUT = 5.0


class Fleet:
    """Starts instance processes and kills them by PID; whatever runs is killed at the end."""

    def __init__(self, etcd: str, prefix: str) -> None:
        self._etcd = etcd
        self._prefix = prefix
        self.running: dict[str, asyncio.subprocess.Process] = {}

    async def start(self) -> str:
        """Start one instance, wait until it is registered, and return its address."""
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "tests.sd.etcd.instance", self._etcd, self._prefix, "1"),
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        line = b""
        try:
            async with asyncio.timeout(30):
                line = await process.stdout.readline()
        finally:
            if not line:
                process.kill()
                await process.wait()
        address = line.decode().strip()
        assert address, "the instance exited before it registered"
        self.running[address] = process
        return address

    def kill(self, address: str) -> None:
        """SIGKILL the instance: no deregistration, its lease expires on its own."""
        self.running[address].kill()

    async def close(self) -> None:
        """Kill every instance still running and reap them all."""
        for process in self.running.values():
            if process.returncode is None:
                process.kill()
            await process.wait()


@pytest.fixture
async def fleet(etcd_addr: str, prefix: str) -> AsyncIterator[Fleet]:
    """The instance processes of this test."""
    started = Fleet(etcd_addr, prefix)
    try:
        yield started
    finally:
        await started.close()


def factory(
    session: aiohttp.ClientSession,
) -> Callable[[str], tuple[Endpoint[SumRequest, SumResponse], None]]:
    """Build the endpointer's factory: an HTTP client of ``POST http://instance/sum``."""

    def make(instance: str) -> tuple[Endpoint[SumRequest, SumResponse], None]:
        url = f"http://{instance}/sum"
        decode = json_response_decoder(SumResponse)
        return Client("POST", url, encode_json_request, decode, session=session), None

    return make


async def load(
    call: Endpoint[SumRequest, SumResponse], kill: Callable[[], None]
) -> tuple[dict[int, int], list[Exception]]:
    """Send REQUESTS sums, IN_FLIGHT at a time; request KILL_AT first calls *kill*."""
    answers: dict[int, int] = {}
    errors: list[Exception] = []
    numbers = iter(range(REQUESTS))

    async def worker() -> None:
        for n in numbers:
            if n == KILL_AT:
                kill()
            try:
                answers[n] = (await call(SumRequest(n, 1))).v
            except Exception as exc:
                errors.append(exc)

    async with asyncio.TaskGroup() as group:
        for _ in range(IN_FLIGHT):
            group.create_task(worker())
    return answers, errors


def has(count: int) -> Callable[[Event], bool]:
    """Match a snapshot of exactly *count* instances."""
    return lambda event: event.error is None and len(event.instances) == count


async def test_an_instance_killed_mid_run_loses_nothing_and_all_down_fails_fast(
    etcd_addr: str, prefix: str, fleet: Fleet
) -> None:
    """F1: 10,000 requests, one of 3 instances killed at 30 %: 0 lost. F2: all down fails fast."""
    recorder = EventRecorder()
    addresses = await asyncio.gather(*(fleet.start() for _ in range(3)))
    async with (
        aiohttp.ClientSession() as session,
        etcd_client(etcd_addr, timeout=2.0) as client,
        EtcdInstancer(client, prefix, timeout=2.0) as instancer,
        DefaultEndpointer(instancer, factory(session)) as endpointer,
    ):
        instancer.register(recorder)
        assert recorder.events == [Event(addresses)]
        sum_ = retry(3, RETRY_TIMEOUT, RoundRobin(endpointer))

        answers, errors = await load(sum_, lambda: fleet.kill(addresses[0]))

        assert errors == []
        assert answers == {n: n + 1 for n in range(REQUESTS)}

        # Every instance down: each attempt fails at once, refused...
        for address in addresses[1:]:
            fleet.kill(address)
        with pytest.raises(RetriesExhausted) as refused:
            async with asyncio.timeout(RETRY_TIMEOUT * 2):  # a hang would fail here
                await sum_(SumRequest(1, 1))
        assert (len(refused.value.attempts), refused.value.deadline_exceeded) == (3, False)

        # ... and once the leases expired, there is nothing left to pick.
        async with asyncio.timeout(15):
            await recorder.wait_for(has(0), after=1)
        with pytest.raises(RetriesExhausted) as empty:
            await sum_(SumRequest(1, 1))
        assert [type(error) for error in empty.value.attempts] == [NoEndpoints] * 3

        # One instance comes back: calls succeed again.
        empty_since = len(recorder.events)
        returned = await fleet.start()
        async with asyncio.timeout(15):
            await recorder.wait_for(has(1), after=empty_since)
        assert endpointer.instances == (returned,)
        assert (await sum_(SumRequest(2, 3))).v == 5


async def test_the_instance_process_deregisters_when_stopped(
    etcd_addr: str, prefix: str, fleet: Fleet, client: Any
) -> None:
    """An instance stopped with SIGTERM drains and deletes its key at once."""
    address = await fleet.start()
    assert (await client.get(f"{prefix}{address}".encode())).value == address.encode()
    process = fleet.running[address]
    process.terminate()
    assert await process.wait() == 0
    assert await client.get(f"{prefix}{address}".encode()) is None
