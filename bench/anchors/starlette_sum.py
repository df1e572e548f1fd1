"""``POST /sum`` as a Starlette route: the anchor for a light ASGI framework.

Serve it with ``uvicorn bench.anchors.starlette_sum:app``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["app"]


async def sum_route(request: Request) -> JSONResponse:
    """Add ``a`` and ``b`` from the JSON body."""
    body = await request.json()
    return JSONResponse({"v": body["a"] + body["b"]})


app = Starlette(routes=[Route("/sum", sum_route, methods=["POST"])])
