"""`Registrar`: announce this instance to service discovery, and withdraw it.

As in Go kit, a registrar is told *when*, not *what*: the service name, the address and
the time to live go to the backend's constructor, and `Registrar.register` /
`Registrar.deregister` are the two lifecycle signals. Both are idempotent.

Registrars that must keep a registration alive (an etcd lease, a ZooKeeper session, a
Consul TTL check, a Eureka heartbeat) run a loop in the background, so they are also async
context managers: leaving the block deregisters and stops the loop. Unlike Go kit, those
loops re-register after the registration is lost (the lease expired, the session ended,
the registry forgot the instance) instead of letting the instance silently disappear.

Example::

    async with EtcdRegistrar(client, "/services/sum/10.0.0.1:8080", "10.0.0.1:8080") as reg:
        await reg.register()
        await serve()
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Registrar"]


class Registrar(Protocol):
    """Registers and deregisters one instance with a discovery backend."""

    async def register(self) -> None:
        """Announce the instance; doing it again while registered changes nothing."""

    async def deregister(self) -> None:
        """Withdraw the instance; doing it when not registered changes nothing."""
