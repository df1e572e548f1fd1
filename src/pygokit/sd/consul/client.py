"""A small asyncio client for the parts of Consul's HTTP API that service discovery uses.

Go kit wraps Consul's Go SDK behind a three-method ``Client``; the Python Consul SDKs pull
in requests and fight over the module name, so `ConsulClient` speaks the HTTP API
directly, over aiohttp, and does only this:

- `ConsulClient.health_service`: ``GET /v1/health/service/<name>``, the instances of a
  service with their health, filtered by one tag and to passing instances by Consul, as a
  *blocking query* when given the index of the previous answer (Consul holds the request
  until the result may have changed or *wait* runs out) and returning the new index from
  ``X-Consul-Index``;
- `ConsulClient.register` / `ConsulClient.deregister`: ``PUT /v1/agent/service/register``
  and ``/deregister/<id>`` on the local agent;
- `ConsulClient.check_pass`: ``PUT /v1/agent/check/pass/<id>``, the heartbeat of a TTL
  check; `ConsulClient.agent_service`: ``GET /v1/agent/service/<id>``.

Every failure is a `ConsulError`: Consul unreachable, no answer within the timeout (a
blocking query gets its *wait* plus Consul's jitter of wait/16 on top), an answer other
than 2xx (``.status``, and Consul's text as ``.detail``), or a body that is too large or
is not what the API documents. Bodies are read up to *max_response_bytes*. The ACL token
travels in the ``X-Consul-Token`` header and never appears in messages.

Needs the ``consul`` extra (aiohttp): ``pip install 'pygokit[consul]'``.

Example::

    async with ConsulClient("http://127.0.0.1:8500") as consul:
        entries, index = await consul.health_service("addsvc", passing_only=True)
        entries, index = await consul.health_service("addsvc", index=index, wait=30.0)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from pygokit._extras import missing_extra

try:
    import aiohttp
    from yarl import URL
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.sd.consul.client", "consul") from exc

from pygokit.sd._http import RegistryHTTP, RegistryHTTPError
from pygokit.sd.consul.registration import ServiceRegistration, _go_duration

__all__ = ["ConsulClient", "ConsulError", "ServiceEntry"]


class ConsulError(RegistryHTTPError):
    """A request to Consul failed: unreachable, too slow, refused, or answered nonsense.

    Attributes:
        status: The HTTP status Consul answered with, or None when no answer came.
        detail: Consul's error text (truncated), or what went wrong on the way.
    """


def _host_port(host: str, port: int) -> str:
    """Join *host* and *port* as an instance string; IPv6 addresses get brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """One instance of a service in a health query: its node, its service record, its checks.

    Attributes:
        id: The service instance's ID.
        service: The service name.
        address: The service address; empty when the instance uses its node's address.
        port: The service port.
        node: The node's name.
        node_address: The node's address.
        tags: The instance's tags.
        meta: The instance's metadata.
        checks: Check ID to status (``"passing"``, ``"warning"``, ``"critical"``) for
            the node's and the instance's checks.
    """

    id: str
    service: str
    address: str
    port: int
    node: str
    node_address: str
    tags: tuple[str, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)
    checks: Mapping[str, str] = field(default_factory=dict)

    @property
    def instance(self) -> str:
        """``address:port``, with the node's address when the service has none (Go kit)."""
        return _host_port(self.address or self.node_address, self.port)

    @property
    def passing(self) -> bool:
        """Whether every check of the entry is passing."""
        return all(status == "passing" for status in self.checks.values())


