"""The lifecycle every keep-alive registrar shares, written once for the sd backends.

A registrar that must keep its registration alive (a Consul TTL check, a Eureka lease,
an etcd lease, a ZooKeeper node) runs one loop between `register` and `deregister`:

- ``async with`` starts its `pygokit.sd.Background` in the owner's task; leaving the
  block is `LoopingRegistrar.aclose`: deregister, then stop the background (which
  raises `pygokit.sd.WatcherDied` if the loop died);
- `LoopingRegistrar.register` writes the registration and spawns the loop that keeps it,
  once: it is a no-op while registered;
- `LoopingRegistrar.deregister` cancels the loop, then removes the registration; a
  no-op when not registered. One lock orders the two.

A backend supplies the hooks: `LoopingRegistrar._add` (write the registration and return
the loop to run), `LoopingRegistrar._remove` (remove it), `LoopingRegistrar._log`, and
optionally `LoopingRegistrar._check_running`, ``_close_errors`` and
`LoopingRegistrar._about` for how it fails. `HeartbeatRegistrar` adds the heartbeat
loop of the HTTP registries (Consul, Eureka), which never raise: they log.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

from pygokit.clock import Sleep
from pygokit.log import Logger
from pygokit.retry import Backoff, Exponential
from pygokit.sd.background import Background

__all__ = ["HeartbeatRegistrar", "LoopingRegistrar"]

E = TypeVar("E", bound=Exception)


class LoopingRegistrar(ABC):
    """The register/keep/deregister lifecycle of a registrar; see the module docstring.

    Args:
        name: The registrar, as `pygokit.sd.WatcherDied` messages name it.
        loop: What the loop is called in those messages (``"heartbeat"``).
        logger: Where `_log` writes by default.
    """

    _close_errors: ClassVar[tuple[type[Exception], ...]] = ()
    """What `aclose` logs (with `_about`) instead of raising when `deregister` raises it."""

    def __init__(self, name: str, *, loop: str, logger: Logger) -> None:
        self._background = Background(name)
        self._loop_name = loop
        self._logger = logger
        self._lock = asyncio.Lock()  # one register or deregister at a time
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
        """Write the registration and start keeping it alive; a no-op while registered."""
        async with self._lock:
            if self._loop is not None:
                return
            self._check_running()
            self._loop = self._background.spawn(await self._add(), what=self._loop_name)

    async def deregister(self) -> None:
        """Stop the loop and remove the registration; a no-op when not registered."""
        async with self._lock:
            loop, self._loop = self._loop, None
            if loop is None:
                return
            await self._background.cancel(loop)
            await self._remove()

    async def aclose(self) -> None:
        """Deregister if registered, then stop the loop.

        Raises:
            pygokit.sd.WatcherDied: The loop died of an unexpected error.
        """
        about = self._about()
        try:
            await self.deregister()
        except self._close_errors as exc:
            self._log(action="deregister", **about, err=exc)
        finally:
            await self._background.stop()

    def _check_running(self) -> None:
        """Raise RuntimeError unless `register` may run now: inside the ``async with``."""
        if not self._background.running:
            raise RuntimeError(f"{self!r} is not running; enter it with 'async with' first")

    @abstractmethod
    async def _add(self) -> Coroutine[Any, Any, None]:
        """Write the registration; return the loop that keeps it (raise to refuse)."""
        ...

    @abstractmethod
    async def _remove(self) -> None:
        """Remove the registration, after the loop has stopped."""
        ...

    def _about(self) -> dict[str, object]:
        """What identifies the registration in the log of a failed `aclose`."""
        return {}

    def _log(self, **keyvals: object) -> None:
        """Log one event of this registrar."""
        self._logger.log(**keyvals)


class HeartbeatRegistrar(LoopingRegistrar, Generic[E]):
    """A `LoopingRegistrar` whose loop heartbeats a registry, re-registering when it forgot.

    Failures of type *error* are logged, never raised: a failed first registration
    is retried by the loop, so a service can start before its registry. Between two
    heartbeats the loop waits *interval*; after the n-th consecutive failure it waits
    ``backoff.delay(n)``, never longer than *interval*. A heartbeat failure that
    `_forgotten` accepts makes the next attempt a registration.

    Args:
        name: The registrar, as `pygokit.sd.WatcherDied` messages name it.
        error: The registry client's error: the failures that are logged and retried.
        interval: Seconds between two heartbeats.
        backoff: The wait after the n-th consecutive failure; 10 ms doubling, jittered.
        logger: Gets ``action=register|heartbeat|deregister`` and ``err=``.
        sleep: Waits between heartbeats and retries.
    """

    def __init__(
        self,
        name: str,
        *,
        error: type[E],
        interval: float,
        backoff: Backoff | None,
        logger: Logger,
        sleep: Sleep,
    ) -> None:
        super().__init__(name, loop="heartbeat", logger=logger)
        self._error = error
        self._interval = interval
        self._backoff = backoff or Exponential(initial=0.01, maximum=60.0, jitter=0.5)
        self._sleep = sleep

    @abstractmethod
    async def _put(self) -> None:
        """Write the registration; raise *error* on failure."""
        ...

    @abstractmethod
    async def _beat(self) -> None:
        """Tell the registry the instance lives; raise *error* on failure."""
        ...

    @abstractmethod
    async def _delete(self) -> None:
        """Remove the registration; raise *error* on failure."""
        ...

    @abstractmethod
    def _forgotten(self, error: E) -> bool:
        """Whether a failed heartbeat means the registry lost the registration."""
        ...

    async def _add(self) -> Coroutine[Any, Any, None]:
        return self._heartbeat(await self._register())

    async def _remove(self) -> None:
        try:
            await self._delete()
        except self._error as exc:
            self._log(action="deregister", err=exc)
        else:
            self._log(action="deregister")

    async def _register(self) -> bool:
        """Write the registration; log, and tell whether it worked."""
        try:
            await self._put()
        except self._error as exc:
            self._log(action="register", err=exc)
            return False
        self._log(action="register")
        return True

    async def _heartbeat(self, registered: bool) -> None:
        """Heartbeat every interval; register again when the registry forgot the instance."""
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
                await self._beat()
            except self._error as exc:
                self._log(action="heartbeat", err=exc)
                trouble += 1
                lost = self._forgotten(exc)
            else:
                trouble = 0
