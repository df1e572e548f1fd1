"""`ZKClient`: one ZooKeeper session, shared by instancers and registrars, bridged to asyncio.

kazoo, the maintained ZooKeeper client for Python, runs on threads: a connection thread,
and workers that call watch and completion callbacks. `ZKClient` keeps those threads
away from the event loop:

- requests go out through kazoo's non-blocking ``*_async`` methods, and each result is
  handed to the loop with ``loop.call_soon_threadsafe``; the loop never waits on a lock
  or a socket, and every request is bounded by *request_timeout*;
- kazoo's connection states reach the loop the same way, in order: ``CONNECTED``,
  ``SUSPENDED`` (the connection dropped; the session may survive) and ``LOST`` (the
  session expired, or the client is closed);
- starting and stopping kazoo, which start and join threads, run in worker threads.

kazoo reconnects by itself, with the same session while the server still holds it and
with a new one after it expired, retrying at least three times per session timeout so
that a short outage does not cost the session. Neither watches nor, after a new session,
ephemeral nodes survive: `pygokit.sd.zk.ZKInstancer` re-arms its watch and
`pygokit.sd.zk.ZKRegistrar` re-creates its node after every reconnection.

Example::

    async with ZKClient("zk1:2181,zk2:2181", session_timeout=5.0) as client:
        async with ZKInstancer(client, "/services/sum") as instancer:
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeAlias

from pygokit._extras import missing_extra
from pygokit.log import Logger, NopLogger

try:
    from kazoo.client import KazooClient, KazooState
    from kazoo.retry import KazooRetry
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py
    raise missing_extra("pygokit.sd.zk.client", "zookeeper") from exc

__all__ = ["CONNECTED", "LOST", "SUSPENDED", "StateListener", "ZKClient"]

CONNECTED: str = KazooState.CONNECTED
"""The client has a session and a connection: requests and watches work."""
SUSPENDED: str = KazooState.SUSPENDED
"""The connection dropped; kazoo is reconnecting, and the session may survive."""
LOST: str = KazooState.LOST
"""No session: it expired (its ephemeral nodes are gone), or the client is closed."""

StateListener: TypeAlias = Callable[[str], None]
"""Called on the event loop with each new state: `CONNECTED`, `SUSPENDED` or `LOST`."""


def _check_path(path: str) -> str:
    """Return *path* without a trailing slash, or raise ValueError if it is not a znode path."""
    if not isinstance(path, str) or not path.startswith("/") or path.rstrip("/") == "":
        raise ValueError(f"path must be an absolute znode path such as '/services/sum': {path!r}")
    return path.rstrip("/")


def _check_seconds(name: str, value: float) -> float:
    if not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return value


class ZKClient:
    """A kazoo session to a ZooKeeper ensemble, for asyncio; an async context manager.

    Entering connects and waits for the first session; leaving closes the session (its
    ephemeral nodes go with it) and stops kazoo's threads. Share one client between the
    instancers and registrars of a process, as Go kit shares its ``zk.Client``.

    Args:
        hosts: Comma-separated ``host:port`` list, optionally with a chroot suffix
            (``"zk1:2181,zk2:2181/prod"``).
        session_timeout: Seconds the server keeps the session while the client is
            disconnected (the server clamps it to its own bounds; Go kit's default is 5).
        connect_timeout: Seconds entering waits for the first session before it gives up.
        request_timeout: Bound on every request this package sends.
        acl: ACL of the nodes this client creates (kazoo ``ACL`` objects); ZooKeeper's
            open ACL when None.
        credentials: ``(user, password)`` for digest authentication (Go kit's
            ``Credentials`` option).
        logger: Receives the connection state changes (``state=``, ``session=``).
    """

    def __init__(
        self,
        hosts: str,
        *,
        session_timeout: float = 5.0,
        connect_timeout: float = 10.0,
        request_timeout: float = 10.0,
        acl: Sequence[Any] | None = None,
        credentials: tuple[str, str] | None = None,
        logger: Logger | None = None,
    ) -> None:
        if not isinstance(hosts, str) or not hosts.strip():
            raise ValueError(f"hosts must be a list such as 'zk1:2181,zk2:2181', got {hosts!r}")
        _check_seconds("session_timeout", session_timeout)
        self._connect_timeout = _check_seconds("connect_timeout", connect_timeout)
        self._request_timeout = _check_seconds("request_timeout", request_timeout)
        auth_data = None
        if credentials is not None:
            user, password = credentials
            if not user or not password:
                raise ValueError("credentials need both a user and a password")
            auth_data = [("digest", f"{user}:{password}")]
        self.hosts = hosts
        """The ensemble this client connects to."""
        self._logger = logger if logger is not None else NopLogger()
        self._kazoo = KazooClient(
            hosts=hosts,
            timeout=session_timeout,
            default_acl=list(acl) if acl is not None else None,
            auth_data=auth_data,
            connection_retry=KazooRetry(
                max_tries=-1, delay=0.1, backoff=2, max_delay=session_timeout / 3
            ),
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._state: str = LOST
        self._session_id: int | None = None
        self._connected = asyncio.Event()
        self._listeners: list[StateListener] = []

    @property
    def kazoo(self) -> Any:
        """The underlying ``KazooClient``, for what this package does not wrap.

        Its synchronous methods block: call them with `asyncio.to_thread`.
        """
        return self._kazoo

    @property
    def running(self) -> bool:
        """Whether the client is inside its ``async with`` block."""
        return self._loop is not None

    @property
    def state(self) -> str:
        """`CONNECTED`, `SUSPENDED` or `LOST`, as the event loop last heard from kazoo."""
        return self._state

    @property
    def session_id(self) -> int | None:
        """The id of the current session while `CONNECTED`, else None."""
        return self._session_id

    async def __aenter__(self) -> Self:
        if self._loop is not None:
            raise RuntimeError(f"the ZooKeeper client of {self.hosts} is already running")
        self._loop = asyncio.get_running_loop()
        self._connected = asyncio.Event()
        self._kazoo.add_listener(self._on_kazoo_state)
        try:
            await asyncio.to_thread(self._kazoo.start_async)
            async with asyncio.timeout(self._connect_timeout):
                await self._connected.wait()
        except BaseException as exc:
            await self.aclose()
            if isinstance(exc, TimeoutError):
                raise ConnectionError(
                    f"could not connect to ZooKeeper at {self.hosts} within"
                    f" {self._connect_timeout} s; is the ensemble up and reachable?"
                ) from exc
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the session and stop kazoo's threads; nothing happens if not running."""
        if self._loop is None:
            return
        try:
            await asyncio.to_thread(self._stop_kazoo)
        finally:
            self._kazoo.remove_listener(self._on_kazoo_state)
            self._loop = None
            self._state_changed(LOST, None)

    def _stop_kazoo(self) -> None:
        self._kazoo.stop()
        self._kazoo.close()

    def _on_kazoo_state(self, state: str) -> None:
        """Pass a state change to the loop (kazoo calls it on its connection thread)."""
        client_id = self._kazoo.client_id if state == CONNECTED else None
        self.to_loop(self._state_changed, state, client_id[0] if client_id else None)

    def _state_changed(self, state: str, session_id: int | None) -> None:
        if state == self._state and session_id == self._session_id:
            return
        self._state = state
        self._session_id = session_id
        self._logger.log(zk=self.hosts, state=state, session=session_id)
        if state == CONNECTED:
            self._connected.set()
        else:
            self._connected.clear()
        for listener in tuple(self._listeners):
            listener(state)

    def to_loop(self, callback: Callable[..., None], *args: Any) -> None:
        """Call *callback* on the event loop; safe from kazoo's threads.

        Does nothing once the loop is gone: nobody is waiting any more.
        """
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop was closed meanwhile
                loop.call_soon_threadsafe(callback, *args)

    def add_listener(self, listener: StateListener) -> None:
        """Call *listener* on the event loop with every state change from now on."""
        self._listeners.append(listener)

    def remove_listener(self, listener: StateListener) -> None:
        """Stop calling *listener*; one that was not added is ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def run(self, request: Callable[[], Any]) -> Any:
        """Send one request and return its result; *request* calls a kazoo ``*_async`` method.

        Raises:
            kazoo.exceptions.KazooException: What ZooKeeper or kazoo answered
                (``NoNodeError``, ``ConnectionLoss``, ``SessionExpiredError``...).
            TimeoutError: No answer within *request_timeout*.
            RuntimeError: The client is not running.
        """
        if self._loop is None:
            raise RuntimeError(
                f"the ZooKeeper client of {self.hosts} is not running;"
                " use it inside 'async with ZKClient(...)'"
            )
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle(result: Any) -> None:
            if future.done():  # the caller gave up
                return
            try:
                future.set_result(result.get_nowait())
            except Exception as exc:
                future.set_exception(exc)

        request().rawlink(lambda result: self.to_loop(settle, result))
        try:
            async with asyncio.timeout(self._request_timeout):
                return await future
        except TimeoutError as exc:
            raise TimeoutError(
                f"ZooKeeper at {self.hosts} did not answer within {self._request_timeout} s"
            ) from exc

    def __repr__(self) -> str:
        return f"ZKClient({self.hosts!r}, state={self._state})"
