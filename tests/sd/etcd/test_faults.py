"""etcd faults on a private etcd: killed and restarted, partitioned, frozen (F10).

Each test runs its own etcd process (`tests.sd.etcd.servers.EtcdProcess`, leases down to
1 s) so it can kill, freeze or cut it off without touching the shared test etcd.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from pygokit.sd import Event
from pygokit.sd.etcd import EtcdError, EtcdInstancer, EtcdRegistrar, etcd_client
from pygokit.testing import CapturingLogger
from tests.sd.etcd.servers import EtcdProcess, TcpProxy
from tests.sd.helpers import EventRecorder

A, B = "10.0.0.1:80", "10.0.0.2:80"


def has(*instances: str) -> Callable[[Event], bool]:
    """Match a snapshot of exactly *instances*."""
    return lambda event: event.error is None and event.instances == tuple(sorted(instances))


def failed(event: Event) -> bool:
    """Match an error event."""
    return event.error is not None


async def lease_of(client: Any, key: str) -> int:
    """The lease the key is stored on now."""
    got = await client.get(key.encode())
    assert got is not None, f"{key} is not in etcd"
    return int(got.lease)


async def test_etcd_down_longer_than_the_ttl_then_restarted_shows_the_instances_again(
    private_etcd: EtcdProcess,
) -> None:
    """F10: etcd killed for over the TTL, restarted on its data: both instances return and stay."""
    logger = CapturingLogger()
    recorder = EventRecorder()
    address = private_etcd.address
    async with (
        etcd_client(address, timeout=1.0) as servers,
        etcd_client(address, timeout=1.0) as clients,
        EtcdInstancer(clients, "/svc/", timeout=1.0) as instancer,
        EtcdRegistrar(servers, f"/svc/{A}", A, ttl=1, timeout=1.0, logger=logger) as a,
        EtcdRegistrar(servers, f"/svc/{B}", B, ttl=1, timeout=1.0, logger=logger) as b,
    ):
        instancer.register(recorder)
        await a.register()
        await b.register()
        async with asyncio.timeout(30):
            await recorder.wait_for(has(A, B))
            private_etcd.kill()
            await recorder.wait_for(failed)
            down = len(recorder.events)
            await asyncio.sleep(2.5)  # longer than the TTL: the registrars' keepalives fail
            await private_etcd.start()
            await recorder.wait_for(has(A, B), after=down)
            await asyncio.sleep(3)  # three TTLs: without keepalives the keys would be gone

        assert instancer.state == Event([A, B])
        assert await lease_of(clients, f"/svc/{A}") == a.lease
        assert await lease_of(clients, f"/svc/{B}") == b.lease
    assert isinstance(recorder.events[down - 1].error, EtcdError)
    assert any(
        event["action"] == "keepalive" and isinstance(event["err"], EtcdError)
        for event in logger.events
    )


async def test_a_partition_longer_than_the_ttl_makes_the_registrar_put_again(
    private_etcd: EtcdProcess,
) -> None:
    """F10: etcd expires the lease while the registrar is cut off; once reconnected it re-puts."""
    logger = CapturingLogger()
    recorder = EventRecorder()
    async with (
        TcpProxy(private_etcd.client_port) as proxy,
        etcd_client(proxy.address, timeout=1.0) as servers,
        etcd_client(private_etcd.address, timeout=1.0) as clients,
        EtcdInstancer(clients, "/svc/", timeout=1.0) as instancer,
        EtcdRegistrar(servers, f"/svc/{A}", A, ttl=1, timeout=1.0, logger=logger) as registrar,
    ):
        instancer.register(recorder)
        await registrar.register()
        async with asyncio.timeout(30):
            await recorder.wait_for(has(A))
            lost = await lease_of(clients, f"/svc/{A}")
            proxy.cut()
            await recorder.wait_for(has(), after=1)  # etcd expired the lease and the key
            gone = len(recorder.events)
            proxy.restore()
            await recorder.wait_for(has(A), after=gone)

        assert await lease_of(clients, f"/svc/{A}") not in (0, lost)
    assert any("expired or was revoked" in str(event.get("err")) for event in logger.events)


async def test_a_frozen_etcd_fails_calls_in_time_and_breaks_the_watch(
    private_etcd: EtcdProcess,
) -> None:
    """An etcd that stops answering (SIGSTOP): calls time out, the watch ends, then recovers."""
    recorder = EventRecorder()
    async with (
        etcd_client(private_etcd.address, timeout=1.0, keepalive=1.0) as etcd,
        EtcdInstancer(etcd, "/svc/", timeout=1.0) as instancer,
        EtcdRegistrar(etcd, f"/svc/{A}", A, ttl=2, timeout=1.0) as registrar,
        EtcdRegistrar(etcd, f"/svc/{B}", B, ttl=2, timeout=0.5) as late,  # before gRPC's 1 s
    ):
        instancer.register(recorder)
        await registrar.register()
        async with asyncio.timeout(30):
            await recorder.wait_for(has(A))
            private_etcd.freeze()
            try:
                with pytest.raises(EtcdError, match="did not answer"):
                    await late.register()
                await recorder.wait_for(failed)  # keepalive pings went unanswered
            finally:
                private_etcd.thaw()
            frozen = len(recorder.events)
            await recorder.wait_for(has(A), after=frozen)
