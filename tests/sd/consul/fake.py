"""A fake Consul agent: an aiohttp server on loopback, written from Consul's HTTP API docs.

This is a contract stub, not Consul. No Consul binary can be installed on the machines
the tests run on (test-infra.md), so the Consul backend is tested against what Consul's
documentation says the agent does, for exactly the endpoints the backend uses:

- ``GET /v1/health/service/<name>?tag=&passing=&index=&wait=``: the service's entries
  (``Node``, ``Service``, ``Checks``), filtered by tag and to entries whose checks all
  pass. With ``index`` > 0 it is a blocking query: it answers once the agent's index
  exceeds ``index`` or ``wait`` (a Go duration, default 5 min, at most 10 min) runs out.
  Every answer carries ``X-Consul-Index``.
- ``PUT /v1/agent/service/register``: keys are matched case-insensitively, as Consul's Go
  JSON decoding does (py-consul sends ``name``, ``id``, ``tags``); the ID defaults to the
  name; a new check starts critical unless it gives a ``Status``.
- ``PUT /v1/agent/service/deregister/<id>``, ``GET /v1/agent/service/<id>``: 404 for an
  unknown ID. ``PUT /v1/agent/check/pass/<id>``: 404 for an unknown check, 500 for a check
  without a TTL (older agents answered 500 for both).

Every write bumps one global index and wakes blocked queries. Tests change the catalog
directly (`FakeConsul.add`, `FakeConsul.set_status`, `FakeConsul.remove`) and script
faults for the next matching requests (`FakeConsul.inject`): an error status, a request
that is never answered, an odd ``X-Consul-Index`` or none, a body that is not JSON.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from pygokit.testing._waiters import Waiters

__all__ = ["FakeConsul", "FakeService", "Fault", "Recorded"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_CHECK_FIELDS = {
    name.lower(): name
    for name in (
        "CheckID",
        "Status",
        "TTL",
        "HTTP",
        "Interval",
        "Timeout",
        "DeregisterCriticalServiceAfter",
    )
}
"""The check fields the fake keeps, by their lower-cased names."""


def _parse_duration(text: str) -> float:
    """Parse a Go duration such as ``100ms``, ``10s`` or ``1m30s`` into seconds."""
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"invalid duration {text!r}")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


@dataclass(frozen=True)
class Fault:
    """What the fake does instead of answering one request normally."""

    status: int | None = None  # answer with this status and `body`
    body: bytes = b""
    hang: bool = False  # never answer (until the fake closes)
    index: int | str | None = None  # answer at once, with this X-Consul-Index
    no_index: bool = False  # answer at once, without X-Consul-Index


@dataclass
class FakeService:
    """A service registered with the fake agent, with at most one check."""

    id: str
    name: str
    address: str = ""
    port: int = 0
    tags: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    check: dict[str, str] | None = None  # CheckID, Status, and TTL or HTTP/Interval


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: Mapping[str, str]
    body: Any = None
    token: str | None = None  # the X-Consul-Token header


def _folded(value: object) -> dict[str, Any]:
    """Map lower-cased keys to values: Consul's decoder ignores the case of field names."""
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return {str(key).lower(): item for key, item in value.items()}


