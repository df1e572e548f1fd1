"""`Background`: the tasks of a discovery component, owned by the task that entered it.

Instancers watch, registrars heartbeat, endpointers close connections: each runs loops in
the background for as long as its ``async with`` block lasts. `Background` holds those
tasks in an `asyncio.TaskGroup` entered in the owner's task, so they follow structured
concurrency:

- leaving the block cancels every loop and waits for it to finish;
- a loop that raises an `Exception` is a loop that *died* (loops retry transient failures
  themselves): the component is told (``on_death``), the owner's task is cancelled at its
  current ``await``, and leaving the block raises `pygokit.sd.WatcherDied`, chained from the
  loop's error. Nothing fails silently, and nothing keeps running unowned.

Enter and leave in the same task, as ``async with`` does.

Example::

    class HeartbeatRegistrar:
        async def __aenter__(self) -> Self:
            await self._background.start()
            return self

        async def register(self) -> None:
            await self._put()
            self._loop = self._background.spawn(self._heartbeat(), what="heartbeat")

        async def aclose(self) -> None:
            await self._background.stop()
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from pygokit.sd.errors import WatcherDied

__all__ = ["Background"]


class Background:
    """Runs a component's loops in a task group bound to the task that starts it.

    Args:
        name: The component, as `WatcherDied` messages name it.
        on_death: Called with the `WatcherDied` of a loop that died, before the owner is
            cancelled; an instancer publishes it as an error event. Must not raise.
    """

    __slots__ = ("_deaths", "_group", "_loops", "_name", "_on_death")

    def __init__(self, name: str, *, on_death: Callable[[WatcherDied], None] | None = None) -> None:
        self._name = name
        self._on_death = on_death
        self._group: asyncio.TaskGroup | None = None
        self._loops: dict[asyncio.Task[None], str] = {}  # running loops and what they are
        self._deaths: list[WatcherDied] = []

    @property
    def running(self) -> bool:
        """Whether `start` has run and `stop` has not."""
        return self._group is not None

    async def start(self) -> None:
        """Bind to the current task, which becomes the owner; call it from ``__aenter__``."""
        if self._group is not None:
            raise RuntimeError(f"{self._name} is already running")
        group = asyncio.TaskGroup()
        await group.__aenter__()
        self._group = group
        self._deaths.clear()

    def spawn(self, coro: Coroutine[Any, Any, None], *, what: str) -> asyncio.Task[None]:
        """Run *coro* until it returns, is cancelled or dies; *what* names it in errors."""
        if self._group is None:
            coro.close()
            raise RuntimeError(f"{self._name} is not running; enter it with 'async with'")
        try:
            task = self._group.create_task(coro, name=f"pygokit {what} {self._name}")
        except RuntimeError as exc:  # the group is shutting down: a loop died
            coro.close()
            raise RuntimeError(f"{self._name} is stopping; cannot start its {what} loop") from exc
        self._loops[task] = what
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        """Note a loop that died; the task group has already cancelled the owner."""
        what = self._loops.pop(task)
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, Exception):
            died = WatcherDied(self._name, what, error)
            died.__cause__ = error
            self._deaths.append(died)
            if self._on_death is not None:
                self._on_death(died)

    async def cancel(self, task: asyncio.Task[None]) -> None:
        """Cancel one loop that `spawn` started and wait until it has finished."""
        task.cancel()
        await asyncio.wait([task])

    async def stop(self) -> None:
        """Cancel every loop and wait for them; call it from ``aclose``/``__aexit__``.

        Raises:
            WatcherDied: A loop died while the component ran (the first, if several did).
        """
        group, self._group = self._group, None
        if group is None:
            return
        for task in self._loops:
            task.cancel()
        try:
            await group.__aexit__(None, None, None)
        except BaseExceptionGroup:
            died = self._deaths[0]
            raise died from died.__cause__
