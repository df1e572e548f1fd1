"""A fast path for the commonest typed body: a dataclass whose fields are JSON scalars.

Parsing a body into a dict and then checking and copying each field into the
dataclass costs more than everything else the server does for a small request.
For a dataclass whose constructor takes only ``int``, ``float``, ``str`` and
``bool`` fields (in order, none keyword-only), `flat_record_decoder` builds, once,
a msgspec Struct with the same fields and decodes the body straight into it, in
C: the same strict checks as the general path (no bool for an int, no float for
an int, ints accepted and converted for a float), every field required, unknown
fields refused unless told otherwise. The dataclass is then built from the
Struct's values by its own constructor, so ``__post_init__`` runs as usual.

Whenever msgspec refuses a body (malformed, a wrong type, a missing field that
has a default, a check in ``__post_init__``), the decoder answers None and the
caller runs its general path, which returns the value or words the error exactly
as it always does (so a ``__post_init__`` that refuses a body runs twice). The
fast path changes how fast a body is decoded, never what it decodes to. msgspec
comes with the ``json`` extra; without it there is no fast path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, get_type_hints

__all__ = ["flat_record_decoder"]

_SCALARS = frozenset({int, float, str, bool})


def flat_record_decoder(
    kind: Any, *, ignore_unknown: bool = False
) -> Callable[[bytes], Any | None] | None:
    """A bytes-to-*kind* decoder for a flat dataclass, or None when *kind* is not one.

    The decoder returns None when it cannot decode a body; see the module documentation.
    """
    if not (isinstance(kind, type) and dataclasses.is_dataclass(kind)):
        return None
    try:
        import msgspec
    except ImportError:  # pragma: no cover  # msgspec comes with the json extra
        return None
    try:
        hints = get_type_hints(kind)
    except Exception:  # an unresolvable annotation: the general path reports it
        return None
    fields = [field for field in dataclasses.fields(kind) if field.init]
    if any(field.kw_only or hints.get(field.name) not in _SCALARS for field in fields):
        return None
    try:
        mirror = msgspec.defstruct(
            f"{kind.__name__}Body",
            [(field.name, hints[field.name]) for field in fields],
            forbid_unknown_fields=not ignore_unknown,
        )
    except Exception:  # a field name a Struct cannot have, such as __dict__
        return None
    decode_mirror = msgspec.json.Decoder(mirror).decode
    values_of = msgspec.structs.astuple
    refused = (msgspec.MsgspecError, TypeError, ValueError)

    def decode(body: bytes) -> Any | None:
        try:
            return kind(*values_of(decode_mirror(body)))
        except refused:  # the general path says why, in its own words
            return None

    return decode
