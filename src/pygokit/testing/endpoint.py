"""An endpoint double that records its requests and answers from a script."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar, cast

from pygokit.errors import GoKitError
from pygokit.testing._waiters import Waiters

__all__ = ["RecordingEndpoint", "ScriptExhausted"]

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class ScriptExhausted(GoKitError, AssertionError):
    """A `RecordingEndpoint` was called more often than its script allows."""

    def __init__(self, calls: int) -> None:
        super().__init__(
            f"RecordingEndpoint was called {calls} times but its script has fewer results;"
            " add results or pass then= to answer every further call"
        )
        self.calls = calls


_UNSET = object()


class RecordingEndpoint(Generic[Req, Resp]):
    """An endpoint that records every request and replays scripted results.

    Each call takes the next item of *script*: a response is returned, an exception
    is raised. Once the script runs out, every call gets *then* (again a response or
    an exception), or raises `ScriptExhausted` if *then* was not given. With a *gate*,
    each call waits for the event after recording its request, which lets a test hold
    calls in flight (to cancel them, or to fill a bulkhead).

    Example::

        endpoint = RecordingEndpoint[str, int](1, ConnectionError("down"), then=0)
        assert await endpoint("a") == 1
        with pytest.raises(ConnectionError):
            await endpoint("b")
        assert endpoint.requests == ["a", "b"]
    """

    def __init__(
        self,
        *script: Resp | Exception,
        then: Resp | Exception | object = _UNSET,
        gate: asyncio.Event | None = None,
    ) -> None:
        self.requests: list[Req] = []
        self._script: deque[Resp | Exception] = deque(script)
        self._then = then
        self._gate = gate
        self._in_flight = 0
        self._waiters = Waiters()

    @property
    def calls(self) -> int:
        """How many times the endpoint has been called."""
        return len(self.requests)

    @property
    def in_flight(self) -> int:
        """How many calls have started and not yet returned or raised."""
        return self._in_flight

    async def __call__(self, request: Req) -> Resp:
        """Record *request*, wait for the gate if any, then play the next result."""
        self.requests.append(request)
        result = self._next_result()
        self._in_flight += 1
        self._waiters.notify()
        try:
            if self._gate is not None:
                await self._gate.wait()
        finally:
            self._in_flight -= 1
        if isinstance(result, Exception):
            raise result
        return result

    async def wait_for_calls(self, count: int = 1) -> None:
        """Return once the endpoint has been called at least *count* times."""
        await self._waiters.until(lambda: self.calls >= count)

    def _next_result(self) -> Resp | Exception:
        if self._script:
            return self._script.popleft()
        if self._then is _UNSET:
            return ScriptExhausted(self.calls)
        return cast("Resp | Exception", self._then)

    def __repr__(self) -> str:
        return f"RecordingEndpoint(calls={self.calls}, scripted={len(self._script)})"
