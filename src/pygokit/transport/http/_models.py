"""Typed JSON for msgspec Structs and pydantic models, without importing either library.

`json_decoder` and `json_response_decoder` hand a model type to its own library:
msgspec's typed decoder (``msgspec.json.Decoder``) for a ``msgspec.Struct``,
``model_validate_json`` for a pydantic v2 ``BaseModel``. Both read the body's bytes
in one pass, faster than parsing and then converting. A model nested in a
dataclass or a container goes through ``msgspec.convert`` or, for pydantic,
``model_validate_json`` of the re-encoded document (pydantic's Python mode would
refuse what its JSON mode accepts, such as a date written as a string).

Neither library is imported here. A model class can only exist once its library
is imported, so the checks look the library up in ``sys.modules`` and answer
"not a model" when it is absent, at the cost of a dict lookup.

The libraries' errors become `Invalid` with the path to the culprit, worded like
the dataclass path's ("expected integer, got string", "required but missing").
Messages written by the model's own code are hidden ("rejected by X's checks")
when they come from a plain ``ValueError``, ``TypeError`` or ``assert``, as a
dataclass's ``__post_init__`` messages are; the libraries' own error types
(``msgspec.ValidationError``, pydantic's ``PydanticCustomError``) are shown,
as they are written for the client. Malformed JSON raises ``ValueError``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, get_origin

from pygokit.transport.http._typed import Convert, Invalid, shorten_key

__all__ = ["model_converter", "model_decoder", "to_builtins"]

FromBytes = Callable[[bytes], Any]
"""Decodes a JSON body into a model; raises `Invalid`, or ``ValueError`` if it is not JSON."""

_NAMES = {"int": "integer", "str": "string", "float": "number", "bool": "boolean"}
_QUOTED = re.compile(r"`([^`]*)`")
_MISSING = re.compile(r"Object missing required field `(.*)`", re.DOTALL)
_UNKNOWN = re.compile(r"Object contains unknown field `(.*)`", re.DOTALL)
_STEP = re.compile(r"\.([^.\[]*)|\[(\d+)\]|\[\.\.\.\]")
_HIDDEN = frozenset({"value_error", "assertion_error"})
"""pydantic error types whose message a validator wrote from a plain exception."""


def _model_class(hint: Any, module: str, base: str) -> type | None:
    """*hint*'s class (the origin of a generic alias) if it subclasses ``module.base``."""
    library = sys.modules.get(module)
    if library is None:
        return None
    kind = hint if isinstance(hint, type) else get_origin(hint)
    if isinstance(kind, type) and issubclass(kind, getattr(library, base)):
        return kind
    return None


def _checks(title: str) -> str:
    return f"rejected by {title}'s checks"


def _rename(match: re.Match[str]) -> str:
    return " or ".join(_NAMES.get(name, name) for name in match[1].split(" | "))


def _msgspec_invalid(error: Exception, title: str) -> Invalid:
    """Reword a ``msgspec.ValidationError`` with its ``- at `$.a[0].b``` path as steps."""
    message, _, where = str(error).partition(" - at `$")
    steps: list[str | int] = [
        int(index) if index else name or "*" for name, index in _STEP.findall(where[:-1])
    ]
    if error.__cause__ is not None:  # a TypeError or ValueError raised by __post_init__
        problem = _checks(title)
    elif missing := _MISSING.fullmatch(message):
        steps.append(missing[1])
        problem = "required but missing"
    elif unknown := _UNKNOWN.fullmatch(message):
        steps.append(shorten_key(unknown[1]))
        problem = "not a known field"
    elif message.startswith("Invalid enum value"):
        problem = "not one of the allowed values"  # msgspec quotes the client's value
    else:
        reworded = _QUOTED.sub(_rename, message)
        problem = reworded[:1].lower() + reworded[1:]
    invalid = Invalid(problem)
    invalid.path = steps
    return invalid


def _pydantic_invalid(first: Mapping[str, Any], title: str) -> Invalid:
    """Reword the first error of a pydantic ``ValidationError``; its ``loc`` is the path."""
    kind, message = first["type"], first["msg"]
    if kind == "missing":
        problem = "required but missing"
    elif kind == "extra_forbidden":
        problem = "not a known field"
    elif kind in _HIDDEN:
        problem = _checks(title)
    else:
        problem = message[:1].lower() + message[1:]
    invalid = Invalid(problem)
    invalid.path = [s if isinstance(s, int) else shorten_key(str(s)) for s in first["loc"]]
    return invalid


def _msgspec(hint: Any, title: str) -> tuple[FromBytes, Convert]:
    msgspec: Any = sys.modules["msgspec"]
    decoder = msgspec.json.Decoder(hint)  # strict: "1" is not an int, 1.0 is not either

    def from_bytes(body: bytes) -> Any:
        try:
            return decoder.decode(body)
        except msgspec.ValidationError as exc:
            raise _msgspec_invalid(exc, title) from exc
        except msgspec.DecodeError as exc:
            raise ValueError(str(exc)) from None

    def convert(value: Any) -> Any:
        try:
            return msgspec.convert(value, hint, strict=True)
        except msgspec.ValidationError as exc:
            raise _msgspec_invalid(exc, title) from exc

    return from_bytes, convert


def _pydantic(model: Any, title: str) -> tuple[FromBytes, Convert]:
    pydantic: Any = sys.modules["pydantic"]
    # Strict like the dataclass path ("1" is not an int), unless the model chose for itself.
    strict = None if "strict" in model.model_config else True

    def from_bytes(body: bytes) -> Any:
        try:
            return model.model_validate_json(body, strict=strict)
        except pydantic.ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
            if first["type"] == "json_invalid":
                raise ValueError("not valid JSON") from None
            raise _pydantic_invalid(first, title) from exc

    def convert(value: Any) -> Any:
        return from_bytes(json.dumps(value).encode())  # a parsed document: always encodable

    return from_bytes, convert


def _codecs(hint: Any) -> tuple[FromBytes, Convert] | None:
    struct = _model_class(hint, "msgspec", "Struct")
    if struct is not None:
        return _msgspec(hint, struct.__name__)
    model = _model_class(hint, "pydantic", "BaseModel")
    if model is not None:
        return _pydantic(hint, model.__name__)
    return None


def model_decoder(hint: Any) -> FromBytes | None:
    """The bytes-to-model decoder for a Struct or BaseModel type, or None for other types."""
    codecs = _codecs(hint)
    return None if codecs is None else codecs[0]


def model_converter(hint: Any) -> Convert | None:
    """The parsed-JSON-to-model converter for a Struct or BaseModel type, or None."""
    codecs = _codecs(hint)
    return None if codecs is None else codecs[1]


def to_builtins(value: object) -> object:
    """A Struct or model as JSON-ready builtins (a ``default=`` hook for JSON encoders).

    Raises ``TypeError`` for anything else, as a ``default`` hook must.
    """
    msgspec: Any = sys.modules.get("msgspec")
    if msgspec is not None and isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    pydantic: Any = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
