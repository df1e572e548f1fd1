"""Shared fixtures, above all the addresses of the real servers that scripts/test-services runs.

`scripts/test-services run -- <pytest command>` starts NATS, etcd, ZooKeeper, RabbitMQ, Redis
and InfluxDB on free loopback ports and exports their addresses as ``PYGOKIT_*`` variables. A test
that asks for one of the fixtures below is skipped when its variable is unset, so a plain local
``pytest`` still runs; under ``CI=true`` or ``PYGOKIT_REQUIRE_SERVICES=1`` it fails instead, so a
broken start-up cannot pass as a run where everything was skipped.

One server of each kind serves the whole run, so tests keep apart by name (``unique_name``).
"""

from __future__ import annotations

import os
import re
import secrets

import pytest

START_HINT = "start it with scripts/test-services run -- <pytest command>"


def services_required() -> bool:
    """Tell whether a missing test service must fail the test rather than skip it."""
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get("PYGOKIT_REQUIRE_SERVICES") == "1"
    )


def service_address(service: str, env_var: str) -> str:
    """Return the address of a running test service; skip or fail when it is not running."""
    address = os.environ.get(env_var, "").strip()
    if address:
        return address
    message = f"{service} is not running: {START_HINT} ({env_var} unset)"
    if services_required():
        pytest.fail(
            f"{message}; required because CI=true or PYGOKIT_REQUIRE_SERVICES=1", pytrace=False
        )
    pytest.skip(message)


@pytest.fixture(scope="session")
def nats_url() -> str:
    """URL of the test NATS server (JetStream enabled), such as nats://127.0.0.1:4222."""
    return service_address("NATS", "PYGOKIT_NATS_URL")


@pytest.fixture(scope="session")
def etcd_addr() -> str:
    """host:port of the test etcd v3 server's client endpoint."""
    return service_address("etcd", "PYGOKIT_ETCD_ADDR")


@pytest.fixture(scope="session")
def zk_addr() -> str:
    """host:port of the test ZooKeeper server."""
    return service_address("ZooKeeper", "PYGOKIT_ZK_ADDR")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """AMQP URL (guest account, default vhost) of the test RabbitMQ broker."""
    return service_address("RabbitMQ", "PYGOKIT_AMQP_URL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of database 0 of the test Redis server."""
    return service_address("Redis", "PYGOKIT_REDIS_URL")


@pytest.fixture(scope="session")
def influx_url() -> str:
    """Base URL of the test InfluxDB 1.x server's HTTP API, such as http://127.0.0.1:8086."""
    return service_address("InfluxDB", "PYGOKIT_INFLUX_URL")


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """Per-test name prefix (test name plus a random suffix) for subjects, keys, queues, znodes."""
    # Letters, digits and '-' only: valid in NATS subjects, etcd/Redis keys, queue names and
    # znode paths alike. The suffix keeps reruns and parametrized cases apart on shared servers.
    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:48]
    return f"{stem}-{secrets.token_hex(4)}"