class FakeConsul:
    """The fake agent; ``async with FakeConsul() as consul`` serves it at ``consul.url``."""

    node = "fake-node"
    node_address = "127.0.0.1"

    def __init__(self) -> None:
        self.services: dict[str, FakeService] = {}
        self.index = 10
        self.requests: list[Recorded] = []
        self.url = ""
        self._faults: list[tuple[str, deque[Fault]]] = []
        self._changes = Waiters()
        self._closing = False
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeConsul:
        app = web.Application()
        app.router.add_get("/v1/health/service/{name}", self._health)
        app.router.add_put("/v1/agent/service/register", self._register)
        app.router.add_put("/v1/agent/service/deregister/{id}", self._deregister)
        app.router.add_get("/v1/agent/service/{id}", self._agent_service)
        app.router.add_put("/v1/agent/check/pass/{id}", self._pass)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._changes.notify()
        assert self._runner is not None
        await self._runner.cleanup()

    # What tests call.

    def inject(self, prefix: str, *faults: Fault) -> None:
        """Apply *faults*, one per request, to the next requests whose ``"METHOD /path"``
        starts with *prefix*."""
        self._faults.append((prefix, deque(faults)))

    def add(self, service: FakeService, *, status: str | None = None) -> None:
        """Register *service* directly; with *status*, give it a TTL check in that state."""
        if status is not None:
            service.check = {"CheckID": f"service:{service.id}", "Status": status, "TTL": "10s"}
        self.services[service.id] = service
        self.bump()

    def set_status(self, service_id: str, status: str) -> None:
        """Put the check of *service_id* in *status* (a TTL running out makes it critical)."""
        check = self.services[service_id].check
        assert check is not None
        check["Status"] = status
        self.bump()

    def remove(self, service_id: str) -> None:
        """Forget *service_id*, as an agent does when it reaps a long-critical service."""
        del self.services[service_id]
        self.bump()

    def bump(self) -> None:
        """Advance the index and wake blocked queries, as every write does."""
        self.index += 1
        self._changes.notify()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        """Return once *condition* holds; it is re-checked after every request and write."""
        await self._changes.until(condition)

    def count(self, method: str, path: str) -> int:
        """How many requests had this method and path."""
        return sum(1 for r in self.requests if (r.method, r.path) == (method, path))

    # The HTTP API.

    async def _received(self, request: web.Request) -> Fault | None:
        """Record the request; return the fault scripted for it, if any."""
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        token = request.headers.get("X-Consul-Token")
        query = dict(request.query)
        self.requests.append(Recorded(request.method, request.path, query, body, token))
        self._changes.notify()
        line = f"{request.method} {request.path}"
        for prefix, faults in self._faults:
            if faults and line.startswith(prefix):
                return faults.popleft()
        return None

    async def _answer(self, fault: Fault) -> web.Response:
        if fault.hang:
            await self._changes.until(lambda: self._closing)
        return web.Response(status=fault.status or 503, body=fault.body)

    async def _health(self, request: web.Request) -> web.Response:
        fault = await self._received(request)
        if fault is not None and (fault.status or fault.hang):
            return await self._answer(fault)
        try:
            index = int(request.query.get("index", "0"))
            wait = min(_parse_duration(request.query.get("wait", "5m")), 600.0)
        except ValueError as exc:
            return web.Response(status=400, text=f"Invalid blocking query: {exc}")
        if fault is None and index > 0:
            try:
                async with asyncio.timeout(wait):
                    await self._changes.until(lambda: self.index > index or self._closing)
            except TimeoutError:
                pass
        name, tag = request.match_info["name"], request.query.get("tag")
        passing = "passing" in request.query and request.query["passing"] != "false"
        entries = [
            self._entry(service)
            for service in sorted(self.services.values(), key=lambda s: s.id)
            if service.name == name and (tag is None or tag in service.tags)
        ]
        if passing:
            entries = [e for e in entries if all(c["Status"] == "passing" for c in e["Checks"])]
        if fault is not None and fault.body:
            return web.Response(body=fault.body, headers={"X-Consul-Index": str(self.index)})
        headers = (
            {} if fault is not None and fault.no_index else {"X-Consul-Index": str(self.index)}
        )
        if fault is not None and fault.index is not None:
            headers["X-Consul-Index"] = str(fault.index)
        return web.json_response(entries, headers=headers)

    def _entry(self, service: FakeService) -> dict[str, Any]:
        checks: list[dict[str, str]] = [
            {"Node": self.node, "CheckID": "serfHealth", "Status": "passing", "ServiceID": ""}
        ]
        if service.check is not None:
            checks.append(
                {
                    "Node": self.node,
                    "CheckID": service.check["CheckID"],
                    "Status": service.check["Status"],
                    "ServiceID": service.id,
                }
            )
        return {
            "Node": {
                "ID": "0000",
                "Node": self.node,
                "Address": self.node_address,
                "Datacenter": "dc1",
            },
            "Service": self._record(service),
            "Checks": checks,
        }

    @staticmethod
    def _record(service: FakeService) -> dict[str, Any]:
        return {
            "ID": service.id,
            "Service": service.name,
            "Tags": service.tags or None,  # Consul sends null for no tags
            "Address": service.address,
            "Port": service.port,
            "Meta": service.meta or None,
        }

    async def _register(self, request: web.Request) -> web.Response:
        fault = await self._received(request)
        if fault is not None:
            return await self._answer(fault)
        try:
            fields = _folded(self.requests[-1].body)
            service = FakeService(
                id=fields.get("id") or fields["name"],
                name=fields["name"],
                address=fields.get("address") or "",
                port=int(fields.get("port") or 0),
                tags=list(fields.get("tags") or []),
                meta=dict(fields.get("meta") or {}),
            )
            if fields.get("check"):
                check = {
                    _CHECK_FIELDS[k]: v
                    for k, v in _folded(fields["check"]).items()
                    if k in _CHECK_FIELDS
                }
                check.setdefault("CheckID", f"service:{service.id}")
                check.setdefault("Status", "critical")
                service.check = check
        except (KeyError, ValueError, TypeError) as exc:
            return web.Response(status=400, text=f"Request decode failed: {exc!r}")
        self.services[service.id] = service
        self.bump()
        return web.Response()

    async def _deregister(self, request: web.Request) -> web.Response:
        fault = await self._received(request)
        if fault is not None:
            return await self._answer(fault)
        service_id = request.match_info["id"]
        if service_id not in self.services:
            return web.Response(status=404, text=f'Unknown service ID "{service_id}"')
        self.remove(service_id)
        return web.Response()

    async def _agent_service(self, request: web.Request) -> web.Response:
        fault = await self._received(request)
        if fault is not None:
            return await self._answer(fault)
        service = self.services.get(request.match_info["id"])
        if service is None:
            return web.Response(status=404, text="unknown service ID")
        return web.json_response(self._record(service))

    async def _pass(self, request: web.Request) -> web.Response:
        fault = await self._received(request)
        if fault is not None:
            return await self._answer(fault)
        check_id = request.match_info["id"]
        for service in self.services.values():
            check = service.check
            if check is not None and check["CheckID"] == check_id:
                if "TTL" not in check:
                    return web.Response(status=500, text="CheckID does not have associated TTL")
                if check["Status"] != "passing":
                    self.set_status(service.id, "passing")
                return web.Response()
        return web.Response(status=404, text=f'Unknown check ID "{check_id}"')
