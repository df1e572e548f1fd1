"""EtcdInstancer against the shared test etcd: listing, watching, values, bad data, lifecycle."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pygokit.sd import Event, WatcherDied
from pygokit.sd.etcd import EtcdError, EtcdInstancer, EtcdRegistrar, etcd_client
from pygokit.testing import CapturingLogger
from tests.sd.etcd.servers import free_ports
from tests.sd.helpers import EventRecorder


def has(*instances: str) -> Any:
    """Match a snapshot of exactly *instances*."""
    return lambda event: event.error is None and event.instances == tuple(sorted(instances))


async def test_entering_publishes_what_is_already_registered(client: Any, prefix: str) -> None:
    """The first snapshot holds the values of the keys already under the prefix."""
    await client.put(f"{prefix}a".encode(), b"10.0.0.1:80")
    await client.put(f"{prefix}b".encode(), b"10.0.0.2:80")

    async with EtcdInstancer(client, prefix) as instancer:
        assert instancer.state == Event(["10.0.0.1:80", "10.0.0.2:80"])
        assert instancer.prefix == prefix


async def test_an_empty_prefix_publishes_no_instances(client: Any, prefix: str) -> None:
    """With nothing registered, the first snapshot is a real, empty one."""
    recorder = EventRecorder()
    async with EtcdInstancer(client, prefix) as instancer:
        instancer.register(recorder)
        assert recorder.events == [Event()]
        assert "etcd instancer" in repr(instancer)


async def test_registrations_and_deregistrations_reach_subscribers(
    client: Any, prefix: str
) -> None:
    """Two registrars come and go; the instancer's subscribers see each change, by value."""
    recorder = EventRecorder()
    async with EtcdInstancer(client, prefix) as instancer:
        instancer.register(recorder)
        async with asyncio.timeout(10):
            async with EtcdRegistrar(client, f"{prefix}one", "127.0.0.1:1001", ttl=5) as one:
                await one.register()
                await recorder.wait_for(has("127.0.0.1:1001"))
                async with EtcdRegistrar(client, f"{prefix}two", "127.0.0.1:1002", ttl=5) as two:
                    await two.register()
                    await recorder.wait_for(has("127.0.0.1:1001", "127.0.0.1:1002"))
                    await one.deregister()
                    await recorder.wait_for(has("127.0.0.1:1002"))
            await recorder.wait_for(has(), after=1)

    assert [event.instances for event in recorder.events] == [
        (),
        ("127.0.0.1:1001",),
        ("127.0.0.1:1001", "127.0.0.1:1002"),
        ("127.0.0.1:1002",),
        (),
    ]


async def test_a_changed_value_replaces_the_instance(client: Any, prefix: str) -> None:
    """Putting a new value on a key moves that instance; the key itself is never published."""
    recorder = EventRecorder()
    async with EtcdInstancer(client, prefix) as instancer:
        instancer.register(recorder)
        await client.put(f"{prefix}node".encode(), b"10.0.0.1:80")
        await client.put(f"{prefix}node".encode(), b"10.0.0.9:80")
        async with asyncio.timeout(5):
            await recorder.wait_for(has("10.0.0.9:80"))

    assert recorder.events == [Event(), Event(["10.0.0.1:80"]), Event(["10.0.0.9:80"])]


async def test_keys_outside_the_prefix_are_ignored(client: Any, prefix: str) -> None:
    """A sibling prefix that merely starts the same way is not part of the service."""
    recorder = EventRecorder()
    async with EtcdInstancer(client, f"{prefix}sum/") as instancer:
        instancer.register(recorder)
        await client.put(f"{prefix}summary/x".encode(), b"10.0.0.1:80")
        await client.put(f"{prefix}sum/x".encode(), b"10.0.0.2:80")
        async with asyncio.timeout(5):
            await recorder.wait_for(has("10.0.0.2:80"))

    assert recorder.events == [Event(), Event(["10.0.0.2:80"])]


