"""``POST /sum`` as a FastAPI route with a pydantic model: the anchor most users know.

Serve it with ``uvicorn bench.anchors.fastapi_sum:app``.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

__all__ = ["app"]


class Sum(BaseModel):
    """The operands."""

    a: int
    b: int


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.post("/sum")
async def sum_route(request: Sum) -> dict[str, int]:
    """Add the operands."""
    return {"v": request.a + request.b}
