"""Serializer fields that take JSON numbers as they are, for every API module to share.

DRF's own number fields accept `"5"`, `5.0` and (for floats) `true`; quantities are
integers (docs/api.md), and a typo'd type should be a 400 naming the field, not a guess.
"""

import math
from typing import Any

from rest_framework import serializers

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
