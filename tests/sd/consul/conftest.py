"""Fixtures for the Consul backend tests: the fake agent and a client of it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pygokit.sd.consul import ConsulClient
from tests.sd.consul.fake import FakeConsul


@pytest.fixture
async def consul() -> AsyncIterator[FakeConsul]:
    """A fake Consul agent on a free loopback port."""
    async with FakeConsul() as fake:
        yield fake


@pytest.fixture
async def client(consul: FakeConsul) -> AsyncIterator[ConsulClient]:
    """A client of the fake agent that gives up on a request after 0.5 s."""
    async with ConsulClient(consul.url, timeout=0.5) as consul_client:
        yield consul_client
