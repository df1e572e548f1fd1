"""Response and MutableHeaders: checked header fields, computed Content-Length."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pygokit.transport.http import Headers, MutableHeaders, Response
from tests.transport.http.server_harness import Message


async def sent_by(response: Response, *, head: bool = False) -> list[Message]:
    """The ASGI messages *response* sends."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await response.send(send, head=head)
    return sent


async def test_send_adds_content_length_from_the_body() -> None:
    """A response goes out as start + body with a Content-Length that matches the body."""
    response = Response(b"hello", status=201, headers={"Content-Type": "text/plain"})

    start, body = await sent_by(response)

    assert start == {
        "type": "http.response.start",
        "status": 201,
        "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")],
    }
    assert body == {"type": "http.response.body", "body": b"hello"}
    assert repr(response) == "<Response 201 5 bytes>"


async def test_head_sends_the_length_but_not_the_body() -> None:
    """A response to HEAD keeps its Content-Length and sends an empty body."""
    start, body = await sent_by(Response(b"hello"), head=True)

    assert (b"content-length", b"5") in start["headers"]
    assert body["body"] == b""


@pytest.mark.parametrize("status", [204, 304])
async def test_no_content_statuses_have_no_body_and_no_length(status: int) -> None:
    """204 and 304 carry neither a body nor a Content-Length, even if one was set later."""
    response = Response(status=status)
    response.body = b"ignored"

    start, body = await sent_by(response)

    assert start["headers"] == []
    assert body["body"] == b""
    with pytest.raises(ValueError, match="has no body"):
        Response(b"x", status=status)


@pytest.mark.parametrize("status", [100, 199, 600, 0])
def test_status_must_be_a_final_http_status(status: int) -> None:
    """Statuses outside 200-599 are refused at construction."""
    with pytest.raises(ValueError, match="200-599"):
        Response(status=status)


def test_mutable_headers_set_add_delete() -> None:
    """set replaces every field of a name, add appends, del removes them all."""
    headers = MutableHeaders([("Set-Cookie", "a=1"), ("X-A", "1")])
    headers.add("set-cookie", "b=2")
    headers["X-A"] = "2"
    headers.update({"x-b": "3"})
    headers.extend([("x-b", "4")])

    assert headers.get_all("set-cookie") == ["a=1", "b=2"]
    assert headers.multi_items()[-3:] == [("x-a", "2"), ("x-b", "3"), ("x-b", "4")]
    del headers["SET-COOKIE"]
    assert "set-cookie" not in headers
    with pytest.raises(KeyError):
        del headers["set-cookie"]
    assert MutableHeaders(Headers({"a": "1"})).raw == [(b"a", b"1")]


def test_response_headers_edit_what_is_sent() -> None:
    """Response.headers is a live view: edits change the fields sent."""
    response = Response(headers=[("a", "1")])
    response.headers["b"] = "2"
    del response.headers["a"]

    assert response.headers is response.headers
    assert response.headers.raw == [(b"b", b"2")]


@pytest.mark.parametrize(
    "value",
    [
        "x\r\nSet-Cookie: admin=1",
        "x\nSet-Cookie: admin=1",
        "x\rSet-Cookie: admin=1",
        "a\x00b",
        "a\x1bb",
        "a\x7fb",
    ],
)
def test_control_characters_in_values_are_refused(value: str) -> None:
    """S5: a header value with CR, LF, NUL or another control character raises ValueError."""
    with pytest.raises(ValueError, match="control character"):
        MutableHeaders({"x-a": value})
    with pytest.raises(ValueError, match="control character"):
        Response().headers["x-a"] = value
    with pytest.raises(ValueError, match="control character"):
        Response().headers.add("x-a", value)


@pytest.mark.parametrize("name", ["", "a b", "a:b", "a\r\nb", "ä", "a\x00"])
def test_names_must_be_tokens(name: str) -> None:
    """A header name that is not an HTTP token is refused."""
    with pytest.raises(ValueError, match="header"):
        MutableHeaders({name: "v"})


def test_values_must_be_latin1_strings() -> None:
    """Non-str values raise TypeError; characters beyond Latin-1 raise ValueError."""
    with pytest.raises(TypeError, match="are str"):
        MutableHeaders({"x-count": 3})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Latin-1"):
        MutableHeaders({"x-a": "snow ☃"})
    assert MutableHeaders({"x-a": "café\tau lait"})["x-a"] == "café\tau lait"


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding"])
def test_framing_headers_are_computed_not_set(name: str) -> None:
    """Content-Length and Transfer-Encoding cannot be set: send computes the framing."""
    with pytest.raises(ValueError, match="computed"):
        Response(headers={name: "5"})


@settings(max_examples=2000)
@given(st.text(max_size=40))
def test_any_value_is_either_refused_or_safe_on_the_wire(value: str) -> None:
    """S5: a value is refused exactly when it holds a control character or non-Latin-1."""
    unsafe = any((ord(c) < 32 and c != "\t") or ord(c) == 127 or ord(c) > 255 for c in value)
    try:
        headers = MutableHeaders({"x-a": value})
    except ValueError:
        assert unsafe
        return
    assert not unsafe
    [(_, raw)] = headers.raw
    assert not set(raw) & {0x0D, 0x0A, 0x00}
    assert raw.decode("latin-1") == value
