"""Retries done safely: backoff, budgets, throttling and one deadline for all attempts.

A retry turns a transient failure into a success and a lasting one into more load, so
this package pairs the retry loop with the means to keep it in check:

- `retry` (middleware) and `retry_calls` (the loop, for any attempt factory, as Go kit's
  ``lb.Retry`` needs) run up to *max_attempts* attempts within one *timeout*, and raise
  `RetriesExhausted` with every attempt's error when they give up. Cancellation is never
  retried, a response is never retried, and errors ``should_retry`` rejects pass
  through unchanged.
- Backoff (`Exponential`, `Constant`, `grpc_backoff`) spaces the attempts, with gRPC,
  full or equal jitter.
- Budgets cap the extra load: `RetryBudget` (Finagle: retries at most 20 % of calls plus
  10 per second), `ConcurrencyRetryBudget` (Envoy: at most 20 % of the calls in flight
  retrying) and `TokenThrottle` (gRPC: stop retrying while most attempts fail).

Go kit's ``lb.Retry`` has a deadline but no backoff and no budget; gRPC has all three.

Example::

    budget = RetryBudget()
    endpoint = retry(
        max_attempts=3,
        timeout=2.0,
        backoff=Exponential(initial=0.05, maximum=1.0, jitter="full"),
        should_retry=lambda attempt, exc: isinstance(exc, ConnectionError),
        budget=budget,
    )(client)
"""

from pygokit.retry.backoff import Backoff as Backoff
from pygokit.retry.backoff import Constant as Constant
from pygokit.retry.backoff import Exponential as Exponential
from pygokit.retry.backoff import Jitter as Jitter
from pygokit.retry.backoff import grpc_backoff as grpc_backoff
from pygokit.retry.budget import Budget as Budget
from pygokit.retry.budget import ConcurrencyRetryBudget as ConcurrencyRetryBudget
from pygokit.retry.budget import RetryBudget as RetryBudget
from pygokit.retry.policy import RetriesExhausted as RetriesExhausted
from pygokit.retry.policy import RetryPolicy as RetryPolicy
from pygokit.retry.policy import ShouldRetry as ShouldRetry
from pygokit.retry.policy import retry as retry
from pygokit.retry.policy import retry_calls as retry_calls
from pygokit.retry.throttle import TokenThrottle as TokenThrottle

__all__ = [
    "Backoff",
    "Budget",
    "ConcurrencyRetryBudget",
    "Constant",
    "Exponential",
    "Jitter",
    "RetriesExhausted",
    "RetryBudget",
    "RetryPolicy",
    "ShouldRetry",
    "TokenThrottle",
    "grpc_backoff",
    "retry",
    "retry_calls",
]
