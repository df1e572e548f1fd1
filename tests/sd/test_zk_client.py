"""ZKClient: connecting, closing, requests and arguments, against the real test ZooKeeper."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from kazoo.exceptions import NoAuthError, NoNodeError
from kazoo.security import make_digest_acl

from pygokit.sd import Event, Instancer, Registrar
from pygokit.sd.zk import CONNECTED, LOST, ZKClient, ZKInstancer, ZKRegistrar
from pygokit.testing import CapturingLogger

TIMEOUT_S = 20


@pytest.fixture
def dead_hosts() -> str:
    """host:port of a loopback port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.service("zookeeper")
async def test_entering_connects_and_leaving_closes_the_session(zk_addr: str) -> None:
    """Inside the block the client has a session; after it, the session is gone."""
    logger = CapturingLogger()
    async with asyncio.timeout(TIMEOUT_S):
        async with ZKClient(zk_addr, logger=logger) as client:
            assert (client.running, client.state) == (True, CONNECTED)
            session = client.session_id
            assert isinstance(session, int)
            assert repr(client) == f"ZKClient({zk_addr!r}, state=CONNECTED)"
            assert await client.run(lambda: client.kazoo.exists_async("/")) is not None
        assert (client.running, client.state, client.session_id) == (False, LOST, None)
        await client.aclose()  # closing again does nothing
    assert logger.events == [
        {"zk": zk_addr, "state": CONNECTED, "session": session},
        {"zk": zk_addr, "state": LOST, "session": None},
    ]


@pytest.mark.service("zookeeper")
async def test_a_request_error_is_raised_in_the_caller(zk_addr: str, unique_name: str) -> None:
    """run() raises what ZooKeeper answered, here NoNodeError."""
    async with asyncio.timeout(TIMEOUT_S), ZKClient(zk_addr) as client:
        with pytest.raises(NoNodeError):
            await client.run(lambda: client.kazoo.get_async(f"/{unique_name}/missing"))


async def test_an_unreachable_ensemble_fails_entering_within_connect_timeout(
    dead_hosts: str,
) -> None:
    """No server: entering raises ConnectionError naming the hosts, and kazoo is stopped."""
    client = ZKClient(dead_hosts, connect_timeout=0.3)
    async with asyncio.timeout(TIMEOUT_S):
        with pytest.raises(
            ConnectionError, match=f"could not connect to ZooKeeper at {dead_hosts}"
        ):
            await client.__aenter__()
    assert not client.running
    assert client.kazoo.client_state == "CLOSED"


async def test_cancelling_the_connect_stops_the_client(dead_hosts: str) -> None:
    """A task cancelled while entering leaves no kazoo threads running."""
    client = ZKClient(dead_hosts, connect_timeout=60)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await client.__aenter__()
    assert not client.running
    assert client.kazoo.client_state == "CLOSED"


@pytest.mark.service("zookeeper")
async def test_entering_a_running_client_again_is_refused(zk_addr: str) -> None:
    """A client is entered once at a time."""
    async with asyncio.timeout(TIMEOUT_S), ZKClient(zk_addr) as client:
        with pytest.raises(RuntimeError, match="already running"):
            await client.__aenter__()


@pytest.mark.service("zookeeper")
async def test_credentials_authenticate_the_session(zk_addr: str, unique_name: str) -> None:
    """With credentials and a digest ACL, only the authenticated client reads the node."""
    acl = [make_digest_acl("alice", "secret", all=True)]
    path = f"/pygokit-tests/{unique_name}"
    async with (
        asyncio.timeout(TIMEOUT_S),
        ZKClient(zk_addr, credentials=("alice", "secret"), acl=acl) as alice,
        ZKClient(zk_addr) as anonymous,
        ZKRegistrar(alice, path, "10.0.0.1:8080") as registrar,
    ):
        await registrar.register()
        async with ZKInstancer(alice, path) as instancer:
            assert instancer.state.instances == ("10.0.0.1:8080",)
        node = registrar.node
        with pytest.raises(NoAuthError):
            await anonymous.run(lambda: anonymous.kazoo.get_async(node))


