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
from types import TracebackType
from typing import Self

from pygokit.clock import Sleep
from pygokit.log import Logger, NopLogger
from pygokit.retry import Backoff, Exponential
from pygokit.sd import Background
from pygokit.sd.eureka.client import EurekaClient, EurekaError
from pygokit.sd.eureka.registration import EurekaInstance

__all__ = ["EurekaRegistrar"]


class EurekaRegistrar:
    """Registers one `EurekaInstance` and renews its lease; see the module docstring.

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
        self.instance = instance
        """What this registrar registers."""
        self._client = client
        self._interval = float(instance.renewal_interval)
        self._backoff = backoff or Exponential(initial=0.01, maximum=60.0, jitter=0.5)
        self._logger = logger or NopLogger()
        self._sleep = sleep
        self._background = Background(f"eureka registrar {instance.instance_id!r}")
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
        """Register the instance and start the heartbeat; a no-op while registered."""
        if not self._background.running:
            raise RuntimeError(f"{self!r} is not running; enter it with 'async with' first")
        async with self._lock:
            if self._loop is not None:
                return
            registered = await self._register()
            self._loop = self._background.spawn(self._heartbeat(registered), what="heartbeat")

    async def deregister(self) -> None:
        """Stop the heartbeat and remove the instance; a no-op when not registered."""
        async with self._lock:
            loop, self._loop = self._loop, None
            if loop is None:
                return
            await self._background.cancel(loop)
            try:
                await self._client.deregister(self.instance.app, self.instance.instance_id)
            except EurekaError as exc:
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
        """Register; log, and tell whether it worked."""
        try:
            await self._client.register(self.instance)
        except EurekaError as exc:
            self._log(action="register", err=exc)
            return False
        self._log(action="register")
        return True

    async def _heartbeat(self, registered: bool) -> None:
        """Renew the lease every interval; register again when Eureka answers 404."""
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
                await self._client.heartbeat(self.instance.app, self.instance.instance_id)
            except EurekaError as exc:
                self._log(action="heartbeat", err=exc)
                trouble += 1
                lost = exc.status == 404  # evicted: Go kit registers again
            else:
                trouble = 0

    def _log(self, **keyvals: object) -> None:
        self._logger.log(service=self.instance.app, instance=self.instance.instance_id, **keyvals)

    def __repr__(self) -> str:
        return f"EurekaRegistrar({self.instance.instance_id!r}, {self._client!r})"
