"""Request parsers that answer 400 for any body they cannot read, and 413 for too much."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils import json

from core.limits import body_limit


class TooManyObjects(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The body holds more items than this endpoint takes."
    default_code = "too_many_objects"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus: a body nested too deep to decode is a 400, not a 500, and
    the objects of a body are counted while it is parsed, stopping at the endpoint's limit
    (core/limits.py) before a list of a million lines is built."""

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
            return json.loads(
                text,
                parse_constant=json.strict_constant if self.strict else None,
                object_hook=_counter(most) if most is not None else None,
            )
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None


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
