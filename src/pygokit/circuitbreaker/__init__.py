"""Circuit breakers: stop calling a dependency that keeps failing, and probe it to recover.

Circuit breakers prevent thundering herds and improve resilience against intermittent
errors. Every client-side endpoint should be wrapped in one. A breaker is a small
state machine: CLOSED lets calls through and counts how they end; too many failures
OPEN it, and calls fail fast with `CircuitOpen` instead of piling onto a struggling
service; after a while it is HALF_OPEN and lets a few probe calls through, whose
outcome closes it again or reopens it.

There are four breakers; `Breaker` is the place to start, as Go kit advises for
gobreaker: it has a simple and intuitive behaviour and is well tested.

==========================  ============================================================
breaker                     trips when
==========================  ============================================================
`Breaker`                   ``ready_to_trip(counts)`` (default: more than 5 consecutive
                            failures); sony/gobreaker
`RatioBreaker`              the failure ratio over a time window exceeds a threshold;
                            Go kit's HandyBreaker (streadway/handy)
`HystrixBreaker`            the error percentage of a rolling window reaches a threshold;
                            use with `hystrix` for its timeout, concurrency limit and
                            fallback; Go kit's Hystrix (afex/hystrix-go)
`SlidingWindowBreaker`      the failure rate or the slow-call rate of the last N calls or
                            seconds reaches a threshold; Resilience4j
==========================  ============================================================

`circuit_breaker` wraps an endpoint in any of them. Only the endpoint's raised
exceptions count as failures, and only those the breaker's ``is_failure`` accepts: a
`pygokit.endpoint.Failer` response carrying a business error is a success (the
service answered), and a cancelled call counts neither way and frees its probe slot.
A call admitted before a state change is ignored when it ends. Breakers take a
``clock=`` (use `pygokit.testing.FakeClock` in tests), an ``on_state_change``
callback, and expose `State`, `Counts` and a ``__repr__`` with their name and state.
They are meant for one event loop: counting is exact under any interleaving of
tasks, but they take no lock and are not thread-safe.

Example::

    breaker = Breaker("sum", timeout=30.0, on_state_change=log_change)
    sum_endpoint = circuit_breaker(breaker)(make_sum_endpoint(svc))
    try:
        response = await sum_endpoint(SumRequest(a=1, b=2))
    except CircuitOpen as exc:
        print(f"{exc}; retry in {exc.retry_in:.0f}s")
"""

from pygokit.circuitbreaker.common import CircuitBreaker as CircuitBreaker
from pygokit.circuitbreaker.common import CircuitOpen as CircuitOpen
from pygokit.circuitbreaker.common import Counts as Counts
from pygokit.circuitbreaker.common import State as State
from pygokit.circuitbreaker.common import StateListener as StateListener
from pygokit.circuitbreaker.common import TooManyRequests as TooManyRequests
from pygokit.circuitbreaker.common import always_failure as always_failure
from pygokit.circuitbreaker.gobreaker import Breaker as Breaker
from pygokit.circuitbreaker.gobreaker import default_ready_to_trip as default_ready_to_trip
from pygokit.circuitbreaker.hystrix import CallTimedOut as CallTimedOut
from pygokit.circuitbreaker.hystrix import ConcurrencyLimitReached as ConcurrencyLimitReached
from pygokit.circuitbreaker.hystrix import FallbackMiddleware as FallbackMiddleware
from pygokit.circuitbreaker.hystrix import HystrixBreaker as HystrixBreaker
from pygokit.circuitbreaker.hystrix import hystrix as hystrix
from pygokit.circuitbreaker.middleware import circuit_breaker as circuit_breaker
from pygokit.circuitbreaker.ratio import RatioBreaker as RatioBreaker
from pygokit.circuitbreaker.sliding import SlidingWindowBreaker as SlidingWindowBreaker
from pygokit.circuitbreaker.sliding import WindowType as WindowType

__all__ = [
    "Breaker",
    "CallTimedOut",
    "CircuitBreaker",
    "CircuitOpen",
    "ConcurrencyLimitReached",
    "Counts",
    "FallbackMiddleware",
    "HystrixBreaker",
    "RatioBreaker",
    "SlidingWindowBreaker",
    "State",
    "StateListener",
    "TooManyRequests",
    "WindowType",
    "always_failure",
    "circuit_breaker",
    "default_ready_to_trip",
    "hystrix",
]
