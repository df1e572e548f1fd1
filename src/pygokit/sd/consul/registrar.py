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
from types import TracebackType
from typing import Self

from pygokit.clock import Sleep
from pygokit.log import Logger, NopLogger
from pygokit.retry import Backoff, Exponential
from pygokit.sd import Background
from pygokit.sd.consul.client import ConsulClient, ConsulError
from pygokit.sd.consul.registration import ServiceRegistration, TTLCheck

__all__ = ["ConsulRegistrar"]


class ConsulRegistrar:
    """Registers one `ServiceRegistration` and keeps it registered; see the module docstring.

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
        self.registration = registration
        """What this registrar registers."""
        self._client = client
        self._ttl = ttl is not None
        self._interval = interval
        self._backoff = backoff or Exponential(initial=0.01, maximum=60.0, jitter=0.5)
        self._logger = logger or NopLogger()
        self._sleep = sleep
        self._background = Background(f"consul registrar {registration.id!r}")
        self._lock = asyncio.Lock()
        self._loop: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await self._background.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def register(self) -> None:
        """Register the instance and start keeping it alive; a no-op while registered."""
        if not self._background.running:
            raise RuntimeError(f"{self!r} is not running; enter it with 'async with' first")
        async with self._lock:
            if self._loop is not None:
                return
            registered = await self._register()
            self._loop = self._background.spawn(self._keep(registered), what="heartbeat")

    async def deregister(self) -> None:
        """Stop the heartbeat and remove the instance; a no-op when not registered."""
        async with self._lock:
            loop, self._loop = self._loop, None
            if loop is None:
                return
            await self._background.cancel(loop)
            try:
                await self._client.deregister(self.registration.id)
            except ConsulError as exc:
                self._log(action="deregister", err=exc)
            else:
                self._log(action="deregister")

    async def aclose(self) -> None:
        """Deregister if registered (errors are logged), then stop.

        Raises:
            pygokit.sd.WatcherDied: The heartbeat loop died of an unexpected error.
        """
        try:
            await self.deregister()
        finally:
            await self._background.stop()

    async def _register(self) -> bool:
        """Write the registration (and pass a TTL check); log, and tell whether it worked."""
        try:
            await self._client.register(self.registration)
            if self._ttl:
                await self._client.check_pass(self.registration.check_id)
        except ConsulError as exc:
            self._log(action="register", err=exc)
            return False
        self._log(action="register")
        return True

    async def _keep(self, registered: bool) -> None:
        """Heartbeat every interval; re-register when the agent forgot the instance."""
        lost = not registered
        trouble = int(lost)  # consecutive failures
        while True:
            delay = self._interval
            if trouble:
                delay = min(self._backoff.delay(trouble), self._interval)
            await self._sleep(delay)
            if lost:
                lost = not await self._register()
                trouble = trouble + 1 if lost else 0
                continue
            try:
                if self._ttl:
                    await self._client.check_pass(self.registration.check_id)
                else:
                    await self._client.agent_service(self.registration.id)
            except ConsulError as exc:
                self._log(action="heartbeat", err=exc)
                trouble += 1
                lost = exc.status is not None  # the agent answered: it may have forgotten us
            else:
                trouble = 0

    def _log(self, **keyvals: object) -> None:
        self._logger.log(service=self.registration.name, instance=self.registration.id, **keyvals)

    def __repr__(self) -> str:
        return f"ConsulRegistrar({self.registration.id!r}, {self._client!r})"
