"""Load balancing over discovered endpoints, and retries across instances (Go kit's ``sd/lb``).

- `Balancer`: picks the endpoint for each call from an `pygokit.sd.Endpointer`, raising
  `NoEndpoints` at once when there is none.
- `RoundRobin` and `Random` (seedable) as in Go kit; `LeastLoaded`, power of two choices
  over the calls in flight, for instances that are not equally fast.
- `retry` and `retry_with_callback`: every attempt on a fresh pick, one deadline, optional
  backoff and retry budget, `pygokit.retry.RetriesExhausted` with every attempt's error.

Example::

    async with DefaultEndpointer(instancer, factory) as endpointer:
        sum_ = retry(3, 1.0, LeastLoaded(endpointer))
        response = await sum_(SumRequest(a=1, b=2))
"""

from pygokit.sd.errors import NoEndpoints as NoEndpoints
from pygokit.sd.lb.balancer import Balancer as Balancer
from pygokit.sd.lb.balancer import Random as Random
from pygokit.sd.lb.balancer import RoundRobin as RoundRobin
from pygokit.sd.lb.least_loaded import LeastLoaded as LeastLoaded
from pygokit.sd.lb.retries import Callback as Callback
from pygokit.sd.lb.retries import retry as retry
from pygokit.sd.lb.retries import retry_with_callback as retry_with_callback

__all__ = [
    "Balancer",
    "Callback",
    "LeastLoaded",
    "NoEndpoints",
    "Random",
    "RoundRobin",
    "retry",
    "retry_with_callback",
]
