"""Helpers for the exposition backends' tests: call an ASGI app in-process, serve it on a
real uvicorn, and estimate quantiles from bucket counts as PromQL's histogram_quantile."""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[Message]],
        Callable[[Message], Awaitable[None]],
    ],
    Awaitable[None],
]


@dataclass(frozen=True)
class Response:
    """What an ASGI app sent back for one request."""

    status: int
    headers: dict[str, str]
    body: bytes


async def call(
    app: ASGIApp, method: str = "GET", headers: Sequence[tuple[str, str]] = ()
) -> Response:
    """Send one bodiless HTTP request through *app* in-process and collect the reply."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": "/metrics",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent
    assert start["type"] == "http.response.start"
    assert body["type"] == "http.response.body"
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return Response(start["status"], response_headers, body["body"])


async def run_lifespan(app: ASGIApp) -> list[str]:
    """Drive *app* through lifespan startup and shutdown; return what it sent."""
    incoming: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    return sent


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the test process keeps pytest's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve *app* with uvicorn on a free 127.0.0.1 port; yield its base URL, then stop it.

    The socket is bound before uvicorn starts, so no other process can take the port
    in between. The lifespan protocol is required, so an app that mishandles it fails.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = _Server(config)
    with sock:
        async with asyncio.timeout(20):
            task = asyncio.create_task(server.serve(sockets=[sock]))
            try:
                while not server.started:  # uvicorn has only a flag to wait on
                    assert not task.done(), "uvicorn stopped before it started"
                    await asyncio.sleep(0.01)
                yield f"http://127.0.0.1:{port}"
            finally:
                server.should_exit = True
                await task


def bucket_quantile(
    q: float, upper_bounds: Sequence[float], cumulative_counts: Sequence[float]
) -> float:
    """Estimate the *q* quantile from cumulative bucket counts, as histogram_quantile does.

    The rank ``q * total`` is found in the first bucket whose cumulative count reaches
    it, and interpolated linearly between that bucket's lower and upper bound. A rank
    in the +Inf bucket answers the highest finite bound. The first bucket's lower
    bound is 0 when its upper bound is positive.
    """
    total = cumulative_counts[-1]
    if not total:
        return math.nan
    rank = q * total
    previous_bound, previous_count = 0.0, 0.0
    for index, (bound, count) in enumerate(zip(upper_bounds, cumulative_counts, strict=True)):
        if count >= rank:
            if math.isinf(bound):
                return upper_bounds[index - 1]
            if index == 0 and bound <= 0:
                return bound
            in_bucket = count - previous_count
            return previous_bound + (bound - previous_bound) * (rank - previous_count) / in_bucket
        previous_bound, previous_count = bound, count
    raise AssertionError("cumulative counts must end with the total")
