"""RedisTokenBucket against a real Redis (scripts/test-services), and with Redis down."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from pygokit.ratelimit import RateLimited, erroring_limiter
from pygokit.ratelimit.redis import LimiterUnavailable, RedisTokenBucket
from pygokit.testing import FakeClock, RecordingEndpoint

TIMEOUT_S = 10
SLOW = 1e-6  # tokens per second: no refill to speak of during a test


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A client of the test Redis, closed afterwards."""
    client = redis.asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def other_client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A second, separate client of the same Redis, as another process would have."""
    client = redis.asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def down_client() -> AsyncIterator[redis.asyncio.Redis]:
    """A client pointed at a loopback port where nothing listens, with no retries."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = redis.asyncio.Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0))
    yield client
    await client.aclose()


@pytest.mark.service("redis")
async def test_two_clients_share_one_limit(
    client: redis.asyncio.Redis, other_client: redis.asyncio.Redis, unique_name: str
) -> None:
    """Two buckets on separate connections with one key admit `burst` calls between them."""
    first = RedisTokenBucket(client, unique_name, rate=SLOW, burst=10)
    second = RedisTokenBucket(other_client, unique_name, rate=SLOW, burst=10)

    async with asyncio.timeout(TIMEOUT_S):
        results = [await (first if i % 2 else second).allow() for i in range(14)]

    assert results == [True] * 10 + [False] * 4


@pytest.mark.service("redis")
async def test_refills_at_the_rate(client: redis.asyncio.Redis, unique_name: str) -> None:
    """After the refill time the bucket admits again, and says how long it is until then."""
    bucket = RedisTokenBucket(client, unique_name, rate=20, burst=2)

    async with asyncio.timeout(TIMEOUT_S):
        assert [await bucket.allow(), await bucket.allow()] == [True, True]
        retry_in = await bucket.try_take()
        assert 0 < retry_in <= 0.05
        assert 0 < await bucket.retry_in() <= 0.05
        await asyncio.sleep(0.06)  # real time: Redis's clock is the one that counts
        assert await bucket.retry_in() == 0.0
        assert await bucket.allow()


@pytest.mark.service("redis")
async def test_uses_the_redis_servers_clock_not_the_callers(
    client: redis.asyncio.Redis, other_client: redis.asyncio.Redis, unique_name: str
) -> None:
    """Buckets whose local clocks disagree by years share one limit kept in server time."""
    early = RedisTokenBucket(client, unique_name, rate=SLOW, burst=2, clock=FakeClock(0))
    late = RedisTokenBucket(other_client, unique_name, rate=SLOW, burst=2, clock=FakeClock(1e9))

    async with asyncio.timeout(TIMEOUT_S):
        assert await early.allow()
        assert await late.allow()
        assert not await early.allow()
        assert not await late.allow()
        stamp = float(await client.hget(unique_name, "ts") or b"nan")
        seconds, micros = await client.time()
    assert abs(stamp - (seconds + micros / 1e6)) < 5


@pytest.mark.service("redis")
async def test_keys_expire_once_the_bucket_would_be_full(
    client: redis.asyncio.Redis, unique_name: str
) -> None:
    """A taken bucket expires after burst/rate seconds; looking at a bucket creates no key."""
    bucket = RedisTokenBucket(client, unique_name, rate=10, burst=5)

    async with asyncio.timeout(TIMEOUT_S):
        assert await bucket.retry_in() == 0.0
        assert await client.exists(unique_name) == 0
        assert await bucket.allow()
        ttl_ms = await client.pttl(unique_name)
    assert 0 < ttl_ms <= 501


@pytest.mark.service("redis")
async def test_a_flushed_script_cache_is_reloaded(
    client: redis.asyncio.Redis, unique_name: str
) -> None:
    """When Redis forgets the script (SCRIPT FLUSH, a restart), the next call loads it again."""
    bucket = RedisTokenBucket(client, unique_name, rate=SLOW, burst=2)

    async with asyncio.timeout(TIMEOUT_S):
        assert await bucket.allow()
        await client.script_flush()
        assert await bucket.allow()
        assert not await bucket.allow()


