"""`EtcdInstancer`: the instances of a service are the values of the keys under a prefix.

Go kit's ``sd/etcdv3`` instancer. The watch follows etcd's list-then-watch recipe, so no
change is missed between the two:

1. list the prefix (one ``get_prefix``) and publish the values as the instances;
2. watch the prefix from the revision right after that listing, and publish the new
   set after every put or delete;
3. when a call or the watch fails (etcd down, a timeout, a compacted revision), publish
   an error event, back off with jitter, and start again at 1. The endpointer keeps its
   last endpoints meanwhile (Go kit's default), and the fresh listing replaces them.

The instance strings are the keys' *values*, as in Go kit (the keys only need to be
unique): a registrar puts ``/services/sum/10.0.0.1:8080`` = ``10.0.0.1:8080``. A value
that is empty or not UTF-8 text is logged and left out. End the prefix with ``/``, or
``/services/sum`` would also match ``/services/summary/...``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pygokit.clock import Sleep
from pygokit.log import Logger, NopLogger
from pygokit.retry import Backoff
from pygokit.sd.etcd._client import (
    CLIENT_ERRORS,
    EtcdError,
    bounded,
    check_seconds,
    default_backoff,
    failure,
)
from pygokit.sd.event import Event
from pygokit.sd.watching import WatchingInstancer

__all__ = ["EtcdInstancer"]


class EtcdInstancer(WatchingInstancer):
    """Publishes the values of the keys under *prefix*, following them with a watch.

    An async context manager (see `pygokit.sd.WatchingInstancer`): entering lists the
    prefix and returns once the instances, or the error that prevented listing them,
    are published. The client belongs to the caller: enter it first, leave it last.

    Args:
        client: An ``aetcd.Client``, best built with `etcd_client` (keepalive pings end
            a watch on an etcd that went silent; see `pygokit.sd.etcd`).
        prefix: The key prefix the service's instances are registered under.
        timeout: Seconds each call (the listing, starting the watch) may take.
        backoff: The wait after each consecutive failure; by default 50 ms doubling to
            5 s, jittered.
        logger: Receives failures (``prefix=``, ``err=``) and ignored values (``key=``).
        sleep: Waits out the backoff; a fake clock's ``sleep`` in tests.

    Example::

        async with etcd_client("127.0.0.1:2379") as client:
            async with EtcdInstancer(client, "/services/sum/") as instancer:
                async with DefaultEndpointer(instancer, factory) as endpointer:
                    ...
    """

    def __init__(
        self,
        client: Any,
        prefix: str,
        *,
        timeout: float = 5.0,
        backoff: Backoff | None = None,
        logger: Logger | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(
                f"prefix must be a non-empty key prefix like '/services/sum/': {prefix!r}"
            )
        check_seconds("timeout", timeout)
        super().__init__(name=f"etcd instancer {prefix}")
        self._client = client
        self._prefix = prefix
        self._key = prefix.encode()
        self._timeout = timeout
        self._backoff = backoff if backoff is not None else default_backoff()
        self._logger = logger if logger is not None else NopLogger()
        self._sleep = sleep

    @property
    def prefix(self) -> str:
        """The key prefix this instancer follows."""
        return self._prefix

    async def _watch(self) -> None:
        failures = 0
        while True:
            try:
                listing = await bounded(
                    self._client.get_prefix(self._key),
                    operation="get_prefix",
                    key=self._prefix,
                    within=self._timeout,
                )
                instances: dict[bytes, str] = {}
                for item in listing:
                    self._store(instances, item.key, item.value)
                self._publish(Event(instances.values()))
                watch = await bounded(
                    self._client.watch_prefix(
                        self._key, start_revision=listing.header.revision + 1
                    ),
                    operation="watch",
                    key=self._prefix,
                    within=self._timeout,
                )
                failures = 0
                await self._follow(watch, instances)
            except EtcdError as exc:
                failures += 1
                self._logger.log(prefix=self._prefix, err=exc)
                self._publish(Event(error=exc))
                await self._sleep(self._backoff.delay(failures))

    async def _follow(self, watch: Any, instances: dict[bytes, str]) -> None:
        """Apply the watch's events to *instances*, publishing each new set, until it fails."""
        try:
            async with contextlib.aclosing(watch.__aiter__()) as events:
                async for event in events:
                    if event.kind == "PUT":
                        self._store(instances, event.kv.key, event.kv.value)
                    else:
                        instances.pop(event.kv.key, None)
                    self._publish(Event(instances.values()))
        except CLIENT_ERRORS as exc:  # the stream broke, which ended every watch on it
            raise failure(exc, operation="watch", key=self._prefix) from exc
        except BaseException:
            # Cancelled (leaving the instancer) or a subscriber raised: the watch still runs
            # on the caller's client, so end it there before the exception goes on.
            with contextlib.suppress(EtcdError):
                await bounded(
                    watch.cancel(), operation="cancel watch", key=self._prefix, within=self._timeout
                )
            raise
        # aetcd ends a watch without an error only when the client is closed.
        raise RuntimeError(
            f"the etcd client was closed while {self.name} was using it;"
            " leave the instancer's 'async with' block before closing the client"
        )

    def _store(self, instances: dict[bytes, str], key: bytes, value: bytes) -> None:
        """Record *value* as the instance of *key*, unless it is empty or not text."""
        try:
            instance = value.decode()
        except UnicodeDecodeError:
            instance = ""
        if instance:
            instances[key] = instance
            return
        instances.pop(key, None)
        self._logger.log(
            prefix=self._prefix,
            key=key.decode(errors="replace"),
            err="the value is empty or not UTF-8 text, so it is not an instance; ignored",
        )
