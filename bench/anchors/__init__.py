"""The apps that `bench.http_frameworks` serves ``POST /sum`` with, one module each.

Every app answers ``{"a": 1, "b": 2}`` with ``{"v": 3}`` on ``/sum``:

* `bench.apps.asgi_sum` (``raw``): a raw ASGI app, the floor;
* `bench.anchors.starlette_sum`: a Starlette route;
* `bench.anchors.fastapi_sum`: a FastAPI route with a pydantic model;
* `bench.anchors.pygokit_sum`: pygokit's HTTP server, bare and with a production chain;
* ``bench/anchors/gokit/main.go``: Go kit 0.10's ``httptransport.NewServer``, bare and
  with the same chain, built from Debian's packages by `bench.anchors.gokit_build`.
"""
