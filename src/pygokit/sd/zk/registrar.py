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
from types import TracebackType
from typing import Self

from pygokit._extras import missing_extra
from pygokit.clock import Sleep
from pygokit.log import Logger, NopLogger
from pygokit.retry.backoff import Backoff, Exponential
from pygokit.sd.background import Background
from pygokit.sd.zk.client import CONNECTED, ZKClient, _check_path

try:
    from kazoo.exceptions import ConnectionLoss, KazooException, NoNodeError
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py
    raise missing_extra("pygokit.sd.zk.registrar", "zookeeper") from exc

__all__ = ["ZKRegistrar"]


class ZKRegistrar:
    """Registers one instance under a service's znode; an async context manager.

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
        self._name = name
        self._data = instance.encode()
        self._client = client
        self._logger = logger if logger is not None else NopLogger()
        self._backoff = backoff if backoff is not None else Exponential(initial=0.1, maximum=10.0)
        self._sleep = sleep
        self._background = Background(f"ZooKeeper registrar {self.path}/{name}")
        self._lock = asyncio.Lock()  # one register or deregister at a time
        self._keeper: asyncio.Task[None] | None = None
        self._node: str | None = None

    @property
    def node(self) -> str | None:
        """The path of the node that holds the registration now, or None."""
        return self._node

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

    async def aclose(self) -> None:
        """Deregister if registered (an error is logged, not raised), then stop the loop."""
        node = self._node
        try:
            await self.deregister()
        except Exception as exc:
            self._logger.log(action="deregister", node=node, err=exc)
        await self._background.stop()

    async def register(self) -> None:
        """Create the node, and keep it across session losses; a no-op if registered.

        Raises:
            kazoo.exceptions.KazooException: ZooKeeper refused or the connection dropped;
                the instance is not registered.
            TimeoutError: No answer within the client's *request_timeout*.
            RuntimeError: The registrar or its client is not running.
        """
        async with self._lock:
            if self._keeper is not None:
                return
            if not self._background.running or not self._client.running:
                raise RuntimeError(
                    "enter 'async with ZKClient(...)' and 'async with ZKRegistrar(...)'"
                    " before registering"
                )
            self._node = await self._create()
            self._logger.log(action="register", instance=self.instance, node=self._node)
            self._keeper = self._background.spawn(self._keep(), what="keep the node")

    async def deregister(self) -> None:
        """Stop keeping the node and delete it; a no-op if not registered.

        Raises:
            kazoo.exceptions.KazooException: The delete failed; the node stays until
                the session ends.
            TimeoutError: No answer within the client's *request_timeout*.
        """
        async with self._lock:
            keeper, self._keeper = self._keeper, None
            if keeper is None:
                return
            await self._background.cancel(keeper)
            node, self._node = self._node, None
            kazoo = self._client.kazoo
            with contextlib.suppress(NoNodeError):  # gone with an expired session
                await self._client.run(lambda: kazoo.delete_async(node))
            self._logger.log(action="deregister", instance=self.instance, node=node)

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