async def test_values_that_are_not_instances_are_logged_and_skipped(
    client: Any, prefix: str
) -> None:
    """An empty or non-UTF-8 value is left out and logged, listed or watched; good ones stay."""
    await client.put(f"{prefix}good".encode(), b"10.0.0.1:80")
    await client.put(f"{prefix}binary".encode(), b"\xff\xfe")
    logger = CapturingLogger()
    recorder = EventRecorder()

    async with EtcdInstancer(client, prefix, logger=logger) as instancer:
        instancer.register(recorder)
        assert instancer.state == Event(["10.0.0.1:80"])
        await client.put(f"{prefix}later".encode(), b"10.0.0.2:80")
        await client.put(f"{prefix}later".encode(), b"")  # no longer an instance
        await client.put(f"{prefix}last".encode(), b"10.0.0.3:80")
        async with asyncio.timeout(5):
            await recorder.wait_for(has("10.0.0.1:80", "10.0.0.3:80"))

    assert Event(["10.0.0.1:80", "10.0.0.2:80"]) in recorder.events
    assert [(event["key"], event["prefix"]) for event in logger.events] == [
        (f"{prefix}binary", prefix),
        (f"{prefix}later", prefix),
    ]
    assert "not UTF-8" in str(logger.events[0]["err"])


async def test_etcd_unreachable_is_an_error_event_and_retried_with_backoff(prefix: str) -> None:
    """With nothing listening: an EtcdError event at entry, then retries backing off, jittered."""
    (port,) = free_ports(1)
    logger = CapturingLogger()
    waits: list[float] = []
    retried = asyncio.Event()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            retried.set()
            await asyncio.Event().wait()  # enough retries seen: wait to be cancelled

    async with (
        etcd_client(f"127.0.0.1:{port}", timeout=1.0) as nowhere,
        EtcdInstancer(nowhere, prefix, logger=logger, sleep=sleep) as instancer,
    ):
        error = instancer.state.error
        assert isinstance(error, EtcdError)
        assert (error.operation, error.key) == ("get_prefix", prefix)
        assert "failed" in str(error)
        async with asyncio.timeout(10):
            await retried.wait()

    nominal = [0.05, 0.1, 0.2]  # 50 ms doubling, each times U(0.5, 1.5)
    assert all(n / 2 <= wait <= n * 1.5 for n, wait in zip(nominal, waits, strict=True))
    assert len(logger.events) == 3
    assert all(isinstance(event["err"], EtcdError) for event in logger.events)


async def test_leaving_cancels_the_watch_and_the_client_stays_usable(
    client: Any, prefix: str
) -> None:
    """After the instancer is left, its watch is gone and the caller's client still works."""
    recorder = EventRecorder()
    async with EtcdInstancer(client, prefix) as instancer:
        instancer.register(recorder)
    await client.put(f"{prefix}after".encode(), b"10.0.0.1:80")

    async with EtcdInstancer(client, prefix) as again:
        assert again.state == Event(["10.0.0.1:80"])
    assert recorder.events == [Event()]


async def test_closing_the_client_under_the_instancer_kills_it(etcd_addr: str, prefix: str) -> None:
    """A client closed while the watch runs is a bug in the caller: the owner gets WatcherDied."""
    recorder = EventRecorder()
    closing: list[asyncio.Task[None]] = []

    async def owner() -> None:
        async with etcd_client(etcd_addr) as etcd, EtcdInstancer(etcd, prefix) as instancer:
            instancer.register(recorder)
            await etcd.put(f"{prefix}a".encode(), b"10.0.0.1:80")
            await recorder.wait_for(has("10.0.0.1:80"))  # the watch runs
            # Closed from another task: aetcd's close() swallows a cancellation that arrives
            # while it runs, and the death cancels this task.
            closing.append(asyncio.create_task(etcd.close()))
            await asyncio.Event().wait()  # the death interrupts this

    with pytest.raises(WatcherDied, match="client was closed") as info:
        async with asyncio.timeout(10):
            await owner()

    await closing[0]
    assert isinstance(info.value.__cause__, RuntimeError)
    assert recorder.last.error is info.value


@pytest.mark.parametrize(
    ("prefix", "timeout", "error"),
    [
        ("", 1.0, ValueError),
        (b"/bytes/", 1.0, ValueError),
        ("/svc/", 0, ValueError),
        ("/svc/", float("nan"), ValueError),
        ("/svc/", "1", TypeError),
        ("/svc/", True, TypeError),
    ],
)
def test_bad_arguments_are_refused(prefix: Any, timeout: Any, error: type[Exception]) -> None:
    """A missing prefix or a timeout that is not a positive number fails at construction."""
    with pytest.raises(error):
        EtcdInstancer(object(), prefix, timeout=timeout)
