"""Let test code wait, without polling, until a test double reaches some state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Waiters:
    """Tasks waiting for a condition on a test double; the double calls `notify`."""

    __slots__ = ("_futures",)

    def __init__(self) -> None:
        self._futures: list[asyncio.Future[None]] = []

    async def until(self, condition: Callable[[], bool]) -> None:
        """Return once *condition* holds, re-checking each time `notify` is called."""
        while not condition():
            future = asyncio.get_running_loop().create_future()
            self._futures.append(future)
            try:
                await future
            finally:
                if future in self._futures:
                    self._futures.remove(future)

    def notify(self) -> None:
        """Wake every waiter so it re-checks its condition."""
        futures, self._futures = self._futures, []
        for future in futures:
            if not future.done():
                future.set_result(None)
