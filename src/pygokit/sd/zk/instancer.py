"""`ZKInstancer`: the instances of a service are the data of the children of a znode.

Go kit's ``sd/zk`` instancer: registrars create one child per instance under the
service's path (`pygokit.sd.zk.ZKRegistrar` does), each holding the instance string
(``"10.0.0.1:8080"``) as its data, and the instancer publishes the data of every child.
It creates the path if it is missing, reads the children with a one-shot children
watch, and reads everything again, re-arming the watch, each time the watch fires.

Faults, where Go kit falls short (its loop waits on a nil channel for ever after a
re-read fails, as one does when the watch fires because the session is being lost):

- the connection drops (``SUSPENDED``) or the session ends (``LOST``): an error event at
  once (kazoo's ``ConnectionLoss`` or ``SessionExpiredError``), so that an endpointer
  with ``invalidate_on_error`` can act; kazoo drops every watch then, so on the next
  ``CONNECTED``, same session or new, the instancer reads the children again and
  re-arms its watch;
- a read fails while connected (no permission, a timeout): an error event, then retries
  with exponential backoff until a read succeeds;
- a child whose data is empty, null or not UTF-8 is not an instance: it is skipped and
  logged; a child that disappears between the listing and the read of its data is
  skipped.

Only the children are watched, not their data: a registrar that changes its instance
string should deregister and register again (Go kit behaves the same).

Example::

    async with ZKClient("127.0.0.1:2181") as client, ZKInstancer(client, "/services/sum") as sd:
        async with DefaultEndpointer(sd, factory) as endpointer:
            ...
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Self

from pygokit._extras import missing_extra
from pygokit.clock import Sleep
from pygokit.log import Logger, NopLogger
from pygokit.retry.backoff import Backoff, Exponential
from pygokit.sd.event import Event
from pygokit.sd.watching import WatchingInstancer
from pygokit.sd.zk.client import CONNECTED, SUSPENDED, ZKClient, _check_path

try:
    from kazoo.exceptions import (
        ConnectionLoss,
        KazooException,
        NoNodeError,
        SessionExpiredError,
    )
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py
    raise missing_extra("pygokit.sd.zk.instancer", "zookeeper") from exc

__all__ = ["ZKInstancer"]


class ZKInstancer(WatchingInstancer):
    """Publishes the data of the children of *path*; an async context manager.

    Args:
        client: A running `pygokit.sd.zk.ZKClient`; it must outlive the instancer.
        path: The service's znode, such as ``"/services/sum"``; created if missing.
        logger: Receives read errors and skipped children (``path=``, ``err=``).
        backoff: Waits between retries of failed reads; exponential from 0.1 s up to 10 s
            with jitter by default.
        sleep: How backoff waits; a `pygokit.testing.FakeClock`'s ``sleep`` in tests.
    """

    def __init__(
        self,
        client: ZKClient,
        path: str,
        *,
        logger: Logger | None = None,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.path = _check_path(path)
        """The watched znode."""
        super().__init__(name=f"ZooKeeper instancer {self.path}")
        self._client = client
        self._logger = logger if logger is not None else NopLogger()
        self._backoff = backoff if backoff is not None else Exponential(initial=0.1, maximum=10.0)
        self._sleep = sleep

    async def __aenter__(self) -> Self:
        if not self._client.running:
            raise RuntimeError(
                f"{self.name} needs a running client: enter 'async with ZKClient(...)' first"
            )
        await super().__aenter__()
        return self

    async def _watch(self) -> None:
        """Read the children whenever the watch fires or the connection comes back."""
        wake = asyncio.Event()

        def on_child_event(event: Any) -> None:  # on a kazoo thread
            self._client.to_loop(wake.set)

        def on_state(state: str) -> None:
            wake.set()

        self._client.add_listener(on_state)
        try:
            failures = 0
            while True:
                wake.clear()
                state = self._client.state
                if state != CONNECTED:
                    self._publish(Event(error=self._disconnected(state)))
                    await wake.wait()
                    continue
                try:
                    instances = await self._read(on_child_event)
                except (KazooException, TimeoutError) as exc:
                    failures += 1
                    self._logger.log(path=self.path, err=exc)
                    self._publish(Event(error=exc))
                    await self._sleep(self._backoff.delay(failures))
                    continue
                failures = 0
                self._publish(Event(instances))
                await wake.wait()
        finally:
            self._client.remove_listener(on_state)

    def _disconnected(self, state: str) -> Exception:
        error: Exception
        if state == SUSPENDED:
            error = ConnectionLoss(
                f"lost the connection to ZooKeeper at {self._client.hosts}; reconnecting"
            )
        else:
            error = SessionExpiredError(
                f"no ZooKeeper session with {self._client.hosts}: it expired, or the client"
                " is closed"
            )
        return error

    async def _read(self, watch: Any) -> list[str]:
        """List the children, arming *watch*, and return the instance strings they hold."""
        kazoo = self._client.kazoo
        try:
            children = await self._client.run(lambda: kazoo.get_children_async(self.path, watch))
        except NoNodeError:
            await self._client.run(lambda: kazoo.ensure_path_async(self.path))
            children = await self._client.run(lambda: kazoo.get_children_async(self.path, watch))
        reads = [self._client.run(partial(kazoo.get_async, f"{self.path}/{c}")) for c in children]
        results = await asyncio.gather(*reads, return_exceptions=True)
        instances = []
        for child, result in zip(children, results, strict=True):
            if isinstance(result, NoNodeError):  # deregistered since the listing
                continue
            if isinstance(result, BaseException):
                raise result
            instance = self._instance(child, result[0])
            if instance is not None:
                instances.append(instance)
        return instances

    def _instance(self, child: str, data: bytes | None) -> str | None:
        """Decode a child's data into an instance string, or log why it is not one."""
        if not data:  # empty, or null (other clients can create nodes without data)
            self._logger.log(path=self.path, child=child, msg="skipped: no data")
            return None
        try:
            return data.decode()
        except UnicodeDecodeError as exc:
            self._logger.log(path=self.path, child=child, err=exc, msg="skipped: data is not UTF-8")
            return None
