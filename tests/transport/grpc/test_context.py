"""The deadline context: rpc_timeout narrows it, never extends it, and restores it on exit."""

from __future__ import annotations

import asyncio

import pytest

from pygokit.transport.grpc.context import deadline, rpc_timeout, time_remaining


async def test_no_deadline_by_default() -> None:
    """Outside any rpc_timeout (and any served RPC) there is no deadline."""
    assert deadline.get() is None
    assert time_remaining() is None


async def test_rpc_timeout_sets_the_deadline_and_restores_it() -> None:
    """Inside, the deadline is now + delay in loop time; afterwards it is gone again."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with rpc_timeout(10) as scope:
        when = deadline.get()
        left = time_remaining()
        assert scope.when() == when
    assert when is not None
    assert start + 10 <= when <= loop.time() + 10
    assert left is not None
    assert 0 < left <= 10
    assert deadline.get() is None


async def test_an_inner_timeout_never_extends_the_outer_deadline() -> None:
    """A longer or absent inner delay keeps the outer deadline; a shorter one narrows it."""
    async with rpc_timeout(1):
        outer = deadline.get()
        async with rpc_timeout(60):
            assert deadline.get() == outer
        async with rpc_timeout(None):
            assert deadline.get() == outer
        async with rpc_timeout(0.5):
            inner = deadline.get()
            assert inner is not None
            assert outer is not None
            assert inner < outer
        assert deadline.get() == outer


async def test_rpc_timeout_is_an_asyncio_timeout() -> None:
    """Work that overruns the delay is cancelled with TimeoutError, as asyncio.timeout does."""
    with pytest.raises(TimeoutError):
        async with rpc_timeout(0.01):
            await asyncio.sleep(10)
    assert deadline.get() is None


async def test_a_passed_deadline_leaves_zero_seconds() -> None:
    """time_remaining never goes negative."""
    token = deadline.set(asyncio.get_running_loop().time() - 5)
    try:
        assert time_remaining() == 0.0
    finally:
        deadline.reset(token)


async def test_no_limit_at_all_is_allowed() -> None:
    """rpc_timeout(None) with no outer deadline adds no limit."""
    async with rpc_timeout(None) as scope:
        assert scope.when() is None
        assert time_remaining() is None
