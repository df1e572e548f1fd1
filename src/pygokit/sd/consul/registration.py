"""What a Consul registrar registers: a service instance and the check that keeps it healthy.

`ServiceRegistration` is the body of Consul's ``PUT /v1/agent/service/register`` (Go kit
passes Consul's ``AgentServiceRegistration``), with one optional check:

- `TTLCheck`: the service itself reports that it is alive. Consul marks the check critical
  unless it hears a pass within the TTL, so the `pygokit.sd.consul.ConsulRegistrar`
  passes it every heartbeat.
- `HTTPCheck`: the Consul agent polls a URL of the service (2xx = passing, 429 = warning).

Both can ask Consul to reap the service once it has been critical for a while
(``deregister_critical_after``), so an instance that died without deregistering does not
linger in the catalog. The constructors validate; nothing here does I/O.

Example::

    registration = ServiceRegistration(
        name="addsvc", address="10.0.0.5", port=8080, tags=("v1",),
        check=TTLCheck(ttl=10.0, deregister_critical_after=60.0),
    )
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HTTPCheck", "ServiceRegistration", "TTLCheck"]


def _positive(name: str, seconds: float | None, *, optional: bool = False) -> None:
    if seconds is None and optional:
        return
    if not (isinstance(seconds, int | float) and 0 < seconds < math.inf):
        raise ValueError(f"{name} must be a positive number of seconds, got {seconds!r}")


def _go_duration(seconds: float) -> str:
    """Write *seconds* as a Go duration in whole milliseconds (``"1500ms"``), as Consul reads it."""
    return f"{max(1, round(seconds * 1000))}ms"


@dataclass(frozen=True, slots=True, kw_only=True)
class TTLCheck:
    """A check the service keeps passing itself; critical after *ttl* seconds of silence.

    Args:
        ttl: Seconds Consul waits for the next pass before marking the check critical.
        deregister_critical_after: Seconds after which Consul removes a service whose check
            stayed critical (Consul rounds it up to at least a minute); None keeps it.
    """

    ttl: float
    deregister_critical_after: float | None = None

    def __post_init__(self) -> None:
        _positive("ttl", self.ttl)
        _positive("deregister_critical_after", self.deregister_critical_after, optional=True)

    def to_json(self, check_id: str) -> dict[str, Any]:
        """Return the check's JSON for a registration, named *check_id*."""
        body: dict[str, Any] = {"CheckID": check_id, "TTL": _go_duration(self.ttl)}
        if self.deregister_critical_after is not None:
            body["DeregisterCriticalServiceAfter"] = _go_duration(self.deregister_critical_after)
        return body


@dataclass(frozen=True, slots=True, kw_only=True)
class HTTPCheck:
    """A check the Consul agent runs: a GET of *url* every *interval* seconds.

    Args:
        url: The service's health URL, as the agent can reach it.
        interval: Seconds between two probes.
        timeout: Seconds a probe may take; None for Consul's default (10 s).
        deregister_critical_after: As for `TTLCheck`.
    """

    url: str
    interval: float = 10.0
    timeout: float | None = None
    deregister_critical_after: float | None = None

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must be an http:// or https:// URL, got {self.url!r}")
        _positive("interval", self.interval)
        _positive("timeout", self.timeout, optional=True)
        _positive("deregister_critical_after", self.deregister_critical_after, optional=True)

    def to_json(self, check_id: str) -> dict[str, Any]:
        """Return the check's JSON for a registration, named *check_id*."""
        body: dict[str, Any] = {
            "CheckID": check_id,
            "HTTP": self.url,
            "Interval": _go_duration(self.interval),
        }
        if self.timeout is not None:
            body["Timeout"] = _go_duration(self.timeout)
        if self.deregister_critical_after is not None:
            body["DeregisterCriticalServiceAfter"] = _go_duration(self.deregister_critical_after)
        return body


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceRegistration:
    """One instance of a service, as the local Consul agent should announce it.

    Args:
        name: The service name that instancers look up.
        address: The address clients should call; empty means the agent's node address.
        port: The port clients should call.
        id: Unique among the agent's services; defaults to ``"<name>-<address>-<port>"``,
            leaving out an empty address and a zero port.
        tags: Tags an instancer can filter on.
        meta: Free-form string metadata.
        check: How Consul learns that the instance is healthy; None registers no check,
            so the instance counts as passing for as long as its node does.
    """

    name: str
    address: str = ""
    port: int = 0
    id: str = ""
    tags: tuple[str, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)
    check: TTLCheck | HTTPCheck | None = None

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise TypeError(f"port must be an int, got {self.port!r}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be in 0..65535, got {self.port}")
        tags: Iterable[object] = self.tags  # a str is iterable too: refuse it explicitly
        if isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags):
            raise TypeError(f"tags must be a tuple of strings, got {self.tags!r}")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.meta.items()):
            raise TypeError(f"meta must map strings to strings, got {dict(self.meta)!r}")
        if not self.id:
            parts = (self.name, self.address, str(self.port) if self.port else "")
            object.__setattr__(self, "id", "-".join(part for part in parts if part))
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "meta", dict(self.meta))

    @property
    def check_id(self) -> str:
        """The ID of the instance's check: ``"service:<id>"``, as Consul names service checks."""
        return f"service:{self.id}"

    def to_json(self) -> dict[str, Any]:
        """Return the body of ``PUT /v1/agent/service/register``."""
        body: dict[str, Any] = {
            "ID": self.id,
            "Name": self.name,
            "Tags": list(self.tags),
            "Address": self.address,
            "Port": self.port,
            "Meta": dict(self.meta),
        }
        if self.check is not None:
            body["Check"] = self.check.to_json(self.check_id)
        return body
