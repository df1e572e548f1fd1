"""The etcd v3 client for the instancer and registrar: building one, and bounding its calls.

`etcd_client` builds an ``aetcd.Client`` tuned for service discovery; `bounded` runs one
of its calls under a deadline and turns every failure into an `EtcdError` (`failure` does
that for errors raised elsewhere, such as by a watch); `default_backoff` is how long the
instancer and the registrar wait after consecutive failures.

aetcd talks gRPC. Three gRPC defaults hurt discovery, so `etcd_client` changes them:

- A call without a deadline waits for ever when etcd stops answering without closing
  the connection (a frozen process, a dropped network path); `bounded` puts a deadline
  on every call, and the client's own *timeout* is gRPC's deadline as well.
- A watch has no deadline (it is meant to stay open), so only HTTP/2 keepalive pings
  notice a silent etcd: the client pings every *keepalive* seconds while a call is open
  and drops the connection when a ping is not answered within *timeout*, which ends
  the watch with an error the instancer publishes.
- After a failed connection attempt gRPC waits up to 120 s before the next one, so a
  client could stay disconnected for two minutes after etcd came back; the client here
  retries at least every second.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Mapping
from typing import TypeVar, cast

from pygokit._extras import missing_extra
from pygokit.errors import GoKitError
from pygokit.retry import Exponential

try:
    import aetcd
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py
    raise missing_extra("pygokit.sd.etcd", "etcd") from exc

__all__ = [
    "CLIENT_ERRORS",
    "EtcdError",
    "bounded",
    "check_seconds",
    "default_backoff",
    "etcd_client",
    "failure",
]

T = TypeVar("T")

_MAX_RECONNECT_BACKOFF_MS = 1000
"""The longest gRPC waits between connection attempts (its default is 120 s)."""


def default_backoff() -> Exponential:
    """Go kit's discovery backoff (doubling, jitter U(0.5, 1.5)) from 50 ms, capped at 5 s."""
    return Exponential(initial=0.05, multiplier=2.0, maximum=5.0, jitter=0.5)


class EtcdError(GoKitError):
    """An etcd call failed or did not answer in time.

    Instancers publish it as an error event and retry; `EtcdRegistrar.register` and
    `EtcdRegistrar.deregister` raise it. The aetcd or timeout error is the ``__cause__``.

    Attributes:
        operation: What was asked of etcd, such as ``"put"`` or ``"watch"``.
        key: The key or prefix it was asked about.
    """

    def __init__(self, message: str, *, operation: str, key: str) -> None:
        super().__init__(message)
        self.operation = operation
        self.key = key


CLIENT_ERRORS: tuple[type[Exception], ...] = (aetcd.ClientError,)
"""What aetcd raises when etcd answers with an error or cannot be reached."""


def failure(error: Exception, *, operation: str, key: str) -> EtcdError:
    """Return the `EtcdError` for an aetcd *error*; raise it ``from`` *error*."""
    return EtcdError(
        f"etcd {operation} {key!r} failed: {type(error).__name__}: {error}",
        operation=operation,
        key=key,
    )


async def bounded(call: Awaitable[T], *, operation: str, key: str, within: float) -> T:
    """Await one aetcd *call* for at most *within* seconds.

    A cancellation that aetcd swallows is requested again, so it lands at the task's next
    await: aetcd waits with `asyncio.wait_for`, which on Python 3.11 returns normally when
    the task is cancelled just as the wait ends, and a task that misses its cancellation
    never stops. The result is still returned, so the caller can release it (a watch) as
    that next await raises.

    Raises:
        EtcdError: etcd answered with an error, could not be reached, or did not answer
            *within* seconds.
    """
    task = cast("asyncio.Task[object]", asyncio.current_task())
    cancelling = task.cancelling()
    try:
        async with asyncio.timeout(within):
            result = await call
    except TimeoutError as exc:
        raise EtcdError(
            f"etcd did not answer {operation} {key!r} within {within:g}s;"
            " check that etcd is running and reachable",
            operation=operation,
            key=key,
        ) from exc
    except CLIENT_ERRORS as exc:
        raise failure(exc, operation=operation, key=key) from exc
    _cancel_again_if_swallowed(task, cancelling)
    return result


def _cancel_again_if_swallowed(task: asyncio.Task[object], cancelling: int) -> None:
    """Request again a cancellation that a call swallowed, so the task's next await raises it.

    *cancelling* is ``task.cancelling()`` from before the call; more requests since then,
    with the call returning normally, mean one was swallowed.
    """
    if task.cancelling() > cancelling:
        task.uncancel()
        task.cancel()


def check_seconds(name: str, value: float, *, minimum: float | None = None) -> None:
    """Refuse a duration that is not a finite number of seconds, positive or >= *minimum*."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if minimum is None:
        if not 0 < value < math.inf:
            raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    elif not minimum <= value < math.inf:
        raise ValueError(f"{name} must be at least {minimum:g} seconds and finite, got {value!r}")


def etcd_client(
    address: str = "127.0.0.1:2379",
    *,
    username: str | None = None,
    password: str | None = None,
    timeout: float = 5.0,
    keepalive: float = 10.0,
    options: Mapping[str, object] | None = None,
) -> aetcd.Client:
    """Build an aetcd client for *address*, set up as the module docstring explains.

    Building it does no I/O: enter it (``async with etcd_client(...) as client:``) to
    open the channel, and leave it to close the channel. aetcd speaks plaintext gRPC
    only, so reach a TLS-only etcd through a local proxy.

    Args:
        address: ``host:port`` (or ``http://host:port``) of an etcd client endpoint;
            an IPv6 host goes in brackets: ``[::1]:2379``.
        username: With *password*, authenticate as this etcd user.
        password: The user's password.
        timeout: Seconds any call may take, and a keepalive ping may go unanswered.
        keepalive: Seconds between keepalive pings while a call (a watch) is open.
            etcd refuses pings more frequent than its ``--grpc-keepalive-min-time``
            (5 s by default) by closing the connection, so stay above it.
        options: More gRPC channel options; they override the ones set here.

    Example::

        async with etcd_client("127.0.0.1:2379") as client:
            async with EtcdInstancer(client, "/services/sum/") as instancer:
                ...
    """
    check_seconds("timeout", timeout)
    check_seconds("keepalive", keepalive)
    if (username is None) != (password is None):
        raise ValueError("give both username and password, or neither")
    host, port = _split(address)
    channel: dict[str, object] = {
        "grpc.keepalive_time_ms": round(keepalive * 1000),
        "grpc.keepalive_timeout_ms": round(timeout * 1000),
        "grpc.http2.ping_timeout_ms": round(timeout * 1000),
        "grpc.http2.max_pings_without_data": 0,
        "grpc.max_reconnect_backoff_ms": _MAX_RECONNECT_BACKOFF_MS,
    }
    channel.update(options or {})
    return aetcd.Client(
        host,
        port,
        username=username,
        password=password,
        timeout=timeout,
        options=channel,
    )


def _split(address: str) -> tuple[str, int]:
    """Split ``host:port`` (an optional ``http://`` first) into host and port."""
    if not isinstance(address, str):
        raise TypeError(f"address must be a 'host:port' string, got {address!r}")
    if address.startswith("https://"):
        raise ValueError(
            f"aetcd speaks plaintext gRPC only, so it cannot reach {address!r};"
            " use an http:// endpoint or a local TLS proxy"
        )
    host, _, port = address.removeprefix("http://").rstrip("/").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"address must look like 'host:port' (e.g. 127.0.0.1:2379), got {address!r}"
        )
    return host, int(port)
