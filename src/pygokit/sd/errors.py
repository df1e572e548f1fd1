"""The errors of service discovery and load balancing.

`NoEndpoints` is what a caller sees when there is nothing to call: no instance was
discovered, every factory call failed, or discovery has been failing for longer than
the endpointer may serve stale endpoints (`DiscoveryError`, a `NoEndpoints`). A
balancer raises it at once, so a request never waits for an instance to appear;
`pygokit.sd.lb.retry` counts it as a failed attempt. `WatcherDied` reports that a
discovery component's background loop failed in a way it could not recover from.
"""

from __future__ import annotations

from pygokit.errors import GoKitError

__all__ = ["DiscoveryError", "NoEndpoints", "WatcherDied"]


class NoEndpoints(GoKitError):
    """There is no endpoint to send the request to (Go kit's ``lb.ErrNoEndpoints``)."""

    def __init__(
        self,
        message: str = (
            "no endpoints available: service discovery found no instances, or the factory"
            " failed for all of them"
        ),
    ) -> None:
        super().__init__(message)


class DiscoveryError(NoEndpoints):
    """Discovery failed and the last-known endpoints expired (``invalidate_on_error``).

    Raised by `pygokit.sd.DefaultEndpointer.endpoints` once its *invalidate_on_error*
    timeout has passed since the first error event, until a good event arrives.

    Attributes:
        error: The first error that discovery reported; also ``__cause__``.
        timeout: The *invalidate_on_error* timeout that passed, in seconds.
    """

    def __init__(self, error: Exception, timeout: float) -> None:
        super().__init__(
            f"no endpoints available: service discovery failed with {error!r} and the"
            f" last-known endpoints were dropped after {timeout:g}s; they come back when"
            " discovery recovers"
        )
        self.error = error
        self.timeout = timeout


class WatcherDied(GoKitError):
    """A background loop of a discovery component stopped with an unexpected error.

    Loops retry transient failures themselves, so this means a bug or a failure they
    cannot recover from; the component stops and its owner sees this error.

    Attributes:
        name: The component, as its messages name it (``"etcd instancer /svc/"``).
        what: The loop that died (``"watch"``, ``"keepalive"``).
    """

    def __init__(self, name: str, what: str, error: BaseException) -> None:
        super().__init__(
            f"the {what} loop of {name} died with {error!r}; it no longer follows"
            " changes, so restart the service (and report the error if it is a bug)"
        )
        self.name = name
        self.what = what