@pytest.mark.service("zookeeper")
async def test_instancer_and_registrar_need_a_running_client(zk_addr: str) -> None:
    """Using a client that was never entered is a clear RuntimeError, not a silent wait."""
    client = ZKClient(zk_addr)
    with pytest.raises(RuntimeError, match="is not running"):
        await client.run(lambda: client.kazoo.exists_async("/"))
    with pytest.raises(RuntimeError, match="needs a running client"):
        await ZKInstancer(client, "/svc").__aenter__()
    async with ZKRegistrar(client, "/svc", "10.0.0.1:8080") as registrar:
        with pytest.raises(RuntimeError, match="before registering"):
            await registrar.register()
    with pytest.raises(RuntimeError, match="before registering"):
        await ZKRegistrar(client, "/svc", "10.0.0.1:8080").register()


@pytest.mark.parametrize(
    ("hosts", "options", "message"),
    [
        ("", {}, "hosts must be a list"),
        ("127.0.0.1:2181", {"session_timeout": 0}, "session_timeout must be a positive"),
        ("127.0.0.1:2181", {"connect_timeout": -1}, "connect_timeout must be a positive"),
        ("127.0.0.1:2181", {"request_timeout": float("nan")}, "request_timeout must be a positive"),
        ("127.0.0.1:2181", {"credentials": ("alice", "")}, "need both a user and a password"),
    ],
)
def test_bad_client_arguments_are_refused(
    hosts: str, options: dict[str, Any], message: str
) -> None:
    """The client's constructor validates what it is given, and does no I/O."""
    with pytest.raises(ValueError, match=message):
        ZKClient(hosts, **options)


@pytest.mark.parametrize(
    ("path", "instance", "name", "message"),
    [
        ("svc", "a:1", "instance", "absolute znode path"),
        ("/", "a:1", "instance", "absolute znode path"),
        ("/svc", "", "instance", "instance must be a non-empty string"),
        ("/svc", "a:1", "a/b", "name must be a non-empty node name"),
    ],
)
def test_bad_registrar_arguments_are_refused(
    path: str, instance: str, name: str, message: str
) -> None:
    """Paths must be absolute, the instance non-empty and the name a single node name."""
    client = ZKClient("127.0.0.1:2181")
    with pytest.raises(ValueError, match=message):
        ZKRegistrar(client, path, instance, name=name)


def test_paths_lose_their_trailing_slash() -> None:
    """'/svc/' and '/svc' name the same service."""
    client = ZKClient("127.0.0.1:2181")
    assert ZKInstancer(client, "/svc/").path == "/svc"
    registrar = ZKRegistrar(client, "/svc/", "10.0.0.1:8080")
    assert registrar.path == "/svc"
    assert repr(registrar) == "ZKRegistrar('/svc', '10.0.0.1:8080', node=None)"


@pytest.mark.service("zookeeper")
async def test_callbacks_from_kazoo_after_closing_are_dropped(zk_addr: str) -> None:
    """Once the client is closed, to_loop calls nothing, and removing a listener twice is fine."""
    called: list[str] = []
    async with asyncio.timeout(TIMEOUT_S), ZKClient(zk_addr) as client:
        client.add_listener(called.append)
        client.remove_listener(called.append)
        client.remove_listener(called.append)
    client.to_loop(called.append, "late")
    await asyncio.sleep(0)
    assert called == []


async def test_the_backend_fits_the_sd_protocols() -> None:
    """ZKInstancer is an Instancer and ZKRegistrar a Registrar; neither does I/O unasked."""
    client = ZKClient("127.0.0.1:2181")
    instancer: Instancer = ZKInstancer(client, "/svc")
    registrar: Registrar = ZKRegistrar(client, "/svc", "10.0.0.1:8080")
    await registrar.deregister()  # not registered: nothing to do
    events: list[Event] = []
    instancer.register(events.append)
    assert events == [Event()]
