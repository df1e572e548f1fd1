"""Converters from parsed JSON documents to typed values, derived once from type hints.

`converter(hint)` walks a type (dataclasses, TypedDicts, list, dict, tuple,
unions, Literal, enums, JSON scalars; msgspec Structs and pydantic models through
`_models`) and returns a function that checks a parsed document against it and
builds the typed value, raising `Invalid` with the path of the first wrong field.
Checks are strict: an ``int`` takes a JSON integer and never a boolean; a
``float`` takes any number. Scalar fields of a record are checked inline, so
decoding ``{"a": 1, "b": 2}`` into a two-int dataclass costs two type comparisons
and the constructor call.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
from collections.abc import Callable, Mapping, Sequence
from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,
    Required,
    TypeAlias,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

__all__ = ["Convert", "Invalid", "converter", "shorten_key"]

Convert: TypeAlias = Callable[[Any], Any]

_JSON_NAMES: dict[type, str] = {
    dict: "object",
    list: "array",
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


class Invalid(Exception):
    """A document does not match its type; ``path`` leads from the root to the culprit."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str | int] = []

    def describe(self) -> str:
        """Say what is wrong where, in words safe to show the client."""
        if not self.path:
            return f"request body: {self.problem}"
        where = ""
        for step in self.path:
            where += f"[{step}]" if isinstance(step, int) else f".{step}" if where else step
        return f"field {where!r}: {self.problem}"


class _Never:
    """A type no JSON value has: a field whose converter must always run uses it."""


def _mismatch(expected: str, value: object) -> Invalid:
    return Invalid(f"expected {expected}, got {_JSON_NAMES.get(type(value), 'value')}")


def _at(error: Invalid, step: str | int) -> Invalid:
    error.path.insert(0, step)
    return error


def shorten_key(name: str) -> str:
    """A client-chosen key, shortened for an error message."""
    return name if len(name) <= 64 else name[:64] + "..."


def _step(convert: Convert, value: Any, step: str | int) -> Any:
    try:
        return convert(value)
    except Invalid as exc:
        raise _at(exc, step) from None


def _exact(kind: type, expected: str) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is kind:
            return value
        raise _mismatch(expected, value)

    return convert


def _number(value: Any) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise _mismatch("number", value)


def _any(value: Any) -> Any:
    return value


_LEAVES: dict[Any, tuple[type, Convert]] = {
    int: (int, _exact(int, "integer")),
    str: (str, _exact(str, "string")),
    bool: (bool, _exact(bool, "boolean")),
    float: (float, _number),
}


def _list(item: Convert) -> Convert:
    def convert(value: Any) -> list[Any]:
        if type(value) is not list:
            raise _mismatch("array", value)
        return [_step(item, v, i) for i, v in enumerate(value)]

    return convert


def _tuple(items: Sequence[Convert]) -> Convert:
    def convert(value: Any) -> tuple[Any, ...]:
        if type(value) is not list or len(value) != len(items):
            raise _mismatch(f"array of {len(items)}", value)
        return tuple(_step(c, v, i) for i, (c, v) in enumerate(zip(items, value, strict=True)))

    return convert


def _dict(item: Convert) -> Convert:
    def convert(value: Any) -> dict[str, Any]:
        if type(value) is not dict:
            raise _mismatch("object", value)
        return {k: _step(item, v, shorten_key(k)) for k, v in value.items()}

    return convert


def _union(options: Sequence[Convert], expected: str) -> Convert:
    def convert(value: Any) -> Any:
        for option in options:
            try:
                return option(value)
            except Invalid:
                continue
        raise _mismatch(expected, value)

    return convert


def _literal(allowed: tuple[Any, ...]) -> Convert:
    expected = "one of " + ", ".join(json.dumps(a) for a in allowed)

    def convert(value: Any) -> Any:
        if any(type(value) is type(a) and value == a for a in allowed):
            return value
        raise _mismatch(expected, value)

    return convert


def _enum(kind: type[enum.Enum]) -> Convert:
    members = {(type(m.value), m.value): m for m in kind}
    expected = "one of " + ", ".join(json.dumps(m.value) for m in kind)

    def convert(value: Any) -> Any:
        try:
            return members[type(value), value]
        except (KeyError, TypeError):  # TypeError: an unhashable value (array, object)
            raise _mismatch(expected, value) from None

    return convert


