"""Smoke tests: each service fixture leads to a real server that the real client library can use.

Each test makes one round trip and checks that what comes back is what was sent, so a fixture
that points at the wrong place, or a server that is up but unusable, fails here first.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aetcd
import aio_pika
import aiohttp
import nats
import pytest
import redis.asyncio as aioredis
from kazoo.client import KazooClient
from nats.aio.msg import Msg

TIMEOUT_S = 10


@pytest.mark.service("nats")
async def test_nats_request_reply(nats_url: str, unique_name: str) -> None:
    """A request through NATS reaches a subscriber, and the subscriber's reply comes back."""
    async with asyncio.timeout(TIMEOUT_S):
        nc = await nats.connect(nats_url, allow_reconnect=False)
        try:

            async def echo(msg: Msg) -> None:
                """Answer a request with its own payload, prefixed."""
                await msg.respond(b"echo:" + msg.data)

            await nc.subscribe(unique_name, cb=echo)
            reply = await nc.request(unique_name, b"ping", timeout=5)
            assert reply.data == b"echo:ping"
        finally:
            await nc.close()


@pytest.mark.service("etcd")
async def test_etcd_put_get(etcd_addr: str, unique_name: str) -> None:
    """A value put into etcd is read back unchanged."""
    host, _, port = etcd_addr.rpartition(":")
    key, value = f"/{unique_name}/key".encode(), b"value-1"
    async with asyncio.timeout(TIMEOUT_S), aetcd.Client(host=host, port=int(port)) as client:
        await client.put(key, value)
        got = await client.get(key)
        assert got is not None
        assert got.value == value


def zk_create_and_read(zk_addr: str, path: str, value: bytes) -> bytes:
    """Create an ephemeral znode with kazoo (a threaded client) and return what it reads back."""
    client = KazooClient(hosts=zk_addr, timeout=5)
    client.start(timeout=5)
    try:
        client.create(path, value, ephemeral=True, makepath=True)
        data, _stat = client.get(path)
        client.delete(path.rpartition("/")[0], recursive=True)
        return bytes(data)
    finally:
        client.stop()
        client.close()


@pytest.mark.service("zookeeper")
async def test_zookeeper_ephemeral_znode(zk_addr: str, unique_name: str) -> None:
    """An ephemeral znode created in ZooKeeper is read back with its data."""
    async with asyncio.timeout(TIMEOUT_S):
        got = await asyncio.to_thread(zk_create_and_read, zk_addr, f"/{unique_name}/node", b"v1")
    assert got == b"v1"


@pytest.mark.service("rabbitmq")
async def test_rabbitmq_publish_get(amqp_url: str, unique_name: str) -> None:
    """A message published to a fresh RabbitMQ queue is fetched back with the same body."""
    async with asyncio.timeout(TIMEOUT_S):
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(unique_name, exclusive=True, auto_delete=True)
            # The channel has publisher confirms on, so the message is queued once this returns.
            await channel.default_exchange.publish(
                aio_pika.Message(body=b"hello", correlation_id=unique_name),
                routing_key=queue.name,
            )
            message = await queue.get(timeout=5)
            await message.ack()
            assert message.body == b"hello"
            assert message.correlation_id == unique_name


@pytest.mark.service("redis")
async def test_redis_set_get(redis_url: str, unique_name: str) -> None:
    """A value SET in Redis is returned unchanged by GET."""
    async with asyncio.timeout(TIMEOUT_S):
        client = aioredis.Redis.from_url(redis_url)
        try:
            await client.set(unique_name, b"value-1", ex=60)
            assert await client.get(unique_name) == b"value-1"
        finally:
            await client.aclose()


@pytest.mark.service("influxdb")
async def test_influxdb_write_query(influx_url: str, unique_name: str) -> None:
    """A line written to a fresh InfluxDB database over HTTP is queried back with its value."""
    database = f'"{unique_name}"'  # unique_name has dashes: quote it in InfluxQL
    async with asyncio.timeout(TIMEOUT_S), aiohttp.ClientSession() as session:

        async def query(statement: str, **params: str) -> dict[str, Any]:
            """Run one InfluxQL statement and return its single result."""
            async with session.post(
                f"{influx_url}/query", params={"q": statement, **params}
            ) as response:
                assert response.status == 200, await response.text()
                body: dict[str, Any] = await response.json()
            [result] = body["results"]
            assert "error" not in result, result
            return dict(result)

        await query(f"CREATE DATABASE {database}")
        try:
            async with session.post(
                f"{influx_url}/write",
                params={"db": unique_name, "precision": "s"},
                data=b"smoke,host=a value=42.5 1700000000\n",
            ) as response:
                assert response.status == 204, await response.text()
            result = await query('SELECT "value" FROM "smoke"', db=unique_name, epoch="s")
            assert result["series"][0]["values"] == [[1700000000, 42.5]]
        finally:
            await query(f"DROP DATABASE {database}")
