"""Send each HTTP request to the ASGI app registered for its method and path.

A `Server` serves one endpoint, so a service with several methods needs a router
in front of its servers; Go kit leaves that to gorilla/mux, and `Router` is the
same idea as a plain ASGI app with no dependencies. `Router.route` registers an
app for a method and a path, `Router.mount` hands a whole subtree to another app
(a `metrics_app`, a Starlette app, another router). The apps may be pygokit
Servers or any ASGI apps.

How a request is matched:

1. **An exact route** (``/sum``): one dictionary lookup, so routing a request to
   an exact path costs well under a microsecond.
2. **Templates** (``/profiles/{id}/addresses/{addressID}``), in the order they
   were registered. A ``{name}`` segment matches one non-empty path segment. The
   ASGI server percent-decodes the path before the router sees it, so the values
   are decoded (``caf%C3%A9`` is ``café``) and ``%2F`` separates segments, as with
   gorilla/mux and Starlette. The values go in ``scope["path_params"]`` (merged
   into any an outer router put there) and in `path_params`. They are the
   client's input: check them before use.
3. **Mounts**, longest prefix first. ``mount("/api", app)`` serves ``/api`` and
   everything under ``/api/``, not ``/apiary``; ``mount("/", app)`` catches every
   path nothing else matched.
4. **Refusals.** A path some route matches with other methods gets 405 with an
   ``Allow`` header; any other path gets 404. Both answer ``{"error": "..."}``.

A ``GET`` route also serves ``HEAD`` unless a ``HEAD`` route is registered at that
path, as Go's ``ServeMux`` and Starlette do; ``Allow`` then lists ``HEAD`` too. A
pygokit `Server` drops the body of a HEAD response itself, but its ``methods``
check does not imply HEAD: behind a GET route, give it ``methods=("GET", "HEAD")``
or no ``methods``. The method ``"*"`` serves every method a path has no route for.
Routes and mounts are checked when they are registered: a method registered twice
at one path, two templates that differ only in their parameter names, or a prefix
mounted twice raises ``ValueError``. Paths are compared as given: ``/sum/`` is not
``/sum``.

Mounting follows the ASGI spec as current Starlette and hypercorn read it:
the mounted app gets ``root_path`` extended by the prefix and ``path`` unchanged, so
it finds its own path by removing ``root_path`` from ``path``, as `Router` itself
does (routers nest). WebSocket connections are routed like GET requests and
refused when nothing matches. The ``lifespan`` protocol is answered by the router
and not forwarded: the apps behind it get no startup or shutdown events, so build
what they need in ``async def main()`` (as async context managers) and pass it in.

`path_params` is a context variable that a templated route sets; like the request
variables in `pygokit.transport.http.context` it relies on the ASGI server running
each request in its own task (every server does), so values never leak from one
request into another. Code that awaits the router twice in one task (an in-process
test client) shares one context between the calls: run each in its own task.

Example::

    async def decode_get_profile(request: Request) -> GetProfileRequest:
        return GetProfileRequest(id=path_params()["id"])

    router = Router()
    router.route("POST", "/uppercase", Server(uppercase, json_decoder(UppercaseRequest),
                                              json_encoder(), methods=("POST",)))
    router.route("GET", "/profiles/{id}", Server(get_profile, decode_get_profile,
                                                 json_encoder()))
    router.mount("/metrics", metrics_app(registry))
    await serve(router, port=8080)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType

from pygokit._asgi import (
    ASGIApp,
    Receive,
    Scope,
    Send,
    answer_lifespan,
    reject_websocket,
    respond,
)
from pygokit.transport.http.codec import JSON_CONTENT_TYPE
from pygokit.transport.http.request import MethodNotAllowed

__all__ = ["Router", "path_params"]

_NO_PARAMS: Mapping[str, str] = MappingProxyType({})
_path_params: ContextVar[Mapping[str, str]] = ContextVar(
    "pygokit.http.path_params", default=_NO_PARAMS
)
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_JSON_FIELD = (b"content-type", JSON_CONTENT_TYPE.encode())
_NOT_FOUND = b'{"error":"no route matches this path"}'


def path_params() -> Mapping[str, str]:
    """The ``{name}`` values of the templated route serving this request.

    Empty outside a request served by a templated route. A decoder reads them
    the way Go kit's decoders read ``mux.Vars(r)``::

        async def decode_get_profile(request: Request) -> GetProfileRequest:
            return GetProfileRequest(id=path_params()["id"])
    """
    return _path_params.get()


class _Methods:
    """The apps registered at one path, by method, with what a lookup needs precomputed."""

    __slots__ = ("allow", "any", "apps", "explicit")

    def __init__(self) -> None:
        self.explicit: dict[str, ASGIApp] = {}
        self.apps: dict[str, ASGIApp] = {}
        self.any: ASGIApp | None = None
        self.allow: tuple[str, ...] = ()

    def add(self, method: str, app: ASGIApp, path: str) -> None:
        if method in self.explicit:
            raise ValueError(f"{method} {path} is already routed; register each route once")
        self.explicit[method] = app
        apps = dict(self.explicit)
        if "GET" in apps:
            apps.setdefault("HEAD", apps["GET"])
        self.any = apps.pop("*", None)
        self.apps = apps
        self.allow = tuple(sorted(apps))


class _Template:
    """A path with ``{name}`` segments, split once at registration."""

    __slots__ = ("length", "literals", "methods", "names", "params", "path", "shape")

    def __init__(self, path: str) -> None:
        parts = path.split("/")
        literals: list[tuple[int, str]] = []
        params: list[tuple[int, str]] = []
        for index, part in enumerate(parts):
            param = _PARAM.fullmatch(part)
            if param is not None:
                params.append((index, param.group(1)))
            elif "{" in part or "}" in part:
                raise ValueError(
                    f"route {path!r}: a template segment is a whole segment like "
                    f"{{name}} (a Python identifier), not {part!r}"
                )
            else:
                literals.append((index, part))
        names = tuple(name for _, name in params)
        if len(set(names)) != len(names):
            raise ValueError(f"route {path!r} names a parameter twice")
        self.path = path
        self.length = len(parts)
        self.literals = tuple(literals)
        self.params = tuple(params)
        self.names = names
        self.shape = tuple(None if _PARAM.fullmatch(part) else part for part in parts)
        self.methods = _Methods()

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """The parameters if *parts* (a path split on ``/``, of this length) match, else None."""
        for index, literal in self.literals:
            if parts[index] != literal:
                return None
        found = {}
        for index, name in self.params:
            value = parts[index]
            if not value:
                return None
            found[name] = value
        return found


class Router:
    """An ASGI app that dispatches on method and path to other ASGI apps.

    Go kit users put their handlers behind gorilla/mux; this is that router for
    ASGI. See the module documentation for the matching rules, HEAD, 404 and 405,
    mounting and the lifespan.

    Example::

        router = Router()
        router.route("POST", "/sum", Server(sum_, json_decoder(SumRequest), json_encoder()))
        router.route("GET", "/profiles/{id}", profile_server)
        router.mount("/metrics", metrics_app(registry))
    """

    __slots__ = ("_exact", "_mounts", "_templates")

    def __init__(self) -> None:
        self._exact: dict[str, _Methods] = {}
        self._templates: dict[int, list[_Template]] = {}
        self._mounts: list[tuple[str, str, ASGIApp]] = []

    def route(self, method: str, path: str, app: ASGIApp) -> None:
        """Serve *app* for *method* (such as ``"POST"``, or ``"*"`` for any) at *path*.

        *path* is exact (``"/sum"``) or a template with ``{name}`` segments
        (``"/profiles/{id}/addresses/{addressID}"``). Raises ``ValueError`` for a
        malformed method or path, or a route registered before.
        """
        if not isinstance(method, str) or not (method == "*" or _METHOD.fullmatch(method)):
            raise ValueError(f"method must be an HTTP method name or '*', got {method!r}")
        method = method.upper()
        _check_path(path, "route")
        if "{" not in path and "}" not in path:
            self._exact.setdefault(path, _Methods()).add(method, app, path)
            return
        template = _Template(path)
        group = self._templates.setdefault(template.length, [])
        for existing in group:
            if existing.shape == template.shape:
                if existing.names != template.names:
                    raise ValueError(
                        f"route {path!r} matches the same paths as {existing.path!r}; "
                        "use the same parameter names for every route at one path"
                    )
                existing.methods.add(method, app, path)
                return
        template.methods.add(method, app, path)
        group.append(template)

    def mount(self, prefix: str, app: ASGIApp) -> None:
        """Hand every request under *prefix* to *app* (``"/"`` for every unmatched path).

        The app gets ``root_path`` extended by *prefix* and ``path`` unchanged (the
        ASGI spec). Routes are tried first; among mounts, the longest prefix wins.
        """
        _check_path(prefix, "mount")
        if "{" in prefix or "}" in prefix:
            raise ValueError(f"mount prefix {prefix!r} is literal; templates are for routes")
        prefix = prefix.rstrip("/")
        if any(existing == prefix for existing, _, _ in self._mounts):
            raise ValueError(f"{prefix or '/'!r} is already mounted; mount each prefix once")
        self._mounts.append((prefix, prefix + "/", app))
        self._mounts.sort(key=lambda mount: len(mount[0]), reverse=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one ASGI connection; answer the lifespan; refuse what matches nothing."""
        kind = scope["type"]
        if kind == "http":
            method = scope["method"]
        elif kind == "websocket":
            method = "GET"  # a WebSocket handshake is a GET request
        elif kind == "lifespan":
            await answer_lifespan(receive, send)
            return
        else:
            raise ValueError(f"unsupported ASGI scope type {kind!r}")
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("/", ""):
            path = path[len(root) :] or "/"
        methods = self._exact.get(path)
        if methods is not None:
            app = methods.apps.get(method, methods.any)
            if app is not None:
                await app(scope, receive, send)
                return
        if self._templates:
            parts = path.split("/")
            for template in self._templates.get(len(parts), ()):
                app = template.methods.apps.get(method, template.methods.any)
                if app is not None and (found := template.match(parts)) is not None:
                    outer = scope.get("path_params")
                    params = {**outer, **found} if outer else found
                    scope["path_params"] = params
                    _path_params.set(params)
                    await app(scope, receive, send)
                    return
        for prefix, under, app in self._mounts:
            if path == prefix or path.startswith(under):
                await app({**scope, "root_path": root + prefix}, receive, send)
                return
        await self._refuse(scope, receive, send, path)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """Answer 405 if some route serves *path* with other methods, else 404."""
        if scope["type"] == "websocket":
            await reject_websocket(receive, send)
            return
        allowed: set[str] = set()
        if path in self._exact:
            allowed.update(self._exact[path].allow)
        parts = path.split("/")
        for template in self._templates.get(len(parts), ()):
            if template.match(parts) is not None:
                allowed.update(template.methods.allow)
        if not allowed:
            await respond(send, scope, 404, [_JSON_FIELD], _NOT_FOUND)
            return
        refusal = MethodNotAllowed(scope["method"], sorted(allowed))
        body = json.dumps({"error": str(refusal)}, separators=(",", ":")).encode()
        headers = [_JSON_FIELD, (b"allow", refusal.headers["allow"].encode())]
        await respond(send, scope, 405, headers, body)

    def __repr__(self) -> str:
        templates = sum(len(group) for group in self._templates.values())
        return (
            f"Router({len(self._exact)} exact paths, {templates} templates, "
            f"{len(self._mounts)} mounts)"
        )


def _check_path(path: object, what: str) -> None:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"{what} path must be a str starting with '/', got {path!r}")
