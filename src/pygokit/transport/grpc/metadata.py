"""gRPC metadata: Go kit's header helpers, and the check every outgoing pair passes.

Hooks read and write metadata as ``grpc.aio.Metadata``, a multimap from key to
values. Before anything reaches the wire, pygokit checks every pair (reliability
property S5; ASVS 4.2.4), so a bad one raises `UnsafeMetadata` in the caller's
code instead of a cryptic ``ExecuteBatchError`` from gRPC's core:

* keys are lowercased (HTTP/2 header names are lowercase) and must then be made
  of ``0-9 a-z _ - .``; the ``grpc-`` prefix is reserved for gRPC itself, so a
  hook cannot forge ``grpc-status`` in a trailer;
* a value of an ordinary key is a ``str`` of printable ASCII (space to ``~``):
  CR, LF, other control characters and non-ASCII text are refused;
* a key ending in ``-bin`` carries binary: ``bytes`` (a ``str`` is sent as
  UTF-8). gRPC itself base64-encodes these values on the wire and decodes them
  on arrival, so the receiver gets back the same ``bytes``. Go kit's
  ``EncodeKeyValue`` base64-encodes the value itself as well, on top of what
  grpc-go does; a Go kit peer therefore sees base64 text where pygokit sends
  raw bytes. Send Go kit's form by encoding the value yourself.

`set_request_header`, `set_response_header` and `set_response_trailer` build
hooks that add one pair, as Go kit's helpers do; they check the pair when they
are built, so a bad constant fails at start-up.

Example::

    client = Client(channel, "pb.Add", "Sum", encode, decode, SumReply,
                    before=[set_request_header("x-tenant", "acme")])
    server = Server(endpoint, decode, encode,
                    after=[set_response_trailer("x-served-by", "add-1")])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeAlias

from pygokit._extras import missing_extra

try:
    import grpc
except ImportError as exc:  # pragma: no cover - exercised by tests/test_extras.py in a subprocess
    raise missing_extra("pygokit.transport.grpc.metadata", "grpc") from exc

from pygokit.errors import GoKitError

__all__ = [
    "Pairs",
    "RequestHook",
    "ResponseHook",
    "UnsafeMetadata",
    "encode_key_value",
    "set_request_header",
    "set_response_header",
    "set_response_trailer",
]

Pairs: TypeAlias = tuple[tuple[str, str | bytes], ...]
"""Metadata as gRPC sends it: ``(key, value)`` pairs, checked by `encode_key_value`."""

RequestHook: TypeAlias = Callable[[grpc.aio.Metadata], None]
"""Sees the request metadata (Go kit's ``ServerRequestFunc`` and ``ClientRequestFunc``).

A server's ``before`` hooks read the incoming metadata (to set context
variables); a client's add to the outgoing metadata.
"""

ResponseHook: TypeAlias = Callable[[grpc.aio.Metadata, grpc.aio.Metadata], None]
"""Sees response headers and trailers (Go kit's ``ServerResponseFunc``/``ClientResponseFunc``).

A server's ``after`` hooks add to them; a client's read what arrived.
"""

_KEY = re.compile(r"[0-9a-z_.\-]+")
_VALUE = re.compile(r"[\x20-\x7e]*")


class UnsafeMetadata(GoKitError, ValueError):
    """A metadata pair was refused before it reached the wire.

    Attributes:
        key: The key as given.
    """

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


def encode_key_value(key: str, value: str | bytes) -> tuple[str, str | bytes]:
    """Return the pair as gRPC must send it: the key lowercased, the value checked.

    Go kit's ``EncodeKeyValue``, with the checks of the module docstring. A
    ``-bin`` key gets ``bytes`` (a ``str`` value is encoded as UTF-8; gRPC adds
    the base64 on the wire); any other key needs a printable-ASCII ``str``.

    Raises:
        UnsafeMetadata: The key is empty, reserved (``grpc-``) or has characters
            other than ``0-9 a-z _ - .``; or the value has characters outside
            printable ASCII (CR and LF included).
        TypeError: The key is not a str, or a non-binary value is not a str.
    """
    if not isinstance(key, str):
        raise TypeError(f"a metadata key is a str, got {type(key).__name__}")
    folded = key.lower()
    if not _KEY.fullmatch(folded):
        raise UnsafeMetadata(
            f"metadata key {key!r} is invalid: use 0-9, a-z, '_', '-' and '.'", key=key
        )
    if folded.startswith("grpc-"):
        raise UnsafeMetadata(f"metadata key {key!r} is reserved for gRPC itself", key=key)
    if folded.endswith("-bin"):
        if isinstance(value, str):
            return folded, value.encode()
        if isinstance(value, bytes):
            return folded, value
        raise TypeError(f"the value of binary key {key!r} is bytes, got {type(value).__name__}")
    if not isinstance(value, str):
        raise TypeError(
            f"the value of key {key!r} is a str, got {type(value).__name__};"
            " binary values need a key ending in '-bin'"
        )
    if not _VALUE.fullmatch(value):
        raise UnsafeMetadata(
            f"the value of metadata key {key!r} has a character outside printable ASCII"
            " (CR, LF or other control characters, or non-ASCII text);"
            " send binary or UTF-8 text under a key ending in '-bin'",
            key=key,
        )
    return folded, value


def _checked(metadata: Iterable[tuple[str, str | bytes]]) -> Pairs:
    """Every pair of *metadata* through `encode_key_value`, for gRPC to send."""
    return tuple(encode_key_value(key, value) for key, value in metadata)


def set_request_header(key: str, value: str | bytes) -> RequestHook:
    """A client ``before`` hook that adds ``key: value`` to the request metadata.

    Go kit's ``SetRequestHeader``. The pair is checked now (`encode_key_value`).
    """
    pair = encode_key_value(key, value)

    def hook(metadata: grpc.aio.Metadata) -> None:
        metadata.add(*pair)

    return hook


def set_response_header(key: str, value: str | bytes) -> ResponseHook:
    """A server ``after`` hook that adds ``key: value`` to the response headers.

    Go kit's ``SetResponseHeader``. The pair is checked now (`encode_key_value`).
    """
    pair = encode_key_value(key, value)

    def hook(header: grpc.aio.Metadata, trailer: grpc.aio.Metadata) -> None:
        header.add(*pair)

    return hook


def set_response_trailer(key: str, value: str | bytes) -> ResponseHook:
    """A server ``after`` hook that adds ``key: value`` to the response trailers.

    Go kit's ``SetResponseTrailer``. The pair is checked now (`encode_key_value`).
    """
    pair = encode_key_value(key, value)

    def hook(header: grpc.aio.Metadata, trailer: grpc.aio.Metadata) -> None:
        trailer.add(*pair)

    return hook