@pytest.mark.service("redis")
async def test_a_refusal_is_remembered_until_the_tokens_could_be_there(
    client: redis.asyncio.Redis, unique_name: str
) -> None:
    """After Redis refuses, the bucket refuses locally until retry_in has passed."""
    clock = FakeClock()
    bucket = RedisTokenBucket(client, unique_name, rate=10, burst=1, clock=clock)

    async with asyncio.timeout(TIMEOUT_S):
        assert await bucket.allow()
        retry_in = await bucket.try_take()
        await client.delete(unique_name)  # Redis would now say yes; the bucket does not ask
        assert await bucket.try_take() == pytest.approx(retry_in)
        clock.advance(retry_in)
        assert await bucket.allow()


@pytest.mark.service("redis")
async def test_a_remembered_refusal_does_not_cover_a_smaller_cost(
    client: redis.asyncio.Redis, unique_name: str
) -> None:
    """A refusal of cost 2 is remembered for cost 2 but a cost of 1 still asks Redis."""
    bucket = RedisTokenBucket(client, unique_name, rate=SLOW, burst=2, clock=FakeClock())

    async with asyncio.timeout(TIMEOUT_S):
        assert await bucket.allow()
        assert not await bucket.allow(2)
        assert await bucket.allow(1)
        assert not await bucket.allow(1)


@pytest.mark.service("redis")
async def test_local_batch_takes_several_tokens_per_round_trip(
    client: redis.asyncio.Redis, other_client: redis.asyncio.Redis, unique_name: str
) -> None:
    """A batching bucket takes N tokens at once and spends them locally; the total holds."""
    batching = RedisTokenBucket(client, unique_name, rate=SLOW, burst=10, local_batch=5)
    plain = RedisTokenBucket(other_client, unique_name, rate=SLOW, burst=10)

    async with asyncio.timeout(TIMEOUT_S):
        assert await batching.allow()
        assert batching.local_tokens == 4
        assert float(await client.hget(unique_name, "tokens") or b"nan") == pytest.approx(5)
        others = [await plain.allow() for _ in range(6)]
        mine = [await batching.allow() for _ in range(5)]

    assert others == [True] * 5 + [False]
    assert mine == [True] * 4 + [False]


@pytest.mark.service("redis")
async def test_local_tokens_answer_retry_in_without_redis(
    client: redis.asyncio.Redis, unique_name: str
) -> None:
    """A batching bucket holding tokens says 0.0 to retry_in; when empty it asks Redis."""
    batching = RedisTokenBucket(client, unique_name, rate=SLOW, burst=2, local_batch=2)

    async with asyncio.timeout(TIMEOUT_S):
        assert await batching.allow()
        assert await batching.retry_in() == 0.0
        assert await batching.allow()
        assert await batching.retry_in() > 1000


@pytest.mark.service("redis")
async def test_local_batch_takes_what_is_left_when_fewer_than_n(
    client: redis.asyncio.Redis, unique_name: str
) -> None:
    """When fewer than N tokens remain, a batching bucket takes those that do."""
    plain = RedisTokenBucket(client, unique_name, rate=SLOW, burst=10)
    batching = RedisTokenBucket(client, unique_name, rate=SLOW, burst=10, local_batch=5)

    async with asyncio.timeout(TIMEOUT_S):
        for _ in range(8):
            await plain.allow()
        assert await batching.allow()
        assert batching.local_tokens == 1
        assert await batching.allow()
        assert not await batching.allow()


@pytest.mark.service("redis")
async def test_concurrent_batched_calls_admit_exactly_the_burst(
    client: redis.asyncio.Redis, unique_name: str
) -> None:
    """Many tasks at once on a batching bucket admit burst calls in total, not more."""
    batching = RedisTokenBucket(client, unique_name, rate=SLOW, burst=10, local_batch=4)

    async with asyncio.timeout(TIMEOUT_S):
        results = await asyncio.gather(*(batching.allow() for _ in range(30)))

    assert sum(results) == 10


