"""A small asyncio client for the parts of Eureka's REST API that service discovery uses.

Go kit talks to Eureka through fargo; `EurekaClient` speaks the REST API directly, in
JSON, over aiohttp, and does only this (paths relative to the server's service URL, such
as ``http://eureka:8761/eureka``):

- `EurekaClient.register`: ``POST /apps/<APP>`` with the `EurekaInstance` document;
- `EurekaClient.heartbeat`: ``PUT /apps/<APP>/<id>``, which Eureka answers 404 when it
  no longer knows the instance (its lease expired): register again then;
- `EurekaClient.deregister`: ``DELETE /apps/<APP>/<id>``;
- `EurekaClient.app_instances`: ``GET /apps/<APP>``, every instance of the application
  with its status; an application Eureka does not know has no instances.

Every failure is a `EurekaError`: the server unreachable, no answer within *timeout*, an
answer other than 2xx (``.status``, and the server's text as ``.detail``), or a body that
is too large or not the documented JSON. Both JSON dialects are read: the current one, and
the older one where a single instance is an object instead of a list and numbers are
strings.

Needs the ``eureka`` extra (aiohttp): ``pip install 'pygokit[eureka]'``.

Example::

    async with EurekaClient("http://127.0.0.1:8761/eureka") as eureka:
        await eureka.register(EurekaInstance(app="addsvc", ip_addr="10.0.0.5", port=8080))
        up = [i.instance for i in await eureka.app_instances("addsvc") if i.status == "UP"]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pygokit._extras import missing_extra

try:
    import aiohttp
    from yarl import URL
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.sd.eureka.client", "eureka") from exc

from pygokit.sd._http import RegistryHTTP, RegistryHTTPError
from pygokit.sd.eureka.registration import EurekaInstance

__all__ = ["EurekaClient", "EurekaError", "InstanceInfo"]


class EurekaError(RegistryHTTPError):
    """A request to Eureka failed: unreachable, too slow, refused, or answered nonsense.

    Attributes:
        status: The HTTP status Eureka answered with, or None when no answer came.
        detail: Eureka's error text (truncated), or what went wrong on the way.
    """


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    """One instance of an application, as Eureka lists it.

    Attributes:
        instance_id: The instance's ID within the application.
        host_name: The instance's host name.
        ip_addr: The instance's address.
        port: The instance's (non-TLS) port.
        status: ``"UP"``, ``"DOWN"``, ``"STARTING"``, ``"OUT_OF_SERVICE"`` or ``"UNKNOWN"``.
    """

    instance_id: str
    host_name: str
    ip_addr: str
    port: int
    status: str

    @property
    def instance(self) -> str:
        """``ipAddr:port``, as Go kit publishes it; IPv6 addresses get brackets."""
        host = f"[{self.ip_addr}]" if ":" in self.ip_addr else self.ip_addr
        return f"{host}:{self.port}"


def _text(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{key} is {value!r}")
    return value


def _info(raw: object) -> InstanceInfo:
    """Read one instance of a ``GET /apps/<APP>`` answer; ValueError if malformed."""
    if not isinstance(raw, dict):
        raise ValueError(f"an instance is {raw!r}")
    port = raw.get("port")
    if isinstance(port, dict):  # {"$": 8080, "@enabled": "true"}
        port = port.get("$")
    if isinstance(port, str) and port.isdigit():  # the older dialect's numbers
        port = int(port)
    if isinstance(port, bool) or not isinstance(port, int):
        raise ValueError(f"port is {raw.get('port')!r}")
    host_name = _text(raw, "hostName")
    return InstanceInfo(
        instance_id=_text(raw, "instanceId") or host_name,
        host_name=host_name,
        ip_addr=_text(raw, "ipAddr"),
        port=port,
        status=_text(raw, "status"),
    )


def _application(body: bytes) -> list[InstanceInfo]:
    """Read the instances of ``{"application": {"instance": [...]}}``; ValueError if malformed."""
    document = json.loads(body)
    application = document.get("application") if isinstance(document, dict) else None
    if not isinstance(application, dict):
        raise ValueError("the body has no application object")
    instances = application.get("instance") or []
    if isinstance(instances, dict):  # the older dialect's single instance
        instances = [instances]
    if not isinstance(instances, list):
        raise ValueError(f"instance is {instances!r}")
    return [_info(raw) for raw in instances]


class EurekaClient(RegistryHTTP):
    """An HTTP client of one Eureka server, for discovery and registration.

    Args:
        url: The server's service URL, such as ``http://127.0.0.1:8761/eureka`` (Spring
            Cloud) or ``http://eureka/eureka/v2`` (Netflix); ``/apps/...`` is appended.
        session: The aiohttp session to send with, which stays the caller's to close.
            Without one the client makes its own on the first request and closes it in
            `aclose`.
        timeout: Seconds a request may take, connecting included.
        max_response_bytes: The largest body read from Eureka.
    """

    def __init__(
        self,
        url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        max_response_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        base = URL(url)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"url must be an http:// or https:// URL with a host, got {url!r}")
        super().__init__(
            "Eureka",
            base,
            error=EurekaError,
            session=session,
            timeout=timeout,
            max_response_bytes=max_response_bytes,
            headers={"Accept": "application/json"},
            params={},
        )

    @property
    def url(self) -> str:
        """The server's service URL."""
        return str(self._base)

    async def register(self, instance: EurekaInstance) -> None:
        """Register *instance*; registering the same ID again replaces it."""
        await self._call("POST", _path(instance.app), body=instance.to_json())

    async def heartbeat(self, app: str, instance_id: str) -> None:
        """Renew the lease of the instance; `EurekaError` 404 when Eureka forgot it."""
        await self._call("PUT", _path(app, instance_id))

    async def deregister(self, app: str, instance_id: str) -> None:
        """Remove the instance; one Eureka does not know is already gone."""
        try:
            await self._call("DELETE", _path(app, instance_id))
        except EurekaError as exc:
            if exc.status != 404:
                raise

    async def app_instances(self, app: str) -> list[InstanceInfo]:
        """Return every instance of *app*, whatever its status; none if Eureka lacks *app*."""
        path = _path(app)
        try:
            body, _ = await self._call("GET", path)
        except EurekaError as exc:
            if exc.status == 404:
                return []
            raise
        try:
            return _application(body)
        except ValueError as exc:
            raise self._malformed("GET", path, exc) from exc

    def __repr__(self) -> str:
        return f"EurekaClient({self.url!r})"


def _path(app: str, instance_id: str | None = None) -> str:
    """``/apps/<APP>`` or ``/apps/<APP>/<id>``, each part quoted; refuse empty parts."""
    if not app or instance_id == "":
        raise ValueError("an application name or instance ID must not be empty")
    path = "/apps/" + quote(app.upper(), safe="")
    return path if instance_id is None else path + "/" + quote(instance_id, safe="")
