"""Rate limiting: Go kit's erroring and delaying limiters and the token bucket behind them.

A limiter answers one question before each call: may it go ahead now? Go kit names
two shapes of answer, and so does pygokit:

- an `Allower` answers at once (``allow() -> bool``); `erroring_limiter` turns a
  "no" into `RateLimited`, so overload fails fast;
- a `Waiter` waits until the call may go (``await wait()``); `delaying_limiter`
  smooths bursts by queueing calls, and gives up at the caller's deadline
  (``asyncio.timeout``) or, with ``max_wait``, fails fast when the wait would be
  longer than that.

`TokenBucket` is both, with the semantics of Go's ``x/time/rate``: it starts full
with *burst* tokens and refills at *rate* tokens per second. For a limit shared by
many processes, `pygokit.ratelimit.redis.RedisTokenBucket` (the ``redis`` extra)
keeps the bucket in Redis and is an `AsyncAllower`.

Example::

    bucket = TokenBucket(rate=100, burst=20)
    endpoint = chain(
        logging_middleware(logger),
        erroring_limiter(bucket),     # RateLimited("rate limit exceeded; retry in 0.01s")
    )(sum_endpoint)
"""

from pygokit.ratelimit.middleware import Allower as Allower
from pygokit.ratelimit.middleware import AllowerFunc as AllowerFunc
from pygokit.ratelimit.middleware import AsyncAllower as AsyncAllower
from pygokit.ratelimit.middleware import RateLimited as RateLimited
from pygokit.ratelimit.middleware import Waiter as Waiter
from pygokit.ratelimit.middleware import delaying_limiter as delaying_limiter
from pygokit.ratelimit.middleware import erroring_limiter as erroring_limiter
from pygokit.ratelimit.token_bucket import TokenBucket as TokenBucket

__all__ = [
    "Allower",
    "AllowerFunc",
    "AsyncAllower",
    "RateLimited",
    "TokenBucket",
    "Waiter",
    "delaying_limiter",
    "erroring_limiter",
]
