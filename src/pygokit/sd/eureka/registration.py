"""What a Eureka registrar registers: `EurekaInstance`, one instance of an application.

It is the ``instance`` document of Eureka's ``POST /apps/<app>`` (Go kit passes fargo's
``Instance``): the application name (Eureka upper-cases it), where to call the instance
(``ipAddr`` and ``port``, what instancers publish), its status, and its lease: Eureka
expects a heartbeat every ``renewal_interval`` seconds and evicts the instance after
``lease_duration`` seconds without one. The constructor validates; nothing here does I/O.

Example::

    instance = EurekaInstance(app="addsvc", ip_addr="10.0.0.5", port=8080)
    instance.instance_id  # '10.0.0.5:addsvc:8080'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STATUSES", "EurekaInstance"]

STATUSES = ("UP", "DOWN", "STARTING", "OUT_OF_SERVICE", "UNKNOWN")
"""The instance statuses Eureka knows; instancers publish only ``UP`` instances."""

_DATA_CENTER_CLASS = "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"


def _check_port(name: str, port: object) -> None:
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"{name} must be an int, got {port!r}")
    if not 1 <= port <= 65535:
        raise ValueError(f"{name} must be in 1..65535, got {port}")


@dataclass(frozen=True, slots=True, kw_only=True)
class EurekaInstance:
    """One instance of an application, as Eureka should list it.

    Args:
        app: The application name that instancers look up.
        ip_addr: The address clients call (Go kit publishes ``ipAddr:port``).
        port: The port clients call.
        host_name: The instance's host name; defaults to *ip_addr*.
        instance_id: Unique within the application; defaults to
            ``"<host_name>:<app>:<port>"`` (Spring Cloud's form).
        vip_address: The virtual address clients may look the app up by; defaults to *app*.
        secure_port: The TLS port, if the instance has one.
        status: The status to register with, usually ``"UP"``.
        renewal_interval: Whole seconds between two heartbeats (Eureka's default is 30).
        lease_duration: Whole seconds without a heartbeat after which Eureka evicts the
            instance (Eureka's default is 90); more than *renewal_interval*.
        metadata: Free-form string metadata.
        data_center: The data center name of a non-AWS instance.
    """

    app: str
    ip_addr: str
    port: int
    host_name: str = ""
    instance_id: str = ""
    vip_address: str = ""
    secure_port: int | None = None
    status: str = "UP"
    renewal_interval: int = 30
    lease_duration: int = 90
    metadata: Mapping[str, str] = field(default_factory=dict)
    data_center: str = "MyOwn"

    def __post_init__(self) -> None:
        for name in ("app", "ip_addr"):
            value = getattr(self, name)
            if not value or not isinstance(value, str):
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        _check_port("port", self.port)
        if self.secure_port is not None:
            _check_port("secure_port", self.secure_port)
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        for name in ("renewal_interval", "lease_duration"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of seconds >= 1, got {value!r}")
        if self.lease_duration <= self.renewal_interval:
            raise ValueError(
                f"lease_duration ({self.lease_duration}s) must be longer than"
                f" renewal_interval ({self.renewal_interval}s), or the lease lapses between"
                " heartbeats"
            )
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.metadata.items()):
            raise TypeError(f"metadata must map strings to strings, got {dict(self.metadata)!r}")
        host_name = self.host_name or self.ip_addr
        object.__setattr__(self, "host_name", host_name)
        if not self.instance_id:
            object.__setattr__(self, "instance_id", f"{host_name}:{self.app}:{self.port}")
        object.__setattr__(self, "vip_address", self.vip_address or self.app)
        object.__setattr__(self, "metadata", dict(self.metadata))

    def to_json(self) -> dict[str, Any]:
        """Return the body of ``POST /apps/<app>``."""
        secure = self.secure_port is not None
        return {
            "instance": {
                "instanceId": self.instance_id,
                "hostName": self.host_name,
                "app": self.app.upper(),
                "ipAddr": self.ip_addr,
                "vipAddress": self.vip_address,
                "secureVipAddress": self.vip_address,
                "status": self.status,
                "port": {"$": self.port, "@enabled": "true"},
                "securePort": {"$": self.secure_port or 443, "@enabled": str(secure).lower()},
                "dataCenterInfo": {"@class": _DATA_CENTER_CLASS, "name": self.data_center},
                "leaseInfo": {
                    "renewalIntervalInSecs": self.renewal_interval,
                    "durationInSecs": self.lease_duration,
                },
                "metadata": dict(self.metadata),
            }
        }
