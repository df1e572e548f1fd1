"""Fixtures for the Eureka backend tests: the fake server and a client of it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pygokit.sd.eureka import EurekaClient
from tests.sd.eureka.fake import FakeEureka


@pytest.fixture
async def eureka() -> AsyncIterator[FakeEureka]:
    """A fake Eureka server on a free loopback port."""
    async with FakeEureka() as fake:
        yield fake


@pytest.fixture
async def client(eureka: FakeEureka) -> AsyncIterator[EurekaClient]:
    """A client of the fake server that gives up on a request after 0.5 s."""
    async with EurekaClient(eureka.url, timeout=0.5) as eureka_client:
        yield eureka_client
