"""`EtcdRegistrar`: keep this instance's key in etcd, on a lease, for as long as it runs.

Go kit's ``sd/etcdv3`` registrar, plus what it lacks. `EtcdRegistrar.register` grants a
lease of *ttl* seconds, puts *key* = *value* on it, and starts a keepalive loop that
refreshes the lease every third of its TTL. If the process dies, the keepalives stop,
the lease expires and etcd deletes the key, so the instance leaves discovery by itself.

Go kit stops there: once the lease is lost (etcd was unreachable for longer than the TTL,
or someone revoked the lease), its keepalive ends and the instance silently disappears
for good. Here the loop notices (etcd answers a refresh of an unknown lease with TTL 0),
grants a new lease and puts the key again. Failed refreshes are logged and retried with
backoff, at least once per third of the TTL, so a lease that etcd still holds is kept,
and one it dropped is replaced within a third of the TTL of etcd answering again.

`EtcdRegistrar.deregister` stops the loop, deletes the key and revokes the lease.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine
from typing import Any, ClassVar

from pygokit.clock import Sleep
from pygokit.log import Logger, NopLogger, with_
from pygokit.retry import Backoff
from pygokit.sd._looping import LoopingRegistrar
from pygokit.sd.etcd._client import EtcdError, bounded, check_seconds, default_backoff

__all__ = ["EtcdRegistrar"]


class EtcdRegistrar(LoopingRegistrar):
    """Registers *key* = *value* in etcd on a kept-alive lease; a `pygokit.sd.Registrar`.

    An async context manager: `register` and `deregister` (both idempotent) work inside
    its block, and leaving it deregisters (errors are logged, not raised). The client
    belongs to the caller: enter it first, leave it last.

    `register` raises `EtcdError` when etcd could not be reached or refused (nothing is
    left running, so calling again retries), and RuntimeError outside the block.
    `deregister` stops the loop, deletes the key and revokes the lease; it raises
    `EtcdError` when the key could not be deleted (it still goes away when its lease
    expires, within the TTL); a failed revocation is only logged.

    Args:
        client: An ``aetcd.Client``, best built with `pygokit.sd.etcd.etcd_client`.
        key: This instance's key, unique per instance, under the service's prefix:
            ``/services/sum/10.0.0.1:8080``.
        value: The instance string clients get, usually ``host:port``.
        ttl: Seconds the registration outlives this process (or its contact with etcd);
            etcd leases count whole seconds, so it is rounded up, and etcd may grant
            more (its minimum is 1.5 election timeouts, 2 s by default).
        timeout: Seconds each call may take; a refresh gets at most a third of the TTL.
        backoff: The wait after each consecutive failure of the keepalive loop, capped
            at a third of the TTL; by default 50 ms doubling, jittered.
        logger: Receives ``action=register|deregister|keepalive``, ``err=``, with
            ``key=`` and ``value=``.
        sleep: Waits between refreshes; a fake clock's ``sleep`` in tests.

    Example::

        async with EtcdRegistrar(client, f"/services/sum/{addr}", addr, ttl=10) as registrar:
            await registrar.register()
            await serve(server, host=host, port=port)
    """

    _close_errors: ClassVar[tuple[type[Exception], ...]] = (EtcdError,)

    def __init__(
        self,
        client: Any,
        key: str,
        value: str,
        *,
        ttl: float = 10.0,
        timeout: float = 5.0,
        backoff: Backoff | None = None,
        logger: Logger | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        for name, text in (("key", key), ("value", value)):
            if not isinstance(text, str) or not text:
                raise ValueError(f"{name} must be a non-empty string, got {text!r}")
        check_seconds("ttl", ttl, minimum=1.0)
        check_seconds("timeout", timeout)
        super().__init__(
            f"etcd registrar {key}",
            loop="keepalive",
            logger=with_(logger if logger is not None else NopLogger(), key=key, value=value),
        )
        self._client = client
        self._key = key
        self._value = value
        self._ttl = math.ceil(ttl)
        self._timeout = timeout
        self._backoff = backoff if backoff is not None else default_backoff()
        self._sleep = sleep
        self._lease: int | None = None  # the lease of the last put; None when unregistered
        self._interval = self._ttl / 3  # a third of the granted TTL

    @property
    def registered(self) -> bool:
        """Whether `register` succeeded and `deregister` has not run since."""
        return self._loop is not None

    @property
    def lease(self) -> int | None:
        """The ID of the lease the key was last put on; None when not registered."""
        return self._lease

    def _check_running(self) -> None:
        if not self._background.running:
            raise RuntimeError(
                "register() needs a running registrar: use it inside"
                " 'async with EtcdRegistrar(...) as registrar:'"
            )

    async def _add(self) -> Coroutine[Any, Any, None]:
        await self._put()
        self._logger.log(action="register")
        return self._keep_alive()

    async def _remove(self) -> None:
        lease, self._lease = self._lease, None
        await bounded(
            self._client.delete(self._key.encode()),
            operation="delete",
            key=self._key,
            within=self._timeout,
        )
        self._logger.log(action="deregister")
        try:
            await bounded(
                self._client.revoke_lease(lease),
                operation="revoke the lease of",
                key=self._key,
                within=self._timeout,
            )
        except EtcdError as exc:
            self._logger.log(action="deregister", err=exc)

    async def _put(self) -> None:
        """Grant a lease and put the key on it."""
        lease = await bounded(
            self._client.lease(self._ttl),
            operation="grant a lease for",
            key=self._key,
            within=self._timeout,
        )
        await bounded(
            self._client.put(self._key.encode(), self._value.encode(), lease=lease.id),
            operation="put",
            key=self._key,
            within=self._timeout,
        )
        self._lease = lease.id
        self._interval = lease.ttl / 3

    async def _alive(self) -> bool:
        """Refresh the lease; False if etcd no longer has it (it expired or was revoked)."""
        reply = await bounded(
            self._client.refresh_lease(self._lease),
            operation="keep alive the lease of",
            key=self._key,
            within=min(self._timeout, self._interval),
        )
        return reply is not None and reply.TTL > 0

    async def _keep_alive(self) -> None:
        """Refresh the lease every third of its TTL; put the key again if it was lost."""
        failures = 0
        while True:
            wait = self._interval
            if failures:
                wait = min(wait, self._backoff.delay(failures))
            await self._sleep(wait)
            try:
                if not await self._alive():
                    self._logger.log(
                        action="keepalive", err="the lease expired or was revoked; putting again"
                    )
                    await self._put()
                    self._logger.log(action="register")
                failures = 0
            except EtcdError as exc:
                failures += 1
                self._logger.log(action="keepalive", err=exc)
