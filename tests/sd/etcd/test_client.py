"""etcd_client and bounded calls: addresses, settings, EtcdError, swallowed cancellations."""

from __future__ import annotations

import asyncio
from typing import Any

import aetcd
import pytest

from pygokit.sd.etcd import EtcdError, etcd_client
from pygokit.sd.etcd._client import bounded


@pytest.mark.parametrize("form", ["{}", "http://{}", "http://{}/"])
async def test_the_client_reaches_etcd_at_host_port_or_an_http_url(
    etcd_addr: str, prefix: str, form: str
) -> None:
    """``host:port`` and etcd's own ``http://host:port`` endpoint spelling both work."""
    async with etcd_client(form.format(etcd_addr), timeout=2.0) as etcd:
        await etcd.put(f"{prefix}k".encode(), b"v")
        got = await etcd.get(f"{prefix}k".encode())
    assert got.value == b"v"


async def test_credentials_are_sent_when_connecting(etcd_addr: str) -> None:
    """With a username the client authenticates first; the test etcd has no auth enabled."""
    client = etcd_client(etcd_addr, username="root", password="secret", timeout=2.0)
    with pytest.raises(aetcd.ClientError, match="authentication is not enabled"):
        async with client:
            pytest.fail("authenticated against an etcd without auth")
    await client.close()


async def test_a_failed_call_becomes_an_etcd_error(client: Any) -> None:
    """etcd's own refusal (here: an unknown lease) is wrapped, naming the operation and key."""
    with pytest.raises(EtcdError, match=r"revoke ./k. failed: .*lease not found") as info:
        await bounded(client.revoke_lease(12345), operation="revoke", key="/k", within=2.0)
    assert (info.value.operation, info.value.key) == ("revoke", "/k")
    assert info.value.__cause__ is not None


async def swallowing(started: asyncio.Event) -> str:
    """A call that, like asyncio.wait_for on Python 3.11 at times, returns when cancelled."""
    started.set()
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        return "swallowed"
    return "slept"


async def test_a_cancellation_the_call_swallows_lands_at_the_next_await() -> None:
    """A call that swallows its cancellation returns, and the task is cancelled right after."""
    started = asyncio.Event()
    steps: list[str] = []

    async def caller() -> None:
        steps.append(await bounded(swallowing(started), operation="get", key="/k", within=30.0))
        await asyncio.sleep(0)
        steps.append("went on")

    task = asyncio.create_task(caller())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == ["swallowed"]
    assert task.cancelling() == 1


async def test_a_swallowed_deadline_leaves_the_result() -> None:
    """Only outside cancellations are raised again: the deadline's own, swallowed, is not."""
    started = asyncio.Event()
    result = await bounded(swallowing(started), operation="get", key="/k", within=0.01)
    assert result == "swallowed"


@pytest.mark.parametrize(
    ("address", "match"),
    [
        ("127.0.0.1", "host:port"),
        (":2379", "host:port"),
        ("127.0.0.1:http", "host:port"),
        ("127.0.0.1:0", "host:port"),
        ("127.0.0.1:70000", "host:port"),
        ("https://127.0.0.1:2379", "plaintext"),
    ],
)
def test_bad_addresses_are_refused(address: str, match: str) -> None:
    """An address that is not host:port, or asks for TLS, fails when building the client."""
    with pytest.raises(ValueError, match=match):
        etcd_client(address)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"address": 2379}, TypeError),
        ({"timeout": 0}, ValueError),
        ({"keepalive": float("inf")}, ValueError),
        ({"username": "root"}, ValueError),
        ({"password": "secret"}, ValueError),
    ],
)
def test_bad_settings_are_refused(arguments: dict[str, Any], error: type[Exception]) -> None:
    """Non-positive durations, a non-string address or half the credentials are refused."""
    with pytest.raises(error):
        etcd_client(**arguments)
