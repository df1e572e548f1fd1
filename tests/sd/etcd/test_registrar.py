"""EtcdRegistrar against the shared test etcd: lease, idempotency, lease loss, lifecycle."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pygokit.sd import Registrar
from pygokit.sd.etcd import EtcdError, EtcdInstancer, EtcdRegistrar, etcd_client
from pygokit.testing import CapturingLogger
from tests.sd.etcd.servers import TcpProxy, free_ports
from tests.sd.helpers import EventRecorder


async def stored(client: Any, key: str) -> tuple[bytes, int] | None:
    """The value and lease of *key* in etcd, or None if it is not there."""
    got = await client.get(key.encode())
    return None if got is None else (got.value, got.lease)


async def test_register_puts_the_value_on_a_lease_of_the_ttl(client: Any, prefix: str) -> None:
    """The key holds the value, on a lease with the TTL asked for; the loop keeps it alive."""
    key = f"{prefix}10.0.0.1:8080"
    logger = CapturingLogger()
    async with EtcdRegistrar(client, key, "10.0.0.1:8080", ttl=5, logger=logger) as registrar:
        before = registrar.registered
        await registrar.register()
        assert (before, registrar.registered) == (False, True)
        assert registrar.lease is not None
        assert await stored(client, key) == (b"10.0.0.1:8080", registrar.lease)
        info = await client.get_lease_info(registrar.lease, keys=False)
        assert info.grantedTTL == 5

    assert await stored(client, key) is None
    assert logger.events == [
        {"key": key, "value": "10.0.0.1:8080", "action": "register"},
        {"key": key, "value": "10.0.0.1:8080", "action": "deregister"},
    ]


async def test_register_and_deregister_are_idempotent(client: Any, prefix: str) -> None:
    """Registering twice keeps one lease; deregistering twice, or first, changes nothing."""
    key = f"{prefix}a"
    async with EtcdRegistrar(client, key, "10.0.0.1:80", ttl=5) as etcd_registrar:
        registrar: Registrar = etcd_registrar  # it is a pygokit.sd.Registrar
        await registrar.deregister()  # not registered yet: nothing to do
        await registrar.register()
        lease = etcd_registrar.lease
        await registrar.register()
        assert etcd_registrar.lease == lease
        await registrar.deregister()
        await registrar.deregister()
        assert (await stored(client, key), etcd_registrar.lease) == (None, None)
        await registrar.register()  # a registrar can register again, on a new lease
        again = await stored(client, key)
        assert again == (b"10.0.0.1:80", etcd_registrar.lease)
        assert again[1] != lease


async def test_deregister_revokes_the_lease(client: Any, prefix: str) -> None:
    """The lease does not outlive the registration: etcd reports it gone (TTL -1)."""
    async with EtcdRegistrar(client, f"{prefix}a", "10.0.0.1:80", ttl=30) as registrar:
        await registrar.register()
        lease = registrar.lease
        await registrar.deregister()

    info = await client.get_lease_info(lease, keys=False)
    assert info.TTL == -1


async def test_a_revoked_lease_is_replaced_and_the_key_put_again(client: Any, prefix: str) -> None:
    """F10: when etcd drops the lease (and so the key), the loop grants a new one and re-puts."""
    key = f"{prefix}10.0.0.1:8080"
    logger = CapturingLogger()
    recorder = EventRecorder()
    async with (
        EtcdInstancer(client, prefix) as instancer,
        EtcdRegistrar(client, key, "10.0.0.1:8080", ttl=2, logger=logger) as registrar,
    ):
        instancer.register(recorder)
        await registrar.register()
        lease = registrar.lease
        async with asyncio.timeout(10):
            await recorder.wait_for(lambda event: event.instances == ("10.0.0.1:8080",))
            await client.revoke_lease(lease)  # what etcd does when a lease expires
            await recorder.wait_for(lambda event: not event.instances, after=1)
            back = await recorder.wait_for(lambda event: bool(event.instances), after=2)

        assert back.instances == ("10.0.0.1:8080",)
        now = await stored(client, key)
        assert now is not None
        assert now[1] != lease
    assert "expired or was revoked" in str(logger.events[1]["err"])
    assert [event["action"] for event in logger.events] == [
        "register",
        "keepalive",
        "register",
        "deregister",
    ]


async def test_register_fails_fast_without_etcd_and_can_be_retried(prefix: str) -> None:
    """With nothing listening, register() raises EtcdError and leaves nothing running."""
    (port,) = free_ports(1)
    async with (
        etcd_client(f"127.0.0.1:{port}", timeout=1.0) as nowhere,
        EtcdRegistrar(nowhere, f"{prefix}a", "10.0.0.1:80", timeout=1.0) as registrar,
    ):
        with pytest.raises(EtcdError, match="grant a lease") as info:
            await registrar.register()
        assert info.value.operation == "grant a lease for"
        assert not registrar.registered
        with pytest.raises(EtcdError):
            await registrar.register()


async def test_leaving_logs_a_deregistration_that_fails(etcd_addr: str, prefix: str) -> None:
    """Etcd unreachable on the way out: the failure is logged, not raised."""
    logger = CapturingLogger()
    async with (
        TcpProxy(int(etcd_addr.rpartition(":")[2])) as proxy,
        etcd_client(proxy.address, timeout=1.0) as etcd,
        EtcdRegistrar(etcd, f"{prefix}a", "10.0.0.1:80", ttl=2, logger=logger) as registrar,
    ):
        await registrar.register()
        proxy.cut()

    assert [event["action"] for event in logger.events] == ["register", "deregister"]
    error = logger.events[-1]["err"]
    assert isinstance(error, EtcdError)
    assert error.operation == "delete"


async def test_a_failed_revocation_is_logged(client: Any, prefix: str) -> None:
    """Deregistering deletes the key; revoking a lease etcd no longer has is only logged."""
    logger = CapturingLogger()
    async with EtcdRegistrar(client, f"{prefix}a", "10.0.0.1:80", ttl=30, logger=logger) as reg:
        await reg.register()
        await client.revoke_lease(reg.lease)  # the next refresh is 10 s away
        await reg.deregister()

    assert [event["action"] for event in logger.events] == ["register", "deregister", "deregister"]
    error = logger.events[-1]["err"]
    assert isinstance(error, EtcdError)
    assert "lease not found" in str(error)


async def test_register_outside_the_block_is_refused(client: Any, prefix: str) -> None:
    """register() needs the registrar's async with block, which owns the keepalive loop."""
    registrar = EtcdRegistrar(client, f"{prefix}a", "10.0.0.1:80")
    with pytest.raises(RuntimeError, match="async with"):
        await registrar.register()
    await registrar.deregister()  # not registered: nothing to do
    assert await stored(client, f"{prefix}a") is None


@pytest.mark.parametrize(
    ("key", "value", "ttl", "timeout", "error"),
    [
        ("", "v", 10, 5, ValueError),
        ("/k", "", 10, 5, ValueError),
        (b"/k", "v", 10, 5, ValueError),
        ("/k", "v", 0.5, 5, ValueError),
        ("/k", "v", float("inf"), 5, ValueError),
        ("/k", "v", "10", 5, TypeError),
        ("/k", "v", 10, -1, ValueError),
    ],
)
def test_bad_arguments_are_refused(
    key: Any, value: Any, ttl: Any, timeout: Any, error: type[Exception]
) -> None:
    """Empty identity, a TTL under a second or a bad timeout fail at construction."""
    with pytest.raises(error):
        EtcdRegistrar(object(), key, value, ttl=ttl, timeout=timeout)
