"""A token bucket whose state lives in Redis, so many processes share one limit.

`RedisTokenBucket` keeps the bucket (tokens and the time of the last update) in a
Redis hash and updates it with one Lua script per decision, which Redis runs
atomically. The script reads the time from the Redis server (``TIME``), never from
the caller, so hosts whose clocks disagree still share one limit. It is an
`AsyncAllower`: use it with `erroring_limiter`.

Keys expire (``PEXPIRE``) once the bucket would be full again, since a missing key
means a full bucket; idle buckets cost no memory.

Example::

    client = redis.asyncio.Redis.from_url("redis://localhost:6379/0")
    bucket = RedisTokenBucket(client, "ratelimit:sum", rate=100, burst=20)
    endpoint = erroring_limiter(bucket)(sum_endpoint)

Needs the ``redis`` extra (redis-py) and Redis 5 or later.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Literal

from pygokit._extras import missing_extra
from pygokit.clock import Clock
from pygokit.errors import GoKitError

try:
    import redis.asyncio
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py
    raise missing_extra("pygokit.ratelimit.redis", "redis") from exc

__all__ = ["LimiterUnavailable", "RedisTokenBucket"]

# KEYS[1]: the bucket, a hash {tokens, ts}. ARGV: rate (tokens/s), burst, cost,
# take (0 = only look; otherwise take up to this many, at least cost), ttl in ms.
# Returns {taken, retry_in}: taken is 0 when refused (or when only looking), and
# retry_in (a string: Lua numbers come back as integers) is the seconds until cost
# tokens are there, "0" when they are now.
_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local take = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = burst
elseif now > last then
  tokens = math.min(burst, tokens + (now - last) * rate)
end
if tokens < cost then
  return {0, string.format('%.17g', (cost - tokens) / rate)}
end
if take == 0 then
  return {0, '0'}
end
local taken = math.min(take, math.floor(tokens))
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens - taken),
  'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {taken, '0'}
"""

OnError = Literal["raise", "allow", "deny"]


class LimiterUnavailable(GoKitError):
    """The limiter could not reach Redis, so it could not decide; the call was refused.

    Attributes:
        key: The bucket's Redis key.
    """

    def __init__(self, key: str) -> None:
        super().__init__(
            f"rate limiter {key!r} could not reach Redis, so the call was refused;"
            " check the Redis connection, or pass on_error='allow' to fail open"
        )
        self.key = key


