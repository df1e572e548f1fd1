"""`ConsulInstancer`: the instances of a service in Consul, followed with blocking queries.

Go kit's ``sd/consul`` Instancer. It asks the health endpoint for the service and
publishes every answer as a full snapshot of ``address:port`` strings (the service
address, or its node's address when the service has none). Then it asks again with the
answer's index, so Consul holds the request until something changed or *wait* ran out:
one request per change (or per *wait*), not one per poll.

- **Tags**: Consul filters a query on one tag, so the first tag goes to Consul and the
  instancer keeps only the instances that carry every tag (Go kit does the same).
- **passing_only** asks Consul for instances whose checks all pass, and the instancer
  checks the statuses again.
- **Index rules** of Consul's blocking-query documentation: an index lower than the
  previous one is reset (the next query starts over), an index below 1 (missing, 0, or
  nonsense) is replaced by 1, and either anomaly backs off before the next query as Go
  kit does. The answer that carried the odd index is still published: its data is current.
- **Errors** (Consul down, a 5xx, no answer within the timeout, a malformed body) are
  logged and published as error events; the instancer backs off (10 ms doubling to a
  minute, jittered to +/-50 %, as Go kit's) and tries again, and the next good answer
  is published as usual.
- **Never spins**: queries start at least *min_interval* apart, even when Consul answers
  at once every time.

Example::

    async with ConsulClient("127.0.0.1:8500") as consul:
        async with ConsulInstancer(consul, "addsvc", tags=("v1",)) as instancer:
            async with DefaultEndpointer(instancer, factory) as endpointer:
                ...
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable

from pygokit.clock import Clock, Sleep
from pygokit.log import Logger, NopLogger
from pygokit.retry import Backoff, Exponential
from pygokit.sd import Event, WatchingInstancer
from pygokit.sd.consul.client import ConsulClient, ConsulError, ServiceEntry

__all__ = ["ConsulInstancer"]


class ConsulInstancer(WatchingInstancer):
    """Publishes the instances of *service* registered in Consul; see the module docstring.

    Args:
        client: The Consul client to query; it stays the caller's to close.
        service: The service name.
        tags: Only instances that carry all of these tags.
        passing_only: Only instances whose health checks all pass.
        wait: The longest Consul holds one blocking query, in seconds (at most 600).
        min_interval: The least time between the starts of two queries, in seconds.
        backoff: The wait after the n-th consecutive failure or index anomaly.
        logger: Gets ``service=``, ``tags=`` and ``err=`` for every failure.
        clock: Monotonic seconds, for *min_interval*.
        sleep: Waits out backoffs and *min_interval*.
    """

    def __init__(
        self,
        client: ConsulClient,
        service: str,
        *,
        tags: Iterable[str] = (),
        passing_only: bool = True,
        wait: float = 60.0,
        min_interval: float = 0.1,
        backoff: Backoff | None = None,
        logger: Logger | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not service:
            raise ValueError("service must be a non-empty service name")
        if isinstance(tags, str):
            raise TypeError(f"tags must be an iterable of tags, not the string {tags!r}")
        if not 0 < wait <= 600:
            raise ValueError(f"wait must be in (0, 600] seconds, got {wait!r}")
        if not 0 <= min_interval < math.inf:
            raise ValueError(f"min_interval must be zero or more seconds, got {min_interval!r}")
        self.service = service
        """The service name."""
        self.tags = tuple(tags)
        """The tags every published instance carries."""
        super().__init__(name=f"consul instancer {service!r} tags={list(self.tags)}")
        self._client = client
        self._passing_only = passing_only
        self._wait = wait
        self._min_interval = min_interval
        self._backoff = backoff or Exponential(initial=0.01, maximum=60.0, jitter=0.5)
        self._logger = logger or NopLogger()
        self._clock = clock
        self._sleep = sleep

    def _instances(self, entries: Iterable[ServiceEntry]) -> Event:
        wanted = set(self.tags)
        return Event(
            entry.instance
            for entry in entries
            if wanted.issubset(entry.tags) and (entry.passing or not self._passing_only)
        )

    async def _watch(self) -> None:
        index = 0
        trouble = 0  # consecutive failures and index anomalies
        while True:
            started = self._clock()
            try:
                entries, answered = await self._client.health_service(
                    self.service,
                    tag=self.tags[0] if self.tags else None,
                    passing_only=self._passing_only,
                    index=index,
                    wait=self._wait,
                )
            except ConsulError as exc:
                self._log(exc)
                self._publish(Event(error=exc))
                trouble += 1
                await self._sleep(self._backoff.delay(trouble))
                continue
            self._publish(self._instances(entries))
            problem = None
            if answered < index:
                problem = f"index went backwards from {index} to {answered}; starting over"
                answered = 0
            elif answered < 1:
                problem = f"index {answered} is not sane; waiting on index 1"
            index = max(answered, 1)
            if problem is not None:
                self._log(problem)
                trouble += 1
                await self._sleep(self._backoff.delay(trouble))
                continue
            trouble = 0
            await self._sleep(max(0.0, started + self._min_interval - self._clock()))

    def _log(self, err: object) -> None:
        self._logger.log(service=self.service, tags=list(self.tags), err=err)
