"""populate_request_context: Go kit's request facts as context variables."""

from __future__ import annotations

import contextvars

from pygokit.transport.http import Request, context, populate_request_context
from tests.transport.http.server_harness import Message, http_scope


async def no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def populated(request: Request) -> dict[str, str]:
    """Run the hook in a fresh context and return every variable it set."""
    names = [name for name in context.__all__ if name.startswith("request_")]

    def run() -> dict[str, str]:
        populate_request_context(request)
        return {name: getattr(context, name).get() for name in names}

    return contextvars.copy_context().run(run)


def test_populates_every_go_kit_key() -> None:
    """Method, URI, path, proto, host, peer and the eight headers are set from the request."""
    scope = http_scope(
        "GET",
        "/p q",
        headers=[
            (b"host", b"svc:8080"),
            (b"x-forwarded-for", b"10.0.0.1"),
            (b"x-forwarded-proto", b"https"),
            (b"authorization", b"Bearer t"),
            (b"referer", b"http://r/"),
            (b"user-agent", b"ua/1"),
            (b"x-request-id", b"rid-1"),
            (b"accept", b"application/json"),
            (b"accept", b"text/plain"),
        ],
        query=b"a=1",
    )
    scope["raw_path"] = b"/p%20q"

    assert populated(Request(scope, no_body)) == {
        "request_method": "GET",
        "request_uri": "/p%20q?a=1",
        "request_path": "/p q",
        "request_proto": "HTTP/1.1",
        "request_host": "svc:8080",
        "request_remote_addr": "127.0.0.1:50123",
        "request_x_forwarded_for": "10.0.0.1",
        "request_x_forwarded_proto": "https",
        "request_authorization": "Bearer t",
        "request_referer": "http://r/",
        "request_user_agent": "ua/1",
        "request_x_request_id": "rid-1",
        "request_accept": "application/json",
        "request_id": "rid-1",
    }


def test_absent_facts_are_empty_strings() -> None:
    """Missing headers and peer give "", as Go's Header.Get does; request_id is still set."""
    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}

    values = populated(Request(scope, no_body))

    assert values["request_uri"] == "/"
    assert values["request_remote_addr"] == ""
    assert values["request_user_agent"] == ""
    assert len(values["request_id"]) == 16
    assert context.request_method.get() == ""
