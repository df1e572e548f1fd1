"""`ConsulRegistrar`: keep this instance registered with the local Consul agent.

Go kit's ``sd/consul`` Registrar registers and deregisters, once each. This one also keeps
the registration alive, in a loop that runs between `ConsulRegistrar.register` and
`ConsulRegistrar.deregister`:

- With a `pygokit.sd.consul.TTLCheck` it passes the check every *interval* (a third of
  the TTL by default), so Consul keeps the instance passing while the process lives and
  marks it critical soon after the process dies.
- Otherwise it asks the agent every *interval* (30 s by default) whether it still knows
  the service.
- When the agent answers that it does not (the service was reaped after being critical
  for ``deregister_critical_after``, or the agent lost its state), or answers the pass
  with any other error status, the loop registers the instance again (Spring Cloud Consul
  re-registers on the same answers). When the agent cannot be reached, the loop retries
  with backoff (10 ms doubling, jittered, never longer than *interval*). Failures are
  logged, never raised.

`ConsulRegistrar.register` writes the registration (and passes a TTL check at once, so
the instance does not start critical). If that fails the error is logged and the loop
keeps trying, so a service can start while its agent is still coming up. Leaving the
``async with`` block deregisters.

Example::

    registration = ServiceRegistration(name="addsvc", address="10.0.0.5", port=8080,
                                       check=TTLCheck(ttl=10.0, deregister_critical_after=60.0))
    async with ConsulClient() as consul, ConsulRegistrar(consul, registration) as registrar:
        await registrar.register()
        await serve()
"""

from __future__ import annotations

import asyncio
import math

from pygokit.clock import Sleep
from pygokit.log import Logger, NopLogger
from pygokit.retry import Backoff
from pygokit.sd._looping import HeartbeatRegistrar
from pygokit.sd.consul.client import ConsulClient, ConsulError
from pygokit.sd.consul.registration import ServiceRegistration, TTLCheck

__all__ = ["ConsulRegistrar"]


class ConsulRegistrar(HeartbeatRegistrar[ConsulError]):
    """Registers one `ServiceRegistration` and keeps it registered; see the module docstring.

    An async context manager: `register` and `deregister` (both idempotent) work inside
    its block, and leaving it deregisters.

    Args:
        client: The client of the local agent; it stays the caller's to close.
        registration: The instance to register.
        interval: Seconds between two heartbeats (TTL check) or registration checks;
            a third of the TTL, or 30 s without a TTL check, by default.
        backoff: The wait after the n-th consecutive failure, capped at *interval*.
        logger: Gets ``action=``, ``service=``, ``instance=`` (the service ID) and
            ``err=`` for registrations, deregistrations and failures.
        sleep: Waits between heartbeats and retries.
    """

    def __init__(
        self,
        client: ConsulClient,
        registration: ServiceRegistration,
        *,
        interval: float | None = None,
        backoff: Backoff | None = None,
        logger: Logger | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        check = registration.check
        ttl = check.ttl if isinstance(check, TTLCheck) else None
        if interval is None:
            interval = 30.0 if ttl is None else ttl / 3
        if not 0 < interval < (math.inf if ttl is None else ttl):
            raise ValueError(
                f"interval must be a positive number of seconds below the TTL ({ttl}),"
                f" got {interval!r}"
            )
        super().__init__(
            f"consul registrar {registration.id!r}",
            error=ConsulError,
            interval=interval,
            backoff=backoff,
            logger=logger or NopLogger(),
            sleep=sleep,
        )
        self.registration = registration
        """What this registrar registers."""
        self._client = client
        self._ttl = ttl is not None

    async def _put(self) -> None:
        """Write the registration, and pass a TTL check so it does not start critical."""
        await self._client.register(self.registration)
        if self._ttl:
            await self._client.check_pass(self.registration.check_id)

    async def _beat(self) -> None:
        """Pass the TTL check, or ask the agent whether it still knows the service."""
        if self._ttl:
            await self._client.check_pass(self.registration.check_id)
        else:
            await self._client.agent_service(self.registration.id)

    async def _delete(self) -> None:
        await self._client.deregister(self.registration.id)

    def _forgotten(self, error: ConsulError) -> bool:
        return error.status is not None  # the agent answered: it may have forgotten us

    def _log(self, **keyvals: object) -> None:
        self._logger.log(service=self.registration.name, instance=self.registration.id, **keyvals)

    def __repr__(self) -> str:
        return f"ConsulRegistrar({self.registration.id!r}, {self._client!r})"
