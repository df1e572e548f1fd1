"""ZKInstancer and ZKRegistrar against the real test ZooKeeper, with connection and session faults.

Faults are real: a TCP proxy between a client and ZooKeeper cuts the connection, refuses
reconnections or drops one direction of traffic, and a session expires because a second
connection takes it over with its id and password and closes it, as ZooKeeper's own
tests do. Nothing of kazoo is patched.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, NoAuthError
from kazoo.security import OPEN_ACL_UNSAFE, make_acl

from pygokit.retry import Constant
from pygokit.sd import Event
from pygokit.sd.zk import CONNECTED, LOST, SUSPENDED, ZKClient, ZKInstancer, ZKRegistrar
from pygokit.testing import CapturingLogger, FakeClock
from tests.sd.helpers import EventRecorder

pytestmark = pytest.mark.service("zookeeper")

TIMEOUT_S = 20
FAST = Constant(0.05)  # backoff of the loops under test: retry soon, without a hot loop
NO_CREATE_ACL = [make_acl("world", "anyone", read=True, admin=True)]
NO_READ_ACL = [make_acl("world", "anyone", write=True, create=True, delete=True, admin=True)]


class Proxy:
    """A TCP proxy on 127.0.0.1 in front of ZooKeeper, whose traffic a test can break.

    `cut` closes every connection; while ``refusing`` is set new connections are closed
    at once; with ``mute_replies`` set what ZooKeeper sends is dropped; `hold` holds back
    the requests of clients from the one that contains a marker on, until `release` (or
    `cut`, which drops them).
    """

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self._upstream = (host, int(port))
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._marker: bytes | None = None
        self._held: list[tuple[asyncio.StreamWriter, bytes]] = []
        self.address = ""
        self.refusing = False
        self.mute_replies = False
        self.held = asyncio.Event()
        """Set once a request with the marker of `hold` has been held back."""

    async def __aenter__(self) -> Proxy:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.address = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        self.cut()
        await asyncio.gather(*self._links, return_exceptions=True)

    def cut(self) -> None:
        """Close every proxied connection, both sides, dropping held requests."""
        for writer in self._writers:
            writer.close()
        self._marker, self._held = None, []

    def hold(self, marker: bytes) -> None:
        """Hold back requests from the first one containing *marker* on."""
        self._marker = marker
        self.held.clear()

    def release(self) -> None:
        """Send the held requests on to ZooKeeper, and stop holding."""
        held, self._marker, self._held = self._held, None, []
        for writer, data in held:
            writer.write(data)

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        writers = {writer}
        try:
            if self.refusing:
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
            writers.add(upstream_writer)
            self._writers |= writers
            await asyncio.gather(
                self._pipe(reader, upstream_writer, requests=True),
                self._pipe(upstream_reader, writer, requests=False),
            )
        finally:
            self._writers -= writers
            self._links.discard(task)
            for each in writers:
                each.close()
                with contextlib.suppress(ConnectionError):
                    await each.wait_closed()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, requests: bool
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                marker = self._marker
                if requests and marker is not None and (self.held.is_set() or marker in data):
                    self.held.set()
                    self._held.append((writer, data))
                    continue
                if requests or not self.mute_replies:
                    writer.write(data)
                    await writer.drain()
        writer.close()


@pytest.fixture
async def client(zk_addr: str) -> AsyncIterator[ZKClient]:
    """A client connected straight to the test ZooKeeper."""
    async with ZKClient(zk_addr, request_timeout=5.0) as client:
        yield client


@pytest.fixture
async def proxy(zk_addr: str) -> AsyncIterator[Proxy]:
    """A proxy in front of the test ZooKeeper."""
    async with Proxy(zk_addr) as proxy:
        yield proxy


@pytest.fixture
async def proxied(proxy: Proxy) -> AsyncIterator[ZKClient]:
    """A client whose connection goes through `proxy`."""
    async with ZKClient(proxy.address, session_timeout=5.0, request_timeout=5.0) as client:
        yield client


@pytest.fixture
def path(unique_name: str) -> str:
    """The service znode of this test."""
    return f"/pygokit-tests/{unique_name}/svc"


async def until(client: ZKClient, condition: Callable[[], bool]) -> None:
    """Wait until *condition* holds, checking it after each state change of *client*."""
    changed = asyncio.Event()

    def listener(state: str) -> None:
        changed.set()

    client.add_listener(listener)
    try:
        while not condition():
            await changed.wait()
            changed.clear()
    finally:
        client.remove_listener(listener)


async def expire_session(client: ZKClient, proxy: Proxy, zk_addr: str) -> list[str]:
    """Make ZooKeeper expire *client*'s session, and return the states it went through.

    The client is cut off; meanwhile another connection takes the session over with its
    id and password and closes it, which deletes its ephemeral nodes; then the client
    may reconnect, learns that its session expired, and starts a new one.
    """
    states: list[str] = []
    client.add_listener(states.append)
    session = client.kazoo.client_id
    proxy.refusing = True
    proxy.cut()
    await until(client, lambda: client.state == SUSPENDED)

    def close_session() -> None:
        thief = KazooClient(zk_addr, client_id=session)
        thief.start(timeout=5)
        thief.stop()
        thief.close()

    await asyncio.to_thread(close_session)
    proxy.refusing = False
    await until(client, lambda: client.state == CONNECTED)
    client.remove_listener(states.append)
    return states


async def test_instancer_sees_registrations_and_deregistrations(
    client: ZKClient, zk_addr: str, path: str
) -> None:
    """The instancer creates the missing path, then publishes every (de)registration."""
    recorder = EventRecorder()
    async with (
        asyncio.timeout(TIMEOUT_S),
        ZKClient(zk_addr) as other,
        ZKInstancer(client, path) as instancer,
    ):
        instancer.register(recorder)
        assert instancer.state == Event([])
        async with (
            ZKRegistrar(other, path, "10.0.0.1:8080") as first,
            ZKRegistrar(other, path, "10.0.0.2:8080", name="sum") as second,
        ):
            await first.register()
            await recorder.wait_for(lambda event: event.instances == ("10.0.0.1:8080",))
            await second.register()
            await recorder.wait_for(lambda event: len(event.instances) == 2)
            await first.deregister()
            await recorder.wait_for(lambda event: event.instances == ("10.0.0.2:8080",))
        await recorder.wait_for(lambda event: event.instances == (), after=1)
    assert recorder.events == [
        Event([]),
        Event(["10.0.0.1:8080"]),
        Event(["10.0.0.1:8080", "10.0.0.2:8080"]),
        Event(["10.0.0.2:8080"]),
        Event([]),
    ]


async def test_registrar_creates_a_protected_ephemeral_sequential_node(
    client: ZKClient, path: str
) -> None:
    """register() makes <path>/_c_<uuid>-<name><seq> owned by the session; both are idempotent."""
    logger = CapturingLogger()
    async with asyncio.timeout(TIMEOUT_S):
        async with ZKRegistrar(client, path, "10.0.0.1:8080", logger=logger) as registrar:
            await registrar.register()
            node = registrar.node
            assert node is not None
            assert re.fullmatch(rf"{path}/_c_[0-9a-f]{{32}}-instance\d{{10}}", node)
            await registrar.register()
            same = registrar.node
            assert same == node
            data, stat = await asyncio.to_thread(client.kazoo.get, node)
            assert data == b"10.0.0.1:8080"
            assert stat.ephemeralOwner == client.session_id

            await registrar.deregister()
            await registrar.deregister()
            assert registrar.node is None
            assert await asyncio.to_thread(client.kazoo.exists, node) is None
            await registrar.register()
            again = registrar.node
        assert await asyncio.to_thread(client.kazoo.exists, again) is None  # aclose deregistered
    assert [(event["action"], event["node"]) for event in logger.events] == [
        ("register", node),
        ("deregister", node),
        ("register", again),
        ("deregister", again),
    ]


async def test_instancer_skips_children_that_hold_no_instance(client: ZKClient, path: str) -> None:
    """Children with empty, null or non-UTF-8 data are logged and left out."""
    kazoo, logger = client.kazoo, CapturingLogger()
    children = [("empty", b""), ("null", None), ("binary", b"\xff\xfe"), ("ok", b"10.0.0.1:8080")]
    for child, data in children:
        await asyncio.to_thread(kazoo.create, f"{path}/{child}", data, makepath=True)
    async with asyncio.timeout(TIMEOUT_S), ZKInstancer(client, path, logger=logger) as instancer:
        assert instancer.state == Event(["10.0.0.1:8080"])
    assert sorted(str(event["child"]) for event in logger.events) == ["binary", "empty", "null"]


async def test_a_child_that_vanishes_while_being_read_is_skipped(
    client: ZKClient, proxy: Proxy, proxied: ZKClient, path: str
) -> None:
    """A child deleted between the listing and the read of its data is left out, no error."""
    kazoo, recorder = client.kazoo, EventRecorder()
    await asyncio.to_thread(kazoo.create, f"{path}/first", b"10.0.0.1:8080", makepath=True)
    async with asyncio.timeout(TIMEOUT_S), ZKInstancer(proxied, path) as instancer:
        instancer.register(recorder)
        proxy.hold(b"vanishing")  # the read of that child's data, after the listing
        transaction = kazoo.transaction()
        transaction.create(f"{path}/second", b"10.0.0.2:8080")
        transaction.create(f"{path}/vanishing", b"10.0.0.3:8080")
        await asyncio.to_thread(transaction.commit)
        await proxy.held.wait()
        await asyncio.to_thread(kazoo.delete, f"{path}/vanishing")
        proxy.release()
        await recorder.wait_for(lambda event: len(event.instances) == 2)
    assert recorder.events == [
        Event(["10.0.0.1:8080"]),
        Event(["10.0.0.1:8080", "10.0.0.2:8080"]),
    ]


async def test_a_child_that_cannot_be_read_fails_the_whole_read(
    client: ZKClient, path: str
) -> None:
    """A child without READ permission is an error event, not a silently shorter list."""
    kazoo = client.kazoo
    await asyncio.to_thread(kazoo.create, f"{path}/open", b"10.0.0.1:8080", makepath=True)
    await asyncio.to_thread(kazoo.create, f"{path}/closed", b"10.0.0.2:8080", acl=NO_READ_ACL)
    async with asyncio.timeout(TIMEOUT_S), ZKInstancer(client, path) as instancer:
        assert isinstance(instancer.state.error, NoAuthError)


async def test_a_failed_read_publishes_the_error_and_is_retried(
    client: ZKClient, path: str
) -> None:
    """A read ZooKeeper refuses (no READ permission) is an error event; a retry recovers."""
    kazoo, clock, logger = client.kazoo, FakeClock(), CapturingLogger()
    await asyncio.to_thread(kazoo.create, path, acl=NO_READ_ACL, makepath=True)
    instancer = ZKInstancer(client, path, backoff=Constant(1), sleep=clock.sleep, logger=logger)
    async with asyncio.timeout(TIMEOUT_S), instancer:
        assert isinstance(instancer.state.error, NoAuthError)
        assert logger.events == [{"path": path, "err": instancer.state.error}]
        await clock.wait_for_sleepers(1)
        await asyncio.to_thread(kazoo.set_acls, path, OPEN_ACL_UNSAFE)
        recorder = EventRecorder()
        instancer.register(recorder)
        clock.advance(1)
        await recorder.wait_for(lambda event: event == Event([]))


async def test_connection_loss_publishes_an_error_then_recovers_with_the_same_session(
    client: ZKClient, proxy: Proxy, proxied: ZKClient, path: str
) -> None:
    """A dropped connection is an error event; back on the same session, the watch is re-armed."""
    recorder = EventRecorder()
    async with asyncio.timeout(TIMEOUT_S):
        async with (
            ZKInstancer(proxied, path) as instancer,
            ZKRegistrar(proxied, path, "10.0.0.1:8080") as registrar,
        ):
            instancer.register(recorder)
            await registrar.register()
            await recorder.wait_for(lambda event: event.instances == ("10.0.0.1:8080",))
            node, session = registrar.node, proxied.session_id
            mark = len(recorder.events)

            proxy.refusing = True
            proxy.cut()
            await recorder.wait_for(
                lambda event: isinstance(event.error, ConnectionLoss), after=mark
            )
            async with ZKRegistrar(client, path, "10.0.0.2:8080") as other:
                await other.register()  # while the instancer cannot see it
                proxy.refusing = False
                await recorder.wait_for(lambda event: len(event.instances) == 2, after=mark)
                assert (proxied.session_id, registrar.node) == (session, node)
            await recorder.wait_for(lambda event: event.instances == ("10.0.0.1:8080",), after=mark)


async def test_session_expiry_recreates_the_node_and_rearms_the_watch(
    client: ZKClient, proxy: Proxy, proxied: ZKClient, zk_addr: str, path: str
) -> None:
    """F11: after a real session expiry the node is created again and the watch works again."""
    recorder, logger = EventRecorder(), CapturingLogger()
    async with asyncio.timeout(TIMEOUT_S):
        async with (
            ZKInstancer(proxied, path) as instancer,
            ZKRegistrar(proxied, path, "10.0.0.1:8080", logger=logger) as registrar,
        ):
            instancer.register(recorder)
            await registrar.register()
            await recorder.wait_for(lambda event: event.instances == ("10.0.0.1:8080",))
            node, session = registrar.node, proxied.session_id
            mark = len(recorder.events)

            states = await expire_session(proxied, proxy, zk_addr)
            assert states[-2:] == [LOST, CONNECTED]
            assert proxied.session_id not in (None, session)
            await recorder.wait_for(lambda event: event.instances == ("10.0.0.1:8080",), after=mark)
            assert any(event.error is not None for event in recorder.events[mark:])
            assert registrar.node != node
            assert await asyncio.to_thread(client.kazoo.exists, node) is None
            _, stat = await asyncio.to_thread(client.kazoo.get, registrar.node)
            assert stat.ephemeralOwner == proxied.session_id

            async with ZKRegistrar(client, path, "10.0.0.2:8080") as other:
                await other.register()
                await recorder.wait_for(lambda event: len(event.instances) == 2, after=mark)
    assert logger.events[1]["msg"] == "session lost; re-created"


async def test_registrar_retries_a_failed_recreation(
    client: ZKClient, proxy: Proxy, proxied: ZKClient, zk_addr: str, path: str
) -> None:
    """Re-creation refused after an expiry is logged and retried with backoff until it works."""
    clock, logger, recorder = FakeClock(), CapturingLogger(), EventRecorder()
    registrar = ZKRegistrar(
        proxied, path, "10.0.0.1:8080", backoff=Constant(1), sleep=clock.sleep, logger=logger
    )
    async with asyncio.timeout(TIMEOUT_S), registrar, ZKInstancer(client, path) as instancer:
        instancer.register(recorder)
        await registrar.register()
        await recorder.wait_for(lambda event: event.instances == ("10.0.0.1:8080",))
        await asyncio.to_thread(client.kazoo.set_acls, path, NO_CREATE_ACL)
        mark = len(recorder.events)

        await expire_session(proxied, proxy, zk_addr)
        await recorder.wait_for(lambda event: event.instances == (), after=mark)
        await clock.wait_for_sleepers(1)
        assert isinstance(logger.events[-1]["err"], NoAuthError)

        await asyncio.to_thread(client.kazoo.set_acls, path, OPEN_ACL_UNSAFE)
        clock.advance(1)
        await recorder.wait_for(lambda event: event.instances == ("10.0.0.1:8080",), after=mark)
    assert logger.events[-2]["msg"] == "session lost; re-created"


async def test_a_create_whose_answer_was_lost_is_adopted_not_duplicated(
    client: ZKClient, proxy: Proxy, proxied: ZKClient, path: str
) -> None:
    """Connection lost after ZooKeeper made the node: register() finds it by its prefix."""
    recorder = EventRecorder()
    async with asyncio.timeout(TIMEOUT_S), ZKInstancer(client, path) as instancer:
        instancer.register(recorder)
        async with ZKRegistrar(proxied, path, "10.0.0.1:8080") as registrar:
            proxy.mute_replies = True
            registering = asyncio.create_task(registrar.register())
            await recorder.wait_for(lambda event: event.instances == ("10.0.0.1:8080",))
            assert not registering.done()
            proxy.mute_replies = False
            proxy.cut()
            await registering
            children = await asyncio.to_thread(client.kazoo.get_children, path)
            assert [f"{path}/{child}" for child in children] == [registrar.node]


async def test_a_create_that_never_arrived_fails_register(
    proxy: Proxy, proxied: ZKClient, path: str
) -> None:
    """Connection lost before ZooKeeper saw the create: register() raises, nothing registered."""
    async with asyncio.timeout(TIMEOUT_S), ZKRegistrar(proxied, path, "10.0.0.1:8080") as registrar:
        await asyncio.to_thread(proxied.kazoo.ensure_path, path)
        proxy.hold(b"_c_")
        registering = asyncio.create_task(registrar.register())
        await proxy.held.wait()
        proxy.cut()
        with pytest.raises(ConnectionLoss):
            await registering
        assert registrar.node is None
        assert await asyncio.to_thread(proxied.kazoo.get_children, path) == []


async def test_leaving_logs_a_failed_deregistration(proxy: Proxy, path: str) -> None:
    """aclose() with ZooKeeper out of reach logs the failed delete instead of raising it."""
    logger = CapturingLogger()
    async with asyncio.timeout(TIMEOUT_S), ZKClient(proxy.address, request_timeout=0.3) as client:
        async with ZKRegistrar(client, path, "10.0.0.1:8080", logger=logger) as registrar:
            await registrar.register()
            node = registrar.node
            proxy.refusing = True
            proxy.cut()
            await until(client, lambda: client.state == SUSPENDED)
        proxy.refusing = False
    assert (logger.events[-1]["action"], logger.events[-1]["node"]) == ("deregister", node)
    assert isinstance(logger.events[-1]["err"], TimeoutError)
    assert registrar.node is None


async def test_an_instancer_entered_while_disconnected_publishes_an_error(
    proxy: Proxy, proxied: ZKClient, path: str
) -> None:
    """Entering while the connection is down returns at once with a ConnectionLoss event."""
    proxy.refusing = True
    proxy.cut()
    await until(proxied, lambda: proxied.state == SUSPENDED)
    async with asyncio.timeout(TIMEOUT_S), ZKInstancer(proxied, path) as instancer:
        assert isinstance(instancer.state.error, ConnectionLoss)
        proxy.refusing = False
        recorder = EventRecorder()
        instancer.register(recorder)
        await recorder.wait_for(lambda event: event == Event([]))
