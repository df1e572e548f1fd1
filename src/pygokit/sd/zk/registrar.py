"""`ZKRegistrar`: announce this instance as an ephemeral znode, and keep it there.

Go kit's ``sd/zk`` registrar, made to survive the loss of its session:

- `ZKRegistrar.register` creates a *protected ephemeral sequential* node,
  ``<path>/_c_<uuid>-<name><sequence>``, holding the instance string. Ephemeral:
  ZooKeeper deletes it when the session ends, so a process that dies leaves discovery
  within one session timeout. Protected (go-zookeeper's and Curator's term): when the
  connection drops before the answer to the create arrives, the registrar looks for
  its unique prefix among the children, and adopts the node if the create went through
  instead of leaving a duplicate behind.
- After every reconnection a background loop checks that the node still exists and
  belongs to the current session. A session that expired took the node with it, and
  the loop creates a new one (Go kit does not: the instance silently disappears until
  the process restarts). Failures are logged and retried with backoff, never fatal.
- `ZKRegistrar.deregister` stops the loop and deletes the node (Go kit deletes
  ``Path + Name``, a node that does not exist, and leaves the real one to the session).

Example::

    async with ZKClient("127.0.0.1:2181") as client:
        async with ZKRegistrar(client, "/services/sum", "10.0.0.1:8080") as registrar:
            await registrar.register()
            await serve()
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Coroutine
from typing import Any, ClassVar

from pygokit._extras import missing_extra
from pygokit.clock import Sleep
from pygokit.log import Logger, NopLogger
from pygokit.retry.backoff import Backoff, Exponential
from pygokit.sd._looping import LoopingRegistrar
from pygokit.sd.zk.client import CONNECTED, ZKClient, _check_path

try:
    from kazoo.exceptions import ConnectionLoss, KazooException, NoNodeError
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py
    raise missing_extra("pygokit.sd.zk.registrar", "zookeeper") from exc

__all__ = ["ZKRegistrar"]


class ZKRegistrar(LoopingRegistrar):
    """Registers one instance under a service's znode; an async context manager.

    `register` and `deregister` (both idempotent) work inside its block; leaving it
    deregisters, logging an error instead of raising it. `register` raises
    ``kazoo.exceptions.KazooException`` when ZooKeeper refused or the connection dropped
    (the instance is not registered), TimeoutError when no answer came within the
    client's *request_timeout*, and RuntimeError when the registrar or its client is not
    running. `deregister` raises the same two errors when the delete failed; the node
    then stays until the session ends.

    Args:
        client: A running `pygokit.sd.zk.ZKClient`; it must outlive the registrar.
        path: The service's znode, the one a `pygokit.sd.zk.ZKInstancer` watches;
            created if missing.
        instance: What the instancer will publish, usually ``"host:port"``.
        name: Stem of the node's name, before the sequence number (Go kit's
            ``Service.Name``).
        logger: Receives ``action=register`` / ``action=deregister`` with ``node=``,
            and the errors of the background loop (``err=``).
        backoff: Waits between retries of a failed re-creation; exponential from 0.1 s
            up to 10 s with jitter by default.
        sleep: How backoff waits; a `pygokit.testing.FakeClock`'s ``sleep`` in tests.
    """

    _close_errors: ClassVar[tuple[type[Exception], ...]] = (Exception,)

    def __init__(
        self,
        client: ZKClient,
        path: str,
        instance: str,
        *,
        name: str = "instance",
        logger: Logger | None = None,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not isinstance(instance, str) or not instance:
            raise ValueError(
                f"instance must be a non-empty string such as 'host:port': {instance!r}"
            )
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"name must be a non-empty node name without '/': {name!r}")
        self.path = _check_path(path)
        """The service's znode."""
        self.instance = instance
        """The instance string stored in the node."""
        super().__init__(
            f"ZooKeeper registrar {self.path}/{name}",
            loop="keep the node",
            logger=logger if logger is not None else NopLogger(),
        )
        self._name = name
        self._data = instance.encode()
        self._client = client
        self._backoff = backoff if backoff is not None else Exponential(initial=0.1, maximum=10.0)
        self._sleep = sleep
        self._node: str | None = None

    @property
    def node(self) -> str | None:
        """The path of the node that holds the registration now, or None."""
        return self._node

    def _check_running(self) -> None:
        if not self._background.running or not self._client.running:
            raise RuntimeError(
                "enter 'async with ZKClient(...)' and 'async with ZKRegistrar(...)'"
                " before registering"
            )

    async def _add(self) -> Coroutine[Any, Any, None]:
        self._node = await self._create()
        self._logger.log(action="register", instance=self.instance, node=self._node)
        return self._keep()

    async def _remove(self) -> None:
        node, self._node = self._node, None
        kazoo = self._client.kazoo
        with contextlib.suppress(NoNodeError):  # gone with an expired session
            await self._client.run(lambda: kazoo.delete_async(node))
        self._logger.log(action="deregister", instance=self.instance, node=node)

    def _about(self) -> dict[str, object]:
        return {"node": self._node}

    async def _create(self) -> str:
        """Create a protected ephemeral sequential node and return its path."""
        kazoo = self._client.kazoo
        prefix = f"_c_{uuid.uuid4().hex}-{self._name}"
        try:
            created: str = await self._client.run(
                lambda: kazoo.create_async(
                    f"{self.path}/{prefix}",
                    self._data,
                    ephemeral=True,
                    sequence=True,
                    makepath=True,
                )
            )
        except ConnectionLoss:
            # The create may have reached the server before the connection dropped.
            children = await self._client.run(lambda: kazoo.get_children_async(self.path))
            mine = [child for child in children if child.startswith(prefix)]
            if not mine:
                raise
            created = f"{self.path}/{mine[0]}"
        return created

    async def _keep(self) -> None:
        """After every reconnection, re-create the node if the session lost it."""
        wake = asyncio.Event()
        wake.set()  # check once now: the session may have changed since the create

        def on_state(state: str) -> None:
            wake.set()

        self._client.add_listener(on_state)
        try:
            failures = 0
            while True:
                await wake.wait()
                wake.clear()
                if self._client.state != CONNECTED:
                    continue
                try:
                    await self._ensure()
                except (KazooException, TimeoutError) as exc:
                    failures += 1
                    self._logger.log(action="register", node=self._node, err=exc)
                    await self._sleep(self._backoff.delay(failures))
                    wake.set()
                    continue
                failures = 0
        finally:
            self._client.remove_listener(on_state)

    async def _ensure(self) -> None:
        """Create the node again unless it exists and belongs to the current session."""
        kazoo, node, session = self._client.kazoo, self._node, self._client.session_id
        stat = await self._client.run(lambda: kazoo.exists_async(node))
        if stat is not None and stat.ephemeralOwner == session:
            return
        self._node = await self._create()
        self._logger.log(
            action="register",
            instance=self.instance,
            node=self._node,
            msg="session lost; re-created",
        )

    def __repr__(self) -> str:
        return f"ZKRegistrar({self.path!r}, {self.instance!r}, node={self._node!r})"
