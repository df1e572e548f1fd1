"""Endpoint, middleware composition, nop and Failer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygokit.endpoint import AnyMiddleware, Endpoint, Failer, business_error, chain, nop
from pygokit.testing import RecordingEndpoint

Req = TypeVar("Req")
Resp = TypeVar("Resp")


def tracing(name: str, trace: list[str]) -> AnyMiddleware:
    """A middleware that notes when a request enters and leaves it."""

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            trace.append(f"{name} pre")
            try:
                return await next_(request)
            finally:
                trace.append(f"{name} post")

        return endpoint

    return middleware


def counting_failures(failures: list[Exception]) -> AnyMiddleware:
    """A middleware that records every Exception passing through, like a breaker would."""

    def middleware(next_: Endpoint[Req, Resp]) -> Endpoint[Req, Resp]:
        async def endpoint(request: Req) -> Resp:
            try:
                return await next_(request)
            except Exception as exc:
                failures.append(exc)
                raise

        return endpoint

    return middleware


async def test_chain_runs_the_first_middleware_outermost() -> None:
    """chain(first, second, third) matches Go kit's ExampleChain order."""
    trace: list[str] = []

    async def my_endpoint(request: object) -> str:
        trace.append("my endpoint!")
        return "ok"

    endpoint = chain(tracing("first", trace), tracing("second", trace), tracing("third", trace))(
        my_endpoint
    )

    assert await endpoint(None) == "ok"
    assert trace == [
        "first pre",
        "second pre",
        "third pre",
        "my endpoint!",
        "third post",
        "second post",
        "first post",
    ]


@given(layers=st.integers(min_value=1, max_value=12))
async def test_chain_order_holds_for_any_depth(layers: int) -> None:
    """For any number of layers, requests enter in argument order and leave in reverse."""
    trace: list[str] = []
    names = [str(i) for i in range(layers)]
    endpoint = chain(*(tracing(name, trace) for name in names))(nop)

    await endpoint(None)

    assert trace == [f"{n} pre" for n in names] + [f"{n} post" for n in reversed(names)]


async def test_chain_passes_request_and_response_through() -> None:
    """The wrapped endpoint sees the caller's request and the caller gets its response."""
    inner = RecordingEndpoint[str, int](42)
    endpoint = chain(tracing("a", []), tracing("b", []))(inner)

    assert await endpoint("request") == 42
    assert inner.requests == ["request"]


async def test_chain_lets_errors_propagate_unchanged() -> None:
    """An error raised by the endpoint reaches the caller as the same object."""
    boom = ConnectionError("boom")
    failures: list[Exception] = []
    endpoint = chain(counting_failures(failures), tracing("t", []))(
        RecordingEndpoint[None, None](boom)
    )

    with pytest.raises(ConnectionError) as caught:
        await endpoint(None)

    assert caught.value is boom
    assert failures == [boom]


async def test_cancellation_passes_through_chain_untouched() -> None:
    """Cancelling a call mid-flight raises CancelledError to the caller; no layer counts it."""
    gate = asyncio.Event()
    inner = RecordingEndpoint[str, str]("never", gate=gate)
    failures: list[Exception] = []
    trace: list[str] = []
    endpoint = chain(counting_failures(failures), tracing("t", trace), counting_failures(failures))(
        inner
    )

    task = asyncio.create_task(endpoint("x"))
    await inner.wait_for_calls(1)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert failures == []
    assert trace == ["t pre", "t post"]
    assert inner.in_flight == 0


async def test_nop_returns_none_for_any_request() -> None:
    """nop accepts anything and returns None."""
    bare: Endpoint[object, object] = nop
    wrapped: Endpoint[str, object] = chain(tracing("t", []))(nop)
    assert await bare(object()) is None
    assert await wrapped("anything") is None


@dataclass
class SumResponse:
    """A response that carries a business error, as in Go kit's addsvc."""

    v: int
    err: Exception | None = None

    def failed(self) -> Exception | None:
        """Report the business error, if any."""
        return self.err


def test_a_response_with_failed_is_a_failer() -> None:
    """Any response with a failed() method satisfies Failer; others do not."""
    overflow = ValueError("integer overflow")

    assert isinstance(SumResponse(3), Failer)
    assert SumResponse(0, overflow).failed() is overflow
    assert not isinstance(3, Failer)


def test_business_error_reads_failers_and_ignores_other_responses() -> None:
    """business_error returns a Failer's error, None for a successful Failer or a plain value."""
    overflow = ValueError("integer overflow")

    assert business_error(SumResponse(0, overflow)) is overflow
    assert business_error(SumResponse(3)) is None
    assert business_error(3) is None
    assert business_error(None) is None