def _get(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{key} is {value!r}")
    return value


def _object(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{key} is not an object")
    return value


def _entry(raw: object) -> ServiceEntry:
    """Read one element of a ``/v1/health/service`` answer; ValueError if malformed."""
    if not isinstance(raw, dict):
        raise ValueError(f"an entry is {raw!r}")
    node, service = _object(raw, "Node"), _object(raw, "Service")
    tags = _get(service, "Tags", list, [])
    meta = _get(service, "Meta", dict, {})
    checks = _get(raw, "Checks", list, [])
    if not all(isinstance(tag, str) for tag in tags):
        raise ValueError(f"Tags is {tags!r}")
    statuses: dict[str, str] = {}
    for check in checks:
        if not isinstance(check, dict):
            raise ValueError(f"a check is {check!r}")
        statuses[_get(check, "CheckID", str, "")] = _get(check, "Status", str, "")
    return ServiceEntry(
        id=_get(service, "ID", str, ""),
        service=_get(service, "Service", str, ""),
        address=_get(service, "Address", str, ""),
        port=_get(service, "Port", int, 0),
        node=_get(node, "Node", str, ""),
        node_address=_get(node, "Address", str, ""),
        tags=tuple(tags),
        meta={str(key): str(value) for key, value in meta.items()},
        checks=statuses,
    )


def _index(header: str | None) -> int:
    """The ``X-Consul-Index`` header as an int; 0 when missing or not a number."""
    try:
        return max(0, int(header or "0"))
    except ValueError:
        return 0


class ConsulClient(RegistryHTTP):
    """An HTTP client of one Consul agent, for discovery and registration.

    Args:
        address: The agent's HTTP API: ``http://host:port``, ``https://...``, or
            ``host:port`` as in ``CONSUL_HTTP_ADDR`` (then http). A path is kept, for a
            proxy that serves Consul under one.
        token: An ACL token, sent as ``X-Consul-Token``.
        datacenter: Query this datacenter instead of the agent's (``dc=``).
        session: The aiohttp session to send with, which stays the caller's to close.
            Without one the client makes its own on the first request and closes it in
            `aclose`.
        timeout: Seconds a request may take, connecting included; a blocking query gets
            its *wait* (plus wait/16) on top.
        max_response_bytes: The largest body read from Consul.
    """

    def __init__(
        self,
        address: str = "http://127.0.0.1:8500",
        *,
        token: str | None = None,
        datacenter: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        max_response_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        base = URL(address if "://" in address else f"http://{address}")
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"address must be http(s)://host:port or host:port, got {address!r}")
        super().__init__(
            "Consul",
            base,
            error=ConsulError,
            session=session,
            timeout=timeout,
            max_response_bytes=max_response_bytes,
            headers={"X-Consul-Token": token} if token else {},
            params={"dc": datacenter} if datacenter else {},
        )

    @property
    def address(self) -> str:
        """The agent's base URL."""
        return str(self._base)

    async def health_service(
        self,
        service: str,
        *,
        tag: str | None = None,
        passing_only: bool = False,
        index: int = 0,
        wait: float = 60.0,
    ) -> tuple[list[ServiceEntry], int]:
        """Return the instances of *service* and the ``X-Consul-Index`` of the answer.

        Args:
            service: The service name.
            tag: Only instances with this tag (Consul filters on one tag).
            passing_only: Only instances whose checks all pass.
            index: The index of the previous answer: Consul then answers once the
                result may have changed, or after *wait*; 0 answers at once.
            wait: The longest Consul should hold a blocking query, in seconds (at most
                600, Consul's limit).

        Returns:
            The entries, and the index to block on next (0 if Consul sent none, or
            nonsense; the caller decides what to do then).
        """
        if not 0 < wait <= 600:
            raise ValueError(f"wait must be in (0, 600] seconds, got {wait!r}")
        params: dict[str, str] = {}
        if tag:
            params["tag"] = tag
        if passing_only:
            params["passing"] = "true"
        timeout = self._timeout
        if index > 0:
            params.update(index=str(index), wait=_go_duration(wait))
            timeout += wait * 17 / 16
        path = "/v1/health/service/" + _segment(service)
        body, headers = await self._call("GET", path, params=params, seconds=timeout)
        try:
            raw = json.loads(body)
            if not isinstance(raw, list):
                raise ValueError("the body is not a JSON array")
            entries = [_entry(item) for item in raw]
        except ValueError as exc:
            raise self._malformed("GET", path, exc) from exc
        return entries, _index(headers.get("X-Consul-Index"))

    async def register(self, registration: ServiceRegistration) -> None:
        """Register *registration* with the agent; registering the same ID again replaces it."""
        await self._call("PUT", "/v1/agent/service/register", body=registration.to_json())

    async def deregister(self, service_id: str) -> None:
        """Remove the service *service_id* from the agent; an unknown ID is already gone."""
        try:
            await self._call("PUT", "/v1/agent/service/deregister/" + _segment(service_id))
        except ConsulError as exc:
            if exc.status != 404:
                raise

    async def check_pass(self, check_id: str, *, note: str = "") -> None:
        """Mark the TTL check *check_id* passing for another TTL; 404 if the agent lacks it."""
        params = {"note": note} if note else {}
        await self._call("PUT", "/v1/agent/check/pass/" + _segment(check_id), params=params)

    async def agent_service(self, service_id: str) -> dict[str, Any]:
        """Return the agent's record of service *service_id*; `ConsulError` 404 if unknown."""
        path = "/v1/agent/service/" + _segment(service_id)
        body, _ = await self._call("GET", path)
        try:
            record = json.loads(body)
            if not isinstance(record, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError as exc:
            raise self._malformed("GET", path, exc) from exc
        return record

    def __repr__(self) -> str:
        return f"ConsulClient({self.address!r})"


def _segment(value: str) -> str:
    """Quote *value* as one path segment; refuse an empty one."""
    if not value:
        raise ValueError("a service name, service ID or check ID must not be empty")
    return quote(value, safe="")
