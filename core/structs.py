"""Inputs defined once, as msgspec Structs: their shape and limits, their errors in the
API's shape, their JSON schema for the OpenAPI document.

A Struct states what a body may hold (types, lengths, bounds, choices); the few rules a
type cannot say (an e-mail's form, a currency in use, coordinates given in pairs) live in
its `__post_init__`, which refuses a value by raising `FieldRefused` with the field's
name. `struct_convert` reads an already-decoded JSON value into the Struct (validation in
C, a few microseconds for an order) and answers a refusal as `FieldErrors`: the 400
`{"errors": {field: [messages]}}` with nested objects and lists named as they nest, in
words a person reads.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
import msgspec.inspect

from core.exceptions import FieldErrors

T = TypeVar("T")


class FieldRefused(ValueError):
    """A value its type allows and a rule refuses, raised from a Struct's `__post_init__`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def struct_convert(data: Any, kind: type[T]) -> T:
    """Return `data` (a decoded JSON value) as a `kind`; raise FieldErrors naming the field.

    msgspec stops at the first fault; when that is inside an item of a list of Structs
    (an order's lines), every item is read on its own so that each bad one is named in
    the one answer."""
    try:
        return msgspec.convert(data, kind, strict=True)
    except msgspec.ValidationError as error:
        errors = errors_of(error)
    raise FieldErrors(_every_item(data, kind, errors))


def _every_item(data: Any, kind: type[Any], errors: dict[str, Any]) -> dict[str, Any]:
    [(name, found)] = errors.items() if len(errors) == 1 else [("", None)]
    if not (isinstance(found, list) and found and isinstance(found[-1], dict)):
        return errors
    items = data.get(name) if isinstance(data, dict) else None
    info = msgspec.inspect.type_info(kind)
    field = next((f for f in getattr(info, "fields", ()) if f.name == name), None)
    item_type = type_unwrapped(field.type) if field else None
    if not isinstance(items, list) or not isinstance(item_type, msgspec.inspect.ListType):
        return errors
    item_kind = type_unwrapped(item_type.item_type)
    if not isinstance(item_kind, msgspec.inspect.StructType):
        return errors
    each: list[dict[str, Any]] = []
    for item in items:
        try:
            msgspec.convert(item, item_kind.cls, strict=True)
            each.append({})
        except msgspec.ValidationError as item_error:
            each.append(errors_of(item_error))
    while each and not each[-1]:
        each.pop()
    return {name: each} if each else errors


def type_unwrapped(kind: Any) -> Any:
    """The type under its metadata and `| None`."""
    while True:
        if isinstance(kind, msgspec.inspect.Metadata):
            kind = kind.type
        elif isinstance(kind, msgspec.inspect.UnionType):
            kind = next(t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType))
        else:
            return kind


def errors_of(error: msgspec.ValidationError) -> dict[str, Any]:
    """Return a msgspec refusal as `{field: [message]}`, nested along the value's path."""
    match = _AT.fullmatch(str(error))
    message, path = (match["message"], match["path"] or "") if match else (str(error), "")
    parts: list[str | int] = [name if name else int(index) for name, index in _PART.findall(path)]
    cause = error.__cause__ or error.__context__
    if isinstance(cause, FieldRefused):
        parts.append(cause.field)
        message = cause.message
    elif missing := _MISSING.fullmatch(message):
        parts.append(missing["field"])
        message = "This field is required."
    else:
        message = _in_words(message)
    return errors_at(parts, message)


def errors_at(parts: list[str | int], message: str) -> dict[str, Any]:
    """Return the errors body for one message at a path: `lines[1].sku` nests as
    `{"lines": [{}, {"sku": [message]}]}`, one entry per line up to the one at fault."""
    if not parts or not isinstance(parts[0], str):
        return {"non_field_errors": [message]}
    node: Any = [message]
    for part in reversed(parts[1:]):
        node = [{}] * part + [node] if isinstance(part, int) else {part: node}
    return {parts[0]: node}


def struct_schema(kind: type[Any]) -> dict[str, Any]:
    """Return the schema of a Struct as OpenAPI 3.0 writes it, every reference inlined, for
    an operation's request body."""
    (schema,), components = msgspec.json.schema_components([kind])
    inlined: dict[str, Any] = _inlined(schema, components)
    return inlined


def _inlined(node: Any, components: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            return _inlined(components[ref.rsplit("/", 1)[-1]], components)
        choices = node.get("anyOf")
        if isinstance(choices, list) and {"type": "null"} in choices:
            # JSON Schema's `X | null` is OpenAPI 3.0's `X` with `nullable`.
            rest = [
                _inlined(choice, components) for choice in choices if choice != {"type": "null"}
            ]
            merged = {key: value for key, value in node.items() if key != "anyOf"}
            merged.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
            merged["nullable"] = True
            return merged
        return {key: _inlined(value, components) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(value, components) for value in node]
    return node


_AT = re.compile(r"(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?", re.S)
_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_MISSING = re.compile(r"Object missing required field `(?P<field>[^`]+)`")

# msgspec's messages, told as the rest of the API tells them.
_WORDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Expected `str` of length <= (\d+)"), "No more than {0} characters."),
    (re.compile(r"Expected `str` of length >= 1"), "This field may not be blank."),
    (re.compile(r"Expected `str` of length >= (\d+)"), "At least {0} characters."),
    (re.compile(r"Expected `array` of length >= (\d+)"), "Give at least {0} item(s)."),
    (re.compile(r"Expected `array` of length <= (\d+)"), "Give no more than {0} items."),
    (re.compile(r"Expected `(?:int|float)` >= (\S+)"), "At least {0}."),
    (re.compile(r"Expected `(?:int|float)` <= (\S+)"), "No more than {0}."),
    (re.compile(r"Expected `(?:int|float)` > (\S+)"), "More than {0}."),
    (re.compile(r"Expected `(?:int|float)` < (\S+)"), "Less than {0}."),
    (
        re.compile(r"Expected `int(?: \| null)?`, got `\w+`"),
        'A whole number is required (e.g. 3, not "3" or 3.0).',
    ),
    (
        re.compile(r"Expected `float(?: \| null)?`, got `\w+`"),
        "A number is required (e.g. 48.8566).",
    ),
    (re.compile(r"Expected `str(?: \| null)?`, got `\w+`"), "A string is required."),
    (re.compile(r"Expected `object(?: \| null)?`, got `\w+`"), "An object is required."),
    (re.compile(r"Expected `array`, got `\w+`"), "A list is required."),
    (re.compile(r"Number out of range"), "The number is out of range."),
    (re.compile(r"Invalid enum value (.+)"), "{0} is not a valid choice."),
    (re.compile(r"Invalid UUID"), "Must be a valid UUID."),
    (re.compile(r"Invalid decimal"), 'A decimal number is required (e.g. "19.90").'),
]


def _in_words(message: str) -> str:
    for pattern, words in _WORDS:
        found = pattern.fullmatch(message)
        if found:
            # msgspec writes a float bound as 90.0: a person writes 90.
            return words.format(*(re.sub(r"\.0$", "", group) for group in found.groups()))
    return message
