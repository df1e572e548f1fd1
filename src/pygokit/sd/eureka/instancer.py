"""`EurekaInstancer`: the UP instances of an application in Eureka, polled at an interval.

Go kit's ``sd/eureka`` Instancer (fargo's ``ScheduleAppUpdates``): every *interval*
seconds it fetches the application and publishes a full snapshot of the instances whose
status is ``UP``, as ``ipAddr:port`` strings. Eureka itself refreshes its clients every
30 s, which is the default here; the instance cache drops snapshots that did not change,
so polling costs subscribers nothing.

An application Eureka does not know (every instance left, or none registered yet) is an
empty snapshot, not an error: otherwise the endpointer would keep calling instances that
are gone. A failed fetch (Eureka down, a 5xx, no answer within the client's timeout, a
malformed body) is logged and published as an error event; the instancer then retries
with backoff (10 ms doubling, jittered, never longer than *interval*) and publishes the
next good snapshot as usual.

Example::

    async with EurekaClient("http://127.0.0.1:8761/eureka") as eureka:
        async with EurekaInstancer(eureka, "addsvc") as instancer:
            async with DefaultEndpointer(instancer, factory) as endpointer:
                ...
"""

from __future__ import annotations

import asyncio
import math

from pygokit.clock import Sleep
from pygokit.log import Logger, NopLogger
from pygokit.retry import Backoff, Exponential
from pygokit.sd import Event, WatchingInstancer
from pygokit.sd.eureka.client import EurekaClient, EurekaError

__all__ = ["EurekaInstancer"]


class EurekaInstancer(WatchingInstancer):
    """Publishes the UP instances of *app* registered in Eureka; see the module docstring.

    Args:
        client: The Eureka client to poll with; it stays the caller's to close.
        app: The application name (Eureka compares it upper-cased).
        interval: Seconds between two fetches.
        backoff: The wait after the n-th consecutive failure, capped at *interval*.
        logger: Gets ``app=`` and ``err=`` for every failure.
        sleep: Waits between fetches.
    """

    def __init__(
        self,
        client: EurekaClient,
        app: str,
        *,
        interval: float = 30.0,
        backoff: Backoff | None = None,
        logger: Logger | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not app:
            raise ValueError("app must be a non-empty application name")
        if not 0 < interval < math.inf:
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}")
        self.app = app
        """The application name."""
        super().__init__(name=f"eureka instancer {app!r}")
        self._client = client
        self._interval = interval
        self._backoff = backoff or Exponential(initial=0.01, maximum=60.0, jitter=0.5)
        self._logger = logger or NopLogger()
        self._sleep = sleep

    async def _watch(self) -> None:
        trouble = 0  # consecutive failures
        while True:
            try:
                infos = await self._client.app_instances(self.app)
            except EurekaError as exc:
                self._logger.log(app=self.app, err=exc)
                self._publish(Event(error=exc))
                trouble += 1
                await self._sleep(min(self._backoff.delay(trouble), self._interval))
                continue
            trouble = 0
            self._publish(Event(info.instance for info in infos if info.status == "UP"))
            await self._sleep(self._interval)
