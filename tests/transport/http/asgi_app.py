"""One pygokit app for the tests that run it under other ASGI servers (hypercorn, granian).

``app`` is a `Router` over three `Server` s: ``POST /sum`` (a typed JSON body, a
1 KiB body limit), ``GET /hello/{name}`` (a path parameter and the request facts of
`populate_request_context`) and ``POST /fail`` (an endpoint that raises an error
carrying a secret, which must never reach the wire).
"""

from __future__ import annotations

from dataclasses import dataclass

from pygokit.transport.http import (
    Request,
    Router,
    Server,
    context,
    json_decoder,
    json_encoder,
    path_params,
    populate_request_context,
)

__all__ = ["SECRET", "app"]

SECRET = "secret-XYZ"


@dataclass(frozen=True, slots=True)
class SumRequest:
    """The operands."""

    a: int
    b: int


async def add(request: SumRequest) -> dict[str, int]:
    """Add the operands."""
    return {"v": request.a + request.b}


async def decode_name(request: Request) -> str:
    """The ``{name}`` of the route."""
    return path_params()["name"]


async def hello(name: str) -> dict[str, str]:
    """Greet *name* and say what the request looked like."""
    return {
        "hello": name,
        "method": context.request_method.get(),
        "path": context.request_path.get(),
        "host": context.request_host.get(),
        "user_agent": context.request_user_agent.get(),
    }


async def fail(request: object) -> None:
    """Fail with an error whose message must stay in the logs."""
    raise RuntimeError(f"database password is {SECRET}")


async def decode_nothing(request: Request) -> None:
    """No request value."""


app = Router()
app.route(
    "POST",
    "/sum",
    Server(add, json_decoder(SumRequest), json_encoder(), methods=("POST",), max_body_bytes=1024),
)
app.route(
    "GET",
    "/hello/{name}",
    Server(hello, decode_name, json_encoder(), before=[populate_request_context]),
)
app.route("POST", "/fail", Server(fail, decode_nothing, json_encoder()))
