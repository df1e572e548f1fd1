"""Resilience: time limits, bulkheads and adaptive concurrency limits for endpoints.

Three middlewares that keep a service standing when what it calls slows down:

- `timeout` cancels a call that runs past its budget and raises `DeadlineExceeded`
  (a `TimeoutError`), so a stuck dependency cannot hold a request forever;
- `bulkhead` caps the calls in flight with a fixed `Bulkhead` and refuses (or briefly
  queues) the rest with `BulkheadFull`, so one dependency cannot take every task;
- `adaptive_limiter` finds the cap by itself, after Netflix's concurrency-limits: an
  `AdaptiveLimiter` watches latency and drops through a limit algorithm (`AIMDLimit`,
  `VegasLimit`) and refuses the excess with `Overloaded`.

All three give their slot back and pass cancellation through untouched.

Example::

    limiter = AdaptiveLimiter(AIMDLimit(initial_limit=20), name="search")
    endpoint = chain(
        adaptive_limiter(limiter),          # outermost: sheds load first
        bulkhead(Bulkhead(50)),
        timeout(1.0),                       # innermost: overruns count as drops
    )(search_endpoint)
"""

from pygokit.resilience.adaptive import AdaptiveLimiter as AdaptiveLimiter
from pygokit.resilience.adaptive import AIMDLimit as AIMDLimit
from pygokit.resilience.adaptive import Limit as Limit
from pygokit.resilience.adaptive import Overloaded as Overloaded
from pygokit.resilience.adaptive import VegasLimit as VegasLimit
from pygokit.resilience.adaptive import adaptive_limiter as adaptive_limiter
from pygokit.resilience.adaptive import is_drop as is_drop
from pygokit.resilience.bulkhead import Bulkhead as Bulkhead
from pygokit.resilience.bulkhead import BulkheadFull as BulkheadFull
from pygokit.resilience.bulkhead import bulkhead as bulkhead
from pygokit.resilience.timeout import DeadlineExceeded as DeadlineExceeded
from pygokit.resilience.timeout import timeout as timeout

__all__ = [
    "AIMDLimit",
    "AdaptiveLimiter",
    "Bulkhead",
    "BulkheadFull",
    "DeadlineExceeded",
    "Limit",
    "Overloaded",
    "VegasLimit",
    "adaptive_limiter",
    "bulkhead",
    "is_drop",
    "timeout",
]
