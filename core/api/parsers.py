"""Request parsers that answer 400 for any body they cannot read or will not store,
and 413 for a body holding more objects than its endpoint takes (core/limits.py).

Every string of a JSON body (keys too) is checked for control characters before a view
sees it (core.text): PostgreSQL refuses NUL in text, so a NUL that reached a query or an
INSERT would be a 500; and no person types the other control characters. The 400 names
the field by its path (`lines[2].sku`).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.http import QueryDict
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import DataAndFiles
from rest_framework.utils import json

from core.limits import body_limit
from core.text import has_control_characters, text_problem

if TYPE_CHECKING:
    from django.http.request import _ImmutableQueryDict


class TooManyObjects(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The body holds more items than this endpoint takes."
    default_code = "too_many_objects"


def control_characters_refuse(data: Any, path: str = "") -> None:
    """Raise a ValidationError naming the first string of `data` (a decoded JSON value)
    that holds a control character."""
    found = _first_refused(data)
    if found is None:
        return
    parts, text = found
    where = path
    for part in reversed(parts):
        where = (
            f"{where}[{part}]" if isinstance(part, int) else f"{where}.{part}" if where else part
        )
    raise ValidationError({where or "non_field_errors": [text_problem(text)]})


def _first_refused(data: Any) -> tuple[list[str | int], str] | None:
    """Return the path (innermost first) and text of the first refused string, or None.
    The path is built only for that one string: the walk itself stays cheap."""
    if isinstance(data, str):
        return ([], data) if has_control_characters(data) else None
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and has_control_characters(key):
                return [], key
            if isinstance(value, (str, dict, list)):
                found = _first_refused(value)
                if found is not None:
                    found[0].append(str(key))
                    return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            if isinstance(value, (str, dict, list)):
                found = _first_refused(value)
                if found is not None:
                    found[0].append(index)
                    return found
    return None


def _fields_check(data: QueryDict) -> None:
    for key, values in data.lists():
        control_characters_refuse(key, key)
        for value in values:
            control_characters_refuse(value, key)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus: a body nested too deep to decode is a 400, not a 500; the
    objects of a body are counted while it is parsed, stopping at the endpoint's limit
    (core/limits.py) before a list of a million lines is built; a string with a control
    character is a 400 naming its field."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        context = parser_context or {}
        encoding = context.get("encoding", settings.DEFAULT_CHARSET)
        request = context.get("request")
        most = body_limit(request.path_info).objects if request is not None else None
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(
                text,
                parse_constant=json.strict_constant if self.strict else None,
                object_hook=_counter(most) if most is not None else None,
            )
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        try:
            control_characters_refuse(data)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        return data


def _counter(most: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    seen = 0

    def count(obj: dict[str, Any]) -> dict[str, Any]:
        nonlocal seen
        seen += 1
        if seen > most:
            raise TooManyObjects(
                f"The body holds more than {most:,} objects (lines); this endpoint takes no more."
            )
        return obj

    return count


class FormParser(parsers.FormParser):
    """DRF's form parser, plus the control-character check on every field."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> _ImmutableQueryDict:
        data = super().parse(stream, media_type, parser_context)
        _fields_check(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, plus the control-character check on every non-file field
    (a file's content is the reader's to check: count files name their bad rows)."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> DataAndFiles[Any, Any]:
        parsed = super().parse(stream, media_type, parser_context)
        _fields_check(parsed.data)
        return parsed