class RedisTokenBucket:
    """A token bucket shared through Redis: *rate* tokens per second, at most *burst*.

    Every decision is one atomic script call (``EVALSHA``; the script is loaded on
    first use and again if Redis forgets it). When Redis refuses, the bucket
    remembers until when (the deficit over the rate, measured by Redis), and
    refuses locally until then without asking again: tokens only come back at
    *rate*, so no other process can make them come sooner.

    Batching: with ``local_batch=N`` a process takes up to N tokens per round trip
    and spends them locally, so at high rates most calls cost no round trip. The
    trade-off: tokens a process holds are spent later, so across the fleet up to
    ``processes * (N - 1)`` calls may go through beyond the instantaneous global
    limit (the long-run rate still holds), and tokens held by a process that exits
    are lost. Keep N small next to *burst*.

    Args:
        client: A ``redis.asyncio.Redis`` client (not owned: close it yourself).
        key: The Redis key of the bucket; every process sharing the limit uses it.
        rate: Tokens added per second; positive and finite.
        burst: The most tokens the bucket holds.
        local_batch: Tokens taken per round trip (1 disables batching); at most *burst*.
        on_error: What a call does when Redis fails: ``"raise"`` `LimiterUnavailable`
            (the default: neither silently open nor silently closed), ``"allow"`` it
            (fail open), or ``"deny"`` it (fail closed: refused with ``retry_in`` of
            one token's time, during which the bucket refuses without asking Redis).
            Every failure is counted in `errors`.
        clock: Monotonic seconds, for remembering refusals only.

    Raises:
        ValueError: a bad *rate*, *burst*, *local_batch* or *on_error*.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        key: str,
        rate: float,
        burst: int,
        *,
        local_batch: int = 1,
        on_error: OnError = "raise",
        clock: Clock = time.monotonic,
    ) -> None:
        if not 0 < rate < math.inf:
            raise ValueError(f"rate must be a positive, finite tokens per second, got {rate!r}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be an int of at least 1, got {burst!r}")
        if isinstance(local_batch, bool) or not isinstance(local_batch, int):
            raise ValueError(f"local_batch must be an int, got {local_batch!r}")
        if not 1 <= local_batch <= burst:
            raise ValueError(
                f"local_batch must be between 1 and burst ({burst}), got {local_batch}"
            )
        if on_error not in ("raise", "allow", "deny"):
            raise ValueError(f"on_error must be 'raise', 'allow' or 'deny', got {on_error!r}")
        self._script = client.register_script(_SCRIPT)
        self._key = key
        self._rate = float(rate)
        self._burst = burst
        self._batch = local_batch
        self._on_error = on_error
        self._clock = clock
        # A missing key is a full bucket, so the key may go once it would be full.
        self._ttl_ms = math.ceil(burst / rate * 1000) + 1
        self._local = 0
        self._refused_until = -math.inf
        self._refused_cost = 0
        self._lock = asyncio.Lock()
        self._errors = 0

    @property
    def key(self) -> str:
        """The Redis key of the bucket."""
        return self._key

    @property
    def local_tokens(self) -> int:
        """Tokens this process has taken from Redis and not spent yet (batching only)."""
        return self._local

    @property
    def errors(self) -> int:
        """How many times a call to Redis failed."""
        return self._errors

    async def allow(self, cost: int = 1) -> bool:
        """Take *cost* tokens and return True if they are there; else take none, return False."""
        return await self.try_take(cost) == 0.0

    async def try_take(self, cost: int = 1) -> float:
        """Take *cost* tokens and return 0.0, or return the seconds until they are there.

        Raises:
            LimiterUnavailable: Redis failed and ``on_error`` is ``"raise"``.
            ValueError: *cost* is less than 1 or more than the burst.
        """
        if not 1 <= cost <= self._burst:
            raise ValueError(
                f"cost must be between 1 and the burst ({self._burst}); got {cost},"
                " which could never be admitted"
            )
        if self._local >= cost:
            self._local -= cost
            return 0.0
        refused = self._refused_for(cost)
        if refused:
            return refused
        if self._batch == 1:
            return await self._take(cost, cost)
        async with self._lock:  # one round trip at a time refills the local stock
            if self._local >= cost:
                self._local -= cost
                return 0.0
            return self._refused_for(cost) or await self._take(cost, max(cost, self._batch))

    async def retry_in(self, cost: int = 1) -> float:
        """Ask Redis how many seconds until *cost* tokens are there (0.0 if now); take none.

        Raises:
            LimiterUnavailable: Redis failed and ``on_error`` is ``"raise"``.
        """
        if self._local >= cost:
            return 0.0
        _, retry_in = await self._call(cost, 0)
        return retry_in

    def _refused_for(self, cost: int) -> float:
        """Seconds left of a remembered refusal that also covers *cost*, else 0.0."""
        if cost >= self._refused_cost:
            left = self._refused_until - self._clock()
            if left > 0:
                return left
        return 0.0

    async def _take(self, cost: int, take: int) -> float:
        taken, retry_in = await self._call(cost, take)
        if taken:
            self._local += taken - cost
            return 0.0
        self._refused_until = self._clock() + retry_in
        self._refused_cost = cost
        return retry_in

    async def _call(self, cost: int, take: int) -> tuple[int, float]:
        """Run the script; apply ``on_error`` when Redis fails."""
        try:
            taken, retry_in = await self._script(
                keys=[self._key], args=[repr(self._rate), self._burst, cost, take, self._ttl_ms]
            )
        except RedisError as exc:
            self._errors += 1
            if self._on_error == "allow":
                return (cost if take else 0), 0.0
            if self._on_error == "deny":
                return 0, cost / self._rate
            raise LimiterUnavailable(self._key) from exc
        return int(taken), float(retry_in)

    def __repr__(self) -> str:
        return (
            f"RedisTokenBucket(key={self._key!r}, rate={self._rate!r}, burst={self._burst},"
            f" local_batch={self._batch}, on_error={self._on_error!r})"
        )
