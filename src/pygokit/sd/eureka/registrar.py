"""`EurekaRegistrar`: register this instance with Eureka and keep its lease renewed.

Go kit's ``sd/eureka`` Registrar: `EurekaRegistrar.register` registers the instance and
starts a heartbeat every ``renewal_interval`` seconds; when Eureka answers a heartbeat
with 404 (it evicted the instance, say after a network partition longer than the lease)
the loop **registers the instance again**. Other failures (Eureka down, a 5xx, no answer)
are logged and the heartbeat is retried with backoff (10 ms doubling, jittered, never
longer than the renewal interval); none is raised. `EurekaRegistrar.deregister` stops the
loop and deregisters; both are idempotent.

If the first registration fails, the error is logged and the loop keeps trying, so a
service can start while Eureka is still coming up. Leaving the ``async with`` block
deregisters.

Example::

    instance = EurekaInstance(app="addsvc", ip_addr="10.0.0.5", port=8080)
    async with EurekaClient(url) as eureka, EurekaRegistrar(eureka, instance) as registrar:
        await registrar.register()
        await serve()
"""

from __future__ import annotations

import asyncio

from pygokit.clock import Sleep
from pygokit.log import Logger, NopLogger
from pygokit.retry import Backoff
from pygokit.sd._looping import HeartbeatRegistrar
from pygokit.sd.eureka.client import EurekaClient, EurekaError
from pygokit.sd.eureka.registration import EurekaInstance

__all__ = ["EurekaRegistrar"]


class EurekaRegistrar(HeartbeatRegistrar[EurekaError]):
    """Registers one `EurekaInstance` and renews its lease; see the module docstring.

    An async context manager: `register` and `deregister` (both idempotent) work inside
    its block, and leaving it deregisters.

    Args:
        client: The Eureka client; it stays the caller's to close.
        instance: The instance to register; its ``renewal_interval`` paces the heartbeat.
        backoff: The wait after the n-th consecutive failure, capped at the interval.
        logger: Gets ``action=``, ``service=`` (the app), ``instance=`` (the instance ID)
            and ``err=`` for registrations, heartbeat failures and deregistrations.
        sleep: Waits between heartbeats and retries.
    """

    def __init__(
        self,
        client: EurekaClient,
        instance: EurekaInstance,
        *,
        backoff: Backoff | None = None,
        logger: Logger | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            f"eureka registrar {instance.instance_id!r}",
            error=EurekaError,
            interval=float(instance.renewal_interval),
            backoff=backoff,
            logger=logger or NopLogger(),
            sleep=sleep,
        )
        self.instance = instance
        """What this registrar registers."""
        self._client = client

    async def _put(self) -> None:
        await self._client.register(self.instance)

    async def _beat(self) -> None:
        await self._client.heartbeat(self.instance.app, self.instance.instance_id)

    async def _delete(self) -> None:
        await self._client.deregister(self.instance.app, self.instance.instance_id)

    def _forgotten(self, error: EurekaError) -> bool:
        return error.status == 404  # evicted: Go kit registers again

    def _log(self, **keyvals: object) -> None:
        self._logger.log(service=self.instance.app, instance=self.instance.instance_id, **keyvals)

    def __repr__(self) -> str:
        return f"EurekaRegistrar({self.instance.instance_id!r}, {self._client!r})"