def _construct(kind: type, title: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    try:
        return kind(*args, **kwargs)
    except (TypeError, ValueError) as exc:  # its __post_init__ refused; BadRequest passes
        raise Invalid(f"rejected by {title}'s checks") from exc


def _record(
    kind: type,
    fields: Mapping[str, Any],
    required: frozenset[str],
    memo: dict[Any, Convert],
    *,
    dataclass: bool,
    positional: bool = False,
) -> Convert:
    ignore_unknown = _IGNORE_UNKNOWN in memo
    """A converter for a JSON object with known fields (a dataclass or a TypedDict).

    The common case, every field present, checks each field once and calls the
    constructor positionally; anything else goes the slow way, which names the
    first unknown or missing field.
    """
    names, order = frozenset(fields), tuple(fields)
    built: list[Convert] = []
    memo[kind] = lambda value: built[0](value)  # a recursive type refers to itself
    spec: list[tuple[str, type, Convert]] = []
    for name, hint in fields.items():
        exact, convert_field = _LEAVES.get(hint) or (_Never, converter(hint, memo))
        spec.append((name, exact, convert_field))
    title = kind.__name__

    def some_fields(value: dict[str, Any]) -> Any:
        for name in value:
            if name not in names and not ignore_unknown:
                raise _at(Invalid(f"not a field of {title}"), shorten_key(name))
        for name in sorted(required - value.keys()):
            raise _at(Invalid("required but missing"), name)
        arguments = {}
        for name, exact, convert_field in spec:
            if name in value:
                field = value[name]
                if type(field) is not exact:
                    field = _step(convert_field, field, name)
                arguments[name] = field
        return _construct(kind, title, (), arguments) if dataclass else arguments

    def convert(value: Any) -> Any:
        if type(value) is not dict:
            raise _mismatch("object", value)
        if value.keys() != names:
            return some_fields(value)
        values = []
        for name, exact, convert_field in spec:
            field = value[name]
            if type(field) is not exact:
                field = _step(convert_field, field, name)
            values.append(field)
        if positional:
            try:
                return kind(*values)
            except (TypeError, ValueError) as exc:  # its __post_init__ refused
                raise Invalid(f"rejected by {title}'s checks") from exc
        arguments = dict(zip(order, values, strict=True))
        return _construct(kind, title, (), arguments) if dataclass else arguments

    built.append(convert)
    memo[kind] = convert
    return convert


def _dataclass(kind: type, memo: dict[Any, Convert]) -> Convert:
    hints = get_type_hints(kind)
    init_fields = [f for f in dataclasses.fields(kind) if f.init]
    required = frozenset(
        f.name
        for f in init_fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )
    fields = {f.name: hints[f.name] for f in init_fields}
    positional = not any(f.kw_only for f in init_fields)
    return _record(kind, fields, required, memo, dataclass=True, positional=positional)


def _typeddict(kind: Any, memo: dict[Any, Convert]) -> Convert:
    # Read Required/NotRequired from the hints: on 3.11, __required_keys__ misses them
    # when the module uses `from __future__ import annotations`.
    fields, required = {}, set()
    for name, hint in get_type_hints(kind, include_extras=True).items():
        origin = get_origin(hint)
        if origin is Required or origin is NotRequired:
            fields[name] = get_args(hint)[0]
            if origin is Required:
                required.add(name)
        else:
            fields[name] = hint
            if name in kind.__required_keys__:
                required.add(name)
    return _record(kind, fields, frozenset(required), memo, dataclass=False)


def _describe(hint: Any) -> str:
    return _JSON_NAMES.get(hint) or str(getattr(hint, "__name__", "value"))


_IGNORE_UNKNOWN = object()
"""Marks a memo whose records skip unknown fields instead of refusing them."""


def converter(
    hint: Any, memo: dict[Any, Convert] | None = None, *, ignore_unknown: bool = False
) -> Convert:
    """Build the converter for *hint*; raise ``TypeError`` for a type it cannot read.

    Records refuse fields their type does not declare, as a server must; with
    *ignore_unknown* they skip them, as a client reading a newer server's answer should.
    """
    if memo is None:
        memo = {_IGNORE_UNKNOWN: _any} if ignore_unknown else {}
    if hint in memo:
        return memo[hint]
    if hint in _LEAVES:
        return _LEAVES[hint][1]
    if hint is Any or hint is object:
        return _any
    if hint is None or hint is type(None):
        return _exact(type(None), "null")
    origin, args = get_origin(hint), get_args(hint)
    if hint is list or origin in (list, Sequence):
        return _list(converter(args[0], memo) if args else _any)
    if hint is dict or origin in (dict, Mapping):
        return _dict(converter(args[1], memo) if args else _any)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            items = _list(converter(args[0], memo))
            return lambda value: tuple(items(value))
        return _tuple([converter(arg, memo) for arg in args])
    if origin is Union or origin is types.UnionType:
        expected = " or ".join(_describe(arg) for arg in args)
        return _union([converter(arg, memo) for arg in args], expected)
    if origin is Literal:
        return _literal(args)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint, memo)
    if origin is Annotated:
        return converter(args[0], memo)
    if is_typeddict(hint):
        return _typeddict(hint, memo)
    # Imported here: _models builds on this module (Invalid, shorten_key).
    from pygokit.transport.http._models import model_converter

    model = model_converter(hint)
    if model is not None:
        return model
    raise TypeError(
        f"json_decoder cannot derive a decoder for {hint!r}; it reads dataclasses, TypedDicts, "
        "msgspec Structs, pydantic models, list, dict, tuple, unions, Literal, enums and JSON "
        "scalars; write a decoder instead"
    )
