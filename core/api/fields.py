"""Serializer fields that every API module shares: JSON numbers taken as they are, and
natural keys (SKUs, codes) in their one normal form.

DRF's own number fields accept `"5"`, `5.0` and (for floats) `true`; quantities are
integers (docs/api.md), and a typo'd type should be a 400 naming the field, not a guess.
"""

import math
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.text import TextRefused, code_normalise

# The database stores counters as 32-bit integers: larger values would fail there, not here.
INT32_MAX = 2**31 - 1


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not a string, a float or a boolean."""

    default_error_messages = {"invalid": 'A whole number is required (e.g. 3, not "3" or 3.0).'}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -INT32_MAX)
        kwargs.setdefault("max_value", INT32_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data


class StrictFloatField(serializers.FloatField):
    """A finite JSON number: not a string or a boolean."""

    default_error_messages = {"invalid": "A number is required (e.g. 48.8566)."}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        try:
            value = float(data)
        except OverflowError:
            self.fail("invalid")
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class NaturalKeyField(serializers.CharField):
    """A SKU or a code as every entry point takes it (core.text.code_normalise): NFKC,
    trimmed, no invisible or control character. `max_length` applies to the normal form."""

    what = "A code"

    def __init__(self, **kwargs: Any) -> None:
        # Trimmed by the normalisation, after the check for invisible characters.
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        text = str(data)
        if text == "" and self.allow_blank:
            return ""
        try:
            value = code_normalise(text, what=self.what)
        except TextRefused as refused:
            raise serializers.ValidationError(str(refused)) from None
        return super().to_internal_value(value)


class SkuField(NaturalKeyField):
    what = "A SKU"


class CodeField(NaturalKeyField):
    what = "A code"


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        "example": "14:00",
        "description": 'A time of day, "HH:MM" (24-hour clock).',
    }
)
class HourMinuteField(serializers.TimeField):
    """A time of day as "HH:MM", in and out (a trailing ":SS" of 00 is taken too)."""

    default_error_messages = {"invalid": 'A time of day as "HH:MM" is required (e.g. "14:00").'}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%H:%M")
        kwargs.setdefault("input_formats", ["%H:%M"])
        super().__init__(**kwargs)

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) == 8 and value.endswith(":00"):
            value = value[:5]
        if isinstance(value, str) and len(value) != 5:
            self.fail("invalid")
        return super().to_internal_value(value)