@pytest.mark.service("redis")
async def test_erroring_limiter_over_redis_says_when_to_retry(
    client: redis.asyncio.Redis, unique_name: str
) -> None:
    """erroring_limiter with a RedisTokenBucket refuses with retry_in from Redis."""
    endpoint = RecordingEndpoint[str, str](then="ok")
    limited = erroring_limiter(RedisTokenBucket(client, unique_name, rate=1 / 60, burst=1))(
        endpoint
    )

    async with asyncio.timeout(TIMEOUT_S):
        assert await limited("a") == "ok"
        with pytest.raises(RateLimited) as caught:
            await limited("b")
    assert caught.value.retry_in == pytest.approx(60, abs=1)
    assert endpoint.requests == ["a"]


async def test_redis_down_raises_limiter_unavailable_by_default(
    down_client: redis.asyncio.Redis,
) -> None:
    """With Redis unreachable the call is refused with LimiterUnavailable, chained to the cause."""
    bucket = RedisTokenBucket(down_client, "k", rate=1, burst=1)

    async with asyncio.timeout(TIMEOUT_S):
        with pytest.raises(LimiterUnavailable, match="'k' could not reach Redis") as caught:
            await bucket.allow()
    assert isinstance(caught.value.__cause__, RedisConnectionError)
    assert caught.value.key == "k"
    assert bucket.errors == 1


async def test_redis_down_with_on_error_allow_fails_open(
    down_client: redis.asyncio.Redis,
) -> None:
    """on_error='allow' admits calls while Redis is unreachable, and counts the errors."""
    bucket = RedisTokenBucket(down_client, "k", rate=1, burst=1, on_error="allow")

    async with asyncio.timeout(TIMEOUT_S):
        assert await bucket.allow()
        assert await bucket.allow()
        assert await bucket.retry_in() == 0.0
    assert bucket.errors == 3


async def test_redis_down_with_on_error_deny_fails_closed(
    down_client: redis.asyncio.Redis,
) -> None:
    """on_error='deny' refuses calls while Redis is unreachable, retry_in one token's time."""
    bucket = RedisTokenBucket(down_client, "k", rate=4, burst=2, on_error="deny")

    async with asyncio.timeout(TIMEOUT_S):
        assert await bucket.try_take(2) == 0.5
    assert bucket.errors == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate": 0}, "rate must be a positive, finite"),
        ({"rate": float("inf")}, "rate must be a positive, finite"),
        ({"burst": 0}, "burst must be an int of at least 1"),
        ({"burst": True}, "burst must be an int of at least 1"),
        ({"local_batch": 0}, r"local_batch must be between 1 and burst \(5\)"),
        ({"local_batch": 6}, r"local_batch must be between 1 and burst \(5\)"),
        ({"local_batch": 2.0}, "local_batch must be an int"),
        ({"on_error": "ignore"}, "on_error must be 'raise', 'allow' or 'deny'"),
    ],
)
async def test_bad_arguments_are_refused_at_construction(
    down_client: redis.asyncio.Redis, kwargs: dict[str, object], message: str
) -> None:
    """Bad settings raise ValueError when the bucket is made, before any I/O."""
    settings: dict[str, object] = {"rate": 1.0, "burst": 5, **kwargs}
    with pytest.raises(ValueError, match=message):
        RedisTokenBucket(down_client, "k", **settings)  # type: ignore[arg-type]


async def test_a_cost_above_the_burst_is_refused(down_client: redis.asyncio.Redis) -> None:
    """A cost that could never be admitted raises ValueError without asking Redis."""
    bucket = RedisTokenBucket(down_client, "k", rate=1, burst=2)

    with pytest.raises(ValueError, match="could never be admitted"):
        await bucket.allow(3)
    assert bucket.errors == 0
    assert repr(bucket) == (
        "RedisTokenBucket(key='k', rate=1.0, burst=2, local_batch=1, on_error='raise')"
    )
    assert bucket.key == "k"
