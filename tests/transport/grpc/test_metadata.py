"""Metadata helpers: keys lowercased, -bin values as bytes, CR/LF and reserved keys refused."""

from __future__ import annotations

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygokit.transport.grpc import (
    UnsafeMetadata,
    encode_key_value,
    set_request_header,
    set_response_header,
    set_response_trailer,
)


def test_keys_are_lowercased_and_ascii_values_pass() -> None:
    """Go kit's EncodeKeyValue lowercases the key; a printable ASCII value is kept."""
    assert encode_key_value("X-Request-ID", "abc 123 ~!") == ("x-request-id", "abc 123 ~!")


def test_binary_keys_carry_bytes_and_text_becomes_utf8() -> None:
    """A -bin key takes bytes as they are and encodes text as UTF-8 (gRPC adds the base64)."""
    assert encode_key_value("x-blob-bin", b"\x00\xff") == ("x-blob-bin", b"\x00\xff")
    assert encode_key_value("X-Name-Bin", "Zoë") == ("x-name-bin", "Zoë".encode())


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("x-note", "a\r\nx-admin: yes", "printable ASCII"),
        ("x-note", "tab\there", "printable ASCII"),
        ("x-note", "Zoë", "printable ASCII"),
        ("x-note", "bell\x07", "printable ASCII"),
        ("", "v", "invalid"),
        ("x note", "v", "invalid"),
        ("x:note", "v", "invalid"),
        (":path", "/evil", "invalid"),
        ("grpc-status", "0", "reserved"),
        ("GRPC-Message", "ok", "reserved"),
    ],
)
def test_unsafe_pairs_are_refused(key: str, value: str, match: str) -> None:
    """S5: CR/LF, control and non-ASCII characters, bad keys and grpc- keys raise UnsafeMetadata."""
    with pytest.raises(UnsafeMetadata, match=match) as raised:
        encode_key_value(key, value)

    assert raised.value.key == key
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        (b"x-key", "v", "key is a str"),
        ("x-note", b"bytes", "needs a key ending in '-bin'|binary values need"),
        ("x-blob-bin", 42, "is bytes"),
    ],
)
def test_wrong_types_are_type_errors(key: object, value: object, match: str) -> None:
    """A non-str key, bytes under a text key, or a number under a -bin key is a TypeError."""
    with pytest.raises(TypeError, match=match):
        encode_key_value(key, value)  # type: ignore[arg-type]


@given(st.text(alphabet=st.characters(max_codepoint=0x7F, categories=["Cc"]), min_size=1))
def test_any_control_character_is_refused(controls: str) -> None:
    """Property: a value holding any ASCII control character never passes."""
    with pytest.raises(UnsafeMetadata):
        encode_key_value("x-note", f"a{controls}b")


def test_helpers_check_their_pair_when_built() -> None:
    """set_request_header and friends fail at construction, not on the first request."""
    with pytest.raises(UnsafeMetadata):
        set_request_header("x-note", "a\nb")
    with pytest.raises(UnsafeMetadata):
        set_response_header("grpc-status", "0")
    with pytest.raises(UnsafeMetadata):
        set_response_trailer("bad key", "v")


def test_helpers_add_the_checked_pair() -> None:
    """Each hook adds its (lowercased) pair to the right metadata."""
    request = grpc.aio.Metadata()
    header, trailer = grpc.aio.Metadata(), grpc.aio.Metadata()

    set_request_header("X-Tenant", "acme")(request)
    set_response_header("X-Served-By", "a")(header, trailer)
    set_response_trailer("X-Cost-Bin", "3")(header, trailer)

    assert tuple(request) == (("x-tenant", "acme"),)
    assert tuple(header) == (("x-served-by", "a"),)
    assert tuple(trailer) == (("x-cost-bin", b"3"),)
