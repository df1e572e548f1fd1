"""The Consul backend against a real agent, run only when ``CONSUL_HTTP_ADDR`` names one.

No Consul binary can be installed where the test suite runs (not in Debian bookworm, and
no PyPI or npm package ships one), so this test is skipped unless ``CONSUL_HTTP_ADDR``
is set, **also under CI**: the fake agent of ``fake.py`` is what CI checks. To run it::

    consul agent -dev &   # or any agent you may register a throwaway service with
    CONSUL_HTTP_ADDR=127.0.0.1:8500 .venv/bin/pytest tests/sd/consul/test_real_agent.py

``CONSUL_HTTP_TOKEN`` is sent as the ACL token when set.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from pygokit.sd import Event
from pygokit.sd.consul import (
    ConsulClient,
    ConsulInstancer,
    ConsulRegistrar,
    ServiceRegistration,
    TTLCheck,
)
from tests.sd.helpers import EventRecorder

ADDRESS = os.environ.get("CONSUL_HTTP_ADDR", "")

pytestmark = pytest.mark.skipif(
    not ADDRESS,
    reason="CONSUL_HTTP_ADDR is unset: no Consul binary is available here or in CI;"
    " the fake agent covers the backend",
)


async def test_a_registered_instance_is_discovered_and_leaves_on_deregister(
    unique_name: str,
) -> None:
    """Against a real agent: register with a TTL check, see the instance, deregister, see it go."""
    registration = ServiceRegistration(
        name=unique_name,
        address="127.0.0.1",
        port=8080,
        tags=("pygokit-test",),
        check=TTLCheck(ttl=10.0, deregister_critical_after=60.0),
    )
    recorder = EventRecorder()
    client = ConsulClient(ADDRESS, token=os.environ.get("CONSUL_HTTP_TOKEN"))
    instancer = ConsulInstancer(client, unique_name, tags=["pygokit-test"], wait=5.0)
    async with client, instancer, ConsulRegistrar(client, registration) as registrar:
        instancer.register(recorder)
        async with asyncio.timeout(20):
            await registrar.register()
            await recorder.wait_for(lambda event: event == Event(["127.0.0.1:8080"]))
            await registrar.deregister()
            await recorder.wait_for(lambda event: event == Event([]), after=1)
