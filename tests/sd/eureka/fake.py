"""A fake Eureka server: an aiohttp server on loopback, written from Eureka's REST API docs.

This is a contract stub, not Eureka. No Eureka server can be installed on the machines the
tests run on (test-infra.md), so the Eureka backend is tested against what the "Eureka
REST operations" page documents, for the operations the backend uses, under the service
URL ``<url>/eureka``:

- ``POST /apps/<APP>``: register the ``instance`` document (204); 400 when it lacks
  ``hostName``, ``app``, ``ipAddr``, ``status`` or ``dataCenterInfo`` with ``@class``
  and ``name``. Application names are upper-cased, as Eureka does.
- ``PUT /apps/<APP>/<id>``: a heartbeat, 200, or **404 when the instance is unknown**.
- ``DELETE /apps/<APP>/<id>``: 200, or 404 when unknown.
- ``GET /apps/<APP>``: ``{"application": {"name", "instance": [...]}}``, 404 for an
  application without instances, and 406 unless the request accepts
  ``application/json`` (Eureka answers XML by default). With ``legacy_json`` it answers
  in the older dialect: a single instance as an object, numbers as strings.

Tests change the registry directly (`FakeEureka.evict`, `FakeEureka.set_status`) and
script faults for the next matching requests (`FakeEureka.inject`): an error status, a
body that is not the documented JSON, or a request that is never answered.
"""

from __future__ import annotations

import json
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from pygokit.testing._waiters import Waiters

__all__ = ["FakeEureka", "Fault", "Recorded"]

_REQUIRED = ("hostName", "app", "ipAddr", "status", "dataCenterInfo")


@dataclass(frozen=True)
class Fault:
    """What the fake does instead of answering one request normally."""

    status: int = 200  # answer with this status and body
    body: bytes = b""
    hang: bool = False  # never answer (until the fake closes)


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    accept: str
    body: Any = None


class FakeEureka:
    """The fake server; ``async with FakeEureka() as eureka`` serves ``eureka.url``."""

    def __init__(self) -> None:
        self.apps: dict[str, dict[str, dict[str, Any]]] = {}  # APP -> id -> instance
        self.requests: list[Recorded] = []
        self.legacy_json = False
        self.url = ""
        self._faults: list[tuple[str, deque[Fault]]] = []
        self._changes = Waiters()
        self._closing = False
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeEureka:
        app = web.Application()
        app.router.add_post("/eureka/apps/{app}", self._register)
        app.router.add_put("/eureka/apps/{app}/{id}", self._heartbeat)
        app.router.add_delete("/eureka/apps/{app}/{id}", self._deregister)
        app.router.add_get("/eureka/apps/{app}", self._application)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/eureka"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._changes.notify()
        assert self._runner is not None
        await self._runner.cleanup()

    # What tests call.

    def inject(self, prefix: str, *faults: Fault) -> None:
        """Apply *faults*, one per request, to the next requests whose ``"METHOD /path"``
        starts with *prefix* (paths start with ``/eureka/apps/``)."""
        self._faults.append((prefix, deque(faults)))

    def add(self, app: str, ip_addr: str, port: int, status: str = "UP") -> None:
        """Register an instance directly, with ID ``ip_addr:port``."""
        instance_id = f"{ip_addr}:{port}"
        self.apps.setdefault(app.upper(), {})[instance_id] = {
            "instanceId": instance_id,
            "hostName": ip_addr,
            "app": app.upper(),
            "ipAddr": ip_addr,
            "status": status,
            "port": {"$": port, "@enabled": "true"},
        }
        self._changes.notify()

    def set_status(self, app: str, instance_id: str, status: str) -> None:
        """Change an instance's status (an OUT_OF_SERVICE override, say)."""
        self.apps[app.upper()][instance_id]["status"] = status
        self._changes.notify()

    def evict(self, app: str, instance_id: str) -> None:
        """Forget an instance, as Eureka does when its lease expires."""
        instances = self.apps[app.upper()]
        del instances[instance_id]
        if not instances:
            del self.apps[app.upper()]
        self._changes.notify()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        """Return once *condition* holds; it is re-checked after every request and change."""
        await self._changes.until(condition)

    def count(self, method: str, path: str) -> int:
        """How many requests had this method and path (``/eureka/apps/...``)."""
        return sum(1 for r in self.requests if (r.method, r.path) == (method, path))

    # The REST API.

    async def _received(self, request: web.Request) -> web.Response | None:
        """Record the request; return the scripted answer for it, if any."""
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        accept = request.headers.get("Accept", "")
        self.requests.append(Recorded(request.method, request.path, accept, body))
        self._changes.notify()
        line = f"{request.method} {request.path}"
        for prefix, faults in self._faults:
            if faults and line.startswith(prefix):
                fault = faults.popleft()
                if fault.hang:
                    await self._changes.until(lambda: self._closing)
                return web.Response(status=fault.status, body=fault.body)
        return None

    async def _register(self, request: web.Request) -> web.Response:
        answer = await self._received(request)
        if answer is not None:
            return answer
        document = self.requests[-1].body
        instance = document.get("instance") if isinstance(document, dict) else None
        if not isinstance(instance, dict) or any(not instance.get(k) for k in _REQUIRED):
            return web.Response(status=400, text=f"an instance needs {', '.join(_REQUIRED)}")
        center = instance["dataCenterInfo"]
        if not isinstance(center, dict) or not center.get("@class") or not center.get("name"):
            return web.Response(status=400, text="dataCenterInfo needs @class and name")
        instance_id = instance.get("instanceId") or instance["hostName"]
        self.apps.setdefault(request.match_info["app"].upper(), {})[instance_id] = instance
        self._changes.notify()
        return web.Response(status=204)

    def _known(self, request: web.Request) -> bool:
        app, instance_id = request.match_info["app"].upper(), request.match_info["id"]
        return instance_id in self.apps.get(app, {})

    async def _heartbeat(self, request: web.Request) -> web.Response:
        answer = await self._received(request)
        if answer is not None:
            return answer
        return web.Response(status=200 if self._known(request) else 404)

    async def _deregister(self, request: web.Request) -> web.Response:
        answer = await self._received(request)
        if answer is not None:
            return answer
        if not self._known(request):
            return web.Response(status=404)
        self.evict(request.match_info["app"], request.match_info["id"])
        return web.Response(status=200)

    async def _application(self, request: web.Request) -> web.Response:
        answer = await self._received(request)
        if answer is not None:
            return answer
        if "application/json" not in request.headers.get("Accept", ""):
            return web.Response(status=406, text="this fake speaks JSON only")
        name = request.match_info["app"].upper()
        instances: list[dict[str, Any]] = list(self.apps.get(name, {}).values())
        if not instances:
            return web.Response(status=404)
        listed: object = instances
        if self.legacy_json:
            instances = [
                {**i, "port": {"$": str(i["port"]["$"]), "@enabled": "true"}} for i in instances
            ]
            listed = instances[0] if len(instances) == 1 else instances
        return web.json_response({"application": {"name": name, "instance": listed}})
